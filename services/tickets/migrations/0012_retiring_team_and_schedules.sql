-- Schedules change under an etag; groups and agents are deleted softly (tickets, audits and
-- statistics keep naming them), so each gains a version or a delete time.
ALTER TABLE business_schedules ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE team_groups ADD COLUMN delete_time BIGINT;
ALTER TABLE agents ADD COLUMN delete_time BIGINT;
