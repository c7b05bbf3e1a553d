use std::collections::BTreeMap;

use kefu_db::Params;
use sqlx::{AnyConnection, Row};

use super::visible_clause;
use crate::domain::scope::Visibility;

use crate::domain::kinds::TicketStatus;

/// What statistics are split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// One row for everything.
    None,
    /// Assignee id.
    Agent,
    /// Group id.
    Group,
    /// Channel.
    Channel,
    /// Priority.
    Priority,
    /// Type.
    Type,
}

impl Dimension {
    /// The bucket expression over alias `t` (a `tickets` or `status_changes` row).
    fn key(self) -> &'static str {
        match self {
            Dimension::None => "''",
            Dimension::Agent => "COALESCE(t.assignee_id, '')",
            Dimension::Group => "COALESCE(t.group_id, '')",
            Dimension::Channel => "CAST(t.channel AS TEXT)",
            Dimension::Priority => "CAST(t.priority AS TEXT)",
            Dimension::Type => "CAST(t.ticket_type AS TEXT)",
        }
    }
}

/// The figures of one bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsRow {
    /// Tickets created in the period.
    pub created: i64,
    /// Solves in the period.
    pub solved: i64,
    /// Reopens of solved tickets in the period.
    pub reopened: i64,
    /// Open tickets now.
    pub backlog: i64,
    /// Nearest-rank median and p90 of first-response seconds.
    pub first_response: Option<(i64, i64)>,
    /// Nearest-rank median and p90 of resolution seconds.
    pub resolution: Option<(i64, i64)>,
    /// Solved tickets under a policy.
    pub sla_measured: i64,
    /// Of those, with no breach.
    pub sla_met: i64,
}

const OPEN_STATUSES: &str = "1, 2, 3, 4";
const DONE_STATUSES: &str = "5, 6";

/// A period's parameters (`$1`, `$2`: `[start, end)`) and the condition keeping what `seen`
/// shows (`TRUE`-like when everything is).
fn period(seen: &Visibility, start: i64, end: i64) -> (Params, String) {
    let mut params = Params::new();
    params.bind(start);
    params.bind(end);
    let visible = visible_clause(seen, &mut params).unwrap_or_else(|| "1 = 1".to_owned());
    (params, visible)
}

/// Bucket counts from `sql`, which selects `k` and `n`.
async fn counts(
    conn: &mut AnyConnection,
    sql: &str,
    params: Params,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query_with(sql, params.into_args())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("k")?, r.try_get("n")?)))
        .collect()
}

/// Nearest-rank median and p90 of `value` per bucket, over tickets matching `filter`
/// (`$1`/`$2` are the period), in SQL with window functions (the same text on both databases).
async fn percentiles(
    conn: &mut AnyConnection,
    key: &str,
    value: &str,
    filter: &str,
    (params, visible): (Params, String),
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    let sql = format!(
        "SELECT k, MIN(CASE WHEN rn >= (n * 50 + 99) / 100 THEN v END) AS p50, \
         MIN(CASE WHEN rn >= (n * 90 + 99) / 100 THEN v END) AS p90 FROM \
         (SELECT {key} AS k, {value} AS v, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {value}) AS rn, \
         COUNT(*) OVER (PARTITION BY {key}) AS n FROM tickets t WHERE {filter} AND {visible} AND {value} IS NOT NULL) x \
         GROUP BY k"
    );
    let rows = sqlx::query_with(&sql, params.into_args())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("k")?, r.try_get("p50")?, r.try_get("p90")?)))
        .collect()
}

/// Every figure of GetTicketStats for `[start, end)`, per bucket of `dimension`, over the
/// tickets `seen` shows (moves by the ticket's group and assignee at the time).
pub async fn ticket_stats(
    conn: &mut AnyConnection,
    seen: &Visibility,
    dimension: Dimension,
    start: i64,
    end: i64,
) -> Result<BTreeMap<String, StatsRow>, sqlx::Error> {
    let key = dimension.key();
    let solved = TicketStatus::Solved.number();
    let open = TicketStatus::Open.number();
    let mut rows: BTreeMap<String, StatsRow> = BTreeMap::new();
    let (params, visible) = period(seen, start, end);
    let created = format!(
        "SELECT {key} AS k, COUNT(*) AS n FROM tickets t WHERE t.create_time >= $1 AND t.create_time < $2 \
         AND {visible} GROUP BY 1"
    );
    for (k, n) in counts(conn, &created, params).await? {
        rows.entry(k).or_default().created = n;
    }
    let (params, visible) = period(seen, start, end);
    let solves = format!(
        "SELECT {key} AS k, COUNT(*) AS n FROM status_changes t WHERE t.change_time >= $1 AND t.change_time < $2 \
         AND t.new_status = {solved} AND {visible} GROUP BY 1"
    );
    for (k, n) in counts(conn, &solves, params).await? {
        rows.entry(k).or_default().solved = n;
    }
    let (params, visible) = period(seen, start, end);
    let reopens = format!(
        "SELECT {key} AS k, COUNT(*) AS n FROM status_changes t WHERE t.change_time >= $1 AND t.change_time < $2 \
         AND t.old_status = {solved} AND t.new_status = {open} AND {visible} GROUP BY 1"
    );
    for (k, n) in counts(conn, &reopens, params).await? {
        rows.entry(k).or_default().reopened = n;
    }
    // The backlog is as of now, whatever the period.
    let mut params = Params::new();
    let visible = visible_clause(seen, &mut params).unwrap_or_else(|| "1 = 1".to_owned());
    let backlog = format!(
        "SELECT {key} AS k, COUNT(*) AS n FROM tickets t WHERE t.status IN ({OPEN_STATUSES}) AND {visible} GROUP BY 1"
    );
    for (k, n) in counts(conn, &backlog, params).await? {
        rows.entry(k).or_default().backlog = n;
    }
    let created_in_period = "t.create_time >= $1 AND t.create_time < $2";
    for (k, p50, p90) in percentiles(
        conn,
        key,
        "t.first_response_seconds",
        created_in_period,
        period(seen, start, end),
    )
    .await?
    {
        rows.entry(k).or_default().first_response = Some((p50, p90));
    }
    let solved_in_period =
        format!("t.status IN ({DONE_STATUSES}) AND t.solve_time >= $1 AND t.solve_time < $2");
    for (k, p50, p90) in percentiles(
        conn,
        key,
        "t.resolution_seconds",
        &solved_in_period,
        period(seen, start, end),
    )
    .await?
    {
        rows.entry(k).or_default().resolution = Some((p50, p90));
    }
    let (params, visible) = period(seen, start, end);
    let sla = format!(
        "SELECT {key} AS k, COUNT(*) AS n, SUM(CASE WHEN t.sla_breached = 0 THEN 1 ELSE 0 END) AS met \
         FROM tickets t WHERE {solved_in_period} AND t.sla_policy_id IS NOT NULL AND {visible} GROUP BY 1"
    );
    let sla_rows = sqlx::query_with(&sla, params.into_args())
        .fetch_all(&mut *conn)
        .await?;
    for r in &sla_rows {
        let k: String = r.try_get("k")?;
        let row = rows.entry(k).or_default();
        row.sla_measured = r.try_get("n")?;
        row.sla_met = r.try_get("met")?;
    }
    Ok(rows)
}

/// Records a status change with the ticket's facts at that moment.
pub async fn insert_status_change(
    conn: &mut AnyConnection,
    id: &str,
    t: &crate::domain::ticket::TicketRecord,
    old_status: TicketStatus,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO status_changes (id, ticket_id, change_time, old_status, new_status, assignee_id, group_id, \
         channel, priority, ticket_type) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(&t.id)
    .bind(at)
    .bind(i64::from(old_status.number()))
    .bind(i64::from(t.status.number()))
    .bind(&t.assignee_id)
    .bind(&t.group_id)
    .bind(i64::from(t.channel.number()))
    .bind(i64::from(t.fields.priority.number()))
    .bind(i64::from(t.fields.ticket_type.number()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
