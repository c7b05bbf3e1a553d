//! What the clients of other kefu services share: requests signed as this service, and one
//! mapping of their failures to this service's errors.

use std::time::Duration;

use kefu_principal::{InternalKey, PRINCIPAL_HEADER, Principal};
use tonic::{Code, Request, Status};

use crate::error::FeedbackError;

/// A request made by the feedback service itself (background work), with a deadline.
pub fn service_request<T>(
    key: &InternalKey,
    message: T,
    timeout: Duration,
) -> Result<Request<T>, String> {
    let mut request = Request::new(message);
    let token = key.sign(
        &Principal::service(crate::SERVICE),
        Duration::from_secs(300),
    );
    let value = token
        .parse()
        .map_err(|_| "unusable principal token".to_owned())?;
    request.metadata_mut().insert(PRINCIPAL_HEADER, value);
    request.set_timeout(timeout);
    kefu_server::outgoing::inject_trace_context(request.metadata_mut());
    Ok(request)
}

/// A failed call to `service` about `resource`, as this service's error.
pub fn dependency_error(service: &'static str, resource: &str, status: &Status) -> FeedbackError {
    match status.code() {
        Code::NotFound => FeedbackError::NotFound(resource.to_owned()),
        Code::PermissionDenied => {
            FeedbackError::PermissionDenied(format!("the caller may not read {resource}"))
        }
        Code::InvalidArgument => FeedbackError::FailedPrecondition(format!(
            "the {service} service refused {resource}: {}",
            status.message()
        )),
        Code::DeadlineExceeded => FeedbackError::Dependency {
            service,
            detail: "no answer before the deadline".to_owned(),
            deadline: true,
        },
        code => FeedbackError::Dependency {
            service,
            detail: format!("call failed with {code:?}"),
            deadline: false,
        },
    }
}
