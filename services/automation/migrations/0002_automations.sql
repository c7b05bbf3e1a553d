-- Time-based rules. An automation has a trigger's parts with a schedule in place of events; both
-- tables carry both columns so one decoder reads either. Firings record which kind of rule made
-- them (0 trigger, 1 automation).
ALTER TABLE triggers ADD COLUMN schedule TEXT NOT NULL DEFAULT '';
ALTER TABLE firings ADD COLUMN rule BIGINT NOT NULL DEFAULT 0;

CREATE TABLE automations (
    id              TEXT PRIMARY KEY,
    display_name    TEXT   NOT NULL,
    description     TEXT   NOT NULL DEFAULT '',
    active          BIGINT NOT NULL,
    position        BIGINT NOT NULL,
    events          TEXT   NOT NULL,                -- JSON: [] (automations have no events)
    schedule        TEXT   NOT NULL,                -- JSON: Schedule
    all_conditions  TEXT   NOT NULL,
    any_conditions  TEXT   NOT NULL,
    actions         TEXT   NOT NULL,
    stop_processing BIGINT NOT NULL,
    create_time     BIGINT NOT NULL,
    update_time     BIGINT NOT NULL,
    version         BIGINT NOT NULL
);
CREATE INDEX automations_in_order ON automations (position, create_time, id);

-- Each ticket's clock as the tickets event stream shows it (its times in the tickets service's
-- clock), and when an event about it was last consumed (`change_time`, this service's clock),
-- so a check looks again at tickets whose facts changed.
CREATE TABLE ticket_clocks (
    ticket_id            TEXT PRIMARY KEY,
    status               TEXT   NOT NULL,
    create_time          BIGINT NOT NULL,
    status_time          BIGINT NOT NULL,
    solve_time           BIGINT NOT NULL DEFAULT 0,
    requester_reply_time BIGINT NOT NULL DEFAULT 0,
    change_time          BIGINT NOT NULL
);
CREATE INDEX ticket_clocks_by_creation ON ticket_clocks (create_time);
CREATE INDEX ticket_clocks_by_status ON ticket_clocks (status, status_time);
CREATE INDEX ticket_clocks_by_solve ON ticket_clocks (solve_time);
CREATE INDEX ticket_clocks_by_reply ON ticket_clocks (requester_reply_time);
CREATE INDEX ticket_clocks_by_change ON ticket_clocks (change_time);

-- A rule's last entry on a ticket: the moment its hours counted from, whether its conditions
-- held at the last check, and how many times they came to hold since (each a firing).
CREATE TABLE rule_entries (
    rule_id   TEXT   NOT NULL,
    ticket_id TEXT   NOT NULL,
    anchor    BIGINT NOT NULL,
    holding   BIGINT NOT NULL,
    entries   BIGINT NOT NULL,
    PRIMARY KEY (rule_id, ticket_id)
);

-- How far each automation has been checked (this service's clock).
CREATE TABLE rule_sweeps (
    rule_id     TEXT PRIMARY KEY,
    swept_until BIGINT NOT NULL
);

-- Default rules installed once per database (an admin who deletes one keeps it deleted).
CREATE TABLE installed_defaults (
    name         TEXT PRIMARY KEY,
    install_time BIGINT NOT NULL
);
