//! All SQL of the tickets service, one query text for SQLite and PostgreSQL; no rules here.

mod classify;
mod fields;
mod links;
mod routing;
mod search;
mod sla;
mod stats;
mod team;
mod tickets;
mod trail;
mod views;

pub use classify::*;
pub use fields::*;
pub use links::*;
pub use routing::*;
pub use search::*;
pub use sla::*;
pub use stats::*;
pub use team::*;
pub use tickets::*;
pub use trail::*;
pub use views::*;

pub use kefu_db::row::{find, find_all};

use kefu_server::common::Channel;
use serde::Serialize;

use crate::domain::kinds::{Priority, TicketStatus, TicketType};
use crate::domain::scope::Visibility;
use crate::domain::ticket::TicketRecord;

/// ListTickets filters; every one given must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketFilter {
    /// Any of these statuses.
    pub statuses: Vec<TicketStatus>,
    /// Priority.
    pub priority: Option<Priority>,
    /// Type.
    pub ticket_type: Option<TicketType>,
    /// Category.
    pub category: Option<String>,
    /// Channel.
    pub channel: Option<Channel>,
    /// `Some(None)`: unassigned; `Some(Some(id))`: that agent.
    pub assignee: Option<Option<String>>,
    /// Group id.
    pub group_id: Option<String>,
    /// Customer id.
    pub requester_id: Option<String>,
    /// Organization id.
    pub organization_id: Option<String>,
    /// Tag.
    pub tag: Option<String>,
    /// Followed by this agent id.
    pub follower: Option<String>,
    /// In any of these groups (a view's `groups/mine`).
    pub group_ids: Option<Vec<String>>,
    /// Next SLA target due at or before this instant (micros).
    pub due_before: Option<i64>,
    /// Holding this `(field id, value)` in its custom fields.
    pub custom_field: Option<(String, String)>,
    /// Only breached.
    pub sla_breached: bool,
    /// Created at or after.
    pub create_from: Option<i64>,
    /// Created before.
    pub create_to: Option<i64>,
    /// Updated at or after.
    pub update_from: Option<i64>,
    /// Updated before.
    pub update_to: Option<i64>,
    /// Lowercased substring of subject or description.
    pub text: Option<String>,
    /// Only tickets the caller may see.
    pub visible: Visibility,
}

/// The SQL condition over alias `t` (a `tickets` or `status_changes` row) that keeps what `seen`
/// shows, its values bound in `params`; `None` when everything is visible.
pub fn visible_clause(seen: &Visibility, params: &mut kefu_db::Params) -> Option<String> {
    match seen {
        Visibility::Everything => None,
        Visibility::Requester(own) => {
            Some(format!("t.requester_id = {}", params.bind(own.clone())))
        }
        Visibility::Assigned(agent) => {
            Some(format!("t.assignee_id = {}", params.bind(agent.clone())))
        }
        Visibility::Groups { agent, groups } => {
            let mine = format!("t.assignee_id = {}", params.bind(agent.clone()));
            if groups.is_empty() {
                return Some(mine);
            }
            let list = params.list(groups.iter().cloned());
            Some(format!("({mine} OR t.group_id IN ({list}))"))
        }
    }
}

/// ListTickets orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum TicketOrder {
    /// Oldest first.
    CreateTime,
    /// Newest first.
    CreateTimeDesc,
    /// Least recently updated first.
    UpdateTime,
    /// Most recently updated first.
    UpdateTimeDesc,
    /// Most urgent first.
    PriorityDesc,
    /// Soonest SLA due time first, none last.
    DueTime,
}

impl TicketOrder {
    /// Parses `order_by`.
    pub fn parse(text: &str) -> Option<Self> {
        let normalized = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        Some(match normalized.as_str() {
            "" | "create_time" | "create_time asc" => TicketOrder::CreateTime,
            "create_time desc" => TicketOrder::CreateTimeDesc,
            "update_time" | "update_time asc" => TicketOrder::UpdateTime,
            "update_time desc" => TicketOrder::UpdateTimeDesc,
            "priority desc" => TicketOrder::PriorityDesc,
            "due_time" | "due_time asc" => TicketOrder::DueTime,
            _ => return None,
        })
    }

    /// The column and whether it sorts descending.
    pub fn key(self) -> (&'static str, bool) {
        match self {
            TicketOrder::CreateTime => ("create_time", false),
            TicketOrder::CreateTimeDesc => ("create_time", true),
            TicketOrder::UpdateTime => ("update_time", false),
            TicketOrder::UpdateTimeDesc => ("update_time", true),
            TicketOrder::PriorityDesc => ("priority", true),
            TicketOrder::DueTime => ("due_order", false),
        }
    }

    /// The sort value of a ticket, for its page token.
    pub fn value(self, t: &TicketRecord) -> i64 {
        match self {
            TicketOrder::CreateTime | TicketOrder::CreateTimeDesc => t.create_time,
            TicketOrder::UpdateTime | TicketOrder::UpdateTimeDesc => t.update_time,
            TicketOrder::PriorityDesc => i64::from(t.fields.priority.number()),
            TicketOrder::DueTime => t.sla.next_due().unwrap_or(i64::MAX),
        }
    }
}
