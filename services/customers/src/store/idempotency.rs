//! AIP-155 request ids: the shared implementation over this service's `idempotency_keys` table.

pub use kefu_db::idempotency::claim_request_id;
