-- The first answer of a mutation sent with a request id, replayed to its retries
-- (kefu_db::idempotency::Replay). Creates leave it empty: they answer with what they made.
-- Keep in step with ../sqlite/.
ALTER TABLE idempotency_keys ADD COLUMN answer BYTEA;
