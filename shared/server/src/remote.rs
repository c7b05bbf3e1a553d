//! Calling other kefu services: lazily connected channels, requests a service makes as itself,
//! and one mapping of another service's failure to this service's error.

use std::time::Duration;

use kefu_principal::{InternalKey, PRINCIPAL_HEADER, Principal};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};

use crate::{ConfigError, ServiceError};

/// How long a connection attempt to another service may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A channel to the service at `url` (`http://host:port`), connected on first use; `variable`
/// names the setting the URL came from, for the error.
pub fn channel(variable: &str, url: &str) -> Result<Channel, ConfigError> {
    let endpoint = Endpoint::from_shared(url.to_owned()).map_err(|_| ConfigError::Invalid {
        name: variable.to_owned(),
        expected: "must be a URL like http://127.0.0.1:50061".to_owned(),
        value: url.to_owned(),
    })?;
    Ok(endpoint
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .connect_lazy())
}

/// A request a service makes as itself (background work, not on a caller's behalf): it carries
/// the service's own principal (role INTEGRATION, id `service`), signed with the internal key and
/// valid for `ttl`, and the current trace context.
pub fn as_service<T>(key: &InternalKey, service: &str, ttl: Duration, message: T) -> Request<T> {
    let mut request = Request::new(message);
    let token = key.sign(&Principal::service(service), ttl);
    // A signed principal is base64 and dots: always a valid header value.
    if let Ok(value) = token.parse() {
        request.metadata_mut().insert(PRINCIPAL_HEADER, value);
    }
    crate::outgoing::inject_trace_context(request.metadata_mut());
    request
}

/// How long the principal of an event stream request stays valid (the stream may run longer).
pub const STREAM_PRINCIPAL_TTL: Duration = Duration::from_secs(24 * 3600);

/// A failed call to `service` about `resource`, as this service's error: what the other service
/// could not find or refused stays the client's problem; anything else is retryable.
pub fn dependency_error(service: &'static str, resource: &str, status: &Status) -> ServiceError {
    match status.code() {
        Code::NotFound => ServiceError::NotFound(resource.to_owned()),
        Code::PermissionDenied => {
            ServiceError::PermissionDenied(format!("the caller may not read {resource}"))
        }
        Code::InvalidArgument | Code::FailedPrecondition => {
            ServiceError::FailedPrecondition(format!(
                "the {service} service refused {resource}: {}",
                status.message()
            ))
        }
        Code::DeadlineExceeded => ServiceError::Dependency {
            service,
            detail: "no answer before the deadline".to_owned(),
            deadline: true,
        },
        code => ServiceError::Dependency {
            service,
            detail: format!("call failed with {code:?}"),
            deadline: false,
        },
    }
}

/// True when a failed call may succeed if made again later (the other service down, overloaded,
/// misconfigured, or racing a concurrent change), false when the request itself was refused and
/// sending it again cannot help.
pub fn is_retryable(status: &Status) -> bool {
    !matches!(
        status.code(),
        Code::InvalidArgument
            | Code::NotFound
            | Code::FailedPrecondition
            | Code::PermissionDenied
            | Code::AlreadyExists
            | Code::OutOfRange
            | Code::Unimplemented
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_stay_the_clients_and_faults_are_retryable() {
        let not_found = dependency_error("customers", "customers/x", &Status::not_found("x"));
        assert!(matches!(not_found, ServiceError::NotFound(name) if name == "customers/x"));
        let down = dependency_error("customers", "customers/x", &Status::unavailable("down"));
        assert!(matches!(
            down,
            ServiceError::Dependency {
                deadline: false,
                ..
            }
        ));
        let late = dependency_error("customers", "customers/x", &Status::deadline_exceeded(""));
        assert!(matches!(
            late,
            ServiceError::Dependency { deadline: true, .. }
        ));
        assert!(is_retryable(&Status::unavailable("")));
        assert!(!is_retryable(&Status::invalid_argument("")));
        assert!(channel("KEFU_X_URL", "not a url").is_err());
    }
}
