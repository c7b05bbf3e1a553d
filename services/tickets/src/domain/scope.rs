//! Which tickets a caller sees and works: the rule behind every read, list, statistic and write
//! of tickets. Out of sight means NOT_FOUND, as if the ticket did not exist.

use crate::domain::kinds::TicketScope;
use crate::domain::ticket::TicketRecord;

/// The tickets a caller may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Visibility {
    /// Every ticket: admins, integrations, agents with scope ALL or without an agent record.
    #[default]
    Everything,
    /// Tickets this customer requested.
    Requester(String),
    /// Tickets of these groups, and tickets assigned to this agent.
    Groups {
        /// The agent's id.
        agent: String,
        /// The ids of the groups they belong to.
        groups: Vec<String>,
    },
    /// Tickets assigned to this agent.
    Assigned(String),
}

/// Where a ticket stands, as far as visibility goes.
#[derive(Debug, Clone, Copy)]
pub struct Standing<'a> {
    /// Its requester's customer id.
    pub requester: &'a str,
    /// Its group id.
    pub group: Option<&'a str>,
    /// Its assignee's agent id.
    pub assignee: Option<&'a str>,
}

impl<'a> Standing<'a> {
    /// Where `t` stands now.
    pub fn of(t: &'a TicketRecord) -> Self {
        Self {
            requester: &t.requester_id,
            group: t.group_id.as_deref(),
            assignee: t.assignee_id.as_deref(),
        }
    }
}

impl Visibility {
    /// What an agent with `scope`, a member of `groups`, sees.
    pub fn of_agent(agent: &str, scope: TicketScope, groups: Vec<String>) -> Self {
        match scope {
            TicketScope::All => Self::Everything,
            TicketScope::Groups => Self::Groups {
                agent: agent.to_owned(),
                groups,
            },
            TicketScope::Assigned => Self::Assigned(agent.to_owned()),
        }
    }

    /// Whether a ticket standing so is visible.
    pub fn sees(&self, ticket: Standing<'_>) -> bool {
        match self {
            Self::Everything => true,
            Self::Requester(own) => ticket.requester == own,
            Self::Groups { agent, groups } => {
                ticket.assignee == Some(agent.as_str())
                    || ticket.group.is_some_and(|g| groups.iter().any(|m| m == g))
            }
            Self::Assigned(agent) => ticket.assignee == Some(agent.as_str()),
        }
    }

    /// Whether `t` is visible.
    pub fn sees_ticket(&self, t: &TicketRecord) -> bool {
        self.sees(Standing::of(t))
    }

    /// Whether everything is visible, so no narrowing is needed.
    pub fn is_everything(&self) -> bool {
        matches!(self, Self::Everything)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing<'a>(group: Option<&'a str>, assignee: Option<&'a str>) -> Standing<'a> {
        Standing {
            requester: "c1",
            group,
            assignee,
        }
    }

    #[test]
    fn scope_all_sees_everything_and_customers_only_their_own() {
        let all = Visibility::of_agent("a1", TicketScope::All, vec![]);
        assert!(all.sees(standing(None, None)));
        assert!(Visibility::Requester("c1".into()).sees(standing(None, None)));
        assert!(!Visibility::Requester("c2".into()).sees(standing(None, None)));
    }

    #[test]
    fn group_scope_sees_its_groups_and_its_own_assignments_only() {
        let vis = Visibility::of_agent("a1", TicketScope::Groups, vec!["g1".into()]);
        assert!(vis.sees(standing(Some("g1"), None)));
        assert!(vis.sees(standing(Some("g2"), Some("a1"))));
        assert!(!vis.sees(standing(Some("g2"), Some("a2"))));
        assert!(!vis.sees(standing(None, None)));
    }

    #[test]
    fn assigned_scope_sees_only_tickets_assigned_to_the_agent() {
        let vis = Visibility::of_agent("a1", TicketScope::Assigned, vec!["g1".into()]);
        assert!(vis.sees(standing(None, Some("a1"))));
        assert!(!vis.sees(standing(Some("g1"), None)));
        assert!(!vis.sees(standing(Some("g1"), Some("a2"))));
    }
}
