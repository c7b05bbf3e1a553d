//! A trigger as the service stores it: its events, conditions and actions, each parsed from the
//! names the contract uses, so a stored trigger is always one the evaluator understands.

use serde::{Deserialize, Serialize};

pub use super::requester::{LIFECYCLE_STAGES, RequesterChange};

use super::schedule::Schedule;

/// What happened to a ticket, as a trigger reacts to it (numbers are the contract's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A ticket was created.
    TicketCreated,
    /// Fields, assignment or status changed.
    TicketUpdated,
    /// The requester commented.
    CommentedByRequester,
    /// An agent or admin commented.
    CommentedByAgent,
    /// The status changed.
    StatusChanged,
    /// An SLA escalation level below the target fired.
    SlaWarning,
    /// An SLA target was breached.
    SlaBreached,
}

impl EventKind {
    /// Every kind, in contract order.
    pub const ALL: [Self; 7] = [
        Self::TicketCreated,
        Self::TicketUpdated,
        Self::CommentedByRequester,
        Self::CommentedByAgent,
        Self::StatusChanged,
        Self::SlaWarning,
        Self::SlaBreached,
    ];

    /// The contract's enum number.
    pub fn number(self) -> i32 {
        match self {
            Self::TicketCreated => 1,
            Self::TicketUpdated => 2,
            Self::CommentedByRequester => 3,
            Self::CommentedByAgent => 4,
            Self::StatusChanged => 5,
            Self::SlaWarning => 6,
            Self::SlaBreached => 7,
        }
    }

    /// The kind with the contract's enum number.
    pub fn from_number(number: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.number() == number)
    }
}

/// A ticket property a condition tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Field {
    /// Status name without prefix (`OPEN`).
    Status,
    /// Priority name (`URGENT`).
    Priority,
    /// Type name (`COMPLAINT`).
    Type,
    /// Channel name (`EMAIL`).
    Channel,
    /// `groups/{group}`.
    Group,
    /// `agents/{agent}`.
    Assignee,
    /// Category path.
    Category,
    /// `organizations/{organization}`.
    Organization,
    /// The requester's tier name (`VIP`).
    RequesterTier,
    /// The requester's locale (`zh-CN`); IS `zh` also takes `zh-CN`, `zh-TW`.
    RequesterLocale,
    /// The ticket's tags.
    Tags,
    /// A custom field's value.
    CustomField(String),
    /// Subject, description and the event's comment.
    Text,
    /// Who made the change: `requester`, `agent`, `automation`, `integration`.
    Actor,
}

const CUSTOM_PREFIX: &str = "custom_fields.";

impl Field {
    /// The field a contract path names, if any.
    pub fn parse(path: &str) -> Option<Self> {
        Some(match path {
            "status" => Self::Status,
            "priority" => Self::Priority,
            "type" => Self::Type,
            "channel" => Self::Channel,
            "group" => Self::Group,
            "assignee" => Self::Assignee,
            "category" => Self::Category,
            "organization" => Self::Organization,
            "requester.tier" => Self::RequesterTier,
            "requester.locale" => Self::RequesterLocale,
            "tags" => Self::Tags,
            "text" => Self::Text,
            "actor" => Self::Actor,
            other => {
                let key = other.strip_prefix(CUSTOM_PREFIX)?;
                if key.is_empty() || key.len() > 64 {
                    return None;
                }
                Self::CustomField(key.to_owned())
            }
        })
    }

    /// Its contract path.
    pub fn path(&self) -> String {
        match self {
            Self::Status => "status".to_owned(),
            Self::Priority => "priority".to_owned(),
            Self::Type => "type".to_owned(),
            Self::Channel => "channel".to_owned(),
            Self::Group => "group".to_owned(),
            Self::Assignee => "assignee".to_owned(),
            Self::Category => "category".to_owned(),
            Self::Organization => "organization".to_owned(),
            Self::RequesterTier => "requester.tier".to_owned(),
            Self::RequesterLocale => "requester.locale".to_owned(),
            Self::Tags => "tags".to_owned(),
            Self::Text => "text".to_owned(),
            Self::Actor => "actor".to_owned(),
            Self::CustomField(key) => format!("{CUSTOM_PREFIX}{key}"),
        }
    }

    /// The operators it takes.
    pub fn operators(&self) -> &'static [Operator] {
        use Operator::{
            Absent, Changed, Contains, Includes, Is, IsNot, NotContains, NotIncludes, Present,
        };
        match self {
            Self::Status | Self::Priority => &[Is, IsNot, Changed],
            Self::Type | Self::Channel | Self::RequesterTier | Self::Actor => &[Is, IsNot],
            Self::Group | Self::Assignee | Self::CustomField(_) => {
                &[Is, IsNot, Present, Absent, Changed]
            }
            Self::Category | Self::Organization | Self::RequesterLocale => {
                &[Is, IsNot, Present, Absent]
            }
            Self::Tags => &[Includes, NotIncludes],
            Self::Text => &[Contains, NotContains],
        }
    }

    /// The values it can take, when it is an enumeration.
    pub fn allowed_values(&self) -> Option<&'static [&'static str]> {
        Some(match self {
            Self::Status => &["NEW", "OPEN", "PENDING", "ON_HOLD", "SOLVED", "CLOSED"],
            Self::Priority => &["LOW", "NORMAL", "HIGH", "URGENT"],
            Self::Type => &[
                "QUESTION",
                "INCIDENT",
                "PROBLEM",
                "TASK",
                "COMPLAINT",
                "AFTER_SALES",
            ],
            Self::Channel => &[
                "EMAIL",
                "WEB",
                "PHONE",
                "CHAT",
                "SOCIAL",
                "API",
                "IN_PERSON",
            ],
            Self::RequesterTier => &["STANDARD", "SILVER", "GOLD", "VIP"],
            Self::Actor => &["requester", "agent", "automation", "integration"],
            _ => return None,
        })
    }

    /// The collection a resource-name value must be in (`groups` for `groups/{group}`).
    pub fn collection(&self) -> Option<&'static str> {
        match self {
            Self::Group => Some("groups"),
            Self::Assignee => Some("agents"),
            Self::Organization => Some("organizations"),
            _ => None,
        }
    }
}

impl TryFrom<String> for Field {
    type Error = String;

    fn try_from(path: String) -> Result<Self, String> {
        Self::parse(&path).ok_or_else(|| format!("unknown field `{path}`"))
    }
}

impl From<Field> for String {
    fn from(field: Field) -> Self {
        field.path()
    }
}

/// How a condition compares (numbers are the contract's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    /// Equals.
    Is,
    /// Differs.
    IsNot,
    /// Has a value.
    Present,
    /// Has none.
    Absent,
    /// The list holds the value.
    Includes,
    /// The list does not hold it.
    NotIncludes,
    /// The text holds every word.
    Contains,
    /// The text lacks a word.
    NotContains,
    /// The event changed the field.
    Changed,
}

impl Operator {
    const ALL: [Self; 9] = [
        Self::Is,
        Self::IsNot,
        Self::Present,
        Self::Absent,
        Self::Includes,
        Self::NotIncludes,
        Self::Contains,
        Self::NotContains,
        Self::Changed,
    ];

    /// The contract's enum number.
    pub fn number(self) -> i32 {
        match self {
            Self::Is => 1,
            Self::IsNot => 2,
            Self::Present => 3,
            Self::Absent => 4,
            Self::Includes => 5,
            Self::NotIncludes => 6,
            Self::Contains => 7,
            Self::NotContains => 8,
            Self::Changed => 9,
        }
    }

    /// The operator with the contract's enum number.
    pub fn from_number(number: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.number() == number)
    }

    /// Whether it compares with a value (PRESENT and ABSENT do not; CHANGED may).
    pub fn needs_value(self) -> bool {
        !matches!(self, Self::Present | Self::Absent | Self::Changed)
    }
}

/// One test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// What it tests.
    pub field: Field,
    /// How.
    pub operator: Operator,
    /// Against what ("" for PRESENT, ABSENT and a bare CHANGED).
    pub value: String,
}

/// A ticket field an action sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SetTarget {
    /// Through UpdateTicket.
    Priority,
    /// Through UpdateTicket.
    Type,
    /// Through UpdateTicket.
    Category,
    /// Through UpdateTicket (the field's key).
    CustomField(String),
    /// Through AssignTicket.
    Group,
    /// Through AssignTicket.
    Assignee,
    /// Through SetTicketPending, SetTicketOnHold or SolveTicket.
    Status,
}

impl SetTarget {
    /// The target a contract path names, if an action may set it.
    pub fn parse(path: &str) -> Option<Self> {
        Some(match Field::parse(path)? {
            Field::Priority => Self::Priority,
            Field::Type => Self::Type,
            Field::Category => Self::Category,
            Field::CustomField(key) => Self::CustomField(key),
            Field::Group => Self::Group,
            Field::Assignee => Self::Assignee,
            Field::Status => Self::Status,
            _ => return None,
        })
    }

    /// The field it sets, as conditions name it.
    pub fn field(&self) -> Field {
        match self {
            Self::Priority => Field::Priority,
            Self::Type => Field::Type,
            Self::Category => Field::Category,
            Self::CustomField(key) => Field::CustomField(key.clone()),
            Self::Group => Field::Group,
            Self::Assignee => Field::Assignee,
            Self::Status => Field::Status,
        }
    }

    /// The values it may be set to, when it is an enumeration.
    pub fn allowed_values(&self) -> Option<&'static [&'static str]> {
        match self {
            Self::Status => Some(&["PENDING", "ON_HOLD", "SOLVED"]),
            other => other.field().allowed_values(),
        }
    }
}

impl TryFrom<String> for SetTarget {
    type Error = String;

    fn try_from(path: String) -> Result<Self, String> {
        Self::parse(&path).ok_or_else(|| format!("`{path}` cannot be set by an action"))
    }
}

impl From<SetTarget> for String {
    fn from(target: SetTarget) -> Self {
        target.field().path()
    }
}

/// One thing a trigger does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Sets a field.
    SetField {
        /// Which.
        target: SetTarget,
        /// To what.
        value: String,
    },
    /// Adds tags.
    AddTags(Vec<String>),
    /// Removes tags.
    RemoveTags(Vec<String>),
    /// Adds a comment; `body` is a template in a trigger, rendered text in a firing.
    Reply {
        /// The text.
        body: String,
        /// Public reply (true) or internal note.
        public: bool,
    },
    /// Opens a follow-up ticket; `subject` and `description` are templates in a rule, rendered
    /// text in a firing.
    FollowUp {
        /// The follow-up's subject.
        subject: String,
        /// Its description.
        description: String,
        /// `groups/{group}`, or "" for the tickets service's routing.
        group: String,
        /// Its tags.
        tags: Vec<String>,
    },
    /// Changes the requester's customer record.
    UpdateRequester(RequesterChange),
    /// Applies the shared macro with this id (replaced by its actions when the rule matches).
    ApplyMacro(String),
}

impl Action {
    /// Whether it changes fields UpdateTicket sets (so consecutive ones go as one change).
    pub fn updates_fields(&self) -> bool {
        match self {
            Self::AddTags(_) | Self::RemoveTags(_) => true,
            Self::SetField { target, .. } => matches!(
                target,
                SetTarget::Priority
                    | SetTarget::Type
                    | SetTarget::Category
                    | SetTarget::CustomField(_)
            ),
            Self::Reply { .. }
            | Self::FollowUp { .. }
            | Self::UpdateRequester(_)
            | Self::ApplyMacro(_) => false,
        }
    }
}

/// The steps a firing's actions are applied in, as `(first index, end index)`: each run of
/// field changes is one step (one UpdateTicket, one event for other triggers), any other action
/// is a step of its own.
pub fn steps(actions: &[Action]) -> Vec<(usize, usize)> {
    let mut steps = Vec::new();
    let mut start = 0;
    while start < actions.len() {
        let mut end = start + 1;
        if actions[start].updates_fields() {
            while end < actions.len() && actions[end].updates_fields() {
                end += 1;
            }
        }
        steps.push((start, end));
        start = end;
    }
    steps
}

/// The two kinds of rule: triggers react to events, automations to time passing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// `triggers/{trigger}`.
    Trigger,
    /// `automations/{automation}`.
    Automation,
}

impl RuleKind {
    /// The collection its resource names are in.
    pub fn collection(self) -> &'static str {
        match self {
            Self::Trigger => "triggers",
            Self::Automation => "automations",
        }
    }

    /// The number stored for it.
    pub fn number(self) -> i32 {
        match self {
            Self::Trigger => 0,
            Self::Automation => 1,
        }
    }

    /// The kind stored as `number`.
    pub fn from_number(number: i32) -> Option<Self> {
        [Self::Trigger, Self::Automation]
            .into_iter()
            .find(|k| k.number() == number)
    }

    /// The resource name of rule `id` of this kind.
    pub fn name(self, id: &str) -> String {
        format!("{}/{id}", self.collection())
    }
}

/// A stored rule: a trigger (its `events`), or a time-based automation (its `schedule`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRecord {
    /// Its id.
    pub id: String,
    /// 1 to 200 characters.
    pub display_name: String,
    /// Up to 2000 characters.
    pub description: String,
    /// Only active triggers fire.
    pub active: bool,
    /// Evaluation order.
    pub position: i32,
    /// What it reacts to (a trigger; empty for an automation).
    pub events: Vec<EventKind>,
    /// When it comes due (an automation; None for a trigger).
    pub schedule: Option<Schedule>,
    /// Must all hold.
    pub all_conditions: Vec<Condition>,
    /// One must hold, when any.
    pub any_conditions: Vec<Condition>,
    /// What it does.
    pub actions: Vec<Action>,
    /// Stops the triggers after it.
    pub stop_processing: bool,
    /// When created (it fires on events committed after).
    pub create_time: i64,
    /// When last changed.
    pub update_time: i64,
    /// Bumped by every change.
    pub version: i64,
}

impl TriggerRecord {
    /// Which kind of rule it is.
    pub fn kind(&self) -> RuleKind {
        if self.schedule.is_some() {
            RuleKind::Automation
        } else {
            RuleKind::Trigger
        }
    }

    /// Its resource name.
    pub fn name(&self) -> String {
        self.kind().name(&self.id)
    }
}

/// The principal id rule `id` of `kind` acts as, so the ticket's audit names the rule.
pub fn principal_of_rule(kind: RuleKind, id: &str) -> String {
    format!("{PRINCIPAL_PREFIX}{}", kind.name(id))
}

/// Prefix of the principal ids rules act as.
pub const PRINCIPAL_PREFIX: &str = "automation:";

/// The rule whose change an event records (its bare id), from the event's actor.
pub fn trigger_of_actor(actor: &str) -> Option<&str> {
    let name = actor.strip_prefix(PRINCIPAL_PREFIX)?;
    name.strip_prefix("triggers/")
        .or_else(|| name.strip_prefix("automations/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_round_trip_and_unknown_ones_are_refused() {
        for path in ["status", "requester.tier", "custom_fields.order_no", "text"] {
            assert_eq!(Field::parse(path).map(|f| f.path()).as_deref(), Some(path));
        }
        assert_eq!(Field::parse("colour"), None);
        assert_eq!(Field::parse("custom_fields."), None);
        assert_eq!(
            SetTarget::parse("tags"),
            None,
            "tags change through add/remove"
        );
        assert_eq!(SetTarget::parse("status"), Some(SetTarget::Status));
        let json = serde_json::to_string(&Field::CustomField("a".into())).unwrap_or_default();
        assert_eq!(json, "\"custom_fields.a\"");
    }

    #[test]
    fn runs_of_field_changes_are_one_step() {
        let tag = Action::AddTags(vec!["a".into()]);
        let reply = Action::Reply {
            body: "b".into(),
            public: true,
        };
        let group = Action::SetField {
            target: SetTarget::Group,
            value: "groups/g".into(),
        };
        let actions = [tag.clone(), tag.clone(), reply, tag.clone(), group, tag];
        assert_eq!(
            steps(&actions),
            vec![(0, 2), (2, 3), (3, 4), (4, 5), (5, 6)]
        );
        assert!(steps(&[]).is_empty());
    }

    #[test]
    fn rule_principals_name_the_rule() {
        let trigger = principal_of_rule(RuleKind::Trigger, "t1");
        assert_eq!(trigger, "automation:triggers/t1");
        assert_eq!(trigger_of_actor(&trigger), Some("t1"));
        let automation = principal_of_rule(RuleKind::Automation, "a1");
        assert_eq!(trigger_of_actor(&automation), Some("a1"));
        assert_eq!(trigger_of_actor("automation"), None);
        assert_eq!(trigger_of_actor("agent-1"), None);
    }
}
