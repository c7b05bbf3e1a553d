-- Every status change with the ticket's assignee, group, channel, priority and type at that
-- moment: what GetTicketStats counts solves and reopens from.
CREATE TABLE status_changes (
    id          TEXT PRIMARY KEY,
    ticket_id   TEXT   NOT NULL REFERENCES tickets (id),
    change_time BIGINT NOT NULL,
    old_status  BIGINT NOT NULL,
    new_status  BIGINT NOT NULL,
    assignee_id TEXT,
    group_id    TEXT,
    channel     BIGINT NOT NULL,
    priority    BIGINT NOT NULL,
    ticket_type BIGINT NOT NULL
);
CREATE INDEX status_changes_by_time ON status_changes (change_time, new_status);
CREATE INDEX status_changes_by_ticket ON status_changes (ticket_id, change_time);
CREATE INDEX tickets_by_solve_time ON tickets (solve_time);
