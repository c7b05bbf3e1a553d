use kefu_db::row::{self, Stored, flag, int, json, json_text};
use kefu_server::common::Channel;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::kinds::{Availability, RoutingMethod, TicketScope, TicketType};
use crate::domain::skills::{SkillCondition, SkillRule};
use crate::domain::team::{AgentRecord, GroupRecord, UNSOLVED};

/// A skill rule as its JSON column keeps it; enum values by label.
#[derive(Serialize, Deserialize)]
struct StoredRule {
    field: String,
    value: String,
    skills: Vec<String>,
}

impl From<&SkillRule> for StoredRule {
    fn from(rule: &SkillRule) -> Self {
        let (field, value) = match &rule.when {
            SkillCondition::Type(kind) => ("type", kind.label().to_owned()),
            SkillCondition::Category(path) => ("category", path.clone()),
            SkillCondition::Channel(channel) => ("channel", channel.label().to_owned()),
            SkillCondition::Tag(tag) => ("tag", tag.clone()),
            SkillCondition::Locale(tag) => ("locale", tag.clone()),
        };
        StoredRule {
            field: field.to_owned(),
            value,
            skills: rule.skills.clone(),
        }
    }
}

impl TryFrom<StoredRule> for SkillRule {
    type Error = sqlx::Error;

    fn try_from(stored: StoredRule) -> Result<Self, Self::Error> {
        let bad = || sqlx::Error::Decode(format!("bad skill rule {:?}", stored.field).into());
        let when = match stored.field.as_str() {
            "type" => SkillCondition::Type(TicketType::from_label(&stored.value).ok_or_else(bad)?),
            "category" => SkillCondition::Category(stored.value.clone()),
            "channel" => {
                SkillCondition::Channel(Channel::from_label(&stored.value).ok_or_else(bad)?)
            }
            "tag" => SkillCondition::Tag(stored.value.clone()),
            "locale" => SkillCondition::Locale(stored.value.clone()),
            _ => return Err(bad()),
        };
        Ok(SkillRule {
            when,
            skills: stored.skills,
        })
    }
}

/// A group's skill rules as JSON text.
fn rules_text(rules: &[SkillRule]) -> Result<String, sqlx::Error> {
    json_text(&rules.iter().map(StoredRule::from).collect::<Vec<_>>())
}

/// A group's skill rules from its row.
fn rules_of(row: &AnyRow) -> Result<Vec<SkillRule>, sqlx::Error> {
    json::<Vec<StoredRule>>(row, "skill_rules")?
        .into_iter()
        .map(SkillRule::try_from)
        .collect()
}

/// Inserts a group.
pub async fn insert_group(conn: &mut AnyConnection, g: &GroupRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO team_groups (id, display_name, description, routing, create_time, update_time, version, skill_rules, \
         reassign_offline, lead_id, schedule_id) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&g.id)
    .bind(&g.display_name)
    .bind(&g.description)
    .bind(i64::from(g.routing.number()))
    .bind(g.create_time)
    .bind(g.version)
    .bind(rules_text(&g.skill_rules)?)
    .bind(i64::from(g.reassign_offline))
    .bind(g.lead_id.as_deref())
    .bind(g.schedule_id.as_deref())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const GROUP_COLUMNS: &str = "id, display_name, description, routing, skill_rules, reassign_offline, lead_id, create_time, version, delete_time, schedule_id";

impl Stored for GroupRecord {
    const COLLECTION: &'static str = "groups";
    const TABLE: &'static str = "team_groups";
    const COLUMNS: &'static str = GROUP_COLUMNS;

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(GroupRecord {
            id: row.try_get("id")?,
            display_name: row.try_get("display_name")?,
            description: row.try_get("description")?,
            routing: row::enumerated(row, "routing", RoutingMethod::from_number)?,
            skill_rules: rules_of(row)?,
            reassign_offline: flag(row, "reassign_offline")?,
            lead_id: row.try_get("lead_id")?,
            create_time: row.try_get("create_time")?,
            version: row.try_get("version")?,
            delete_time: row.try_get("delete_time")?,
            schedule_id: row.try_get("schedule_id")?,
        })
    }
}

/// Writes a group's fields if the stored row is at `g.version - 1`.
pub async fn update_group(
    conn: &mut AnyConnection,
    g: &GroupRecord,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "UPDATE team_groups SET display_name = $1, description = $2, routing = $3, \
         update_time = $4, version = $5, skill_rules = $8, reassign_offline = $9, lead_id = $10, delete_time = $11, schedule_id = $12 \
         WHERE id = $6 AND version = $7",
    )
    .bind(&g.display_name)
    .bind(&g.description)
    .bind(i64::from(g.routing.number()))
    .bind(now)
    .bind(g.version)
    .bind(&g.id)
    .bind(g.version - 1)
    .bind(rules_text(&g.skill_rules)?)
    .bind(i64::from(g.reassign_offline))
    .bind(g.lead_id.as_deref())
    .bind(g.delete_time)
    .bind(g.schedule_id.as_deref());
    row::changed(conn, statement).await
}

/// Every skill an active agent holds, sorted.
pub async fn known_skills(conn: &mut AnyConnection) -> Result<Vec<String>, sqlx::Error> {
    let query = sqlx::query("SELECT skills FROM agents WHERE active = 1");
    let lists = row::all(conn, query, |r| json::<Vec<String>>(r, "skills")).await?;
    let mut skills: Vec<String> = lists.into_iter().flatten().collect();
    skills.sort();
    skills.dedup();
    Ok(skills)
}

/// Whether a group of this name exists.
pub async fn group_name_taken(
    conn: &mut AnyConnection,
    display_name: &str,
) -> Result<bool, sqlx::Error> {
    let query =
        sqlx::query("SELECT id FROM team_groups WHERE display_name = $1").bind(display_name);
    row::exists(conn, query).await
}

/// A group that is not deleted.
pub async fn live_group(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<GroupRecord>, sqlx::Error> {
    let sql = format!(
        "{} WHERE id = $1 AND delete_time IS NULL",
        row::select::<GroupRecord>()
    );
    row::one(conn, sqlx::query(&sql).bind(id), GroupRecord::decode).await
}

/// A page of groups by name after `(name, id)`; deleted ones only with `deleted`.
pub async fn list_groups(
    conn: &mut AnyConnection,
    after: Option<&(String, String)>,
    deleted: bool,
    limit: i64,
) -> Result<Vec<GroupRecord>, sqlx::Error> {
    let (name, id) = after.cloned().unwrap_or_default();
    let sql = format!(
        "{} WHERE ($1 = 0 OR display_name > $2 OR (display_name = $3 AND id > $4)) \
         AND ($6 = 1 OR delete_time IS NULL) ORDER BY display_name, id LIMIT $5",
        row::select::<GroupRecord>()
    );
    row::all(
        conn,
        sqlx::query(&sql)
            .bind(i64::from(after.is_some()))
            .bind(&name)
            .bind(&name)
            .bind(&id)
            .bind(limit)
            .bind(i64::from(deleted)),
        GroupRecord::decode,
    )
    .await
}

const AGENT_COLUMNS: &str = "a.id, a.display_name, a.email, a.skills, a.capacity, a.active, a.availability, a.ticket_scope, a.create_time, a.version, a.delete_time";

fn decode_agent(row: &AnyRow) -> Result<AgentRecord, sqlx::Error> {
    Ok(AgentRecord {
        id: row.try_get("id")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        skills: json(row, "skills")?,
        capacity: int(row, "capacity")?,
        active: flag(row, "active")?,
        availability: row::enumerated(row, "availability", Availability::from_number)?,
        ticket_scope: row::enumerated(row, "ticket_scope", TicketScope::from_number)?,
        groups: Vec::new(),
        create_time: row.try_get("create_time")?,
        version: row.try_get("version")?,
        delete_time: row.try_get("delete_time")?,
    })
}

/// Agents from `rows`, with their groups read in one query for all of them.
async fn agents_with_groups(
    conn: &mut AnyConnection,
    rows: &[AnyRow],
) -> Result<Vec<AgentRecord>, sqlx::Error> {
    let mut agents = rows
        .iter()
        .map(decode_agent)
        .collect::<Result<Vec<_>, _>>()?;
    if agents.is_empty() {
        return Ok(agents);
    }
    let mut params = kefu_db::Params::new();
    let ids = params.list(agents.iter().map(|a| a.id.clone()));
    let sql = format!(
        "SELECT agent_id, group_id FROM group_members WHERE agent_id IN ({ids}) ORDER BY group_id"
    );
    let memberships = sqlx::query_with(&sql, params.into_args())
        .fetch_all(&mut *conn)
        .await?;
    for row in &memberships {
        let agent_id: String = row.try_get("agent_id")?;
        if let Some(agent) = agents.iter_mut().find(|a| a.id == agent_id) {
            agent.groups.push(row.try_get("group_id")?);
        }
    }
    Ok(agents)
}

/// Inserts an agent (without memberships).
pub async fn insert_agent(conn: &mut AnyConnection, a: &AgentRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO agents (id, display_name, email, skills, capacity, active, availability, create_time, update_time, version, ticket_scope) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)",
    )
    .bind(&a.id)
    .bind(&a.display_name)
    .bind(&a.email)
    .bind(json_text(&a.skills)?)
    .bind(i64::from(a.capacity))
    .bind(i64::from(a.active))
    .bind(i64::from(a.availability.number()))
    .bind(a.create_time)
    .bind(a.version)
    .bind(i64::from(a.ticket_scope.number()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes an agent's fields if the stored row is at `a.version - 1`.
pub async fn update_agent(
    conn: &mut AnyConnection,
    a: &AgentRecord,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "UPDATE agents SET display_name = $1, email = $2, skills = $3, capacity = $4, active = $5, \
         availability = $6, update_time = $7, version = $8, ticket_scope = $11, delete_time = $12 \
         WHERE id = $9 AND version = $10",
    )
    .bind(&a.display_name)
    .bind(&a.email)
    .bind(json_text(&a.skills)?)
    .bind(i64::from(a.capacity))
    .bind(i64::from(a.active))
    .bind(i64::from(a.availability.number()))
    .bind(now)
    .bind(a.version)
    .bind(&a.id)
    .bind(a.version - 1)
    .bind(i64::from(a.ticket_scope.number()))
    .bind(a.delete_time);
    let updated = row::changed(conn, statement).await?;
    Ok(updated)
}

/// One agent with its groups.
pub async fn get_agent(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<AgentRecord>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {AGENT_COLUMNS} FROM agents a WHERE a.id = $1"
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(agents_with_groups(conn, &rows).await?.into_iter().next())
}

/// The agent with this email, if any.
pub async fn agent_with_email(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<String>, sqlx::Error> {
    let query = sqlx::query("SELECT id FROM agents WHERE email = $1").bind(email);
    row::one(conn, query, |r| r.try_get("id")).await
}

/// A page of agents by id after `after`, optionally only members of `group_id`; deleted ones
/// only with `deleted`.
pub async fn list_agents(
    conn: &mut AnyConnection,
    group_id: Option<&str>,
    after: Option<&str>,
    deleted: bool,
    limit: i64,
) -> Result<Vec<AgentRecord>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {AGENT_COLUMNS} FROM agents a WHERE a.id > $1 AND ($2 = '' OR a.id IN \
         (SELECT agent_id FROM group_members WHERE group_id = $3)) AND ($5 = 1 OR a.delete_time IS NULL) \
         ORDER BY a.id LIMIT $4"
    ))
    .bind(after.unwrap_or(""))
    .bind(group_id.unwrap_or(""))
    .bind(group_id.unwrap_or(""))
    .bind(limit)
    .bind(i64::from(deleted))
    .fetch_all(&mut *conn)
    .await?;
    agents_with_groups(conn, &rows).await
}

/// Adds a membership (no-op when present).
pub async fn add_member(
    conn: &mut AnyConnection,
    group_id: &str,
    agent_id: &str,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "INSERT INTO group_members (group_id, agent_id) VALUES ($1, $2) ON CONFLICT (group_id, agent_id) DO NOTHING",
    )
    .bind(group_id)
    .bind(agent_id);
    let added = row::changed(conn, statement).await?;
    Ok(added)
}

/// Removes a membership (no-op when absent).
pub async fn remove_member(
    conn: &mut AnyConnection,
    group_id: &str,
    agent_id: &str,
) -> Result<bool, sqlx::Error> {
    let removed = row::changed(
        conn,
        sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND agent_id = $2")
            .bind(group_id)
            .bind(agent_id),
    )
    .await?;
    Ok(removed)
}

/// Takes everyone out of a group, or an agent out of every group (whichever is `Some`).
pub async fn remove_memberships(
    conn: &mut AnyConnection,
    group_id: Option<&str>,
    agent_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM group_members WHERE group_id = $1 OR agent_id = $2")
        .bind(group_id)
        .bind(agent_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Clears `agent_id` as lead of every group they lead (each group's version moves on).
pub async fn clear_lead(
    conn: &mut AnyConnection,
    agent_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE team_groups SET lead_id = NULL, version = version + 1, update_time = $1 WHERE lead_id = $2",
    )
    .bind(now)
    .bind(agent_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The ids of the tickets in one of `UNSOLVED`'s statuses of a group (`by_group`) or assigned to
/// an agent, in id order.
pub async fn unsolved_of(
    conn: &mut AnyConnection,
    id: &str,
    by_group: bool,
) -> Result<Vec<String>, sqlx::Error> {
    let column = if by_group { "group_id" } else { "assignee_id" };
    let [a, b, c, d] = UNSOLVED.map(|s| i64::from(s.number()));
    let sql = format!(
        "SELECT id FROM tickets WHERE {column} = $1 AND status IN ($2, $3, $4, $5) ORDER BY id"
    );
    let query = sqlx::query(&sql).bind(id).bind(a).bind(b).bind(c).bind(d);
    row::all(conn, query, |r| r.try_get("id")).await
}

/// The routed groups that keep business hours, live ones only.
pub async fn scheduled_groups(conn: &mut AnyConnection) -> Result<Vec<GroupRecord>, sqlx::Error> {
    let sql = format!(
        "{} WHERE schedule_id IS NOT NULL AND routing <> $1 AND delete_time IS NULL ORDER BY id",
        row::select::<GroupRecord>()
    );
    let manual = i64::from(RoutingMethod::Manual.number());
    row::all(conn, sqlx::query(&sql).bind(manual), GroupRecord::decode).await
}

/// The first group (deleted ones included) keeping the schedule's hours.
pub async fn group_using_schedule(
    conn: &mut AnyConnection,
    schedule_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let query =
        sqlx::query("SELECT id FROM team_groups WHERE schedule_id = $1 ORDER BY id LIMIT 1")
            .bind(schedule_id);
    row::one(conn, query, |r| r.try_get("id")).await
}
