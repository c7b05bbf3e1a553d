use std::collections::{BTreeMap, HashMap};

use sqlx::{AnyConnection, Row};

use kefu_db::Params;

use super::{ArticleFilter, filter_clauses};
use crate::domain::access::Scope;

/// Replaces an article's rows in the search index.
pub async fn reindex(
    conn: &mut AnyConnection,
    article_id: &str,
    terms: &BTreeMap<String, (i64, i64)>,
) -> Result<(), sqlx::Error> {
    kefu_text::postings::write(conn, "article_terms", "article_id", article_id, terms).await
}

/// How many articles are indexed, and in how many of them each term occurs.
pub async fn term_statistics(
    conn: &mut AnyConnection,
    terms: &[String],
) -> Result<(i64, HashMap<String, i64>), sqlx::Error> {
    kefu_text::postings::statistics(conn, "articles", "article_terms", terms).await
}

/// The best-scoring articles for weighted terms, after the `(score, id)` key `after`.
///
/// score = Σ over matched terms of weight × (title match ? 5 : 0 + min(body count, 3))
///         + 1,000,000 × number of matched terms
///
/// All integers, so SQLite and PostgreSQL rank identically; ties go by article id.
pub async fn search(
    conn: &mut AnyConnection,
    weighted_terms: &[(String, i64)],
    filter: &ArticleFilter,
    scope: Scope,
    after: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    if weighted_terms.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = Params::new();
    let (score, terms) = crate::domain::search::score_sql(&mut params, weighted_terms);
    // Aggregate the postings first (a clustered range read per term), then look each matched
    // article up once for the reader's scope and the filters.
    let mut clauses = filter_clauses(&mut params, filter, scope);
    if let Some((last_score, last_id)) = after {
        let s1 = params.bind(*last_score);
        let s2 = params.bind(*last_score);
        let id = params.bind(last_id.clone());
        clauses.push(format!(
            "(s.score < {s1} OR (s.score = {s2} AND s.article_id > {id}))"
        ));
    }
    let where_clause = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let sql = format!(
        "WITH s AS MATERIALIZED \
         (SELECT p.article_id AS article_id, {score} AS score FROM article_terms p WHERE p.term IN ({terms}) GROUP BY p.article_id) \
         SELECT s.article_id AS article_id, s.score AS score FROM s \
         JOIN articles a ON a.id = s.article_id {where_clause} ORDER BY s.score DESC, s.article_id LIMIT {limit}"
    );
    let rows = sqlx::query_with(&sql, params.into_args())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("article_id")?, r.try_get("score")?)))
        .collect()
}
