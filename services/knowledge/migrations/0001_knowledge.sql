-- Knowledge service schema: one text both SQLite and PostgreSQL run. Timestamps are UTC
-- microseconds (BIGINT), flags 0/1, enums their proto numbers. The search index's postings table
-- is the one statement the dialects spell differently: it lives in sqlite/ and postgres/. The
-- outbox and request ids are kefu-db's own tables, created by its migration.

CREATE TABLE categories (
    id           TEXT PRIMARY KEY,
    parent_id    TEXT REFERENCES categories (id),
    position     BIGINT NOT NULL,
    display_name TEXT   NOT NULL,
    description  TEXT   NOT NULL,
    locale       TEXT   NOT NULL,
    create_time  BIGINT NOT NULL,
    update_time  BIGINT NOT NULL,
    version      BIGINT NOT NULL
);
CREATE INDEX categories_by_parent ON categories (parent_id, position, id);

CREATE TABLE articles (
    id                    TEXT PRIMARY KEY,    -- UUIDv7: sorts by creation time
    locale                TEXT   NOT NULL,
    category_id           TEXT   REFERENCES categories (id),
    tags                  TEXT   NOT NULL,     -- JSON array, for reads; filters use article_tags
    visibility            BIGINT NOT NULL,
    state                 BIGINT NOT NULL,
    author                TEXT   NOT NULL,
    promoted              BIGINT NOT NULL,
    translation_set       TEXT   NOT NULL,
    latest_revision_id    TEXT   NOT NULL,
    published_revision_id TEXT,
    create_time           BIGINT NOT NULL,
    update_time           BIGINT NOT NULL,
    publish_time          BIGINT,
    version               BIGINT NOT NULL,
    view_count            BIGINT NOT NULL,
    helpful_count         BIGINT NOT NULL,
    not_helpful_count     BIGINT NOT NULL
);
CREATE INDEX articles_by_category ON articles (category_id, id);
CREATE INDEX articles_by_locale ON articles (locale, id);
CREATE INDEX articles_by_state ON articles (state, visibility, id);
CREATE UNIQUE INDEX articles_one_per_locale_in_set ON articles (translation_set, locale);
CREATE INDEX articles_by_views ON articles (state, promoted, view_count);

CREATE TABLE article_tags (
    article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (article_id, tag)
);
CREATE INDEX article_tags_by_tag ON article_tags (tag, article_id);

CREATE TABLE revisions (
    id            TEXT PRIMARY KEY,
    article_id    TEXT   NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    number        BIGINT NOT NULL,
    title         TEXT   NOT NULL,
    body          TEXT   NOT NULL,
    summary       TEXT   NOT NULL,
    author        TEXT   NOT NULL,
    restored_from TEXT   NOT NULL,
    create_time   BIGINT NOT NULL
);
CREATE UNIQUE INDEX revisions_by_article ON revisions (article_id, number);


CREATE TABLE article_votes (
    article_id TEXT   NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    voter      TEXT   NOT NULL,
    helpful    BIGINT NOT NULL,
    vote_time  BIGINT NOT NULL,
    PRIMARY KEY (article_id, voter)
);
