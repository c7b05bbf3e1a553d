use kefu_db::Params;
use kefu_db::row::{self, Stored, enumerated, flag, int, json, json_text, optional_enumerated};
use kefu_server::common::{Channel, Tier};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{TicketFilter, TicketOrder};
use crate::domain::kinds::{
    AfterSalesKind, Level, Priority, PrioritySource, TicketStatus, TicketType,
};
use crate::domain::ticket::{TicketFields, TicketRecord};

const COLUMNS: &str = "t.id, t.subject, t.description, t.requester_id, t.requester_name, t.requester_tier, \
    t.requester_erased, t.followers, t.organization_id, t.assignee_id, t.group_id, t.status, t.priority, t.ticket_type, \
    t.after_sales_kind, t.category, t.channel, t.tags, t.custom_fields, t.sla, t.first_response_seconds, \
    t.resolution_seconds, t.reopen_count, t.agent_replies, t.create_time, t.update_time, t.solve_time, \
    t.close_time, t.version, t.follow_up_of, t.merged_into, t.requester_locale, t.priority_source, \
    t.urgency, t.impact";

impl Stored for TicketRecord {
    const COLLECTION: &'static str = "tickets";
    const TABLE: &'static str = "tickets AS t";
    const ID: &'static str = "t.id";
    const COLUMNS: &'static str = COLUMNS;

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(TicketRecord {
            id: row.try_get("id")?,
            fields: TicketFields {
                subject: row.try_get("subject")?,
                description: row.try_get("description")?,
                priority: enumerated(row, "priority", Priority::from_number)?,
                priority_source: enumerated(row, "priority_source", PrioritySource::from_number)?,
                urgency: optional_enumerated(row, "urgency", Level::from_number)?,
                impact: optional_enumerated(row, "impact", Level::from_number)?,
                ticket_type: enumerated(row, "ticket_type", TicketType::from_number)?,
                after_sales_kind: optional_enumerated(
                    row,
                    "after_sales_kind",
                    AfterSalesKind::from_number,
                )?,
                category: row.try_get("category")?,
                tags: json(row, "tags")?,
                custom_fields: json(row, "custom_fields")?,
            },
            requester_id: row.try_get("requester_id")?,
            requester_name: row.try_get("requester_name")?,
            requester_tier: enumerated(row, "requester_tier", Tier::from_number)?,
            requester_locale: row.try_get("requester_locale")?,
            requester_erased: flag(row, "requester_erased")?,
            organization_id: row.try_get("organization_id")?,
            assignee_id: row.try_get("assignee_id")?,
            group_id: row.try_get("group_id")?,
            status: enumerated(row, "status", TicketStatus::from_number)?,
            channel: enumerated(row, "channel", Channel::from_number)?,
            sla: json(row, "sla")?,
            first_response_seconds: row.try_get("first_response_seconds")?,
            resolution_seconds: row.try_get("resolution_seconds")?,
            reopen_count: int(row, "reopen_count")?,
            agent_replies: int(row, "agent_replies")?,
            create_time: row.try_get("create_time")?,
            update_time: row.try_get("update_time")?,
            solve_time: row.try_get("solve_time")?,
            close_time: row.try_get("close_time")?,
            version: row.try_get("version")?,
            follow_up_of: row.try_get("follow_up_of")?,
            merged_into: row.try_get("merged_into")?,
            followers: json(row, "followers")?,
        })
    }
}

/// The columns derived from the record for filters and ordering.
struct Derived {
    search_text: String,
    tags: String,
    followers: String,
    custom_fields: String,
    sla: String,
    sla_breached: i64,
    next_due: Option<i64>,
    due_order: i64,
    escalate_at: Option<i64>,
}

fn derive(t: &TicketRecord) -> Result<Derived, sqlx::Error> {
    let next_due = t.sla.next_due();
    Ok(Derived {
        search_text: format!("{}\n{}", t.fields.subject, t.fields.description).to_lowercase(),
        tags: json_text(&t.fields.tags)?,
        followers: json_text(&t.followers)?,
        custom_fields: json_text(&t.fields.custom_fields)?,
        sla: json_text(&t.sla)?,
        sla_breached: i64::from(t.sla.any_breached()),
        next_due,
        due_order: next_due.unwrap_or(i64::MAX),
        escalate_at: t.sla.wake_at(),
    })
}

async fn write_tags(conn: &mut AnyConnection, t: &TicketRecord) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM ticket_tags WHERE ticket_id = $1")
        .bind(&t.id)
        .execute(&mut *conn)
        .await?;
    for tag in &t.fields.tags {
        sqlx::query("INSERT INTO ticket_tags (ticket_id, tag) VALUES ($1, $2)")
            .bind(&t.id)
            .bind(tag)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Records that `agent_ids` now follow ticket `ticket_id` (the list on the ticket is written
/// with it); those already following are left as they are.
pub async fn add_followers(
    conn: &mut AnyConnection,
    ticket_id: &str,
    agent_ids: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    for agent_id in agent_ids {
        sqlx::query(
            "INSERT INTO ticket_followers (ticket_id, agent_id, create_time) VALUES ($1, $2, $3) \
             ON CONFLICT (ticket_id, agent_id) DO NOTHING",
        )
        .bind(ticket_id)
        .bind(agent_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Records that `agent_id` no longer follows ticket `ticket_id`.
pub async fn remove_follower(
    conn: &mut AnyConnection,
    ticket_id: &str,
    agent_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM ticket_followers WHERE ticket_id = $1 AND agent_id = $2")
        .bind(ticket_id)
        .bind(agent_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Inserts a new ticket.
pub async fn insert_ticket(conn: &mut AnyConnection, t: &TicketRecord) -> Result<(), sqlx::Error> {
    let d = derive(t)?;
    sqlx::query(
        "INSERT INTO tickets (id, subject, description, search_text, requester_id, requester_name, requester_tier, \
         requester_erased, organization_id, assignee_id, group_id, status, priority, ticket_type, after_sales_kind, \
         category, channel, tags, custom_fields, sla, sla_policy_id, sla_breached, next_due, due_order, \
         first_response_seconds, resolution_seconds, reopen_count, agent_replies, create_time, update_time, \
         solve_time, close_time, version, follow_up_of, merged_into, requester_locale, priority_source, urgency, \
         impact, escalate_at, followers) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, \
         $33, $34, $35, $36, $37, $38, $39, $40, $41)",
    )
    .bind(&t.id)
    .bind(&t.fields.subject)
    .bind(&t.fields.description)
    .bind(&d.search_text)
    .bind(&t.requester_id)
    .bind(&t.requester_name)
    .bind(i64::from(t.requester_tier.number()))
    .bind(i64::from(t.requester_erased))
    .bind(&t.organization_id)
    .bind(&t.assignee_id)
    .bind(&t.group_id)
    .bind(i64::from(t.status.number()))
    .bind(i64::from(t.fields.priority.number()))
    .bind(i64::from(t.fields.ticket_type.number()))
    .bind(i64::from(t.fields.after_sales_kind.map_or(0, AfterSalesKind::number)))
    .bind(&t.fields.category)
    .bind(i64::from(t.channel.number()))
    .bind(&d.tags)
    .bind(&d.custom_fields)
    .bind(&d.sla)
    .bind(&t.sla.policy_id)
    .bind(d.sla_breached)
    .bind(d.next_due)
    .bind(d.due_order)
    .bind(t.first_response_seconds)
    .bind(t.resolution_seconds)
    .bind(i64::from(t.reopen_count))
    .bind(i64::from(t.agent_replies))
    .bind(t.create_time)
    .bind(t.update_time)
    .bind(t.solve_time)
    .bind(t.close_time)
    .bind(t.version)
    .bind(&t.follow_up_of)
    .bind(&t.merged_into)
    .bind(&t.requester_locale)
    .bind(i64::from(t.fields.priority_source.number()))
    .bind(i64::from(t.fields.urgency.map_or(0, Level::number)))
    .bind(i64::from(t.fields.impact.map_or(0, Level::number)))
    .bind(d.escalate_at)
    .bind(&d.followers)
    .execute(&mut *conn)
    .await?;
    write_tags(conn, t).await?;
    super::fields::write_field_values(conn, t).await
}

/// Writes `t` over the stored row if that row is still at `t.version - 1`; false if it moved on.
pub async fn update_ticket(
    conn: &mut AnyConnection,
    t: &TicketRecord,
) -> Result<bool, sqlx::Error> {
    let d = derive(t)?;
    let statement = sqlx::query(
        "UPDATE tickets SET subject = $1, description = $2, search_text = $3, requester_name = $4, \
         requester_tier = $5, requester_erased = $6, assignee_id = $7, group_id = $8, status = $9, priority = $10, \
         ticket_type = $11, after_sales_kind = $12, category = $13, tags = $14, custom_fields = $15, sla = $16, \
         sla_policy_id = $17, sla_breached = $18, next_due = $19, due_order = $20, first_response_seconds = $21, \
         resolution_seconds = $22, reopen_count = $23, agent_replies = $24, update_time = $25, solve_time = $26, \
         close_time = $27, version = $28, merged_into = $29, requester_locale = $32, priority_source = $33, urgency = $34, impact = $35, \
         escalate_at = $36, followers = $37 WHERE id = $30 AND version = $31",
    )
    .bind(&t.fields.subject)
    .bind(&t.fields.description)
    .bind(&d.search_text)
    .bind(&t.requester_name)
    .bind(i64::from(t.requester_tier.number()))
    .bind(i64::from(t.requester_erased))
    .bind(&t.assignee_id)
    .bind(&t.group_id)
    .bind(i64::from(t.status.number()))
    .bind(i64::from(t.fields.priority.number()))
    .bind(i64::from(t.fields.ticket_type.number()))
    .bind(i64::from(t.fields.after_sales_kind.map_or(0, AfterSalesKind::number)))
    .bind(&t.fields.category)
    .bind(&d.tags)
    .bind(&d.custom_fields)
    .bind(&d.sla)
    .bind(&t.sla.policy_id)
    .bind(d.sla_breached)
    .bind(d.next_due)
    .bind(d.due_order)
    .bind(t.first_response_seconds)
    .bind(t.resolution_seconds)
    .bind(i64::from(t.reopen_count))
    .bind(i64::from(t.agent_replies))
    .bind(t.update_time)
    .bind(t.solve_time)
    .bind(t.close_time)
    .bind(t.version)
    .bind(&t.merged_into)
    .bind(&t.id)
    .bind(t.version - 1)
    .bind(&t.requester_locale)
    .bind(i64::from(t.fields.priority_source.number()))
    .bind(i64::from(t.fields.urgency.map_or(0, Level::number)))
    .bind(i64::from(t.fields.impact.map_or(0, Level::number)))
    .bind(d.escalate_at)
    .bind(&d.followers);
    let updated = row::changed(conn, statement).await?;
    if updated {
        write_tags(conn, t).await?;
        super::fields::write_field_values(conn, t).await?;
    }
    Ok(updated)
}

/// How many tickets match `filter`.
pub async fn count_tickets(
    conn: &mut AnyConnection,
    filter: &TicketFilter,
) -> Result<i64, sqlx::Error> {
    let mut params = Params::new();
    let clauses = filter_clauses(filter, &mut params);
    let where_clause = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!("SELECT COUNT(*) AS n FROM tickets t {where_clause}");
    let count = row::one(conn, sqlx::query_with(&sql, params.into_args()), |r| {
        r.try_get::<i64, _>("n")
    })
    .await?;
    Ok(count.unwrap_or(0))
}

/// A page of tickets matching `filter` in `order`, after the keyset `after` (sort value, id).
pub async fn list_tickets(
    conn: &mut AnyConnection,
    filter: &TicketFilter,
    order: TicketOrder,
    after: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<TicketRecord>, sqlx::Error> {
    let mut params = Params::new();
    let mut clauses = filter_clauses(filter, &mut params);
    let (key, descending) = order.key();
    if let Some((value, id)) = after {
        let column = format!("t.{key}");
        clauses.push(params.keyset((&column, "t.id"), *value, id.clone(), descending));
    }
    let where_clause = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let direction = if descending { "DESC" } else { "ASC" };
    let limit = params.limit(limit);
    let sql = format!(
        "SELECT {COLUMNS} FROM tickets t {where_clause} \
         ORDER BY t.{key} {direction}, t.id {direction} LIMIT {limit}"
    );
    row::all(
        conn,
        sqlx::query_with(&sql, params.into_args()),
        TicketRecord::decode,
    )
    .await
}

/// The conditions over alias `t` that keep what `filter` asks for, values bound in `params`.
fn filter_clauses(filter: &TicketFilter, params: &mut Params) -> Vec<String> {
    let mut clauses = Vec::new();
    let eq = |clauses: &mut Vec<String>, params: &mut Params, column: &str, value: Option<i64>| {
        if let Some(value) = value {
            clauses.push(format!("t.{column} = {}", params.bind(value)));
        }
    };
    eq(
        &mut clauses,
        params,
        "priority",
        filter.priority.map(|p| i64::from(p.number())),
    );
    eq(
        &mut clauses,
        params,
        "ticket_type",
        filter.ticket_type.map(|t| i64::from(t.number())),
    );
    eq(
        &mut clauses,
        params,
        "channel",
        filter.channel.map(|c| i64::from(c.number())),
    );
    if filter.sla_breached {
        clauses.push("t.sla_breached = 1".to_owned());
    }
    if !filter.statuses.is_empty() {
        let list = params.list(filter.statuses.iter().map(|s| i64::from(s.number())));
        clauses.push(format!("t.status IN ({list})"));
    }
    let text_columns = [
        ("category", &filter.category),
        ("group_id", &filter.group_id),
        ("requester_id", &filter.requester_id),
        ("organization_id", &filter.organization_id),
    ];
    for (column, value) in text_columns {
        if let Some(value) = value {
            clauses.push(format!("t.{column} = {}", params.bind(value.clone())));
        }
    }
    match &filter.assignee {
        Some(None) => clauses.push("t.assignee_id IS NULL".to_owned()),
        Some(Some(id)) => clauses.push(format!("t.assignee_id = {}", params.bind(id.clone()))),
        None => {}
    }
    if let Some(follower) = &filter.follower {
        clauses.push(format!(
            "t.id IN (SELECT ticket_id FROM ticket_followers WHERE agent_id = {})",
            params.bind(follower.clone())
        ));
    }
    if let Some((field_id, value)) = &filter.custom_field {
        clauses.push(format!(
            "t.id IN (SELECT ticket_id FROM ticket_field_values WHERE field_id = {} AND value = {})",
            params.bind(field_id.clone()),
            params.bind(value.clone())
        ));
    }
    if let Some(tag) = &filter.tag {
        // A probe per row of the order's index (the key is (ticket_id, tag)): `IN (SELECT …)`
        // made the planner collect and sort every ticket with the tag before the first page.
        clauses.push(format!(
            "EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag = {})",
            params.bind(tag.clone())
        ));
    }
    let ranges = [
        ("create_time", ">=", filter.create_from),
        ("create_time", "<", filter.create_to),
        ("update_time", ">=", filter.update_from),
        ("update_time", "<", filter.update_to),
    ];
    for (column, op, value) in ranges {
        if let Some(value) = value {
            clauses.push(format!("t.{column} {op} {}", params.bind(value)));
        }
    }
    if let Some(text) = &filter.text {
        // Substring match; LIKE wildcards in the text are taken literally.
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        clauses.push(format!(
            "t.search_text LIKE {} ESCAPE '\\'",
            params.bind(format!("%{escaped}%"))
        ));
    }
    if let Some(groups) = &filter.group_ids {
        if groups.is_empty() {
            clauses.push("1 = 0".to_owned());
        } else {
            let list = params.list(groups.iter().cloned());
            clauses.push(format!("t.group_id IN ({list})"));
        }
    }
    if let Some(before) = filter.due_before {
        clauses.push(format!("t.due_order <= {}", params.bind(before)));
    }
    clauses.extend(super::visible_clause(&filter.visible, params));
    clauses
}

/// Ids of tickets with a breach or an escalation level due at or before `now`, soonest first.
pub async fn due_tickets(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let query = sqlx::query(
        "SELECT id FROM tickets WHERE escalate_at IS NOT NULL AND escalate_at <= $1 ORDER BY escalate_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit);
    row::all(conn, query, |r| r.try_get("id")).await
}

/// Ids of tickets SOLVED at or before `solved_before`.
pub async fn solved_before(
    conn: &mut AnyConnection,
    solved_before: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let query = sqlx::query(
        "SELECT id FROM tickets WHERE status = $1 AND solve_time <= $2 ORDER BY solve_time, id LIMIT $3",
    )
    .bind(i64::from(TicketStatus::Solved.number()))
    .bind(solved_before)
    .bind(limit);
    row::all(conn, query, |r| r.try_get("id")).await
}

/// Every ticket of a requester.
pub async fn tickets_of_requester(
    conn: &mut AnyConnection,
    requester_id: &str,
) -> Result<Vec<TicketRecord>, sqlx::Error> {
    row::all(
        conn,
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM tickets t WHERE t.requester_id = $1 ORDER BY t.id"
        ))
        .bind(requester_id),
        TicketRecord::decode,
    )
    .await
}
