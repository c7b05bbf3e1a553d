//! Surveys and their answers.

use kefu_db::Params;
use kefu_db::row::{self, enumerated, flag, json, json_text};
use kefu_server::common::Channel;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{FOLLOW_UP_COLUMNS, TicketColumns, before_clause, joined_follow_up, scope_clause};
use crate::domain::access::TicketScope;
use crate::domain::kinds::SurveyKind;
use crate::domain::records::{Answer, SurveyRecord};

const SELECT: &str = "SELECT s.id, s.kind, s.origin, s.customer_id, s.ticket_id, s.assignee, \
    s.group_name, s.channel, s.ticket_type, s.campaign_id, s.token, s.create_time, s.expire_time, \
    s.score, s.reason_codes, s.comment, s.submit_time, s.anonymized";

fn select(condition: &str) -> String {
    format!(
        "{SELECT}, {FOLLOW_UP_COLUMNS} FROM surveys s LEFT JOIN follow_ups f ON f.id = s.follow_up_id \
         WHERE {condition}"
    )
}

fn decode(row: &AnyRow) -> Result<SurveyRecord, sqlx::Error> {
    let score: Option<i64> = row.try_get("score")?;
    let answer = match score {
        Some(score) => Some(Answer {
            score: i32::try_from(score).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            reason_codes: json(row, "reason_codes")?,
            comment: row.try_get("comment")?,
            submit_time: row.try_get::<Option<i64>, _>("submit_time")?.unwrap_or(0),
        }),
        None => None,
    };
    Ok(SurveyRecord {
        id: row.try_get("id")?,
        kind: enumerated(row, "kind", SurveyKind::from_number)?,
        origin: row.try_get("origin")?,
        customer_id: row.try_get("customer_id")?,
        ticket_id: row.try_get("ticket_id")?,
        assignee: row.try_get("assignee")?,
        group_name: row.try_get("group_name")?,
        // Stored as the contract's name, which is also the summary's key by channel.
        channel: Channel::from_name(&row.try_get::<String, _>("channel")?),
        ticket_type: row.try_get("ticket_type")?,
        campaign_id: row.try_get("campaign_id")?,
        token: row.try_get("token")?,
        create_time: row.try_get("create_time")?,
        expire_time: row.try_get("expire_time")?,
        answer,
        anonymized: flag(row, "anonymized")?,
        follow_up: joined_follow_up(row)?,
    })
}

/// Inserts a survey unless one with the same origin exists; true when inserted.
pub async fn insert_survey(
    conn: &mut AnyConnection,
    s: &SurveyRecord,
) -> Result<bool, sqlx::Error> {
    let inserted = row::changed(
        conn,
        sqlx::query(
            "INSERT INTO surveys (id, kind, origin, customer_id, ticket_id, assignee, group_name, \
         channel, ticket_type, campaign_id, token, create_time, expire_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (origin) DO NOTHING",
        )
        .bind(&s.id)
        .bind(i64::from(s.kind.number()))
        .bind(&s.origin)
        .bind(&s.customer_id)
        .bind(&s.ticket_id)
        .bind(&s.assignee)
        .bind(&s.group_name)
        .bind(s.channel.map(Channel::name).unwrap_or_default())
        .bind(&s.ticket_type)
        .bind(&s.campaign_id)
        .bind(&s.token)
        .bind(s.create_time)
        .bind(s.expire_time),
    )
    .await?;
    Ok(inserted)
}

/// One survey by id.
pub async fn get_survey(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<SurveyRecord>, sqlx::Error> {
    row::one(conn, sqlx::query(&select("s.id = $1")).bind(id), decode).await
}

/// One survey by its token.
pub async fn survey_by_token(
    conn: &mut AnyConnection,
    token: &str,
) -> Result<Option<SurveyRecord>, sqlx::Error> {
    row::one(
        conn,
        sqlx::query(&select("s.token = $1")).bind(token),
        decode,
    )
    .await
}

/// Stores the answer if the survey has none yet; false when another answer got there first.
pub async fn record_answer(
    conn: &mut AnyConnection,
    id: &str,
    answer: &Answer,
    follow_up_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let changed = row::changed(
        conn,
        sqlx::query(
            "UPDATE surveys SET score = $1, reason_codes = $2, comment = $3, submit_time = $4, \
         follow_up_id = $5 WHERE id = $6 AND score IS NULL",
        )
        .bind(i64::from(answer.score))
        .bind(json_text(&answer.reason_codes)?)
        .bind(&answer.comment)
        .bind(answer.submit_time)
        .bind(follow_up_id)
        .bind(id),
    )
    .await?;
    Ok(changed)
}

/// ListSurveys filters; every one given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SurveyFilter {
    /// Kind.
    pub kind: Option<SurveyKind>,
    /// Only answered (`Some(true)`) or unanswered (`Some(false)`).
    pub answered: Option<bool>,
    /// Unanswered and expired before (`Some((true, now))`) or not yet expired (`Some((false, now))`).
    pub expired_at: Option<(bool, i64)>,
    /// Customer id.
    pub customer_id: Option<String>,
    /// Ticket id.
    pub ticket_id: Option<String>,
    /// Campaign id.
    pub campaign_id: Option<String>,
    /// The reader's ticket scope.
    pub scope: TicketScope,
}

/// Where a survey keeps the ticket facts a scope is checked against.
pub(crate) const SURVEY_TICKET: TicketColumns = TicketColumns {
    ticket: "s.ticket_id",
    assignee: "s.assignee",
    group: "s.group_name",
};

/// A page of surveys, newest first, after the key of the previous page's last survey.
pub async fn list_surveys(
    conn: &mut AnyConnection,
    filter: &SurveyFilter,
    after: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<SurveyRecord>, sqlx::Error> {
    let mut params = Params::new();
    let mut clauses = vec!["1 = 1".to_owned()];
    if let Some(kind) = filter.kind {
        clauses.push(format!(
            "s.kind = {}",
            params.bind(i64::from(kind.number()))
        ));
    }
    match filter.answered {
        Some(true) => clauses.push("s.score IS NOT NULL".to_owned()),
        Some(false) => clauses.push("s.score IS NULL".to_owned()),
        None => {}
    }
    match filter.expired_at {
        Some((true, now)) => clauses.push(format!("s.expire_time <= {}", params.bind(now))),
        Some((false, now)) => clauses.push(format!("s.expire_time > {}", params.bind(now))),
        None => {}
    }
    for (column, value) in [
        ("customer_id", &filter.customer_id),
        ("ticket_id", &filter.ticket_id),
        ("campaign_id", &filter.campaign_id),
    ] {
        if let Some(value) = value {
            clauses.push(format!("s.{column} = {}", params.bind(value.clone())));
        }
    }
    if let Some(clause) = scope_clause(&filter.scope, &SURVEY_TICKET, &mut params) {
        clauses.push(clause);
    }
    if let Some(clause) = before_clause("s", after, &mut params) {
        clauses.push(clause);
    }
    let sql = format!(
        "{} ORDER BY s.create_time DESC, s.id DESC LIMIT {}",
        select(&clauses.join(" AND ")),
        params.limit(limit)
    );
    row::all(conn, sqlx::query_with(&sql, params.into_args()), decode).await
}

/// Removes an erased customer's comments (scores and reasons stay); how many surveys changed.
pub async fn anonymize_surveys(
    conn: &mut AnyConnection,
    customer_id: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE surveys SET comment = '', anonymized = 1 WHERE customer_id = $1 AND anonymized = 0",
    )
    .bind(customer_id)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}
