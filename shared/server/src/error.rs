//! The error type of every service's use cases, and its one mapping to gRPC status codes: a
//! client's mistake is never INTERNAL, and database text never reaches the client.

use crate::Violations;
use crate::status::{internal, invalid_argument, unavailable, with_reason};
use thiserror::Error;
use tonic::{Code, Status};

/// Everything an RPC of this service can fail with.
#[derive(Debug, Error)]
pub enum ServiceError {
    /// Bad fields in the request; nothing was written.
    #[error("invalid request: {0}")]
    Invalid(Violations),
    /// The caller's role or identity does not allow this.
    #[error("{0}")]
    PermissionDenied(String),
    /// A named resource does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A unique value (a name, an email, an external id, a request id) is taken.
    #[error("{message}")]
    AlreadyExists {
        /// Machine-readable reason.
        reason: &'static str,
        /// What is taken, by whom.
        message: String,
    },
    /// The etag sent is not the current one.
    #[error("{0} has changed since it was read (stale etag): read it again and retry")]
    StaleEtag(String),
    /// A concurrent change won the race for the same record.
    #[error("{0} was changed concurrently: read it again and retry")]
    Conflict(String),
    /// The record's state does not allow the operation.
    #[error("{0}")]
    FailedPrecondition(String),
    /// Another kefu service this call needs did not answer in time.
    #[error("{service} service unavailable: {detail}")]
    Dependency {
        /// Which service.
        service: &'static str,
        /// What happened, without personal data.
        detail: String,
        /// Whether the caller's deadline ran out (DEADLINE_EXCEEDED) rather than the service failing.
        deadline: bool,
    },
    /// The database did not answer.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// The transaction collided with a concurrent one (deadlock, serialization failure, busy
    /// file) and was rolled back: nothing was written, the whole call can be retried.
    #[error("the transaction collided with a concurrent one and was rolled back: retry")]
    Contention(#[source] sqlx::Error),
    /// Any other database failure: a bug or an operator problem, never the client's.
    #[error("database failure")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for ServiceError {
    fn from(error: sqlx::Error) -> Self {
        match kefu_db::classify(&error) {
            kefu_db::Fault::Unavailable => ServiceError::Unavailable(error),
            kefu_db::Fault::Contention => ServiceError::Contention(error),
            // A unique index caught what the checks in the transaction could not (a concurrent writer).
            kefu_db::Fault::Duplicate => ServiceError::AlreadyExists {
                reason: "DUPLICATE",
                message: "a record with the same unique value was created concurrently".to_owned(),
            },
            kefu_db::Fault::Other => ServiceError::Database(error),
        }
    }
}

impl From<kefu_db::DbError> for ServiceError {
    fn from(error: kefu_db::DbError) -> Self {
        match error {
            kefu_db::DbError::Sqlx(error) => error.into(),
            other => ServiceError::Database(sqlx::Error::Protocol(other.to_string())),
        }
    }
}

impl From<kefu_db::idempotency::ClaimError> for ServiceError {
    fn from(error: kefu_db::idempotency::ClaimError) -> Self {
        match error {
            kefu_db::idempotency::ClaimError::Database(error) => error.into(),
            kefu_db::idempotency::ClaimError::Reused(reused) => reused.into(),
        }
    }
}

impl From<kefu_db::idempotency::RequestIdReused> for ServiceError {
    fn from(error: kefu_db::idempotency::RequestIdReused) -> Self {
        ServiceError::AlreadyExists {
            reason: "REQUEST_ID_REUSED",
            message: error.to_string(),
        }
    }
}

impl From<Violations> for ServiceError {
    fn from(violations: Violations) -> Self {
        ServiceError::Invalid(violations)
    }
}

impl From<Violations> for Status {
    fn from(violations: Violations) -> Self {
        ServiceError::Invalid(violations).into()
    }
}

impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Self {
        let message = error.to_string();
        match error {
            ServiceError::Invalid(violations) => invalid_argument(&violations),
            ServiceError::PermissionDenied(_) => {
                with_reason(Code::PermissionDenied, "PERMISSION_DENIED", message)
            }
            ServiceError::NotFound(_) => with_reason(Code::NotFound, "NOT_FOUND", message),
            ServiceError::AlreadyExists { reason, .. } => {
                with_reason(Code::AlreadyExists, reason, message)
            }
            ServiceError::StaleEtag(_) => with_reason(Code::Aborted, "STALE_ETAG", message),
            ServiceError::Conflict(_) => {
                with_reason(Code::Aborted, "CONCURRENT_MODIFICATION", message)
            }
            ServiceError::FailedPrecondition(_) => {
                with_reason(Code::FailedPrecondition, "FAILED_PRECONDITION", message)
            }
            ServiceError::Dependency { deadline: true, .. } => {
                with_reason(Code::DeadlineExceeded, "DEPENDENCY_DEADLINE", message)
            }
            ServiceError::Dependency { .. } => {
                with_reason(Code::Unavailable, "DEPENDENCY_UNAVAILABLE", message)
            }
            ServiceError::Unavailable(source) => unavailable("the database", &source),
            ServiceError::Contention(source) => {
                tracing::warn!(error = %source, "transaction rolled back by a concurrent one");
                with_reason(Code::Aborted, "TRANSACTION_ABORTED", message)
            }
            ServiceError::Database(source) => internal(&source),
        }
    }
}
