//! The ticket search index: one row per term of a ticket, title (subject) and body (description
//! and comments) counted apart, ranked as the knowledge base ranks articles.

use std::collections::{BTreeMap, HashMap};

use kefu_db::Params;
use sqlx::{AnyConnection, Row};

use crate::domain::scope::Visibility;

/// A ticket's text as indexed: its subject, and its description followed by every comment.
pub async fn ticket_text(
    conn: &mut AnyConnection,
    ticket_id: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let rows = sqlx::query("SELECT subject, description FROM tickets WHERE id = $1")
        .bind(ticket_id)
        .fetch_all(&mut *conn)
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let subject: String = row.try_get("subject")?;
    let mut body: String = row.try_get("description")?;
    let comments = sqlx::query("SELECT body FROM comments WHERE ticket_id = $1 ORDER BY id")
        .bind(ticket_id)
        .fetch_all(&mut *conn)
        .await?;
    for comment in &comments {
        body.push('\n');
        body.push_str(&comment.try_get::<String, _>("body")?);
    }
    Ok(Some((subject, body)))
}

/// Replaces a ticket's rows in the index and marks it indexed.
pub async fn write_terms(
    conn: &mut AnyConnection,
    ticket_id: &str,
    terms: &BTreeMap<String, (i64, i64)>,
) -> Result<(), sqlx::Error> {
    kefu_text::postings::write(conn, "ticket_terms", "ticket_id", ticket_id, terms).await?;
    sqlx::query("UPDATE tickets SET search_indexed = 1 WHERE id = $1")
        .bind(ticket_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Up to `limit` tickets not indexed yet, oldest first.
pub async fn unindexed(conn: &mut AnyConnection, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    let query = sqlx::query("SELECT id FROM tickets WHERE search_indexed = 0 ORDER BY id LIMIT $1")
        .bind(limit);
    kefu_db::row::all(conn, query, |r| r.try_get("id")).await
}

/// How many tickets are indexed, and in how many of them each term occurs.
pub async fn ticket_term_statistics(
    conn: &mut AnyConnection,
    terms: &[String],
) -> Result<(i64, HashMap<String, i64>), sqlx::Error> {
    kefu_text::postings::statistics(conn, "tickets", "ticket_terms", terms).await
}

/// The best-scoring tickets `seen` may see for weighted terms, after the `(score, id)` key
/// `after`; ties by ticket id.
pub async fn search_tickets(
    conn: &mut AnyConnection,
    weighted_terms: &[(String, i64)],
    seen: &Visibility,
    after: Option<&(i64, String)>,
    limit: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    if weighted_terms.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = Params::new();
    let (score, terms) = kefu_text::score_sql(&mut params, weighted_terms);
    let mut clauses: Vec<String> = super::visible_clause(seen, &mut params)
        .into_iter()
        .collect();
    if let Some((last_score, last_id)) = after {
        let s1 = params.bind(*last_score);
        let s2 = params.bind(*last_score);
        let id = params.bind(last_id.clone());
        clauses.push(format!(
            "(s.score < {s1} OR (s.score = {s2} AND s.ticket_id > {id}))"
        ));
    }
    let where_clause = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let limit = params.bind(limit);
    let sql = format!(
        "WITH s AS MATERIALIZED \
         (SELECT p.ticket_id AS ticket_id, {score} AS score FROM ticket_terms p WHERE p.term IN ({terms}) GROUP BY p.ticket_id) \
         SELECT s.ticket_id AS ticket_id, s.score AS score FROM s \
         JOIN tickets t ON t.id = s.ticket_id {where_clause} ORDER BY s.score DESC, s.ticket_id LIMIT {limit}"
    );
    let rows = sqlx::query_with(&sql, params.into_args())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("ticket_id")?, r.try_get("score")?)))
        .collect()
}
