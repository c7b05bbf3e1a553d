-- Tickets stream positions are (transaction, sequence) pairs now (kefu_db::outbox::Position), so
-- the position of the event that last moved an entry is kept as its sortable text
-- (Position::order_key). Entries already moved by an event get '0', which sorts after the empty
-- text ("never moved") and before every real position.
ALTER TABLE feedback_entries ADD COLUMN ticket_event_position TEXT NOT NULL DEFAULT '';
UPDATE feedback_entries SET ticket_event_position = '0' WHERE ticket_event_seq > 0;
ALTER TABLE feedback_entries DROP COLUMN ticket_event_seq;
