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

use kefu_db::row::{enumerated, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::domain::kinds::FollowUpState;
use crate::domain::records::FollowUpRecord;

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
        state: enumerated(row, "f_state", FollowUpState::from_number)?,
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
        let (time_column, id_column) = (format!("{alias}.create_time"), format!("{alias}.id"));
        params.keyset((&time_column, &id_column), *time, id.clone(), true)
    })
}
