-- Gateway schema: API keys, stored only as hashes. One text both SQLite and PostgreSQL run.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,          -- the public part of the key
    secret_hash TEXT   NOT NULL,           -- hex SHA-256 of the secret part
    name        TEXT   NOT NULL,
    role        TEXT   NOT NULL,           -- ADMIN, AGENT, INTEGRATION, CUSTOMER
    principal   TEXT   NOT NULL,           -- the principal id the key acts as
    customer_id TEXT,                      -- for CUSTOMER keys
    create_time BIGINT NOT NULL,
    revoke_time BIGINT
);
