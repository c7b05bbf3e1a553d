-- Outbox order (docs/decisions/0006-outbox-order.md). SQLite runs one write transaction at a time,
-- so seq order is commit order and xid stays 0; the column keeps one query text for both
-- databases. Keep in step with ../postgres/.
ALTER TABLE events ADD COLUMN xid BIGINT NOT NULL DEFAULT 0;
CREATE INDEX events_in_commit_order ON events (xid, seq);
