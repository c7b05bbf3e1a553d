//! Rules (triggers and automations) and their counts.

use kefu_db::row::{self, AnyQuery, Stored, Versioned, flag, flag_value, json, json_text};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::firing::FiringState;
use crate::domain::trigger::{RuleKind, TriggerRecord};

/// The columns of both rule tables.
const RULE_COLUMNS: &str = "id, display_name, description, active, position, events, schedule, \
    all_conditions, any_conditions, actions, stop_processing, create_time, update_time, version";

impl Stored for TriggerRecord {
    const COLLECTION: &'static str = "triggers";
    const TABLE: &'static str = "triggers";
    const COLUMNS: &'static str = RULE_COLUMNS;

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        decode_rule(row)
    }
}

/// An automation as its table stores it (the records helpers name it `automations/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAutomation(pub TriggerRecord);

impl Stored for StoredAutomation {
    const COLLECTION: &'static str = "automations";
    const TABLE: &'static str = "automations";
    const COLUMNS: &'static str = RULE_COLUMNS;

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        decode_rule(row).map(Self)
    }
}

impl Versioned for StoredAutomation {
    fn id_and_version(&self) -> (&str, i64) {
        (&self.0.id, self.0.version)
    }
}

fn decode_rule(row: &AnyRow) -> Result<TriggerRecord, sqlx::Error> {
    let schedule: String = row.try_get("schedule")?;
    let schedule = if schedule.is_empty() {
        None
    } else {
        Some(serde_json::from_str(&schedule).map_err(|e| sqlx::Error::Decode(Box::new(e)))?)
    };
    Ok(TriggerRecord {
        id: row.try_get("id")?,
        display_name: row.try_get("display_name")?,
        description: row.try_get("description")?,
        active: flag(row, "active")?,
        position: row::int(row, "position")?,
        events: json(row, "events")?,
        schedule,
        all_conditions: json(row, "all_conditions")?,
        any_conditions: json(row, "any_conditions")?,
        actions: json(row, "actions")?,
        stop_processing: flag(row, "stop_processing")?,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
        version: row.try_get("version")?,
    })
}

/// The stored form of a rule's schedule ("" for a trigger).
fn schedule_text(t: &TriggerRecord) -> Result<String, sqlx::Error> {
    match &t.schedule {
        Some(schedule) => json_text(schedule),
        None => Ok(String::new()),
    }
}

impl Versioned for TriggerRecord {
    fn id_and_version(&self) -> (&str, i64) {
        (&self.id, self.version)
    }
}

/// Binds `$1..$13` of both writes: a rule's changeable parts, its new version and its id.
fn bind_rule<'q>(
    statement: AnyQuery<'q>,
    t: &'q TriggerRecord,
) -> Result<AnyQuery<'q>, sqlx::Error> {
    Ok(statement
        .bind(&t.display_name)
        .bind(&t.description)
        .bind(flag_value(t.active))
        .bind(i64::from(t.position))
        .bind(json_text(&t.events)?)
        .bind(json_text(&t.all_conditions)?)
        .bind(json_text(&t.any_conditions)?)
        .bind(json_text(&t.actions)?)
        .bind(flag_value(t.stop_processing))
        .bind(schedule_text(t)?)
        .bind(t.update_time)
        .bind(t.version)
        .bind(&t.id))
}

/// Inserts a rule into its kind's table.
pub async fn insert_trigger(
    conn: &mut AnyConnection,
    t: &TriggerRecord,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO {} (display_name, description, active, position, events, all_conditions, \
         any_conditions, actions, stop_processing, schedule, update_time, version, id, \
         create_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        t.kind().collection()
    );
    bind_rule(sqlx::query(&sql), t)?
        .bind(t.create_time)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes a rule's changeable parts if the stored row is at `t.version - 1`.
pub async fn update_trigger(
    conn: &mut AnyConnection,
    t: &TriggerRecord,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE {} SET display_name = $1, description = $2, active = $3, position = $4, \
         events = $5, all_conditions = $6, any_conditions = $7, actions = $8, \
         stop_processing = $9, schedule = $10, update_time = $11, version = $12 \
         WHERE id = $13 AND version = $14",
        t.kind().collection()
    );
    let statement = bind_rule(sqlx::query(&sql), t)?.bind(t.version - 1);
    row::changed(conn, statement).await
}

/// Up to `limit` rules of `kind` in evaluation order after `(position, id)`, active ones only
/// when `active_only`.
pub async fn list_triggers(
    conn: &mut AnyConnection,
    kind: RuleKind,
    after: Option<&(i32, String)>,
    active_only: bool,
    limit: usize,
) -> Result<Vec<TriggerRecord>, sqlx::Error> {
    let mut params = kefu_db::Params::new();
    let mut conditions = Vec::new();
    if active_only {
        conditions.push("active = 1".to_owned());
    }
    if let Some((position, id)) = after {
        conditions.push(params.keyset(("position", "id"), i64::from(*position), id.clone(), false));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {RULE_COLUMNS} FROM {}{filter} ORDER BY position, id LIMIT {}",
        kind.collection(),
        params.limit(limit)
    );
    row::all(
        conn,
        sqlx::query_with(&sql, params.into_args()),
        TriggerRecord::decode,
    )
    .await
}

/// Every active rule of `kind` (an installation has tens, not thousands).
pub async fn active_triggers(
    conn: &mut AnyConnection,
    kind: RuleKind,
) -> Result<Vec<TriggerRecord>, sqlx::Error> {
    let sql = format!(
        "SELECT {RULE_COLUMNS} FROM {} WHERE active = 1 ORDER BY position, id",
        kind.collection()
    );
    row::all(conn, sqlx::query(&sql), TriggerRecord::decode).await
}

/// A trigger's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerStats {
    /// Firings applied.
    pub applied: i64,
    /// Firings refused.
    pub failed: i64,
    /// Firings skipped.
    pub skipped: i64,
    /// Last firing, microseconds (0: never).
    pub last_fire_time: i64,
    /// Last refusal.
    pub last_error: String,
}

/// The counts of the triggers `ids`, by id.
pub async fn trigger_stats(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<Vec<(String, TriggerStats)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = kefu_db::Params::new();
    let list = params.list(ids.iter().map(|id| (*id).to_owned()));
    let sql = format!(
        "SELECT trigger_id, applied, failed, skipped, last_fire_time, last_error \
         FROM trigger_stats WHERE trigger_id IN ({list})"
    );
    row::all(conn, sqlx::query_with(&sql, params.into_args()), |row| {
        Ok((
            row.try_get("trigger_id")?,
            TriggerStats {
                applied: row.try_get("applied")?,
                failed: row.try_get("failed")?,
                skipped: row.try_get("skipped")?,
                last_fire_time: row.try_get("last_fire_time")?,
                last_error: row.try_get("last_error")?,
            },
        ))
    })
    .await
}

/// Counts a firing's outcome for its trigger.
pub async fn count_outcome(
    conn: &mut AnyConnection,
    trigger_id: &str,
    state: FiringState,
    fire_time: i64,
    error: &str,
) -> Result<(), sqlx::Error> {
    let (applied, failed, skipped) = match state {
        FiringState::Applied => (1_i64, 0_i64, 0_i64),
        FiringState::Failed => (0, 1, 0),
        FiringState::Skipped => (0, 0, 1),
        FiringState::Pending => return Ok(()),
    };
    sqlx::query(
        "INSERT INTO trigger_stats (trigger_id, applied, failed, skipped, last_fire_time, last_error) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (trigger_id) DO UPDATE SET \
         applied = trigger_stats.applied + excluded.applied, \
         failed = trigger_stats.failed + excluded.failed, \
         skipped = trigger_stats.skipped + excluded.skipped, \
         last_fire_time = CASE WHEN excluded.last_fire_time > trigger_stats.last_fire_time \
             THEN excluded.last_fire_time ELSE trigger_stats.last_fire_time END, \
         last_error = CASE WHEN excluded.failed > 0 THEN excluded.last_error \
             ELSE trigger_stats.last_error END",
    )
    .bind(trigger_id)
    .bind(applied)
    .bind(failed)
    .bind(skipped)
    .bind(fire_time)
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks the default rules `name` installed; false when they already were.
pub async fn mark_installed(
    conn: &mut AnyConnection,
    name: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "INSERT INTO installed_defaults (name, install_time) VALUES ($1, $2) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(now);
    row::changed(conn, statement).await
}
