-- "SLA due within N hours": each ticket's next SLA due time as its last event showed it
-- (0: none runs), so a check finds the tickets whose warning time came.
ALTER TABLE ticket_clocks ADD COLUMN sla_due_time BIGINT NOT NULL DEFAULT 0;
CREATE INDEX ticket_clocks_by_sla_due ON ticket_clocks (sla_due_time);
