-- Customers service schema: one text both SQLite and PostgreSQL run. Timestamps are UTC
-- microseconds (BIGINT); enums are their proto numbers. The outbox, request ids and consumer
-- cursors are kefu-db's own tables, created by its migration.

CREATE TABLE organizations (
    id            TEXT PRIMARY KEY,
    display_name  TEXT   NOT NULL,
    domains       TEXT   NOT NULL,          -- JSON array, for reads
    default_tier  BIGINT  NOT NULL,
    tags          TEXT   NOT NULL,          -- JSON array
    search_text   TEXT   NOT NULL,          -- lower-cased display name, for `query`
    create_time   BIGINT NOT NULL,
    update_time   BIGINT NOT NULL,
    version       BIGINT NOT NULL
);

CREATE TABLE organization_domains (
    domain          TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX organization_domains_by_org ON organization_domains (organization_id);

CREATE TABLE customers (
    id              TEXT PRIMARY KEY,        -- UUIDv7: sorts by creation time
    display_name    TEXT    NOT NULL,
    emails          TEXT    NOT NULL,        -- JSON array, for reads; uniqueness in customer_emails
    phones          TEXT    NOT NULL,        -- JSON array
    organization_id TEXT    REFERENCES organizations (id),
    external_id     TEXT    UNIQUE,
    tier            BIGINT  NOT NULL,
    lifecycle_stage BIGINT  NOT NULL,
    tags            TEXT    NOT NULL,        -- JSON array, for reads; filters use customer_tags
    attributes      TEXT    NOT NULL,        -- JSON object
    locale          TEXT    NOT NULL,
    time_zone       TEXT    NOT NULL,
    search_text     TEXT    NOT NULL,        -- lower-cased name and emails, for `query`
    merged_into     TEXT    REFERENCES customers (id),
    erase_time      BIGINT,
    create_time     BIGINT  NOT NULL,
    update_time     BIGINT  NOT NULL,
    version         BIGINT  NOT NULL
);
CREATE INDEX customers_by_org ON customers (organization_id, id);
CREATE INDEX customers_by_tier ON customers (tier, id);
CREATE INDEX customers_by_stage ON customers (lifecycle_stage, id);
CREATE INDEX customers_by_merged_into ON customers (merged_into, id);

CREATE TABLE customer_emails (
    email       TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE
);
CREATE INDEX customer_emails_by_customer ON customer_emails (customer_id);

CREATE TABLE customer_tags (
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    PRIMARY KEY (customer_id, tag)
);
CREATE INDEX customer_tags_by_tag ON customer_tags (tag, customer_id);

CREATE TABLE purchases (
    id              TEXT PRIMARY KEY,
    customer_id     TEXT    NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    product         TEXT    NOT NULL,
    sku             TEXT    NOT NULL,
    quantity        BIGINT  NOT NULL,
    amount_micros   BIGINT  NOT NULL,
    currency_code   TEXT    NOT NULL,
    order_reference TEXT    NOT NULL,
    purchase_time   BIGINT  NOT NULL,
    create_time     BIGINT  NOT NULL
);
CREATE INDEX purchases_by_customer ON purchases (customer_id, purchase_time, id);

CREATE TABLE interactions (
    id               TEXT PRIMARY KEY,
    customer_id      TEXT    NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    channel          BIGINT  NOT NULL,
    direction        BIGINT  NOT NULL,
    summary          TEXT    NOT NULL,
    interaction_time BIGINT  NOT NULL,
    ticket           TEXT    NOT NULL,
    logged_by        TEXT    NOT NULL,
    create_time      BIGINT  NOT NULL
);
CREATE INDEX interactions_by_customer ON interactions (customer_id, interaction_time, id);
CREATE INDEX interactions_by_customer_channel ON interactions (customer_id, channel, interaction_time, id);
