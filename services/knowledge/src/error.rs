//! The knowledge service's one error type, and its one mapping to gRPC status codes.

use kefu_server::Violations;
use kefu_server::status::{internal, invalid_argument, unavailable, with_reason};
use thiserror::Error;
use tonic::{Code, Status};

/// Everything an RPC of this service can fail with.
#[derive(Debug, Error)]
pub enum KnowledgeError {
    /// Bad fields in the request; nothing was written.
    #[error("invalid request: {0}")]
    Invalid(Violations),
    /// The caller's role or identity does not allow this.
    #[error("{0}")]
    PermissionDenied(String),
    /// A named resource does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A unique value (a translation in a locale, a request id) is taken.
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
    /// The database did not answer.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Any other database failure: a bug or an operator problem, never the client's.
    #[error("database failure")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for KnowledgeError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                KnowledgeError::Unavailable(error)
            }
            // A unique index caught what the checks in the transaction could not (a concurrent writer).
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                KnowledgeError::AlreadyExists {
                    reason: "DUPLICATE",
                    message: "a record with the same unique value was created concurrently"
                        .to_owned(),
                }
            }
            _ => KnowledgeError::Database(error),
        }
    }
}

impl From<kefu_db::DbError> for KnowledgeError {
    fn from(error: kefu_db::DbError) -> Self {
        match error {
            kefu_db::DbError::Sqlx(error) => error.into(),
            other => KnowledgeError::Database(sqlx::Error::Protocol(other.to_string())),
        }
    }
}

impl From<kefu_db::idempotency::ClaimError> for KnowledgeError {
    fn from(error: kefu_db::idempotency::ClaimError) -> Self {
        match error {
            kefu_db::idempotency::ClaimError::Database(error) => error.into(),
            kefu_db::idempotency::ClaimError::Reused(reused) => reused.into(),
        }
    }
}

impl From<kefu_db::idempotency::RequestIdReused> for KnowledgeError {
    fn from(error: kefu_db::idempotency::RequestIdReused) -> Self {
        KnowledgeError::AlreadyExists {
            reason: "REQUEST_ID_REUSED",
            message: error.to_string(),
        }
    }
}

impl From<Violations> for KnowledgeError {
    fn from(violations: Violations) -> Self {
        KnowledgeError::Invalid(violations)
    }
}

impl From<KnowledgeError> for Status {
    fn from(error: KnowledgeError) -> Self {
        let message = error.to_string();
        match error {
            KnowledgeError::Invalid(violations) => invalid_argument(&violations),
            KnowledgeError::PermissionDenied(_) => {
                with_reason(Code::PermissionDenied, "PERMISSION_DENIED", message)
            }
            KnowledgeError::NotFound(_) => with_reason(Code::NotFound, "NOT_FOUND", message),
            KnowledgeError::AlreadyExists { reason, .. } => {
                with_reason(Code::AlreadyExists, reason, message)
            }
            KnowledgeError::StaleEtag(_) => with_reason(Code::Aborted, "STALE_ETAG", message),
            KnowledgeError::Conflict(_) => {
                with_reason(Code::Aborted, "CONCURRENT_MODIFICATION", message)
            }
            KnowledgeError::FailedPrecondition(_) => {
                with_reason(Code::FailedPrecondition, "FAILED_PRECONDITION", message)
            }
            KnowledgeError::Unavailable(source) => unavailable("the knowledge database", &source),
            KnowledgeError::Database(source) => internal(&source),
        }
    }
}
