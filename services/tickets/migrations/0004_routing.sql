-- Routing (domain::routing): how each group hands out its new tickets, whose turn is next, and
-- whether each agent takes routed tickets now. Enums are their proto numbers.
ALTER TABLE team_groups ADD COLUMN routing BIGINT NOT NULL DEFAULT 1;
ALTER TABLE team_groups ADD COLUMN last_routed_agent TEXT;
ALTER TABLE agents ADD COLUMN availability BIGINT NOT NULL DEFAULT 1;
-- A group's queue: its unassigned tickets, in SLA due order.
CREATE INDEX tickets_queued ON tickets (group_id, assignee_id, status, due_order, id);
-- An agent's load: their tickets by status.
CREATE INDEX tickets_by_assignee_status ON tickets (assignee_id, status);
