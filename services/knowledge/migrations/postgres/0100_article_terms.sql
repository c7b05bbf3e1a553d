-- The search index's postings, PostgreSQL dialect (after the common 0001): clustered or covering by
-- term, which the two databases spell differently. Keep the columns in step with ../sqlite/.
-- The search index: one row per (term, article) for the article's searchable revision (the
-- published one, else the latest). Terms come from the Rust tokenizer (Snowball English stems,
-- jieba words for Chinese), so both databases index and rank exactly alike.
CREATE TABLE article_terms (
    term       TEXT   NOT NULL,
    article_id TEXT   NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    title_tf   BIGINT NOT NULL,
    body_tf    BIGINT NOT NULL,
    -- Covering: a term's postings are answered by an index-only scan.
    PRIMARY KEY (term, article_id) INCLUDE (title_tf, body_tf)
);
CREATE INDEX article_terms_by_article ON article_terms (article_id);
