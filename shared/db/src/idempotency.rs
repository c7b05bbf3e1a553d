//! AIP-155 request ids, stored with `INSERT … ON CONFLICT DO NOTHING` in the creating transaction,
//! in the `idempotency_keys` table kefu-db's migration creates.
//!
//! A retry is told from a different request by a fingerprint of the request's protobuf encoding.
//! kefu-proto generates every map as a `BTreeMap`, so the encoding, and with it the fingerprint,
//! is the same for the same request in every process and every version (Rust's `Debug` output, a
//! `HashMap`'s order, or a struct's field order would not be).

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use thiserror::Error;

/// The fingerprint of a request: the first 16 bytes of the SHA-256 of its protobuf encoding, in hex.
pub fn fingerprint(request: &impl prost::Message) -> String {
    short_hex(&Sha256::digest(request.encode_to_vec()))
}

/// The first 16 bytes of a digest, in hex.
fn short_hex(digest: &[u8]) -> String {
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// A request id with what it must match on a retry: the operation it was sent to and the
/// fingerprint of the request that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    /// The client's id.
    pub request_id: String,
    /// The RPC, such as `CreateTicket`: the same id sent to another RPC is another request.
    pub operation: &'static str,
    /// [`fingerprint`] of the request.
    pub hash: String,
}

impl RequestKey {
    /// The key of `request` sent to `operation` with `request_id`; `None` when it has none.
    pub fn new(
        request_id: Option<String>,
        operation: &'static str,
        request: &impl prost::Message,
    ) -> Option<Self> {
        request_id.map(|request_id| Self {
            request_id,
            operation,
            hash: fingerprint(request),
        })
    }

    /// The key as sent by `caller`: the same id and request from another caller is another
    /// request.
    pub fn of(mut self, caller: &str) -> Self {
        self.hash = short_hex(&Sha256::digest(format!("{caller}\0{}", self.hash)));
        self
    }

    /// Claims the key for `resource` in the writing transaction: `None` to go ahead,
    /// `Some(resource)` when the same request already ran, an error for a different request.
    pub async fn claim(
        &self,
        conn: &mut AnyConnection,
        resource: &str,
        now: i64,
    ) -> Result<Option<String>, ClaimError> {
        claim(
            conn,
            &self.request_id,
            self.operation,
            &self.hash,
            resource,
            now,
        )
        .await
    }

    /// What an earlier identical request made, without claiming: a read-only check that answers
    /// a retry before work that needs other services.
    pub async fn replay(&self, conn: &mut AnyConnection) -> Result<Option<String>, ClaimError> {
        let claim = lookup_request_id(conn, &self.request_id, self.operation).await?;
        Ok(claim.replay(&self.request_id, &self.hash)?)
    }
}

/// A mutation's request id and how its result becomes its answer. The use case claims the id
/// first thing in its writing transaction ([`Replay::earlier`]) and stores the answer just before
/// committing ([`Replay::answer`]): the effect and the answer commit together, a failed attempt
/// leaves no claim behind, and a concurrent duplicate waits on the id's primary key until the
/// first one commits, then reads its answer.
pub struct Replay<R, A> {
    key: Option<RequestKey>,
    answer: Box<dyn Fn(&R) -> A + Send + Sync>,
}

impl<R, A> std::fmt::Debug for Replay<R, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay").field("key", &self.key).finish()
    }
}

impl<R, A: prost::Message + Default> Replay<R, A> {
    /// Replays `key`'s first answer, made from the use case's result by `answer`.
    pub fn new(key: Option<RequestKey>, answer: impl Fn(&R) -> A + Send + Sync + 'static) -> Self {
        Self {
            key,
            answer: Box::new(answer),
        }
    }

    /// Claims the request id for `resource`: `None` to go ahead, the first answer when the same
    /// request already ran, an error when the id came with a different request.
    pub async fn earlier(
        &self,
        conn: &mut AnyConnection,
        resource: &str,
        now: i64,
    ) -> Result<Option<A>, ClaimError> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        if key.claim(conn, resource, now).await?.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query("SELECT answer FROM idempotency_keys WHERE request_id = $1")
            .bind(&key.request_id)
            .fetch_all(&mut *conn)
            .await?;
        let answer: Option<Vec<u8>> = match rows.first() {
            Some(row) => row.try_get("answer")?,
            None => None,
        };
        // Every claim a Replay makes stores its answer in the same transaction.
        let answer = answer.ok_or_else(|| {
            sqlx::Error::Protocol(format!("request id {:?} has no answer", key.request_id))
        })?;
        let answer = A::decode(answer.as_slice()).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        Ok(Some(answer))
    }

    /// The answer for the use case's `result`, stored with the claim when there is one.
    pub async fn answer(&self, conn: &mut AnyConnection, result: &R) -> Result<A, ClaimError> {
        let answer = (self.answer)(result);
        if let Some(key) = &self.key {
            sqlx::query("UPDATE idempotency_keys SET answer = $1 WHERE request_id = $2")
                .bind(answer.encode_to_vec())
                .bind(&key.request_id)
                .execute(&mut *conn)
                .await?;
        }
        Ok(answer)
    }
}

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
    fn fingerprints_follow_the_encoding_not_the_map_order() {
        use std::collections::BTreeMap;

        #[derive(Clone, PartialEq, prost::Message)]
        struct Request {
            #[prost(string, tag = "1")]
            name: String,
            #[prost(btree_map = "string, string", tag = "2")]
            attributes: BTreeMap<String, String>,
        }
        let mut one = Request {
            name: "a".into(),
            ..Default::default()
        };
        let mut two = one.clone();
        one.attributes.insert("x".into(), "1".into());
        one.attributes.insert("y".into(), "2".into());
        two.attributes.insert("y".into(), "2".into());
        two.attributes.insert("x".into(), "1".into());
        assert_eq!(fingerprint(&one), fingerprint(&two));
        assert_eq!(fingerprint(&one).len(), 32);
        two.name = "b".into();
        assert_ne!(fingerprint(&one), fingerprint(&two));
    }

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
