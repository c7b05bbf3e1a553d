-- Feedback service schema: one text both SQLite and PostgreSQL run. Timestamps are UTC
-- microseconds (BIGINT), flags 0/1, enums their proto numbers (a survey's channel is its name, the
-- key of the summary by channel). The outbox, request ids and consumer cursors are kefu-db's own
-- tables, created by its migration.

-- Tickets opened in the tickets service on the feedback service's behalf (follow-ups of low
-- scores, complaint tickets): a queue worked until each is opened or refused for good. The id is
-- the request id sent to CreateTicket, so a retry can never open a second ticket.
CREATE TABLE follow_ups (
    id                TEXT PRIMARY KEY,
    source            TEXT   NOT NULL,              -- surveys/{id} or feedback/{id}
    request           TEXT   NOT NULL,              -- JSON: the ticket to open
    state             BIGINT NOT NULL,              -- FollowUpState
    ticket            TEXT,                         -- tickets/{id} once opened
    failure           TEXT   NOT NULL DEFAULT '',
    attempts          BIGINT NOT NULL DEFAULT 0,
    next_attempt_time BIGINT NOT NULL,
    create_time       BIGINT NOT NULL,
    update_time       BIGINT NOT NULL
);
CREATE INDEX follow_ups_due ON follow_ups (state, next_attempt_time);
CREATE INDEX follow_ups_by_ticket ON follow_ups (ticket);

CREATE TABLE nps_campaigns (
    id           TEXT PRIMARY KEY,
    display_name TEXT   NOT NULL,
    segment      TEXT   NOT NULL,                   -- JSON
    survey_count BIGINT NOT NULL,
    creator      TEXT   NOT NULL,
    create_time  BIGINT NOT NULL
);

CREATE TABLE surveys (
    id            TEXT PRIMARY KEY,
    kind          BIGINT NOT NULL,                  -- SurveyKind
    origin        TEXT   NOT NULL UNIQUE,           -- what created it: one survey per origin
    customer_id   TEXT   NOT NULL,
    ticket_id     TEXT,
    assignee      TEXT   NOT NULL DEFAULT '',       -- agents/{id} when the ticket was solved
    group_name    TEXT   NOT NULL DEFAULT '',
    channel       TEXT   NOT NULL DEFAULT '',
    ticket_type   TEXT   NOT NULL DEFAULT '',
    campaign_id   TEXT REFERENCES nps_campaigns (id),
    token         TEXT   NOT NULL UNIQUE,
    create_time   BIGINT NOT NULL,
    expire_time   BIGINT NOT NULL,
    score         BIGINT,                           -- NULL until answered
    reason_codes  TEXT   NOT NULL DEFAULT '[]',     -- JSON array
    comment       TEXT   NOT NULL DEFAULT '',
    submit_time   BIGINT,
    anonymized    BIGINT NOT NULL DEFAULT 0,
    follow_up_id  TEXT REFERENCES follow_ups (id)
);
CREATE INDEX surveys_by_create_time ON surveys (create_time, id);
CREATE INDEX surveys_by_customer ON surveys (customer_id, create_time, id);
CREATE INDEX surveys_by_ticket ON surveys (ticket_id, create_time, id);
CREATE INDEX surveys_by_campaign ON surveys (campaign_id, create_time, id);

CREATE TABLE feedback_entries (
    id               TEXT PRIMARY KEY,
    kind             BIGINT NOT NULL,               -- FeedbackKind
    customer_id      TEXT   NOT NULL,
    body             TEXT   NOT NULL,
    channel          BIGINT NOT NULL,
    ticket_id        TEXT,
    state            BIGINT NOT NULL,               -- FeedbackState
    resolve_time     BIGINT,
    -- The tickets event that last moved the state: replicas may read the stream out of order.
    ticket_event_seq BIGINT NOT NULL DEFAULT 0,
    anonymized       BIGINT NOT NULL DEFAULT 0,
    follow_up_id     TEXT REFERENCES follow_ups (id),
    create_time      BIGINT NOT NULL,
    update_time      BIGINT NOT NULL
);
CREATE INDEX feedback_by_create_time ON feedback_entries (create_time, id);
CREATE INDEX feedback_by_customer ON feedback_entries (customer_id, create_time, id);
CREATE INDEX feedback_by_follow_up ON feedback_entries (follow_up_id);
