//! Who may do what (the table in `ticket_service.proto`).

use kefu_principal::{Principal, Role};

/// Everything that needs a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create a ticket (customers: only as their own requester).
    CreateTicket,
    /// Read tickets, comments (customers: their own tickets, public comments).
    ReadTickets,
    /// Comment (customers: public replies on their own tickets).
    Comment,
    /// Update fields and move tickets through their life.
    WorkTickets,
    /// Read audits, teams, schedules and policies.
    ReadTeam,
    /// Create and change groups, agents, membership, schedules, policies.
    Configure,
    /// Follow the event stream.
    WatchEvents,
    /// Follow tickets (a person's choice: not for integrations or customers).
    FollowTickets,
    /// Search the full text of tickets, internal notes included (staff and integrations).
    SearchTickets,
    /// Save and run views (people: admins and agents).
    UseViews,
}

/// Checks a principal against an action. Exhaustive on purpose: a new role or action forces a decision.
pub fn authorize(principal: &Principal, action: Action) -> Result<(), String> {
    use Action::{
        Comment, Configure, CreateTicket, FollowTickets, ReadTeam, ReadTickets, SearchTickets,
        UseViews, WatchEvents, WorkTickets,
    };
    let allowed = match (principal.role, action) {
        (Role::Admin, _) => true,
        (
            Role::Agent,
            CreateTicket | ReadTickets | Comment | WorkTickets | ReadTeam | FollowTickets
            | SearchTickets | UseViews,
        ) => true,
        (Role::Agent, Configure | WatchEvents) => false,
        (
            Role::Integration,
            CreateTicket | ReadTickets | Comment | WorkTickets | ReadTeam | WatchEvents
            | SearchTickets,
        ) => true,
        (Role::Integration, Configure | FollowTickets | UseViews) => false,
        (Role::Customer, CreateTicket | ReadTickets | Comment) => true,
        (
            Role::Customer,
            WorkTickets | ReadTeam | Configure | WatchEvents | FollowTickets | SearchTickets
            | UseViews,
        ) => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(format!("role {} may not {action:?}", principal.role))
    }
}

/// Whether a caller limited to `own_customer` (a customer) may open a ticket for `requester`:
/// only as their own requester.
pub fn may_request_for(own_customer: Option<&str>, requester: &str) -> bool {
    own_customer.is_none_or(|own| own == requester)
}

/// The customer a caller is limited to, if it is a customer.
pub fn own_customer(principal: &Principal) -> Option<&str> {
    match principal.role {
        Role::Customer => Some(
            principal
                .customer_id
                .as_deref()
                .unwrap_or(principal.id.as_str()),
        ),
        Role::Admin | Role::Agent | Role::Integration => None,
    }
}
