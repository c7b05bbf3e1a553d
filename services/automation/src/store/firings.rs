//! Firings and the evaluation claims.

use kefu_db::row::{self, enumerated, json, json_text, optional_enumerated};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::firing::{FiringRecord, FiringState};
use crate::domain::trigger::{EventKind, RuleKind};

const SELECT: &str = "SELECT id, rule, trigger_id, trigger_name, ticket_id, source, event, rank, state, \
    final_state, actions, applied_actions, depth, error, attempts, next_attempt_time, \
    create_time, update_time FROM firings";

fn decode(row: &AnyRow) -> Result<FiringRecord, sqlx::Error> {
    Ok(FiringRecord {
        id: row.try_get("id")?,
        trigger_id: row.try_get("trigger_id")?,
        trigger_name: row.try_get("trigger_name")?,
        ticket_id: row.try_get("ticket_id")?,
        source: row.try_get("source")?,
        rule: enumerated(row, "rule", RuleKind::from_number)?,
        event: optional_enumerated(row, "event", EventKind::from_number)?,
        rank: row::int(row, "rank")?,
        state: enumerated(row, "state", FiringState::from_number)?,
        final_state: enumerated(row, "final_state", FiringState::from_number)?,
        actions: json(row, "actions")?,
        applied_actions: row::int(row, "applied_actions")?,
        depth: row::int(row, "depth")?,
        error: row.try_get("error")?,
        attempts: row::int(row, "attempts")?,
        next_attempt_time: row.try_get("next_attempt_time")?,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
    })
}

/// Claims the evaluation of the event `source`: false when a replica (or an earlier delivery)
/// already evaluated it.
pub async fn claim_evaluation(
    conn: &mut AnyConnection,
    source: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "INSERT INTO evaluations (source, create_time) VALUES ($1, $2) ON CONFLICT (source) DO NOTHING",
    )
    .bind(source)
    .bind(now);
    row::changed(conn, statement).await
}

/// Inserts a firing unless its trigger already fired on its event; true when inserted.
pub async fn insert_firing(
    conn: &mut AnyConnection,
    f: &FiringRecord,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "INSERT INTO firings (id, trigger_id, trigger_name, ticket_id, source, event, rank, state, \
         final_state, actions, applied_actions, depth, error, attempts, next_attempt_time, \
         create_time, update_time, rule) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16, $17, $18) ON CONFLICT (trigger_id, source) DO NOTHING",
    )
    .bind(&f.id)
    .bind(&f.trigger_id)
    .bind(&f.trigger_name)
    .bind(&f.ticket_id)
    .bind(&f.source)
    .bind(i64::from(f.event.map_or(0, EventKind::number)))
    .bind(i64::from(f.rank))
    .bind(i64::from(f.state.number()))
    .bind(i64::from(f.final_state.number()))
    .bind(json_text(&f.actions)?)
    .bind(i64::from(f.applied_actions))
    .bind(i64::from(f.depth))
    .bind(&f.error)
    .bind(i64::from(f.attempts))
    .bind(f.next_attempt_time)
    .bind(f.create_time)
    .bind(f.update_time)
    .bind(i64::from(f.rule.number()));
    row::changed(conn, statement).await
}

/// The depth of the latest firing of `trigger_id` on `ticket_id`, if it ever fired there.
pub async fn latest_depth(
    conn: &mut AnyConnection,
    trigger_id: &str,
    ticket_id: &str,
) -> Result<Option<i32>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT depth FROM firings WHERE trigger_id = $1 AND ticket_id = $2 \
         ORDER BY create_time DESC, id DESC LIMIT 1",
    )
    .bind(trigger_id)
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.first().map(|row| row::int(row, "depth")).transpose()
}

/// Up to `limit` pending firings due at `now` whose lease has run out, oldest first.
pub async fn due_firings(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<FiringRecord>, sqlx::Error> {
    row::all(
        conn,
        sqlx::query(&format!(
            "{SELECT} WHERE state = $1 AND next_attempt_time <= $2 AND lease_until <= $3 \
             ORDER BY create_time, rank, id LIMIT $4"
        ))
        .bind(i64::from(FiringState::Pending.number()))
        .bind(now)
        .bind(now)
        .bind(limit),
        decode,
    )
    .await
}

/// Leases a pending firing until `until`; false when another worker holds it or it is done.
pub async fn lease_firing(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
    until: i64,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "UPDATE firings SET lease_until = $1 WHERE id = $2 AND state = $3 AND lease_until <= $4",
    )
    .bind(until)
    .bind(id)
    .bind(i64::from(FiringState::Pending.number()))
    .bind(now);
    row::changed(conn, statement).await
}

/// Ends the lease on a pending firing, so any worker may take it up at once.
pub async fn release_firing(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query("UPDATE firings SET lease_until = 0 WHERE id = $1 AND state = $2")
        .bind(id)
        .bind(i64::from(FiringState::Pending.number()));
    row::changed(conn, statement).await
}

/// When the earliest pending firing is due, if any: a leased one only once its lease runs out,
/// so a worker does not spin while another replica works the queue.
pub async fn next_due_time(conn: &mut AnyConnection) -> Result<Option<i64>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT MIN(CASE WHEN lease_until > next_attempt_time THEN lease_until \
         ELSE next_attempt_time END) AS due FROM firings WHERE state = $1",
    )
    .bind(i64::from(FiringState::Pending.number()))
    .fetch_all(&mut *conn)
    .await?;
    match rows.first() {
        Some(row) => row.try_get("due"),
        None => Ok(None),
    }
}

/// Records that the first `applied` actions are applied.
pub async fn set_progress(
    conn: &mut AnyConnection,
    id: &str,
    applied: i32,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE firings SET applied_actions = $1, update_time = $2 WHERE id = $3")
        .bind(i64::from(applied))
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Moves a pending firing to its final `state`; false when it was no longer pending.
pub async fn finish_firing(
    conn: &mut AnyConnection,
    id: &str,
    state: FiringState,
    applied: i32,
    error: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "UPDATE firings SET state = $1, applied_actions = $2, error = $3, update_time = $4, \
         lease_until = 0 WHERE id = $5 AND state = $6",
    )
    .bind(i64::from(state.number()))
    .bind(i64::from(applied))
    .bind(error)
    .bind(now)
    .bind(id)
    .bind(i64::from(FiringState::Pending.number()));
    row::changed(conn, statement).await
}

/// Schedules another attempt of a firing at `next`, releasing its lease.
pub async fn retry_firing(
    conn: &mut AnyConnection,
    id: &str,
    next: i64,
    error: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE firings SET attempts = attempts + 1, next_attempt_time = $1, error = $2, \
         update_time = $3, lease_until = 0 WHERE id = $4",
    )
    .bind(next)
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Which firings a list shows.
#[derive(Debug, Clone, Default)]
pub struct FiringFilter {
    /// Only this kind of rule's.
    pub rule: Option<RuleKind>,
    /// Only this rule's.
    pub trigger_id: Option<String>,
    /// Only on this ticket.
    pub ticket_id: Option<String>,
    /// Only in this state.
    pub state: Option<FiringState>,
}

/// Up to `limit` firings matching `filter`, newest first, before `(create_time, id)`.
pub async fn list_firings(
    conn: &mut AnyConnection,
    filter: &FiringFilter,
    before: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<FiringRecord>, sqlx::Error> {
    let mut params = kefu_db::Params::new();
    let mut conditions = Vec::new();
    if let Some(rule) = filter.rule {
        conditions.push(format!("rule = {}", params.bind(i64::from(rule.number()))));
    }
    if let Some(trigger) = &filter.trigger_id {
        conditions.push(format!("trigger_id = {}", params.bind(trigger.clone())));
    }
    if let Some(ticket) = &filter.ticket_id {
        conditions.push(format!("ticket_id = {}", params.bind(ticket.clone())));
    }
    if let Some(state) = filter.state {
        conditions.push(format!(
            "state = {}",
            params.bind(i64::from(state.number()))
        ));
    }
    if let Some((time, id)) = before {
        conditions.push(params.keyset(("create_time", "id"), *time, id.clone(), true));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "{SELECT}{filter} ORDER BY create_time DESC, id DESC LIMIT {}",
        params.limit(limit)
    );
    row::all(conn, sqlx::query_with(&sql, params.into_args()), decode).await
}
