//! Tickets, comments, teams and schedules as stored, the checks on what clients send, and the
//! field-by-field difference that becomes an audit entry.

use std::collections::BTreeMap;

use kefu_server::Violations;
use kefu_server::common::{Channel, Tier};

use super::kinds::{
    AfterSalesKind, AuthorKind, Level, Priority, PrioritySource, TicketStatus, TicketType,
};
use super::sla::SlaRecord;

/// Longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 250;
/// Longest description or comment body, in characters.
pub const MAX_TEXT_CHARS: usize = 65_536;
/// Longest category path, in characters.
pub const MAX_CATEGORY_CHARS: usize = 100;
/// Most tags on a ticket, skills on an agent.
pub const MAX_TAGS: usize = 20;
/// Most custom fields on a ticket.
pub const MAX_CUSTOM_FIELDS: usize = 50;
/// Longest custom field value, in characters.
pub const MAX_CUSTOM_FIELD_CHARS: usize = 1024;
/// Most attachments on a comment.
pub const MAX_ATTACHMENTS: usize = 20;

/// `tickets/{id}`.
pub fn ticket_name(id: &str) -> String {
    format!("tickets/{id}")
}

/// The requester as the customers service reported it when the ticket was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    /// Customer id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Tier.
    pub tier: Tier,
    /// Organization id.
    pub organization_id: Option<String>,
    /// Preferred language, a BCP 47 tag or empty.
    pub locale: String,
    /// Their dedicated agent's id.
    pub account_owner: Option<String>,
}

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRecord {
    /// Id (UUIDv7).
    pub id: String,
    /// Editable fields.
    pub fields: TicketFields,
    /// Customer id.
    pub requester_id: String,
    /// Requester's name at creation.
    pub requester_name: String,
    /// Requester's tier at creation.
    pub requester_tier: Tier,
    /// Requester's locale at creation, for skills-based routing.
    pub requester_locale: String,
    /// Whether the requester was erased (and the snapshot anonymized).
    pub requester_erased: bool,
    /// Organization id at creation.
    pub organization_id: Option<String>,
    /// Agent id.
    pub assignee_id: Option<String>,
    /// Group id.
    pub group_id: Option<String>,
    /// Where it is in its life.
    pub status: TicketStatus,
    /// Where it came in.
    pub channel: Channel,
    /// SLA progress.
    pub sla: SlaRecord,
    /// Counted seconds to the first public agent reply.
    pub first_response_seconds: Option<i64>,
    /// Counted seconds from creation to the last solve.
    pub resolution_seconds: Option<i64>,
    /// Times reopened.
    pub reopen_count: i32,
    /// Public agent replies.
    pub agent_replies: i32,
    /// Micros.
    pub create_time: i64,
    /// Micros.
    pub update_time: i64,
    /// Micros; set while SOLVED or CLOSED.
    pub solve_time: Option<i64>,
    /// Micros.
    pub close_time: Option<i64>,
    /// Bumped on every change; the etag derives from it.
    pub version: i64,
    /// The closed ticket this one follows up.
    pub follow_up_of: Option<String>,
    /// The ticket this one is merged into.
    pub merged_into: Option<String>,
    /// Agent ids following it, sorted.
    pub followers: Vec<String>,
}

impl TicketRecord {
    /// A NEW ticket of `requester` created at `now`, before its SLA policy and routing.
    pub fn new(
        id: String,
        fields: TicketFields,
        requester: Requester,
        channel: Channel,
        now: i64,
    ) -> Self {
        TicketRecord {
            id,
            fields,
            requester_id: requester.id,
            requester_name: requester.display_name,
            requester_tier: requester.tier,
            requester_locale: requester.locale,
            requester_erased: false,
            organization_id: requester.organization_id,
            assignee_id: None,
            group_id: None,
            status: TicketStatus::New,
            channel,
            sla: SlaRecord::default(),
            first_response_seconds: None,
            resolution_seconds: None,
            reopen_count: 0,
            agent_replies: 0,
            create_time: now,
            update_time: now,
            solve_time: None,
            close_time: None,
            version: 1,
            follow_up_of: None,
            merged_into: None,
            followers: Vec::new(),
        }
    }
}

/// A requester for records made in tests.
#[cfg(test)]
pub fn requester(id: &str, tier: Tier) -> Requester {
    Requester {
        id: id.to_owned(),
        display_name: id.to_uppercase(),
        tier,
        organization_id: None,
        locale: String::new(),
        account_owner: None,
    }
}

/// The fields a client sets on create and changes with UpdateTicket.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketFields {
    /// Subject.
    pub subject: String,
    /// Description.
    pub description: String,
    /// How soon it must be handled.
    pub priority: Priority,
    /// Where the priority came from.
    pub priority_source: PrioritySource,
    /// How urgent the need is; `None`: not classified.
    pub urgency: Option<Level>,
    /// How wide and bad the effect is; `None`: not classified.
    pub impact: Option<Level>,
    /// What kind of request.
    pub ticket_type: TicketType,
    /// What an AFTER_SALES ticket asks for; only those have one.
    pub after_sales_kind: Option<AfterSalesKind>,
    /// Category path.
    pub category: String,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// Custom fields.
    pub custom_fields: BTreeMap<String, String>,
}

/// The paths UpdateTicket accepts.
pub const UPDATABLE: &[&str] = &[
    "subject",
    "description",
    "priority",
    "urgency",
    "impact",
    "type",
    "after_sales_kind",
    "category",
    "tags",
    "custom_fields",
];

impl Default for TicketFields {
    fn default() -> Self {
        Self {
            subject: String::new(),
            description: String::new(),
            priority: Priority::Normal,
            priority_source: PrioritySource::Default,
            urgency: None,
            impact: None,
            ticket_type: TicketType::Question,
            after_sales_kind: None,
            category: String::new(),
            tags: Vec::new(),
            custom_fields: BTreeMap::new(),
        }
    }
}

impl TicketFields {
    /// Copies the fields named in `paths` (from [`UPDATABLE`]) from `input` onto `self`.
    pub fn overlay(&mut self, input: &TicketFields, paths: &[&str]) {
        for path in paths {
            match *path {
                "subject" => self.subject.clone_from(&input.subject),
                "description" => self.description.clone_from(&input.description),
                "priority" => {
                    self.priority = input.priority;
                    self.priority_source = input.priority_source;
                }
                "urgency" => self.urgency = input.urgency,
                "impact" => self.impact = input.impact,
                "type" => self.ticket_type = input.ticket_type,
                "after_sales_kind" => self.after_sales_kind = input.after_sales_kind,
                "category" => self.category.clone_from(&input.category),
                "tags" => self.tags.clone_from(&input.tags),
                "custom_fields" => self.custom_fields.clone_from(&input.custom_fields),
                _ => {}
            }
        }
    }

    /// Cross-field rule: an AFTER_SALES ticket has a kind, and only it has one.
    pub fn check_after_sales(&self, v: &mut Violations) {
        let after_sales = self.ticket_type == TicketType::AfterSales;
        let has_kind = self.after_sales_kind.is_some();
        if after_sales && !has_kind {
            v.add(
                "ticket.after_sales_kind",
                "is required for an AFTER_SALES ticket",
            );
        } else if !after_sales && has_kind {
            v.add(
                "ticket.after_sales_kind",
                "is only allowed on an AFTER_SALES ticket",
            );
        }
    }
}

/// A required one-line subject.
pub fn subject(value: &str, field: &str, v: &mut Violations) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        v.add(field, "is required");
    } else if trimmed.chars().count() > MAX_SUBJECT_CHARS {
        v.add(
            field,
            format!("must be at most {MAX_SUBJECT_CHARS} characters"),
        );
    } else if trimmed.chars().any(char::is_control) {
        v.add(field, "must be one line without control characters");
    }
    trimmed.to_owned()
}

/// Free text up to 65,536 characters; `required` refuses empty.
pub fn text(value: &str, required: bool, field: &str, v: &mut Violations) -> String {
    if required && value.trim().is_empty() {
        v.add(field, "is required");
    } else if value.chars().count() > MAX_TEXT_CHARS {
        v.add(
            field,
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        );
    } else if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        v.add(
            field,
            "must not contain control characters other than line breaks and tabs",
        );
    }
    value.to_owned()
}

/// A category path of at most 100 printable characters.
pub fn category(value: &str, field: &str, v: &mut Violations) -> String {
    let value = value.trim();
    if value.chars().count() > MAX_CATEGORY_CHARS || value.chars().any(char::is_control) {
        v.add(
            field,
            format!("must be at most {MAX_CATEGORY_CHARS} printable characters"),
        );
    }
    value.to_owned()
}

/// A comment as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentRecord {
    /// Id.
    pub id: String,
    /// Ticket id.
    pub ticket_id: String,
    /// Text.
    pub body: String,
    /// Visible to the requester.
    pub public: bool,
    /// Principal id.
    pub author: String,
    /// Who wrote it.
    pub author_kind: AuthorKind,
    /// Where it came in.
    pub channel: Channel,
    /// Attachment metadata.
    pub attachments: Vec<AttachmentRecord>,
    /// Micros.
    pub create_time: i64,
}

/// Attachment metadata.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AttachmentRecord {
    /// File name.
    pub file_name: String,
    /// Bytes.
    pub size_bytes: i64,
    /// MIME type.
    pub content_type: String,
    /// Storage key.
    pub storage_key: String,
}

/// Checks attachment metadata as the client sent it, and normalizes it.
pub fn attachments(
    input: &[AttachmentRecord],
    field: &str,
    v: &mut Violations,
) -> Vec<AttachmentRecord> {
    if input.len() > MAX_ATTACHMENTS {
        v.add(field, format!("at most {MAX_ATTACHMENTS} attachments"));
    }
    let printable = |s: &str, max: usize| {
        !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
    };
    input
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let f = |name: &str| format!("{field}[{i}].{name}");
            if !printable(&a.file_name, 255) {
                v.add(f("file_name"), "must be 1 to 255 printable characters");
            }
            if !(0..=1_i64 << 40).contains(&a.size_bytes) {
                v.add(f("size_bytes"), "must be between 0 and 2^40");
            }
            let mime_ok = a.content_type.len() >= 3
                && a.content_type.len() <= 100
                && a.content_type.split_once('/').is_some_and(|(t, s)| {
                    !t.is_empty()
                        && !s.is_empty()
                        && a.content_type.is_ascii()
                        && !a.content_type.contains(char::is_whitespace)
                });
            if !mime_ok {
                v.add(f("content_type"), "must be a MIME type like image/png");
            }
            if !printable(&a.storage_key, 500) {
                v.add(f("storage_key"), "must be 1 to 500 printable characters");
            }
            AttachmentRecord {
                file_name: a.file_name.trim().to_owned(),
                size_bytes: a.size_bytes,
                content_type: a.content_type.to_lowercase(),
                storage_key: a.storage_key.clone(),
            }
        })
        .collect()
}

pub use super::changes::{Change, diff};
