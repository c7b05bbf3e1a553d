//! The queue of tickets to open in the tickets service.

use kefu_db::row::{self, enumerated, json, json_text};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::kinds::FollowUpState;
use crate::domain::records::{FollowUpRecord, TicketRequest};

const SELECT: &str = "SELECT id, source, request, state, ticket, failure, attempts, \
    next_attempt_time FROM follow_ups";

fn decode(row: &AnyRow) -> Result<FollowUpRecord, sqlx::Error> {
    Ok(FollowUpRecord {
        id: row.try_get("id")?,
        source: row.try_get("source")?,
        request: json(row, "request")?,
        state: enumerated(row, "state", FollowUpState::from_number)?,
        ticket: row.try_get("ticket")?,
        failure: row.try_get("failure")?,
        attempts: row.try_get("attempts")?,
        next_attempt_time: row.try_get("next_attempt_time")?,
    })
}

/// Queues a ticket to open.
pub async fn insert_follow_up(
    conn: &mut AnyConnection,
    f: &FollowUpRecord,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO follow_ups (id, source, request, state, ticket, failure, attempts, \
         next_attempt_time, create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(&f.id)
    .bind(&f.source)
    .bind(json_text(&f.request)?)
    .bind(i64::from(f.state.number()))
    .bind(&f.ticket)
    .bind(&f.failure)
    .bind(f.attempts)
    .bind(f.next_attempt_time)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Up to `limit` follow-ups in `state` due at `now`, oldest due first.
pub async fn due_follow_ups(
    conn: &mut AnyConnection,
    state: FollowUpState,
    now: i64,
    limit: i64,
) -> Result<Vec<FollowUpRecord>, sqlx::Error> {
    row::all(conn, sqlx::query(&format!(
        "{SELECT} WHERE state = $1 AND next_attempt_time <= $2 ORDER BY next_attempt_time, id LIMIT $3"
    ))
    .bind(i64::from(state.number()))
    .bind(now)
    .bind(limit), decode).await
}

/// When the earliest follow-up in `state` is due, if any is queued.
pub async fn next_due_time(
    conn: &mut AnyConnection,
    state: FollowUpState,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query("SELECT MIN(next_attempt_time) AS due FROM follow_ups WHERE state = $1")
        .bind(i64::from(state.number()))
        .fetch_all(&mut *conn)
        .await?;
    match row.first() {
        Some(row) => row.try_get("due"),
        None => Ok(None),
    }
}

/// Moves a follow-up from `from` to its final `state`; false if it was no longer in `from`
/// (another replica finished it first).
pub async fn finish_follow_up(
    conn: &mut AnyConnection,
    id: &str,
    from: FollowUpState,
    state: FollowUpState,
    ticket: Option<&str>,
    failure: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let changed = row::changed(
        conn,
        sqlx::query(
            "UPDATE follow_ups SET state = $1, ticket = $2, failure = $3, attempts = attempts + 1, \
         update_time = $4 WHERE id = $5 AND state = $6",
        )
        .bind(i64::from(state.number()))
        .bind(ticket)
        .bind(failure)
        .bind(now)
        .bind(id)
        .bind(i64::from(from.number())),
    )
    .await?;
    Ok(changed)
}

/// Records a failed try and when to try again.
pub async fn retry_follow_up(
    conn: &mut AnyConnection,
    id: &str,
    next_attempt_time: i64,
    failure: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE follow_ups SET attempts = attempts + 1, next_attempt_time = $1, failure = $2, \
         update_time = $3 WHERE id = $4",
    )
    .bind(next_attempt_time)
    .bind(failure)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The follow-ups raised by one customer's surveys and feedback.
pub async fn follow_ups_of_customer(
    conn: &mut AnyConnection,
    customer_id: &str,
) -> Result<Vec<FollowUpRecord>, sqlx::Error> {
    row::all(
        conn,
        sqlx::query(&format!(
            "{SELECT} WHERE id IN (SELECT follow_up_id FROM surveys WHERE customer_id = $1) \
         OR id IN (SELECT follow_up_id FROM feedback_entries WHERE customer_id = $1)"
        ))
        .bind(customer_id),
        decode,
    )
    .await
}

/// Replaces the ticket a follow-up opens (or opened).
pub async fn set_follow_up_request(
    conn: &mut AnyConnection,
    id: &str,
    request: &TicketRequest,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE follow_ups SET request = $1, update_time = $2 WHERE id = $3")
        .bind(json_text(request)?)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
