-- A group's lead (told by escalation levels that notify the lead), and who follows which ticket.
ALTER TABLE team_groups ADD COLUMN lead_id TEXT;
CREATE TABLE ticket_followers (
    ticket_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, agent_id)
);
CREATE INDEX ticket_followers_by_agent ON ticket_followers (agent_id, ticket_id);
