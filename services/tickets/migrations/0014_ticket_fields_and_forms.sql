-- Typed custom fields (TicketField), the forms that say which fields a ticket type shows, and
-- the index ListTickets' custom_field filter reads (one row per value, and per option of a
-- multi-select). Values written before fields were typed are not in the index.
CREATE TABLE ticket_fields (
    id                TEXT PRIMARY KEY,   -- the custom_fields key
    display_name      TEXT   NOT NULL,
    field_type        BIGINT NOT NULL,
    options           TEXT   NOT NULL,    -- JSON array
    required_to_solve BIGINT NOT NULL,
    create_time       BIGINT NOT NULL,
    version           BIGINT NOT NULL
);

CREATE TABLE ticket_forms (
    id           TEXT PRIMARY KEY,
    display_name TEXT   NOT NULL,
    ticket_type  BIGINT NOT NULL UNIQUE,
    fields       TEXT   NOT NULL,         -- JSON array of field ids
    create_time  BIGINT NOT NULL,
    version      BIGINT NOT NULL
);

CREATE TABLE ticket_field_values (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    field_id  TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (ticket_id, field_id, value)
);
CREATE INDEX ticket_field_values_by_value ON ticket_field_values (field_id, value, ticket_id);
