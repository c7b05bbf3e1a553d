-- SLA policies change (UpdateSlaPolicy, with etags) and are archived when deleted while tickets
-- hold them.
ALTER TABLE sla_policies ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE sla_policies ADD COLUMN archive_time BIGINT;
CREATE INDEX tickets_by_sla_policy ON tickets (sla_policy_id);
