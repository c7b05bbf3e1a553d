-- Which tickets an agent sees (TicketScope): existing agents keep seeing every ticket.
ALTER TABLE agents ADD COLUMN ticket_scope BIGINT NOT NULL DEFAULT 1;
