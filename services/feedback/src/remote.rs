//! What the clients of other kefu services share: requests signed as this service, and one
//! mapping of their failures to this service's errors.

use std::time::Duration;

use kefu_principal::InternalKey;
use tonic::{Code, Request, Status};

use crate::error::FeedbackError;

/// How long the principal of an event stream request stays valid (the stream itself may run longer).
pub const STREAM_PRINCIPAL_TTL: Duration = Duration::from_secs(24 * 3600);

/// A request made by the feedback service itself (background work), with a deadline.
pub fn service_request<T>(
    key: &InternalKey,
    message: T,
    timeout: Duration,
) -> Result<Request<T>, String> {
    let mut request =
        kefu_server::events::as_service(key, crate::SERVICE, Duration::from_secs(300), message)?;
    request.set_timeout(timeout);
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
