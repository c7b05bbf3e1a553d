-- The tables kefu-db owns in every service's database, PostgreSQL dialect. kefu-db's migration
-- versions start at 900,000,001 so they never collide with a service's own (0001, 0002, …) in
-- the one `_sqlx_migrations` table they share. Keep in step with ../sqlite/.

-- The transactional outbox (kefu_db::outbox).
CREATE TABLE events (
    seq        BIGSERIAL PRIMARY KEY,
    event_type TEXT   NOT NULL,
    resource   TEXT   NOT NULL,
    subject    TEXT,
    payload    BYTEA  NOT NULL,
    event_time BIGINT NOT NULL
);
CREATE INDEX events_by_subject ON events (subject, seq);

-- AIP-155 request ids (kefu_db::idempotency): a retried request returns what the first one made.
CREATE TABLE idempotency_keys (
    request_id   TEXT PRIMARY KEY,
    operation    TEXT   NOT NULL,
    request_hash TEXT   NOT NULL,
    resource     TEXT   NOT NULL,
    create_time  BIGINT NOT NULL
);

-- Where this service's consumers of other services' event streams got to (kefu_db::cursors).
CREATE TABLE consumer_cursors (
    source      TEXT PRIMARY KEY,
    cursor      TEXT   NOT NULL,
    update_time BIGINT NOT NULL
);
