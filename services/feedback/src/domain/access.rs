//! Who may call what: the role × RPC table of `feedback_service.proto`, as code.

use kefu_principal::{Principal, Role};

/// Every kind of call, as far as authorization is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// SubmitSurveyResponse.
    Respond,
    /// SubmitFeedback.
    SendFeedback,
    /// Get/List surveys and feedback.
    Read,
    /// GetSatisfactionSummary.
    Summarize,
    /// Create/Get NPS campaigns.
    Configure,
    /// WatchEvents.
    WatchEvents,
}

/// Checks a principal against an action. Exhaustive on purpose: a new role or action forces a decision.
pub fn authorize(principal: &Principal, action: Action) -> Result<(), String> {
    use Action::*;
    let allowed = match (principal.role, action) {
        // Answers and feedback are the customer's own words: staff read them, never write them.
        (Role::Admin | Role::Agent, Respond | SendFeedback) => false,
        (Role::Admin, Read | Summarize | Configure | WatchEvents) => true,
        (Role::Agent, Read | Summarize) => true,
        (Role::Agent, Configure | WatchEvents) => false,
        (Role::Integration, Respond | SendFeedback | Read | Summarize | WatchEvents) => true,
        (Role::Integration, Configure) => false,
        (Role::Customer, Respond | SendFeedback | Read) => true,
        (Role::Customer, Summarize | Configure | WatchEvents) => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(format!("role {} may not {action:?}", principal.role))
    }
}

/// For a customer principal, the only customer whose surveys and feedback it may touch.
pub fn own_customer(principal: &Principal) -> Option<&str> {
    match principal.role {
        Role::Customer => Some(principal.customer_id.as_deref().unwrap_or("")),
        Role::Admin | Role::Agent | Role::Integration => None,
    }
}

/// Whether a caller limited to `own_customer` (a customer) may send feedback from `customer`:
/// only as itself.
pub fn may_send_for(own_customer: Option<&str>, customer: &str) -> bool {
    own_customer.is_none_or(|own| own == customer)
}

/// Which ticket-linked surveys and entries an agent sees: their ticket scope in the tickets
/// service, applied to the ticket as the record saw it (a survey: at the solve; an entry: when
/// sent). Records about no ticket (NPS, general feedback) are seen by every agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TicketScope {
    /// Every ticket.
    #[default]
    All,
    /// Tickets of these groups (`groups/{id}`) and those assigned to `agent` (`agents/{id}`).
    Groups {
        /// The agent's name.
        agent: String,
        /// Their groups' names.
        groups: Vec<String>,
    },
    /// Tickets assigned to this agent (`agents/{id}`).
    Assigned(String),
}

/// A ticket as a record saw it: assignee and group names, "" for none.
#[derive(Debug, Clone, Copy)]
pub struct TicketSeen<'a> {
    /// `agents/{id}` or "".
    pub assignee: &'a str,
    /// `groups/{id}` or "".
    pub group: &'a str,
}

impl TicketScope {
    /// Whether a record about `ticket` (`None`: about no ticket) is in scope.
    pub fn sees(&self, ticket: Option<TicketSeen<'_>>) -> bool {
        let Some(ticket) = ticket else {
            return true;
        };
        match self {
            Self::All => true,
            Self::Groups { agent, groups } => {
                ticket.assignee == agent || groups.iter().any(|g| g == ticket.group)
            }
            Self::Assigned(agent) => ticket.assignee == agent,
        }
    }
}

/// Whether the principal may see survey tokens (agents may not: a token answers the survey).
pub fn sees_tokens(principal: &Principal) -> bool {
    match principal.role {
        Role::Admin | Role::Integration | Role::Customer => true,
        Role::Agent => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_agents_see_records_of_their_tickets_and_those_about_no_ticket() {
        let seen = |assignee, group| Some(TicketSeen { assignee, group });
        let groups = TicketScope::Groups {
            agent: "agents/a".into(),
            groups: vec!["groups/g".into()],
        };
        assert!(groups.sees(seen("", "groups/g")));
        assert!(groups.sees(seen("agents/a", "groups/h")));
        assert!(!groups.sees(seen("agents/b", "groups/h")));
        assert!(!groups.sees(seen("", "")));
        assert!(groups.sees(None));
        let assigned = TicketScope::Assigned("agents/a".into());
        assert!(assigned.sees(seen("agents/a", "")));
        assert!(!assigned.sees(seen("", "groups/g")));
        assert!(TicketScope::All.sees(seen("", "")));
    }

    #[test]
    fn staff_read_but_never_answer_for_customers() {
        let admin = Principal::new("a", Role::Admin);
        let agent = Principal::new("b", Role::Agent);
        assert!(authorize(&admin, Action::Respond).is_err());
        assert!(authorize(&agent, Action::SendFeedback).is_err());
        assert!(authorize(&agent, Action::Read).is_ok());
        assert!(authorize(&agent, Action::Configure).is_err());
        assert!(authorize(&admin, Action::Configure).is_ok());
        let customer = Principal::customer("c1");
        assert!(authorize(&customer, Action::Respond).is_ok());
        assert!(authorize(&customer, Action::Summarize).is_err());
        assert_eq!(own_customer(&customer), Some("c1"));
        assert!(!sees_tokens(&agent));
    }
}
