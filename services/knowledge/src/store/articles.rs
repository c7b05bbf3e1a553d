use std::collections::BTreeMap;

use kefu_db::Params;
use kefu_db::row::{self, Stored, Versioned, enumerated, flag, json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{ArticleFilter, filter_clauses};
use crate::domain::access::Scope;
use crate::domain::article::{ArticleRecord, Content, RevisionRecord, Settings};
use crate::domain::kinds::{ArticleState, Visibility};

const COLUMNS: &str = "a.id, a.locale, a.category_id, a.tags, a.visibility, a.state, a.author, a.promoted, \
    a.translation_set, a.latest_revision_id, a.published_revision_id, a.create_time, a.update_time, a.publish_time, \
    a.version, a.view_count, a.helpful_count, a.not_helpful_count";
const REVISION_COLUMNS: &str =
    "id, article_id, number, title, body, summary, author, restored_from, create_time";

impl Stored for ArticleRecord {
    const COLLECTION: &'static str = "articles";
    const TABLE: &'static str = "articles AS a";
    const ID: &'static str = "a.id";
    const COLUMNS: &'static str = COLUMNS;

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(ArticleRecord {
            id: row.try_get("id")?,
            settings: Settings {
                locale: row.try_get("locale")?,
                category_id: row.try_get("category_id")?,
                tags: json(row, "tags")?,
                visibility: enumerated(row, "visibility", Visibility::from_number)?,
                promoted: flag(row, "promoted")?,
            },
            state: enumerated(row, "state", ArticleState::from_number)?,
            author: row.try_get("author")?,
            translation_set: row.try_get("translation_set")?,
            latest_revision_id: row.try_get("latest_revision_id")?,
            published_revision_id: row.try_get("published_revision_id")?,
            create_time: row.try_get("create_time")?,
            update_time: row.try_get("update_time")?,
            publish_time: row.try_get("publish_time")?,
            version: row.try_get("version")?,
            view_count: row.try_get("view_count")?,
            helpful_count: row.try_get("helpful_count")?,
            not_helpful_count: row.try_get("not_helpful_count")?,
        })
    }
}

impl Versioned for ArticleRecord {
    fn id_and_version(&self) -> (&str, i64) {
        (&self.id, self.version)
    }
}

fn decode_revision(row: &AnyRow) -> Result<RevisionRecord, sqlx::Error> {
    Ok(RevisionRecord {
        id: row.try_get("id")?,
        article_id: row.try_get("article_id")?,
        number: row.try_get("number")?,
        content: Content {
            title: row.try_get("title")?,
            body: row.try_get("body")?,
            summary: row.try_get("summary")?,
        },
        author: row.try_get("author")?,
        restored_from: row.try_get("restored_from")?,
        create_time: row.try_get("create_time")?,
    })
}

/// The article of a translation set in a locale.
pub async fn find_translation(
    conn: &mut AnyConnection,
    set: &str,
    locale: &str,
) -> Result<Option<ArticleRecord>, sqlx::Error> {
    row::one(
        conn,
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM articles a WHERE a.translation_set = $1 AND a.locale = $2"
        ))
        .bind(set)
        .bind(locale),
        ArticleRecord::decode,
    )
    .await
}

async fn write_tags(conn: &mut AnyConnection, a: &ArticleRecord) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM article_tags WHERE article_id = $1")
        .bind(&a.id)
        .execute(&mut *conn)
        .await?;
    for tag in &a.settings.tags {
        sqlx::query("INSERT INTO article_tags (article_id, tag) VALUES ($1, $2)")
            .bind(&a.id)
            .bind(tag)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Inserts an article (its first revision goes in with [`insert_revision`]).
pub async fn insert_article(
    conn: &mut AnyConnection,
    a: &ArticleRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO articles (id, locale, category_id, tags, visibility, state, author, promoted, translation_set, \
         latest_revision_id, published_revision_id, create_time, update_time, publish_time, version, view_count, \
         helpful_count, not_helpful_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(&a.id)
    .bind(&a.settings.locale)
    .bind(a.settings.category_id.as_deref())
    .bind(serde_json::to_string(&a.settings.tags).unwrap_or_else(|_| "[]".to_owned()))
    .bind(i64::from(a.settings.visibility.number()))
    .bind(i64::from(a.state.number()))
    .bind(&a.author)
    .bind(i64::from(a.settings.promoted))
    .bind(&a.translation_set)
    .bind(&a.latest_revision_id)
    .bind(a.published_revision_id.as_deref())
    .bind(a.create_time)
    .bind(a.update_time)
    .bind(a.publish_time)
    .bind(a.version)
    .bind(a.view_count)
    .bind(a.helpful_count)
    .bind(a.not_helpful_count)
    .execute(&mut *conn)
    .await?;
    write_tags(conn, a).await
}

/// Writes an article's settings and state if its version is still `expected_version`.
pub async fn update_article(
    conn: &mut AnyConnection,
    a: &ArticleRecord,
    expected_version: i64,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "UPDATE articles SET locale = $1, category_id = $2, tags = $3, visibility = $4, state = $5, promoted = $6, \
         latest_revision_id = $7, published_revision_id = $8, update_time = $9, publish_time = $10, version = $11 \
         WHERE id = $12 AND version = $13",
    )
    .bind(&a.settings.locale)
    .bind(a.settings.category_id.as_deref())
    .bind(serde_json::to_string(&a.settings.tags).unwrap_or_else(|_| "[]".to_owned()))
    .bind(i64::from(a.settings.visibility.number()))
    .bind(i64::from(a.state.number()))
    .bind(i64::from(a.settings.promoted))
    .bind(&a.latest_revision_id)
    .bind(a.published_revision_id.as_deref())
    .bind(a.update_time)
    .bind(a.publish_time)
    .bind(a.version)
    .bind(&a.id)
    .bind(expected_version);
    let updated = row::changed(conn, statement).await?;
    if !updated {
        return Ok(false);
    }
    write_tags(conn, a).await?;
    Ok(true)
}

/// A page of articles in id order within a scope.
pub async fn list_articles(
    conn: &mut AnyConnection,
    filter: &ArticleFilter,
    scope: Scope,
    after_id: Option<&str>,
    limit: usize,
) -> Result<Vec<ArticleRecord>, sqlx::Error> {
    let mut params = Params::new();
    let mut clauses = filter_clauses(&mut params, filter, scope);
    if let Some(after) = after_id {
        clauses.push(format!("a.id > {}", params.bind(after.to_owned())));
    }
    let where_clause = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let sql =
        format!("SELECT {COLUMNS} FROM articles a {where_clause} ORDER BY a.id LIMIT {limit}");
    row::all(
        conn,
        sqlx::query_with(&sql, params.into_args()),
        ArticleRecord::decode,
    )
    .await
}

/// The FAQ page: promoted first, then by views or by net helpful votes.
pub async fn popular_articles(
    conn: &mut AnyConnection,
    filter: &ArticleFilter,
    scope: Scope,
    by_helpful: bool,
    limit: usize,
) -> Result<Vec<ArticleRecord>, sqlx::Error> {
    let mut params = Params::new();
    let clauses = filter_clauses(&mut params, filter, scope);
    let where_clause = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let metric = if by_helpful {
        "a.helpful_count - a.not_helpful_count"
    } else {
        "a.view_count"
    };
    let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let sql = format!(
        "SELECT {COLUMNS} FROM articles a {where_clause} ORDER BY a.promoted DESC, {metric} DESC, a.id LIMIT {limit}"
    );
    row::all(
        conn,
        sqlx::query_with(&sql, params.into_args()),
        ArticleRecord::decode,
    )
    .await
}

/// Inserts a revision.
pub async fn insert_revision(
    conn: &mut AnyConnection,
    r: &RevisionRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO revisions ({REVISION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&r.id)
    .bind(&r.article_id)
    .bind(r.number)
    .bind(&r.content.title)
    .bind(&r.content.body)
    .bind(&r.content.summary)
    .bind(&r.author)
    .bind(&r.restored_from)
    .bind(r.create_time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One revision of one article.
pub async fn get_revision(
    conn: &mut AnyConnection,
    article_id: &str,
    revision_id: &str,
) -> Result<Option<RevisionRecord>, sqlx::Error> {
    row::one(
        conn,
        sqlx::query(&format!(
            "SELECT {REVISION_COLUMNS} FROM revisions WHERE id = $1 AND article_id = $2"
        ))
        .bind(revision_id)
        .bind(article_id),
        decode_revision,
    )
    .await
}

/// Revisions by id, keyed by id.
pub async fn get_revisions(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<BTreeMap<String, RevisionRecord>, sqlx::Error> {
    let select = format!("SELECT {REVISION_COLUMNS} FROM revisions");
    let revisions = row::by_keys(conn, &select, "id", ids, decode_revision).await?;
    Ok(revisions.into_iter().map(|r| (r.id.clone(), r)).collect())
}

/// The number the next revision of an article gets.
pub async fn next_revision_number(
    conn: &mut AnyConnection,
    article_id: &str,
) -> Result<i64, sqlx::Error> {
    let rows = sqlx::query("SELECT MAX(number) AS n FROM revisions WHERE article_id = $1")
        .bind(article_id)
        .fetch_all(&mut *conn)
        .await?;
    let max: Option<i64> = rows.first().map(|r| r.try_get("n")).transpose()?.flatten();
    Ok(max.unwrap_or(0) + 1)
}

/// A page of an article's revisions, newest first, before revision number `before`.
pub async fn list_revisions(
    conn: &mut AnyConnection,
    article_id: &str,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<RevisionRecord>, sqlx::Error> {
    row::all(conn, sqlx::query(&format!(
        "SELECT {REVISION_COLUMNS} FROM revisions WHERE article_id = $1 AND number < $2 ORDER BY number DESC LIMIT $3"
    ))
    .bind(article_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX)), decode_revision).await
}

/// Records or changes a reader's vote and refreshes the article's counters.
pub async fn record_vote(
    conn: &mut AnyConnection,
    article_id: &str,
    voter: &str,
    helpful: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO article_votes (article_id, voter, helpful, vote_time) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (article_id, voter) DO UPDATE SET helpful = excluded.helpful, vote_time = excluded.vote_time",
    )
    .bind(article_id)
    .bind(voter)
    .bind(i64::from(helpful))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE articles SET \
         helpful_count = (SELECT COUNT(*) FROM article_votes WHERE article_id = $1 AND helpful = 1), \
         not_helpful_count = (SELECT COUNT(*) FROM article_votes WHERE article_id = $2 AND helpful = 0) \
         WHERE id = $3",
    )
    .bind(article_id)
    .bind(article_id)
    .bind(article_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds one view and returns the new count.
pub async fn add_view(conn: &mut AnyConnection, article_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query("UPDATE articles SET view_count = view_count + 1 WHERE id = $1")
        .bind(article_id)
        .execute(&mut *conn)
        .await?;
    let rows = sqlx::query("SELECT view_count FROM articles WHERE id = $1")
        .bind(article_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .first()
        .map(|r| r.try_get("view_count"))
        .transpose()?
        .unwrap_or(0))
}
