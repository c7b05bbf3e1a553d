-- The assignee and group of an entry's ticket when it was sent, for agents' ticket scopes.
ALTER TABLE feedback_entries ADD COLUMN ticket_assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE feedback_entries ADD COLUMN ticket_group TEXT NOT NULL DEFAULT '';
