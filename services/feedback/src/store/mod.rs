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

use crate::domain::access::TicketScope;
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

/// Column names of a row's ticket facts, for [`scope_clause`].
pub(crate) struct TicketColumns {
    /// The ticket id column (NULL: about no ticket).
    pub ticket: &'static str,
    /// The `agents/{id}` column.
    pub assignee: &'static str,
    /// The `groups/{id}` column.
    pub group: &'static str,
}

/// The condition keeping rows an agent's ticket scope sees ([`TicketScope::sees`]): rows about
/// no ticket, and rows whose ticket facts fall in the scope; `None` when every row is seen.
pub(crate) fn scope_clause(
    scope: &TicketScope,
    columns: &TicketColumns,
    params: &mut kefu_db::Params,
) -> Option<String> {
    let TicketColumns {
        ticket,
        assignee,
        group,
    } = columns;
    let in_scope = match scope {
        TicketScope::All => return None,
        TicketScope::Assigned(agent) => format!("{assignee} = {}", params.bind(agent.clone())),
        TicketScope::Groups { agent, groups } if groups.is_empty() => {
            format!("{assignee} = {}", params.bind(agent.clone()))
        }
        TicketScope::Groups { agent, groups } => {
            let mine = format!("{assignee} = {}", params.bind(agent.clone()));
            let list = params.list(groups.iter().cloned());
            format!("{mine} OR {group} IN ({list})")
        }
    };
    Some(format!("({ticket} IS NULL OR {in_scope})"))
}
