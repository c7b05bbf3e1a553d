//! What routing reads and writes: a group's active members with their load, whose turn is next,
//! and the group's queue.

use kefu_db::row::{self, enumerated, int, json};
use sqlx::{AnyConnection, Row};

use crate::domain::kinds::Availability;
use crate::domain::routing::{COUNTED, Candidate};

/// A candidate's columns, with their load counted from `COUNTED`'s statuses bound as $1, $2.
const CANDIDATE: &str = "SELECT a.id, a.capacity, a.availability, a.skills, \
    (SELECT COUNT(*) FROM tickets t WHERE t.assignee_id = a.id AND t.status IN ($1, $2)) AS load \
    FROM agents a";

fn decode(r: &sqlx::any::AnyRow) -> Result<Candidate, sqlx::Error> {
    Ok(Candidate {
        id: r.try_get("id")?,
        load: r.try_get("load")?,
        capacity: int(r, "capacity")?,
        availability: enumerated(r, "availability", Availability::from_number)?,
        skills: json(r, "skills")?,
    })
}

/// The active members of `group_id`, each with their load.
pub async fn candidates(
    conn: &mut AnyConnection,
    group_id: &str,
) -> Result<Vec<Candidate>, sqlx::Error> {
    let [first, second] = COUNTED.map(|s| i64::from(s.number()));
    let sql = format!(
        "{CANDIDATE} JOIN group_members m ON m.agent_id = a.id \
         WHERE m.group_id = $3 AND a.active = 1 ORDER BY a.id"
    );
    let query = sqlx::query(&sql).bind(first).bind(second).bind(group_id);
    row::all(conn, query, decode).await
}

/// `agent_id` with their load, if they are an active agent.
pub async fn candidate(
    conn: &mut AnyConnection,
    agent_id: &str,
) -> Result<Option<Candidate>, sqlx::Error> {
    let [first, second] = COUNTED.map(|s| i64::from(s.number()));
    let sql = format!("{CANDIDATE} WHERE a.id = $3 AND a.active = 1");
    let query = sqlx::query(&sql).bind(first).bind(second).bind(agent_id);
    Ok(row::all(conn, query, decode).await?.into_iter().next())
}

/// The agent `group_id` routed to last.
pub async fn last_routed(
    conn: &mut AnyConnection,
    group_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let query =
        sqlx::query("SELECT last_routed_agent FROM team_groups WHERE id = $1").bind(group_id);
    let rows = row::all(conn, query, |r| {
        r.try_get::<Option<String>, _>("last_routed_agent")
    })
    .await?;
    Ok(rows.into_iter().flatten().next())
}

/// Records that `group_id` routed to `agent_id` last.
pub async fn set_last_routed(
    conn: &mut AnyConnection,
    group_id: &str,
    agent_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE team_groups SET last_routed_agent = $1 WHERE id = $2")
        .bind(agent_id)
        .bind(group_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Up to `limit` ids of `group_id`'s waiting tickets (nobody assigned, NEW or OPEN), soonest
/// SLA due first, then oldest.
pub async fn queue(
    conn: &mut AnyConnection,
    group_id: &str,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let [first, second] = COUNTED.map(|s| i64::from(s.number()));
    let query = sqlx::query(
        "SELECT id FROM tickets WHERE group_id = $1 AND assignee_id IS NULL AND status IN ($2, $3) \
         AND merged_into IS NULL ORDER BY due_order, create_time, id LIMIT $4",
    )
    .bind(group_id)
    .bind(first)
    .bind(second)
    .bind(limit);
    row::all(conn, query, |r| r.try_get("id")).await
}

/// The groups `agent_id` belongs to.
pub async fn groups_of(
    conn: &mut AnyConnection,
    agent_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let query =
        sqlx::query("SELECT group_id FROM group_members WHERE agent_id = $1 ORDER BY group_id")
            .bind(agent_id);
    row::all(conn, query, |r| r.try_get("group_id")).await
}

/// Ids of `agent_id`'s tickets of `group_id` that count towards their load.
pub async fn in_progress(
    conn: &mut AnyConnection,
    agent_id: &str,
    group_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let [first, second] = COUNTED.map(|s| i64::from(s.number()));
    let query = sqlx::query(
        "SELECT id FROM tickets WHERE assignee_id = $1 AND group_id = $2 AND status IN ($3, $4) \
         ORDER BY id",
    )
    .bind(agent_id)
    .bind(group_id)
    .bind(first)
    .bind(second);
    row::all(conn, query, |r| r.try_get("id")).await
}
