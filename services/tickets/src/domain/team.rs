//! The support team: groups, agents, and who may be assigned a ticket.

use kefu_server::Violations;

use crate::domain::kinds::{Availability, RoutingMethod, TicketScope};
use crate::domain::skills::SkillRule;

/// A group as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRecord {
    /// Id.
    pub id: String,
    /// Unique name.
    pub display_name: String,
    /// Description.
    pub description: String,
    /// How it hands out new tickets.
    pub routing: RoutingMethod,
    /// Which skills its tickets need, under skills-based routing.
    pub skill_rules: Vec<SkillRule>,
    /// Whether a member going OFFLINE gives their NEW and OPEN tickets back to routing.
    pub reassign_offline: bool,
    /// Its lead (agent id), told by escalation levels that notify the lead.
    pub lead_id: Option<String>,
    /// Micros.
    pub create_time: i64,
    /// Version.
    pub version: i64,
}

/// An agent as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    /// Id = the agent's principal id.
    pub id: String,
    /// Name.
    pub display_name: String,
    /// Unique email.
    pub email: String,
    /// Skills.
    pub skills: Vec<String>,
    /// Capacity (0 = unlimited).
    pub capacity: i32,
    /// Assignable.
    pub active: bool,
    /// Whether they take routed tickets now.
    pub availability: Availability,
    /// Which tickets they see and work.
    pub ticket_scope: TicketScope,
    /// Group ids.
    pub groups: Vec<String>,
    /// Micros.
    pub create_time: i64,
    /// Version.
    pub version: i64,
}

/// A principal id usable as an agent id: 1–64 characters of `A-Z a-z 0-9 _ -`.
pub fn agent_id(value: &str, field: &str, v: &mut Violations) -> String {
    let ok = (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if !ok {
        v.add(field, "must be 1 to 64 characters of A-Z a-z 0-9 _ -");
    }
    value.to_owned()
}

/// An email address: one `@`, a dotted domain, at most 254 characters, lowercased.
pub fn email(value: &str, field: &str, v: &mut Violations) -> String {
    let value = value.trim().to_lowercase();
    let ok = value.len() <= 254
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.contains(char::is_whitespace)
                && !domain.contains('@')
        });
    if !ok {
        v.add(field, "must be an email address like agent@example.com");
    }
    value
}

/// Why `agent` cannot be assigned a ticket of `group`, if it cannot.
pub fn check_assignee(agent: &AgentRecord, group: Option<&str>) -> Result<(), String> {
    if !agent.active {
        return Err(format!(
            "agents/{} is inactive and cannot be assigned",
            agent.id
        ));
    }
    if let Some(group) = group
        && !agent.groups.iter().any(|g| g == group)
    {
        return Err(format!(
            "agents/{} is not a member of groups/{group}",
            agent.id
        ));
    }
    Ok(())
}

/// Whether a ticket moving to `group` keeps its assignee: only when they are in that group.
pub fn keeps_assignee(assignee: Option<&AgentRecord>, group: &str) -> bool {
    assignee.is_some_and(|agent| agent.groups.iter().any(|g| g == group))
}

/// An agent's capacity: 0 (unlimited) to 10,000 open tickets.
pub fn capacity(value: i32, field: &str, v: &mut Violations) -> i32 {
    if !(0..=10_000).contains(&value) {
        v.add(field, "must be 0 to 10,000");
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(active: bool, groups: &[&str]) -> AgentRecord {
        AgentRecord {
            id: "a1".into(),
            display_name: "Ann".into(),
            email: "ann@example.com".into(),
            skills: Vec::new(),
            capacity: 0,
            active,
            availability: Availability::Online,
            ticket_scope: TicketScope::All,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            create_time: 0,
            version: 1,
        }
    }

    #[test]
    fn only_active_members_of_the_group_are_assigned() {
        assert!(check_assignee(&agent(true, &["g1"]), Some("g1")).is_ok());
        assert!(check_assignee(&agent(true, &[]), None).is_ok());
        assert!(check_assignee(&agent(false, &["g1"]), Some("g1")).is_err());
        assert!(check_assignee(&agent(true, &["g2"]), Some("g1")).is_err());
        assert!(keeps_assignee(Some(&agent(true, &["g1"])), "g1"));
        assert!(!keeps_assignee(Some(&agent(true, &["g2"])), "g1"));
        assert!(!keeps_assignee(None, "g1"));
    }

    #[test]
    fn ids_emails_and_capacity_are_checked() {
        let mut v = Violations::new();
        assert_eq!(agent_id("agent-1", "id", &mut v), "agent-1");
        assert_eq!(
            email(" Ann@Example.com ", "email", &mut v),
            "ann@example.com"
        );
        capacity(10, "capacity", &mut v);
        assert!(v.is_empty());
        agent_id("bad id", "id", &mut v);
        email("nope", "email", &mut v);
        capacity(-1, "capacity", &mut v);
        assert_eq!(v.iter().count(), 3);
    }
}
