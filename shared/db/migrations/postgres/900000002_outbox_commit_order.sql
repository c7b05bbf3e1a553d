-- Outbox order without a global lock (docs/decisions/0006-outbox-order.md): each event carries its
-- writing transaction's id; readers order by (xid, seq) and see only transactions older than
-- their snapshot's xmin, so a transaction still in flight can never add an event before one a
-- reader has passed. Events written before this migration keep xid 0 and their seq order, ahead
-- of every later one. Keep in step with ../sqlite/.
ALTER TABLE events ADD COLUMN xid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ALTER COLUMN xid SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX events_in_commit_order ON events (xid, seq);
