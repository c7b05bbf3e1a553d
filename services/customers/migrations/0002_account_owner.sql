-- A customer's dedicated agent (an agent id of the tickets service), routed to first.
ALTER TABLE customers ADD COLUMN account_owner TEXT;
