-- Merging (reversible) and links between tickets.
ALTER TABLE tickets ADD COLUMN merged_into TEXT REFERENCES tickets (id);

-- One row per merged-away ticket: what unmerging needs to put back.
CREATE TABLE ticket_merges (
    source_id         TEXT PRIMARY KEY REFERENCES tickets (id),
    target_id         TEXT   NOT NULL REFERENCES tickets (id),
    moved_comments    TEXT   NOT NULL,   -- JSON array of comment ids moved to the target
    source_status     BIGINT NOT NULL,   -- the source's status before the merge
    source_solve_time BIGINT,
    create_time       BIGINT NOT NULL
);
CREATE INDEX ticket_merges_by_target ON ticket_merges (target_id);

-- Links, stored from both ends: RELATED both ways; a parent has CHILD rows, its child a PARENT row.
CREATE TABLE ticket_links (
    ticket_id   TEXT   NOT NULL REFERENCES tickets (id),
    other_id    TEXT   NOT NULL REFERENCES tickets (id),
    kind        BIGINT NOT NULL,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, other_id)
);
