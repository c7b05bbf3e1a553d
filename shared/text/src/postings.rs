//! The postings tables every search index keeps (`term`, the text's id, `title_tf`, `body_tf`):
//! written and counted the same way for every service.

use std::collections::{BTreeMap, HashMap};

use kefu_db::Params;
use sqlx::{AnyConnection, Row};

/// Rows inserted per statement when indexing.
const INSERT_BATCH: usize = 200;

/// Replaces the rows of text `id` in `table`, whose id column is `id_column`, with `terms`
/// (term → title and body frequencies, as [`crate::term_frequencies`] gives them).
pub async fn write(
    conn: &mut AnyConnection,
    table: &'static str,
    id_column: &'static str,
    id: &str,
    terms: &BTreeMap<String, (i64, i64)>,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("DELETE FROM {table} WHERE {id_column} = $1"))
        .bind(id)
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
                    params.bind(id.to_owned()),
                    params.bind(*title_tf),
                    params.bind(*body_tf)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} (term, {id_column}, title_tf, body_tf) VALUES {}",
            rows.join(", ")
        );
        sqlx::query_with(&sql, params.into_args())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// How many texts `documents` (a table) holds, and in how many of them each of `terms` occurs
/// according to the postings `table`.
pub async fn statistics(
    conn: &mut AnyConnection,
    documents: &'static str,
    table: &'static str,
    terms: &[String],
) -> Result<(i64, HashMap<String, i64>), sqlx::Error> {
    let rows = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {documents}"))
        .fetch_all(&mut *conn)
        .await?;
    let count: i64 = rows
        .first()
        .map(|r| r.try_get("n"))
        .transpose()?
        .unwrap_or(0);
    if terms.is_empty() {
        return Ok((count, HashMap::new()));
    }
    let mut params = Params::new();
    let list = params.list(terms.iter().cloned());
    let sql =
        format!("SELECT term, COUNT(*) AS df FROM {table} WHERE term IN ({list}) GROUP BY term");
    let rows = sqlx::query_with(&sql, params.into_args())
        .fetch_all(&mut *conn)
        .await?;
    let frequencies = rows
        .iter()
        .map(|r| Ok((r.try_get("term")?, r.try_get("df")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((count, frequencies))
}
