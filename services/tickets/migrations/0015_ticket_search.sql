-- Ranked full-text search over subject (the title), description and comments (the body), with
-- the knowledge base's analysis (kefu-text). Tickets written before are indexed by the
-- service's sweep, a round at a time (search_indexed = 0 until then).
CREATE TABLE ticket_terms (
    term      TEXT   NOT NULL,
    ticket_id TEXT   NOT NULL REFERENCES tickets (id),
    title_tf  BIGINT NOT NULL,
    body_tf   BIGINT NOT NULL,
    PRIMARY KEY (term, ticket_id)
);
CREATE INDEX ticket_terms_by_ticket ON ticket_terms (ticket_id);
ALTER TABLE tickets ADD COLUMN search_indexed BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tickets_to_index ON tickets (search_indexed, id);
