-- SLA escalation levels per policy (JSON list), and when the sweeper next has work on a ticket:
-- a breach or an escalation level, whichever comes first.
ALTER TABLE sla_policies ADD COLUMN escalations TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tickets ADD COLUMN escalate_at BIGINT;
UPDATE tickets SET escalate_at = next_due;
CREATE INDEX tickets_to_escalate ON tickets (escalate_at, id);
