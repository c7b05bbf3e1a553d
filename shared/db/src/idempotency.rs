//! AIP-155 request ids, stored with `INSERT … ON CONFLICT DO NOTHING` in the creating transaction.
//! Every service has an `idempotency_keys` table of the same shape (see its migrations).

use sqlx::{AnyConnection, Row};

/// The outcome of claiming a request id.
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
    let row = sqlx::query(
        "SELECT operation, request_hash, resource FROM idempotency_keys WHERE request_id = $1",
    )
    .bind(request_id)
    .fetch_one(&mut *conn)
    .await?;
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

/// What a request id was used for, if it was: `(operation, request_hash, resource)`. A read-only
/// check, for answering a retry before doing work that needs other services.
pub async fn lookup_request_id(
    conn: &mut AnyConnection,
    request_id: &str,
) -> Result<Option<(String, String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT operation, request_hash, resource FROM idempotency_keys WHERE request_id = $1",
    )
    .bind(request_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.first()
        .map(|row| {
            Ok((
                row.try_get("operation")?,
                row.try_get("request_hash")?,
                row.try_get("resource")?,
            ))
        })
        .transpose()
}
