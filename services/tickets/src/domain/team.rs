//! The support team: groups, agents, and who may be assigned a ticket.

use kefu_server::Violations;

use crate::domain::kinds::{Availability, RoutingMethod, TicketScope, TicketStatus};
use crate::domain::policy::PolicyRecord;
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
    /// The business schedule outside whose working hours it hands out no ticket.
    pub schedule_id: Option<String>,
    /// Micros.
    pub create_time: i64,
    /// Version.
    pub version: i64,
    /// When it was deleted (micros); a deleted group takes nothing new.
    pub delete_time: Option<i64>,
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
    /// When they were deleted (micros): retired from the team, refused on ticket calls.
    pub delete_time: Option<i64>,
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

/// The statuses of a ticket still being worked: a group holding one cannot be deleted, an
/// agent deleted gives theirs back.
pub const UNSOLVED: [TicketStatus; 4] = [
    TicketStatus::New,
    TicketStatus::Open,
    TicketStatus::Pending,
    TicketStatus::OnHold,
];

/// The first of `policies` that names `group_id`, as a condition or an escalation level's group.
pub fn policy_naming_group<'a>(
    policies: &'a [PolicyRecord],
    group_id: &str,
) -> Option<&'a PolicyRecord> {
    policies.iter().find(|p| {
        p.groups.iter().any(|g| g == group_id)
            || p.escalations
                .iter()
                .any(|l| l.group_id.as_deref() == Some(group_id))
    })
}

/// The first of `policies` with an escalation level reassigning to `agent_id`.
pub fn policy_naming_agent<'a>(
    policies: &'a [PolicyRecord],
    agent_id: &str,
) -> Option<&'a PolicyRecord> {
    policies.iter().find(|p| {
        p.escalations
            .iter()
            .any(|l| l.assignee_id.as_deref() == Some(agent_id))
    })
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
            delete_time: None,
        }
    }

    fn policy(
        groups: &[&str],
        level_group: Option<&str>,
        level_agent: Option<&str>,
    ) -> PolicyRecord {
        PolicyRecord {
            id: "p1".into(),
            display_name: "Standard".into(),
            position: 0,
            priorities: Vec::new(),
            tiers: Vec::new(),
            types: Vec::new(),
            channels: Vec::new(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            first_response_minutes: 60,
            next_response_minutes: 0,
            resolution_minutes: 0,
            schedule_id: None,
            escalations: vec![crate::domain::escalation::EscalationLevel {
                percent: 100,
                raise_priority: None,
                group_id: level_group.map(str::to_owned),
                assignee_id: level_agent.map(str::to_owned),
                notify_lead: false,
            }],
            create_time: 0,
            version: 1,
            archive_time: None,
        }
    }

    #[test]
    fn a_policy_names_a_group_by_condition_or_escalation_and_an_agent_by_escalation() {
        let by_condition = [policy(&["g1"], None, None)];
        assert_eq!(
            policy_naming_group(&by_condition, "g1").map(|p| p.id.as_str()),
            Some("p1")
        );
        assert!(policy_naming_group(&by_condition, "g2").is_none());
        let by_level = [policy(&[], Some("g2"), Some("a1"))];
        assert!(policy_naming_group(&by_level, "g2").is_some());
        assert!(policy_naming_group(&by_level, "g1").is_none());
        assert!(policy_naming_agent(&by_level, "a1").is_some());
        assert!(policy_naming_agent(&by_level, "a2").is_none());
        assert!(policy_naming_agent(&by_condition, "a1").is_none());
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
