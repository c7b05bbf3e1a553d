//! Building `tonic::Status` values with `google.rpc` details (AIP-193). Each service maps its own
//! error type through these in one place.

use std::collections::HashMap;
use std::error::Error;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

pub use kefu_proto::codec::ERROR_DOMAIN;

/// Bad fields found while validating a request, each with a reason.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Violations(Vec<(String, String)>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A single violation: `field` is required.
    pub fn required(field: &str) -> Self {
        let mut v = Self::new();
        v.add(field, "is required");
        v
    }

    /// Records that `field` is bad because of `description`.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push((field.into(), description.into()));
    }

    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The violations as (field, description) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(f, d)| (f.as_str(), d.as_str()))
    }

    /// `Ok(())` when empty, otherwise `Err(self)`.
    pub fn into_result(self) -> Result<(), Violations> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    /// One-line summary for the status message.
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|(f, d)| format!("{f}: {d}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl std::fmt::Display for Violations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

/// INVALID_ARGUMENT with a `BadRequest` listing every bad field.
pub fn invalid_argument(violations: &Violations) -> Status {
    let mut details = ErrorDetails::new();
    for (field, description) in violations.iter() {
        details.add_bad_request_violation(field, description);
    }
    details.set_error_info("INVALID_ARGUMENT", ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(
        Code::InvalidArgument,
        format!("invalid request: {}", violations.summary()),
        details,
    )
}

/// A status with an `ErrorInfo` whose `reason` is a stable, machine-readable word.
pub fn with_reason(code: Code, reason: &str, message: impl Into<String>) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(code, message, details)
}

/// The `ErrorInfo` reason another kefu service put on `status` (see [`with_reason`]), if any.
pub fn reason_of(status: &Status) -> Option<String> {
    status.get_details_error_info().map(|info| info.reason)
}

/// INTERNAL with a generic message; the cause chain goes to the log, never to the client.
pub fn internal(error: &(dyn Error + 'static)) -> Status {
    tracing::error!(error = %error_chain(error), "internal error");
    Status::internal("internal error")
}

/// UNAVAILABLE (retryable) because a dependency such as the database did not answer.
pub fn unavailable(what: &str, error: &(dyn Error + 'static)) -> Status {
    tracing::warn!(error = %error_chain(error), "{what} unavailable");
    with_reason(
        Code::Unavailable,
        "DEPENDENCY_UNAVAILABLE",
        format!("{what} is unavailable, retry later"),
    )
}

/// `error: cause: cause…` on one line.
pub fn error_chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
