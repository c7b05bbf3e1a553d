-- Classification (domain::classify): a ticket's urgency and impact (0 = not classified), where
-- its priority came from (existing tickets: MANUAL = 2, so nothing re-prioritizes them), and the
-- admin-set matrix, seeded with the ITIL one (enums are their proto numbers).
ALTER TABLE tickets ADD COLUMN urgency BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN impact BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN priority_source BIGINT NOT NULL DEFAULT 2;
CREATE TABLE priority_matrix (
    urgency BIGINT NOT NULL,
    impact BIGINT NOT NULL,
    priority BIGINT NOT NULL,
    PRIMARY KEY (urgency, impact)
);
INSERT INTO priority_matrix (urgency, impact, priority) VALUES
    (1, 1, 1), (1, 2, 1), (1, 3, 2),
    (2, 1, 1), (2, 2, 2), (2, 3, 3),
    (3, 1, 2), (3, 2, 3), (3, 3, 4);
