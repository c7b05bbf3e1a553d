-- Skills-based routing (domain::skills): each group's skill rules as JSON, and the requester's
-- locale at creation, which rules may look at.
ALTER TABLE team_groups ADD COLUMN skill_rules TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tickets ADD COLUMN requester_locale TEXT NOT NULL DEFAULT '';
-- Whether a member going OFFLINE gives back their NEW and OPEN tickets of the group to routing.
ALTER TABLE team_groups ADD COLUMN reassign_offline BIGINT NOT NULL DEFAULT 0;
