use std::collections::{BTreeMap, HashMap};

use sqlx::{AnyConnection, Row};

use kefu_db::Params;

use super::{ArticleFilter, filter_clauses};
use crate::domain::access::Scope;

/// Rows inserted per statement when indexing.
const INSERT_BATCH: usize = 200;

/// Replaces an article's rows in the search index.
pub async fn reindex(
    conn: &mut AnyConnection,
    article_id: &str,
    terms: &BTreeMap<String, (i64, i64)>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM article_terms WHERE article_id = $1")
        .bind(article_id)
        .execute(&mut *conn)
        .await?;
    let entries: Vec<(&String, &(i64, i64))> = terms.iter().collect();
    for chunk in entries.chunks(INSERT_BATCH) {
        let mut params = Params::new();
        let rows: Vec<String> = chunk
            .iter()
            .map(|(term, (title_tf, body_tf))| {
                format!(
                    "({}, {}, {}, {})",
                    params.bind((*term).clone()),
                    params.bind(article_id.to_owned()),
                    params.bind(*title_tf),
                    params.bind(*body_tf)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO article_terms (term, article_id, title_tf, body_tf) VALUES {}",
            rows.join(", ")
        );
        sqlx::query_with(&sql, params.into_args())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// How many articles are indexed, and in how many of them each term occurs.
pub async fn term_statistics(
    conn: &mut AnyConnection,
    terms: &[String],
) -> Result<(i64, HashMap<String, i64>), sqlx::Error> {
    let rows = sqlx::query("SELECT COUNT(*) AS n FROM articles")
        .fetch_all(&mut *conn)
        .await?;
    let documents: i64 = rows
        .first()
        .map(|r| r.try_get("n"))
        .transpose()?
        .unwrap_or(0);
    if terms.is_empty() {
        return Ok((documents, HashMap::new()));
    }
    let mut params = Params::new();
    let list: Vec<String> = terms.iter().map(|t| params.bind(t.clone())).collect();
    let sql = format!(
        "SELECT term, COUNT(*) AS df FROM article_terms WHERE term IN ({}) GROUP BY term",
        list.join(", ")
    );
    let rows = sqlx::query_with(&sql, params.into_args())
        .fetch_all(&mut *conn)
        .await?;
    let frequencies = rows
        .iter()
        .map(|r| Ok((r.try_get("term")?, r.try_get("df")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((documents, frequencies))
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
