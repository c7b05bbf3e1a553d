-- Saved views (View): personal (owner_id) or shared with a group (group_id). The filter is the
-- contract's ViewFilter message, protobuf-encoded and base64'd: the contract defines it, so a
-- field added there needs no migration.
CREATE TABLE views (
    id           TEXT PRIMARY KEY,
    display_name TEXT   NOT NULL,
    owner_id     TEXT,
    group_id     TEXT REFERENCES team_groups (id),
    filter       TEXT   NOT NULL,
    order_by     TEXT   NOT NULL,
    create_time  BIGINT NOT NULL,
    version      BIGINT NOT NULL
);
CREATE INDEX views_by_owner ON views (owner_id, display_name);
CREATE INDEX views_by_group ON views (group_id, display_name);
