-- Tickets service schema: one text both SQLite and PostgreSQL run. Timestamps are UTC
-- microseconds (BIGINT), flags 0/1, enums their proto numbers. The outbox, request ids and
-- consumer cursors are kefu-db's own tables, created by its migration.

CREATE TABLE team_groups (
    id           TEXT PRIMARY KEY,
    display_name TEXT   NOT NULL UNIQUE,
    description  TEXT   NOT NULL,
    create_time  BIGINT NOT NULL,
    update_time  BIGINT NOT NULL,
    version      BIGINT NOT NULL
);

CREATE TABLE agents (
    id           TEXT PRIMARY KEY,            -- the agent's principal id
    display_name TEXT   NOT NULL,
    email        TEXT   NOT NULL UNIQUE,
    skills       TEXT   NOT NULL,             -- JSON array
    capacity     BIGINT NOT NULL,
    active       BIGINT NOT NULL,
    create_time  BIGINT NOT NULL,
    update_time  BIGINT NOT NULL,
    version      BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES team_groups (id),
    agent_id TEXT NOT NULL REFERENCES agents (id),
    PRIMARY KEY (group_id, agent_id)
);
CREATE INDEX group_members_by_agent ON group_members (agent_id, group_id);

CREATE TABLE business_schedules (
    id           TEXT PRIMARY KEY,
    display_name TEXT   NOT NULL,
    time_zone    TEXT   NOT NULL,
    intervals    TEXT   NOT NULL,             -- JSON [[day, start, end], ...]
    holidays     TEXT   NOT NULL,             -- JSON ["YYYY-MM-DD", ...]
    create_time  BIGINT NOT NULL
);

CREATE TABLE sla_policies (
    id                     TEXT PRIMARY KEY,
    display_name           TEXT   NOT NULL,
    position               BIGINT NOT NULL,
    conditions             TEXT   NOT NULL,   -- JSON {priorities, tiers, types, channels, groups}
    first_response_minutes BIGINT NOT NULL,
    next_response_minutes  BIGINT NOT NULL,
    resolution_minutes     BIGINT NOT NULL,
    schedule_id            TEXT   REFERENCES business_schedules (id),
    create_time            BIGINT NOT NULL
);
CREATE INDEX sla_policies_in_order ON sla_policies (position, create_time, id);

CREATE TABLE tickets (
    id                     TEXT PRIMARY KEY,  -- UUIDv7: sorts by creation time
    subject                TEXT   NOT NULL,
    description            TEXT   NOT NULL,
    search_text            TEXT   NOT NULL,   -- lowercased subject + description, for `text`
    requester_id           TEXT   NOT NULL,
    requester_name         TEXT   NOT NULL,
    requester_tier         BIGINT NOT NULL,
    requester_erased       BIGINT NOT NULL,
    organization_id        TEXT,
    assignee_id            TEXT   REFERENCES agents (id),
    group_id               TEXT   REFERENCES team_groups (id),
    status                 BIGINT NOT NULL,
    priority               BIGINT NOT NULL,
    ticket_type            BIGINT NOT NULL,
    after_sales_kind       BIGINT NOT NULL,
    category               TEXT   NOT NULL,
    channel                BIGINT NOT NULL,
    tags                   TEXT   NOT NULL,   -- JSON array, for reads; filters use ticket_tags
    custom_fields          TEXT   NOT NULL,   -- JSON object
    sla                    TEXT   NOT NULL,   -- JSON SlaRecord
    sla_policy_id          TEXT,
    sla_breached           BIGINT NOT NULL,
    next_due               BIGINT,            -- soonest unbreached due time, for the sweeper and order_by
    due_order              BIGINT NOT NULL,   -- next_due, or the largest BIGINT: "no due time" sorts last
    first_response_seconds BIGINT,
    resolution_seconds     BIGINT,
    reopen_count           BIGINT NOT NULL,
    agent_replies          BIGINT NOT NULL,
    create_time            BIGINT NOT NULL,
    update_time            BIGINT NOT NULL,
    solve_time             BIGINT,
    close_time             BIGINT,
    version                BIGINT NOT NULL,
    follow_up_of           TEXT   REFERENCES tickets (id)
);
-- One index per filter and order; each ends with id for keyset pages.
CREATE INDEX tickets_by_status ON tickets (status, id);
CREATE INDEX tickets_by_priority ON tickets (priority, id);
CREATE INDEX tickets_by_type ON tickets (ticket_type, id);
CREATE INDEX tickets_by_category ON tickets (category, id);
CREATE INDEX tickets_by_channel ON tickets (channel, id);
CREATE INDEX tickets_by_assignee ON tickets (assignee_id, id);
CREATE INDEX tickets_by_group ON tickets (group_id, id);
CREATE INDEX tickets_by_requester ON tickets (requester_id, id);
CREATE INDEX tickets_by_organization ON tickets (organization_id, id);
CREATE INDEX tickets_by_breach ON tickets (sla_breached, id);
CREATE INDEX tickets_by_create_time ON tickets (create_time, id);
CREATE INDEX tickets_by_update_time ON tickets (update_time, id);
CREATE INDEX tickets_by_priority_order ON tickets (priority DESC, id DESC);
CREATE INDEX tickets_by_due ON tickets (due_order, id);
CREATE INDEX tickets_to_sweep ON tickets (next_due);
CREATE INDEX tickets_to_close ON tickets (status, solve_time);

CREATE TABLE ticket_tags (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    tag       TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
);
CREATE INDEX ticket_tags_by_tag ON ticket_tags (tag, ticket_id);

CREATE TABLE comments (
    id          TEXT PRIMARY KEY,
    ticket_id   TEXT   NOT NULL REFERENCES tickets (id),
    body        TEXT   NOT NULL,
    public      BIGINT NOT NULL,
    author      TEXT   NOT NULL,
    author_kind BIGINT NOT NULL,
    channel     BIGINT NOT NULL,
    attachments TEXT   NOT NULL,              -- JSON array
    create_time BIGINT NOT NULL
);
CREATE INDEX comments_by_ticket ON comments (ticket_id, id);

CREATE TABLE audits (
    id          TEXT PRIMARY KEY,
    ticket_id   TEXT   NOT NULL REFERENCES tickets (id),
    actor       TEXT   NOT NULL,
    actor_role  TEXT   NOT NULL,
    via         TEXT   NOT NULL,
    changes     TEXT   NOT NULL,              -- JSON [{field, old, new}]
    create_time BIGINT NOT NULL
);
CREATE INDEX audits_by_ticket ON audits (ticket_id, id);
