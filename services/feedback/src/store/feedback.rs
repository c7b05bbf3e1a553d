//! Complaints, suggestions and praise.

use kefu_db::Params;
use kefu_db::row::{self, enumerated, flag};
use kefu_server::common::Channel;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{FOLLOW_UP_COLUMNS, TicketColumns, before_clause, joined_follow_up, scope_clause};
use crate::domain::access::TicketScope;
use crate::domain::kinds::{FeedbackKind, FeedbackState};
use crate::domain::records::FeedbackRecord;

fn select(condition: &str) -> String {
    format!(
        "SELECT e.id, e.kind, e.customer_id, e.body, e.channel, e.ticket_id, e.ticket_assignee, \
         e.ticket_group, e.state, e.resolve_time, e.anonymized, e.create_time, e.update_time, {FOLLOW_UP_COLUMNS} \
         FROM feedback_entries e LEFT JOIN follow_ups f ON f.id = e.follow_up_id WHERE {condition}"
    )
}

fn decode(row: &AnyRow) -> Result<FeedbackRecord, sqlx::Error> {
    Ok(FeedbackRecord {
        id: row.try_get("id")?,
        kind: enumerated(row, "kind", FeedbackKind::from_number)?,
        customer_id: row.try_get("customer_id")?,
        body: row.try_get("body")?,
        channel: enumerated(row, "channel", Channel::from_number)?,
        ticket_id: row.try_get("ticket_id")?,
        ticket_assignee: row.try_get("ticket_assignee")?,
        ticket_group: row.try_get("ticket_group")?,
        state: enumerated(row, "state", FeedbackState::from_number)?,
        resolve_time: row.try_get("resolve_time")?,
        anonymized: flag(row, "anonymized")?,
        follow_up: joined_follow_up(row)?,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
    })
}

/// Inserts an entry (its follow-up, if any, must be inserted first).
pub async fn insert_feedback(
    conn: &mut AnyConnection,
    e: &FeedbackRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO feedback_entries (id, kind, customer_id, body, channel, ticket_id, \
         ticket_assignee, ticket_group, state, resolve_time, anonymized, follow_up_id, \
         create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&e.id)
    .bind(i64::from(e.kind.number()))
    .bind(&e.customer_id)
    .bind(&e.body)
    .bind(i64::from(e.channel.number()))
    .bind(&e.ticket_id)
    .bind(&e.ticket_assignee)
    .bind(&e.ticket_group)
    .bind(i64::from(e.state.number()))
    .bind(e.resolve_time)
    .bind(i64::from(e.anonymized))
    .bind(e.follow_up.as_ref().map(|f| f.id.clone()))
    .bind(e.create_time)
    .bind(e.update_time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One entry by id.
pub async fn get_feedback(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<FeedbackRecord>, sqlx::Error> {
    row::one(conn, sqlx::query(&select("e.id = $1")).bind(id), decode).await
}

/// The complaint whose ticket is `ticket` (`tickets/{id}`), if any.
pub async fn feedback_by_ticket(
    conn: &mut AnyConnection,
    ticket: &str,
) -> Result<Option<FeedbackRecord>, sqlx::Error> {
    row::one(
        conn,
        sqlx::query(&select("f.ticket = $1")).bind(ticket),
        decode,
    )
    .await
}

/// Sets an entry's state and resolve time as tickets event `seq` says, unless an event later in
/// the stream already did (replicas of this service may handle events out of order); true when
/// the entry changed.
pub async fn set_feedback_state(
    conn: &mut AnyConnection,
    id: &str,
    state: FeedbackState,
    resolve_time: Option<i64>,
    position: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let changed = row::changed(
        conn,
        sqlx::query(
            "UPDATE feedback_entries SET state = $1, resolve_time = $2, update_time = $3, \
         ticket_event_position = $4 WHERE id = $5 AND ticket_event_position < $4",
        )
        .bind(i64::from(state.number()))
        .bind(resolve_time)
        .bind(now)
        .bind(position)
        .bind(id),
    )
    .await?;
    Ok(changed)
}

/// Marks an entry RESOLVED from its ticket's status when it was opened, unless a tickets event
/// already moved it (those are newer); true when the entry changed.
pub async fn resolve_unmoved_feedback(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let changed = row::changed(
        conn,
        sqlx::query(
            "UPDATE feedback_entries SET state = $1, resolve_time = $2, update_time = $2 \
         WHERE id = $3 AND ticket_event_position = '' AND state <> $1",
        )
        .bind(i64::from(FeedbackState::Resolved.number()))
        .bind(now)
        .bind(id),
    )
    .await?;
    Ok(changed)
}

/// ListFeedback filters; every one given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedbackFilter {
    /// Kind.
    pub kind: Option<FeedbackKind>,
    /// State.
    pub state: Option<FeedbackState>,
    /// Customer id.
    pub customer_id: Option<String>,
    /// The reader's ticket scope.
    pub scope: TicketScope,
}

/// Where an entry keeps the ticket facts a scope is checked against.
pub(crate) const ENTRY_TICKET: TicketColumns = TicketColumns {
    ticket: "e.ticket_id",
    assignee: "e.ticket_assignee",
    group: "e.ticket_group",
};

/// A page of entries, newest first.
pub async fn list_feedback(
    conn: &mut AnyConnection,
    filter: &FeedbackFilter,
    after: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<FeedbackRecord>, sqlx::Error> {
    let mut params = Params::new();
    let mut clauses = vec!["1 = 1".to_owned()];
    if let Some(kind) = filter.kind {
        clauses.push(format!(
            "e.kind = {}",
            params.bind(i64::from(kind.number()))
        ));
    }
    if let Some(state) = filter.state {
        clauses.push(format!(
            "e.state = {}",
            params.bind(i64::from(state.number()))
        ));
    }
    if let Some(customer_id) = &filter.customer_id {
        clauses.push(format!(
            "e.customer_id = {}",
            params.bind(customer_id.clone())
        ));
    }
    if let Some(clause) = scope_clause(&filter.scope, &ENTRY_TICKET, &mut params) {
        clauses.push(clause);
    }
    if let Some(clause) = before_clause("e", after, &mut params) {
        clauses.push(clause);
    }
    let sql = format!(
        "{} ORDER BY e.create_time DESC, e.id DESC LIMIT {}",
        select(&clauses.join(" AND ")),
        params.limit(limit)
    );
    row::all(conn, sqlx::query_with(&sql, params.into_args()), decode).await
}

/// Removes an erased customer's feedback text; how many entries changed.
pub async fn anonymize_feedback(
    conn: &mut AnyConnection,
    customer_id: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE feedback_entries SET body = '', anonymized = 1, update_time = $1 \
         WHERE customer_id = $2 AND anonymized = 0",
    )
    .bind(now)
    .bind(customer_id)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}
