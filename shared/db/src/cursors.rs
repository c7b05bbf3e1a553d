//! Where a service's consumer of another service's event stream got to, in the `consumer_cursors`
//! table kefu-db's migration creates. The cursor is stored in the same transaction as the effects of the event it follows, so a restart
//! resumes exactly after the last event handled.

use sqlx::{AnyConnection, Row};

/// The cursor stored for `source`, if the consumer ever handled an event.
pub async fn get(conn: &mut AnyConnection, source: &str) -> Result<Option<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT cursor FROM consumer_cursors WHERE source = $1")
        .bind(source)
        .fetch_all(&mut *conn)
        .await?;
    rows.first().map(|r| r.try_get("cursor")).transpose()
}

/// Records that the consumer of `source` got to `cursor`.
pub async fn set(
    conn: &mut AnyConnection,
    source: &str,
    cursor: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO consumer_cursors (source, cursor, update_time) VALUES ($1, $2, $3) \
         ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, update_time = excluded.update_time",
    )
    .bind(source)
    .bind(cursor)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
