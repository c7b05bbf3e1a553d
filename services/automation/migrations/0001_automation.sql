-- Automation service schema: one text both SQLite and PostgreSQL run. Timestamps are UTC
-- microseconds (BIGINT), flags 0/1, enums their proto numbers. The outbox, request ids and
-- consumer cursors are kefu-db's own tables, created by its migration.

CREATE TABLE triggers (
    id              TEXT PRIMARY KEY,
    display_name    TEXT   NOT NULL,
    description     TEXT   NOT NULL DEFAULT '',
    active          BIGINT NOT NULL,
    position        BIGINT NOT NULL,
    events          TEXT   NOT NULL,                -- JSON: [EventKind]
    all_conditions  TEXT   NOT NULL,                -- JSON: [Condition]
    any_conditions  TEXT   NOT NULL,                -- JSON: [Condition]
    actions         TEXT   NOT NULL,                -- JSON: [Action]
    stop_processing BIGINT NOT NULL,
    create_time     BIGINT NOT NULL,
    update_time     BIGINT NOT NULL,
    version         BIGINT NOT NULL
);
CREATE INDEX triggers_in_order ON triggers (position, create_time, id);

-- Each tickets event evaluated once, by whichever replica claims it first, so every replica
-- agrees on which triggers fired even when they read the ticket at different moments.
CREATE TABLE evaluations (
    source      TEXT PRIMARY KEY,                   -- tickets:{cursor}
    create_time BIGINT NOT NULL
);

-- A trigger's match on one event; its actions are applied by the worker with request ids derived
-- from the id, so a redelivery, a restart or a second replica never applies one twice.
CREATE TABLE firings (
    id                TEXT PRIMARY KEY,
    trigger_id        TEXT   NOT NULL,
    trigger_name      TEXT   NOT NULL,
    ticket_id         TEXT   NOT NULL,
    source            TEXT   NOT NULL,
    event             BIGINT NOT NULL,              -- EventKind
    rank              BIGINT NOT NULL,
    state             BIGINT NOT NULL,              -- FiringState
    final_state       BIGINT NOT NULL,
    actions           TEXT   NOT NULL,              -- JSON: [Action], rendered
    applied_actions   BIGINT NOT NULL DEFAULT 0,
    depth             BIGINT NOT NULL,
    error             TEXT   NOT NULL DEFAULT '',
    attempts          BIGINT NOT NULL DEFAULT 0,
    next_attempt_time BIGINT NOT NULL,
    lease_until       BIGINT NOT NULL DEFAULT 0,
    create_time       BIGINT NOT NULL,
    update_time       BIGINT NOT NULL,
    UNIQUE (trigger_id, source)
);
CREATE INDEX firings_due ON firings (state, next_attempt_time);
CREATE INDEX firings_of_trigger ON firings (trigger_id, create_time, id);
CREATE INDEX firings_of_ticket ON firings (ticket_id, create_time, id);

-- Counts per trigger, kept with each firing's outcome (so reading a trigger never counts rows).
CREATE TABLE trigger_stats (
    trigger_id     TEXT PRIMARY KEY,
    applied        BIGINT NOT NULL DEFAULT 0,
    failed         BIGINT NOT NULL DEFAULT 0,
    skipped        BIGINT NOT NULL DEFAULT 0,
    last_fire_time BIGINT NOT NULL DEFAULT 0,
    last_error     TEXT   NOT NULL DEFAULT ''
);
