//! All SQL of the feedback service, one query text for SQLite and PostgreSQL; no rules here.

mod campaigns;
mod feedback;
mod follow_ups;
mod summary;
mod surveys;

pub use campaigns::*;
pub use feedback::*;
pub use follow_ups::*;
pub use summary::*;
pub use surveys::*;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::domain::records::FollowUpRecord;

pub(crate) fn int(row: &AnyRow, column: &str) -> Result<i32, sqlx::Error> {
    let value: i64 = row.try_get(column)?;
    i32::try_from(value).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    let value: i64 = row.try_get(column)?;
    Ok(value != 0)
}

pub(crate) fn json<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

pub(crate) fn json_text<T: serde::Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// The follow-up columns of a survey or feedback row joined with `follow_ups f`.
pub(crate) const FOLLOW_UP_COLUMNS: &str = "f.id AS f_id, f.source AS f_source, \
    f.request AS f_request, f.state AS f_state, f.ticket AS f_ticket, f.failure AS f_failure, \
    f.attempts AS f_attempts, f.next_attempt_time AS f_next_attempt_time";

/// Reads the joined follow-up, if the row has one.
pub(crate) fn joined_follow_up(row: &AnyRow) -> Result<Option<FollowUpRecord>, sqlx::Error> {
    let id: Option<String> = row.try_get("f_id")?;
    let Some(id) = id else { return Ok(None) };
    Ok(Some(FollowUpRecord {
        id,
        source: row.try_get("f_source")?,
        request: json(row, "f_request")?,
        state: int(row, "f_state")?,
        ticket: row.try_get("f_ticket")?,
        failure: row.try_get("f_failure")?,
        attempts: row.try_get("f_attempts")?,
        next_attempt_time: row.try_get("f_next_attempt_time")?,
    }))
}

/// Keyset condition for newest-first pages: rows after the last one of the previous page.
pub(crate) fn before_clause(
    alias: &str,
    after: Option<&(i64, String)>,
    params: &mut kefu_db::Params,
) -> Option<String> {
    after.map(|(time, id)| {
        let t = params.bind(*time);
        let t2 = params.bind(*time);
        let i = params.bind(id.clone());
        format!("({alias}.create_time < {t} OR ({alias}.create_time = {t2} AND {alias}.id < {i}))")
    })
}
