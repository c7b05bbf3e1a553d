//! SLA configuration: business schedules and policies.

use kefu_db::row::{self, Stored, int, json, json_text};
use kefu_server::common::{Channel, Tier};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::escalation::EscalationLevel;
use crate::domain::kinds::{Priority, TicketType};
use crate::domain::policy::{PolicyRecord, ScheduleRecord};

/// Inserts a schedule.
pub async fn insert_schedule(
    conn: &mut AnyConnection,
    s: &ScheduleRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO business_schedules (id, display_name, time_zone, intervals, holidays, create_time, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&s.id)
    .bind(&s.display_name)
    .bind(&s.time_zone)
    .bind(json_text(&s.intervals)?)
    .bind(json_text(&s.holidays)?)
    .bind(s.create_time)
    .bind(s.version)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const SCHEDULE_COLUMNS: &str =
    "id, display_name, time_zone, intervals, holidays, create_time, version";

impl Stored for ScheduleRecord {
    const COLLECTION: &'static str = "businessSchedules";
    const TABLE: &'static str = "business_schedules";
    const COLUMNS: &'static str = SCHEDULE_COLUMNS;

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(ScheduleRecord {
            id: row.try_get("id")?,
            display_name: row.try_get("display_name")?,
            time_zone: row.try_get("time_zone")?,
            intervals: json(row, "intervals")?,
            holidays: json(row, "holidays")?,
            create_time: row.try_get("create_time")?,
            version: row.try_get("version")?,
        })
    }
}

/// A page of schedules by id after `after`.
pub async fn list_schedules(
    conn: &mut AnyConnection,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ScheduleRecord>, sqlx::Error> {
    let sql = format!(
        "{} WHERE id > $1 ORDER BY id LIMIT $2",
        row::select::<ScheduleRecord>()
    );
    row::all(
        conn,
        sqlx::query(&sql).bind(after.unwrap_or("")).bind(limit),
        ScheduleRecord::decode,
    )
    .await
}

#[derive(Serialize, Deserialize)]
struct Conditions {
    priorities: Vec<i32>,
    tiers: Vec<i32>,
    types: Vec<i32>,
    channels: Vec<i32>,
    groups: Vec<String>,
}

/// An escalation level as its JSON column keeps it.
#[derive(Serialize, Deserialize)]
struct StoredLevel {
    percent: u32,
    #[serde(default)]
    raise_priority: i32,
    #[serde(default)]
    group_id: Option<String>,
    #[serde(default)]
    assignee_id: Option<String>,
    #[serde(default)]
    notify_lead: bool,
}

fn levels_text(levels: &[EscalationLevel]) -> Result<String, sqlx::Error> {
    let stored: Vec<StoredLevel> = levels
        .iter()
        .map(|l| StoredLevel {
            percent: l.percent,
            raise_priority: l.raise_priority.map_or(0, Priority::number),
            group_id: l.group_id.clone(),
            assignee_id: l.assignee_id.clone(),
            notify_lead: l.notify_lead,
        })
        .collect();
    json_text(&stored)
}

fn levels_of(row: &AnyRow) -> Result<Vec<EscalationLevel>, sqlx::Error> {
    let stored: Vec<StoredLevel> = json(row, "escalations")?;
    stored
        .into_iter()
        .map(|l| {
            let raise_priority = match l.raise_priority {
                0 => None,
                n => Some(decode_list(&[n], Priority::from_number)?.remove(0)),
            };
            Ok(EscalationLevel {
                percent: l.percent,
                raise_priority,
                group_id: l.group_id,
                assignee_id: l.assignee_id,
                notify_lead: l.notify_lead,
            })
        })
        .collect()
}

/// A policy's matching conditions as stored (JSON).
fn conditions_text(p: &PolicyRecord) -> Result<String, sqlx::Error> {
    json_text(&Conditions {
        priorities: p.priorities.iter().map(|x| x.number()).collect(),
        tiers: p.tiers.iter().map(|x| x.number()).collect(),
        types: p.types.iter().map(|x| x.number()).collect(),
        channels: p.channels.iter().map(|x| x.number()).collect(),
        groups: p.groups.clone(),
    })
}

/// Inserts a policy.
pub async fn insert_policy(conn: &mut AnyConnection, p: &PolicyRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sla_policies (id, display_name, position, conditions, first_response_minutes, \
         next_response_minutes, resolution_minutes, schedule_id, create_time, escalations, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&p.id)
    .bind(&p.display_name)
    .bind(i64::from(p.position))
    .bind(conditions_text(p)?)
    .bind(i64::from(p.first_response_minutes))
    .bind(i64::from(p.next_response_minutes))
    .bind(i64::from(p.resolution_minutes))
    .bind(&p.schedule_id)
    .bind(p.create_time)
    .bind(levels_text(&p.escalations)?)
    .bind(p.version)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes a policy's fields (and archive time) if the stored row is at `p.version - 1`.
pub async fn update_policy(
    conn: &mut AnyConnection,
    p: &PolicyRecord,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "UPDATE sla_policies SET display_name = $1, position = $2, conditions = $3, \
         first_response_minutes = $4, next_response_minutes = $5, resolution_minutes = $6, \
         schedule_id = $7, escalations = $8, archive_time = $9, version = $10 \
         WHERE id = $11 AND version = $12",
    )
    .bind(&p.display_name)
    .bind(i64::from(p.position))
    .bind(conditions_text(p)?)
    .bind(i64::from(p.first_response_minutes))
    .bind(i64::from(p.next_response_minutes))
    .bind(i64::from(p.resolution_minutes))
    .bind(&p.schedule_id)
    .bind(levels_text(&p.escalations)?)
    .bind(p.archive_time)
    .bind(p.version)
    .bind(&p.id)
    .bind(p.version - 1);
    row::changed(conn, statement).await
}

/// Deletes a policy; false if it was gone.
pub async fn delete_policy(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    row::changed(
        conn,
        sqlx::query("DELETE FROM sla_policies WHERE id = $1").bind(id),
    )
    .await
}

/// Whether any ticket holds the policy.
pub async fn policy_in_use(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    let query = sqlx::query("SELECT id FROM tickets WHERE sla_policy_id = $1 LIMIT 1").bind(id);
    Ok(row::one(conn, query, |_| Ok(())).await?.is_some())
}

fn decode_policy(row: &AnyRow) -> Result<PolicyRecord, sqlx::Error> {
    let conditions: Conditions = json(row, "conditions")?;
    Ok(PolicyRecord {
        id: row.try_get("id")?,
        display_name: row.try_get("display_name")?,
        position: int(row, "position")?,
        priorities: decode_list(&conditions.priorities, Priority::from_number)?,
        tiers: decode_list(&conditions.tiers, Tier::from_number)?,
        types: decode_list(&conditions.types, TicketType::from_number)?,
        channels: decode_list(&conditions.channels, Channel::from_number)?,
        groups: conditions.groups,
        first_response_minutes: int(row, "first_response_minutes")?,
        next_response_minutes: int(row, "next_response_minutes")?,
        resolution_minutes: int(row, "resolution_minutes")?,
        schedule_id: row.try_get("schedule_id")?,
        escalations: levels_of(row)?,
        create_time: row.try_get("create_time")?,
        version: row.try_get("version")?,
        archive_time: row.try_get("archive_time")?,
    })
}

/// The enum values of a JSON list of numbers; an unknown number is a decode error.
fn decode_list<T>(
    numbers: &[i32],
    from_number: fn(i32) -> Option<T>,
) -> Result<Vec<T>, sqlx::Error> {
    numbers
        .iter()
        .map(|n| {
            from_number(*n).ok_or_else(|| sqlx::Error::ColumnDecode {
                index: "conditions".to_owned(),
                source: format!("unknown enum number {n}").into(),
            })
        })
        .collect()
}

const POLICY_COLUMNS: &str = "id, display_name, position, conditions, first_response_minutes, \
    next_response_minutes, resolution_minutes, schedule_id, create_time, escalations, version, archive_time";

/// One policy.
pub async fn get_policy(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<PolicyRecord>, sqlx::Error> {
    row::one(
        conn,
        sqlx::query(&format!(
            "SELECT {POLICY_COLUMNS} FROM sla_policies WHERE id = $1"
        ))
        .bind(id),
        decode_policy,
    )
    .await
}

/// Policies in the order they are tried, after `(position, create_time, id)`; archived ones
/// only with `archived`.
pub async fn list_policies(
    conn: &mut AnyConnection,
    after: Option<&(i64, i64, String)>,
    archived: bool,
    limit: i64,
) -> Result<Vec<PolicyRecord>, sqlx::Error> {
    let (position, created, id) = after
        .cloned()
        .unwrap_or((i64::MIN, i64::MIN, String::new()));
    row::all(conn, sqlx::query(&format!(
        "SELECT {POLICY_COLUMNS} FROM sla_policies \
         WHERE ($1 = 0 OR position > $2 OR (position = $3 AND (create_time > $4 OR (create_time = $5 AND id > $6)))) \
         AND ($8 = 1 OR archive_time IS NULL) ORDER BY position, create_time, id LIMIT $7",
    ))
    .bind(i64::from(after.is_some()))
    .bind(position)
    .bind(position)
    .bind(created)
    .bind(created)
    .bind(&id)
    .bind(limit)
    .bind(i64::from(archived)), decode_policy).await
}

/// Writes a schedule's fields if the stored row is at `s.version - 1`.
pub async fn update_schedule(
    conn: &mut AnyConnection,
    s: &ScheduleRecord,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "UPDATE business_schedules SET display_name = $1, time_zone = $2, intervals = $3, holidays = $4, \
         version = $5 WHERE id = $6 AND version = $7",
    )
    .bind(&s.display_name)
    .bind(&s.time_zone)
    .bind(json_text(&s.intervals)?)
    .bind(json_text(&s.holidays)?)
    .bind(s.version)
    .bind(&s.id)
    .bind(s.version - 1);
    row::changed(conn, statement).await
}

/// Deletes a schedule; false if it was gone.
pub async fn delete_schedule(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    row::changed(
        conn,
        sqlx::query("DELETE FROM business_schedules WHERE id = $1").bind(id),
    )
    .await
}

/// The first policy (archived ones included) counting by the schedule.
pub async fn policy_using_schedule(
    conn: &mut AnyConnection,
    schedule_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let query =
        sqlx::query("SELECT id FROM sla_policies WHERE schedule_id = $1 ORDER BY id LIMIT 1")
            .bind(schedule_id);
    row::one(conn, query, |r| r.try_get("id")).await
}

/// Every policy that is not archived, in the order they are tried.
pub async fn live_policies(conn: &mut AnyConnection) -> Result<Vec<PolicyRecord>, sqlx::Error> {
    row::all(
        conn,
        sqlx::query(&format!(
            "SELECT {POLICY_COLUMNS} FROM sla_policies WHERE archive_time IS NULL \
             ORDER BY position, create_time, id"
        )),
        decode_policy,
    )
    .await
}
