//! Satisfaction figures, computed by the database in one grouped query.

use sqlx::{AnyConnection, Row};

use super::{TicketColumns, scope_clause};
use crate::domain::access::TicketScope;

/// What a summary is split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryKey {
    /// One row.
    None,
    /// The agent who solved the ticket.
    Agent,
    /// The ticket's group.
    Group,
    /// The ticket's channel.
    Channel,
    /// The ticket's type.
    TicketType,
}

impl SummaryKey {
    fn expression(self) -> &'static str {
        match self {
            SummaryKey::None => "''",
            SummaryKey::Agent => "assignee",
            SummaryKey::Group => "group_name",
            SummaryKey::Channel => "channel",
            SummaryKey::TicketType => "ticket_type",
        }
    }
}

/// One row of figures.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// The key.
    pub key: String,
    /// CSAT surveys created.
    pub csat_surveys: i64,
    /// Answered.
    pub csat_responses: i64,
    /// Answered / created.
    pub csat_response_rate: f64,
    /// Percent of answers scoring 4–5.
    pub csat_percent: f64,
    /// Mean score.
    pub csat_average: f64,
    /// NPS surveys created.
    pub nps_surveys: i64,
    /// Answered.
    pub nps_responses: i64,
    /// Answered / created.
    pub nps_response_rate: f64,
    /// 9–10.
    pub promoters: i64,
    /// 7–8.
    pub passives: i64,
    /// 0–6.
    pub detractors: i64,
    /// Percent promoters minus percent detractors.
    pub nps: f64,
}

// PostgreSQL sums BIGINT into NUMERIC and averages into NUMERIC, which the Any driver cannot
// read: every aggregate is cast to BIGINT or DOUBLE PRECISION (SQLite accepts both names).
const FIGURES: &str = "
    CAST(COALESCE(SUM(CASE WHEN kind = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS csat_surveys,
    CAST(COALESCE(SUM(CASE WHEN kind = 1 AND score IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS csat_responses,
    CAST(COALESCE(CAST(SUM(CASE WHEN kind = 1 AND score IS NOT NULL THEN 1 ELSE 0 END) AS DOUBLE PRECISION)
        / NULLIF(SUM(CASE WHEN kind = 1 THEN 1 ELSE 0 END), 0), 0) AS DOUBLE PRECISION) AS csat_response_rate,
    CAST(COALESCE(100.0 * CAST(SUM(CASE WHEN kind = 1 AND score >= 4 THEN 1 ELSE 0 END) AS DOUBLE PRECISION)
        / NULLIF(SUM(CASE WHEN kind = 1 AND score IS NOT NULL THEN 1 ELSE 0 END), 0), 0) AS DOUBLE PRECISION) AS csat_percent,
    CAST(COALESCE(AVG(CASE WHEN kind = 1 THEN score END), 0) AS DOUBLE PRECISION) AS csat_average,
    CAST(COALESCE(SUM(CASE WHEN kind = 2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS nps_surveys,
    CAST(COALESCE(SUM(CASE WHEN kind = 2 AND score IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS nps_responses,
    CAST(COALESCE(CAST(SUM(CASE WHEN kind = 2 AND score IS NOT NULL THEN 1 ELSE 0 END) AS DOUBLE PRECISION)
        / NULLIF(SUM(CASE WHEN kind = 2 THEN 1 ELSE 0 END), 0), 0) AS DOUBLE PRECISION) AS nps_response_rate,
    CAST(COALESCE(SUM(CASE WHEN kind = 2 AND score >= 9 THEN 1 ELSE 0 END), 0) AS BIGINT) AS promoters,
    CAST(COALESCE(SUM(CASE WHEN kind = 2 AND score IN (7, 8) THEN 1 ELSE 0 END), 0) AS BIGINT) AS passives,
    CAST(COALESCE(SUM(CASE WHEN kind = 2 AND score <= 6 THEN 1 ELSE 0 END), 0) AS BIGINT) AS detractors,
    CAST(COALESCE(100.0 * CAST(SUM(CASE WHEN kind = 2 AND score >= 9 THEN 1 WHEN kind = 2 AND score <= 6 THEN -1 ELSE 0 END) AS DOUBLE PRECISION)
        / NULLIF(SUM(CASE WHEN kind = 2 AND score IS NOT NULL THEN 1 ELSE 0 END), 0), 0) AS DOUBLE PRECISION) AS nps";

/// Figures for the surveys created in `[from, to)` that `scope` sees, one row per key, ordered
/// by key.
pub async fn summary(
    conn: &mut AnyConnection,
    key: SummaryKey,
    (from, to): (i64, i64),
    scope: &TicketScope,
) -> Result<Vec<SummaryRow>, sqlx::Error> {
    let expression = key.expression();
    let mut params = kefu_db::Params::new();
    let mut condition = format!(
        "create_time >= {} AND create_time < {}",
        params.bind(from),
        params.bind(to)
    );
    let columns = TicketColumns {
        ticket: "ticket_id",
        assignee: "assignee",
        group: "group_name",
    };
    if let Some(clause) = scope_clause(scope, &columns, &mut params) {
        condition = format!("{condition} AND {clause}");
    }
    // Without a key there is no GROUP BY, so an empty period still gives its one row of zeros.
    let group_by = match key {
        SummaryKey::None => String::new(),
        _ => format!("GROUP BY {expression} ORDER BY 1"),
    };
    let sql = format!(
        "SELECT CAST({expression} AS TEXT) AS k, {FIGURES} FROM surveys \
         WHERE {condition} {group_by}"
    );
    let rows = sqlx::query_with(&sql, params.into_args())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(SummaryRow {
                key: row.try_get("k")?,
                csat_surveys: row.try_get("csat_surveys")?,
                csat_responses: row.try_get("csat_responses")?,
                csat_response_rate: row.try_get("csat_response_rate")?,
                csat_percent: row.try_get("csat_percent")?,
                csat_average: row.try_get("csat_average")?,
                nps_surveys: row.try_get("nps_surveys")?,
                nps_responses: row.try_get("nps_responses")?,
                nps_response_rate: row.try_get("nps_response_rate")?,
                promoters: row.try_get("promoters")?,
                passives: row.try_get("passives")?,
                detractors: row.try_get("detractors")?,
                nps: row.try_get("nps")?,
            })
        })
        .collect()
}
