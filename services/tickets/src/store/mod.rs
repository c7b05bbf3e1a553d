//! All SQL of the tickets service, one query text for SQLite and PostgreSQL; no rules here.

mod links;
mod stats;
mod team;
mod tickets;
mod trail;

pub use links::*;
pub use stats::*;
pub use team::*;
pub use tickets::*;
pub use trail::*;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::domain::ticket::TicketRecord;

pub(crate) fn int(row: &AnyRow, column: &str) -> Result<i32, sqlx::Error> {
    let value: i64 = row.try_get(column)?;
    i32::try_from(value).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    let value: i64 = row.try_get(column)?;
    Ok(value != 0)
}

pub(crate) fn json<T: DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

pub(crate) fn json_text<T: Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// ListTickets filters; every one given must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketFilter {
    /// Any of these statuses.
    pub statuses: Vec<i32>,
    /// Priority.
    pub priority: Option<i32>,
    /// Type.
    pub ticket_type: Option<i32>,
    /// Category.
    pub category: Option<String>,
    /// Channel.
    pub channel: Option<i32>,
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
            TicketOrder::PriorityDesc => i64::from(t.fields.priority),
            TicketOrder::DueTime => t.sla.next_due().unwrap_or(i64::MAX),
        }
    }
}
