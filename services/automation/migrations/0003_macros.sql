-- Macros: bundles of actions agents apply to tickets as themselves.
CREATE TABLE macros (
    id             TEXT PRIMARY KEY,
    display_name   TEXT   NOT NULL,
    description    TEXT   NOT NULL DEFAULT '',
    active         BIGINT NOT NULL,
    visibility     TEXT   NOT NULL,             -- SHARED or PERSONAL
    owner          TEXT   NOT NULL,             -- principal id of the creator
    actions        TEXT   NOT NULL,             -- JSON: [Action]
    usage_count    BIGINT NOT NULL DEFAULT 0,
    last_used_time BIGINT,
    create_time    BIGINT NOT NULL,
    update_time    BIGINT NOT NULL,
    version        BIGINT NOT NULL
);
CREATE INDEX macros_by_name ON macros (display_name, id);
CREATE INDEX macros_by_owner ON macros (owner, display_name, id);

-- One application of a macro to one ticket, keyed by who applied it with which request id:
-- a retried ApplyMacro finds it, re-sends only the steps not yet applied (with the same request
-- ids, so the tickets service applies each once), and counts the ticket once.
CREATE TABLE macro_applications (
    id              TEXT PRIMARY KEY,
    macro_id        TEXT   NOT NULL,
    actor           TEXT   NOT NULL,
    request_id      TEXT   NOT NULL,
    ticket_id       TEXT   NOT NULL,
    actions         TEXT   NOT NULL,            -- JSON: the planned actions, templates rendered
    applied_actions BIGINT NOT NULL,
    state           TEXT   NOT NULL,            -- PENDING, APPLIED or FAILED
    error           TEXT   NOT NULL DEFAULT '',
    create_time     BIGINT NOT NULL,
    update_time     BIGINT NOT NULL,
    UNIQUE (macro_id, actor, request_id, ticket_id)
);
