//! Ticket clocks, the automations' entries on tickets, and how far each automation is checked.

use kefu_db::row::{self, flag, flag_value};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::schedule::{Entry, Since, TicketClock};

const CLOCK_SELECT: &str = "SELECT ticket_id, status, create_time, status_time, solve_time, \
    requester_reply_time, sla_due_time FROM ticket_clocks";

fn decode_clock(row: &AnyRow) -> Result<TicketClock, sqlx::Error> {
    Ok(TicketClock {
        ticket_id: row.try_get("ticket_id")?,
        status: row.try_get("status")?,
        create_time: row.try_get("create_time")?,
        status_time: row.try_get("status_time")?,
        solve_time: row.try_get("solve_time")?,
        requester_reply_time: row.try_get("requester_reply_time")?,
        sla_due_time: row.try_get("sla_due_time")?,
    })
}

/// A ticket's clock, if an event about it was seen.
pub async fn clock(
    conn: &mut AnyConnection,
    ticket_id: &str,
) -> Result<Option<TicketClock>, sqlx::Error> {
    row::by_key(conn, CLOCK_SELECT, "ticket_id", ticket_id, decode_clock).await
}

/// Writes a ticket's clock, consumed at `now`.
pub async fn put_clock(
    conn: &mut AnyConnection,
    clock: &TicketClock,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ticket_clocks (ticket_id, status, create_time, status_time, solve_time, \
         requester_reply_time, sla_due_time, change_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (ticket_id) DO UPDATE SET status = excluded.status, \
         create_time = excluded.create_time, status_time = excluded.status_time, \
         solve_time = excluded.solve_time, requester_reply_time = excluded.requester_reply_time, \
         sla_due_time = excluded.sla_due_time, change_time = excluded.change_time",
    )
    .bind(&clock.ticket_id)
    .bind(&clock.status)
    .bind(clock.create_time)
    .bind(clock.status_time)
    .bind(clock.solve_time)
    .bind(clock.requester_reply_time)
    .bind(clock.sla_due_time)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The clocks an automation counting from `since` must look at: those whose moment lies in
/// `(anchors.0, anchors.1]` (their time came since the last check) and those consumed at or
/// after `changed_since` (their facts changed).
pub async fn clocks_to_check(
    conn: &mut AnyConnection,
    since: &Since,
    anchors: (i64, i64),
    changed_since: i64,
) -> Result<Vec<TicketClock>, sqlx::Error> {
    let (column, status) = match since {
        Since::Created => ("create_time", None),
        Since::Status(status) => ("status_time", Some(status.as_str())),
        Since::Solved => ("solve_time", None),
        Since::RequesterReply => ("requester_reply_time", None),
        Since::SlaDue => ("sla_due_time", None),
    };
    let mut params = kefu_db::Params::new();
    let low = params.bind(anchors.0);
    let high = params.bind(anchors.1);
    let status_filter = match status {
        Some(status) => format!(" AND status = {}", params.bind(status.to_owned())),
        None => String::new(),
    };
    let changed = params.bind(changed_since);
    let sql = format!(
        "{CLOCK_SELECT} WHERE ({column} > {low} AND {column} <= {high}{status_filter}) \
         OR change_time >= {changed} ORDER BY ticket_id"
    );
    row::all(
        conn,
        sqlx::query_with(&sql, params.into_args()),
        decode_clock,
    )
    .await
}

/// A rule's last entry on a ticket.
pub async fn entry(
    conn: &mut AnyConnection,
    rule_id: &str,
    ticket_id: &str,
) -> Result<Option<Entry>, sqlx::Error> {
    row::one(
        conn,
        sqlx::query(
            "SELECT anchor, holding, entries FROM rule_entries WHERE rule_id = $1 AND ticket_id = $2",
        )
        .bind(rule_id)
        .bind(ticket_id),
        |row| {
            Ok(Entry {
                anchor: row.try_get("anchor")?,
                holding: flag(row, "holding")?,
                entries: row::int(row, "entries")?,
            })
        },
    )
    .await
}

/// Replaces a rule's entry on a ticket if it is still `last` (None: there was none); false when
/// another check got there first.
pub async fn replace_entry(
    conn: &mut AnyConnection,
    rule_id: &str,
    ticket_id: &str,
    last: Option<&Entry>,
    next: &Entry,
) -> Result<bool, sqlx::Error> {
    let statement = match last {
        None => sqlx::query(
            "INSERT INTO rule_entries (rule_id, ticket_id, anchor, holding, entries) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (rule_id, ticket_id) DO NOTHING",
        )
        .bind(rule_id)
        .bind(ticket_id)
        .bind(next.anchor)
        .bind(flag_value(next.holding))
        .bind(i64::from(next.entries)),
        Some(last) => sqlx::query(
            "UPDATE rule_entries SET anchor = $1, holding = $2, entries = $3 \
             WHERE rule_id = $4 AND ticket_id = $5 AND anchor = $6 AND holding = $7 \
             AND entries = $8",
        )
        .bind(next.anchor)
        .bind(flag_value(next.holding))
        .bind(i64::from(next.entries))
        .bind(rule_id)
        .bind(ticket_id)
        .bind(last.anchor)
        .bind(flag_value(last.holding))
        .bind(i64::from(last.entries)),
    };
    row::changed(conn, statement).await
}

/// How far an automation was checked (None: never).
pub async fn swept_until(
    conn: &mut AnyConnection,
    rule_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    row::one(
        conn,
        sqlx::query("SELECT swept_until FROM rule_sweeps WHERE rule_id = $1").bind(rule_id),
        |row| row.try_get("swept_until"),
    )
    .await
}

/// Records that an automation is checked up to `until` (never moving back).
pub async fn set_swept_until(
    conn: &mut AnyConnection,
    rule_id: &str,
    until: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO rule_sweeps (rule_id, swept_until) VALUES ($1, $2) \
         ON CONFLICT (rule_id) DO UPDATE SET swept_until = CASE \
         WHEN excluded.swept_until > rule_sweeps.swept_until THEN excluded.swept_until \
         ELSE rule_sweeps.swept_until END",
    )
    .bind(rule_id)
    .bind(until)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
