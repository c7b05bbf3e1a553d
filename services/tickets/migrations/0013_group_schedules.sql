-- A group may route only in its business hours (Group.business_schedule).
ALTER TABLE team_groups ADD COLUMN schedule_id TEXT REFERENCES business_schedules (id);
