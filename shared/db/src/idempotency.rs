//! AIP-155 request ids, stored with `INSERT … ON CONFLICT DO NOTHING` in the creating transaction.
//! Every service has an `idempotency_keys` table of the same shape (see its migrations).

use sqlx::{AnyConnection, Row};
use thiserror::Error;

/// The outcome of claiming (or looking up) a request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use: go ahead and create `resource`.
    New,
    /// Used before for `resource`, by a request with fingerprint `request_hash`.
    Seen {
        /// What the first request created.
        resource: String,
        /// The first request's fingerprint.
        request_hash: String,
    },
}

/// A request id sent again with a different request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("request_id {0:?} was already used for a different request")]
pub struct RequestIdReused(pub String);

impl Claim {
    /// What to do with a request fingerprinted `hash`: `None` to go ahead, `Some(resource)` to
    /// answer with what the first identical request created, or an error for a different request.
    pub fn replay(self, request_id: &str, hash: &str) -> Result<Option<String>, RequestIdReused> {
        match self {
            Claim::New => Ok(None),
            Claim::Seen {
                resource,
                request_hash,
            } if request_hash == hash => Ok(Some(resource)),
            Claim::Seen { .. } => Err(RequestIdReused(request_id.to_owned())),
        }
    }
}

/// Why a request id could not be claimed.
#[derive(Debug, Error)]
pub enum ClaimError {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// The id was used for a different request.
    #[error(transparent)]
    Reused(#[from] RequestIdReused),
}

/// Claims `request_id` for `resource` in the creating transaction: `None` to go ahead,
/// `Some(resource)` when the same request (fingerprint `request_hash`) already ran.
pub async fn claim(
    conn: &mut AnyConnection,
    request_id: &str,
    operation: &str,
    request_hash: &str,
    resource: &str,
    now: i64,
) -> Result<Option<String>, ClaimError> {
    let claimed =
        claim_request_id(conn, request_id, operation, request_hash, resource, now).await?;
    Ok(claimed.replay(request_id, request_hash)?)
}

/// Claims `request_id` for `resource`. Concurrent claims of one id serialize on its primary key.
pub async fn claim_request_id(
    conn: &mut AnyConnection,
    request_id: &str,
    operation: &str,
    request_hash: &str,
    resource: &str,
    now: i64,
) -> Result<Claim, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (request_id, operation, request_hash, resource, create_time) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id) DO NOTHING",
    )
    .bind(request_id)
    .bind(operation)
    .bind(request_hash)
    .bind(resource)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::New);
    }
    lookup_request_id(conn, request_id, operation).await
}

/// What `request_id` was used for, without claiming it: a read-only check, for answering a retry
/// before doing work that needs other services.
pub async fn lookup_request_id(
    conn: &mut AnyConnection,
    request_id: &str,
    operation: &str,
) -> Result<Claim, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT operation, request_hash, resource FROM idempotency_keys WHERE request_id = $1",
    )
    .bind(request_id)
    .fetch_all(&mut *conn)
    .await?;
    let Some(row) = rows.first() else {
        return Ok(Claim::New);
    };
    let stored_operation: String = row.try_get("operation")?;
    let request_hash: String = row.try_get("request_hash")?;
    // The same id used for another kind of create is a different request.
    let request_hash = if stored_operation == operation {
        request_hash
    } else {
        format!("{stored_operation}:{request_hash}")
    };
    Ok(Claim::Seen {
        resource: row.try_get("resource")?,
        request_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_replays_only_the_same_request() {
        assert_eq!(Claim::New.replay("r", "h"), Ok(None));
        let seen = || Claim::Seen {
            resource: "tickets/1".into(),
            request_hash: "h".into(),
        };
        assert_eq!(seen().replay("r", "h"), Ok(Some("tickets/1".into())));
        assert_eq!(
            seen().replay("r", "other"),
            Err(RequestIdReused("r".into()))
        );
    }
}
