//! Whether a trigger holds for a ticket event, and in what order triggers are tried.

use std::collections::BTreeMap;

use super::trigger::{Condition, EventKind, Field, Operator, TriggerRecord};

/// Who made the change an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// The ticket's requester.
    Requester,
    /// An agent or admin.
    Agent,
    /// A trigger or the automation service.
    Automation,
    /// Any other system.
    Integration,
}

impl ActorKind {
    /// Its name in conditions.
    pub fn name(self) -> &'static str {
        match self {
            Self::Requester => "requester",
            Self::Agent => "agent",
            Self::Automation => "automation",
            Self::Integration => "integration",
        }
    }
}

/// The ticket as the evaluator sees it (enum values by name, without prefix).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFacts {
    /// The bare ticket id.
    pub id: String,
    /// Subject.
    pub subject: String,
    /// Description.
    pub description: String,
    /// `OPEN`.
    pub status: String,
    /// `URGENT`.
    pub priority: String,
    /// `COMPLAINT`.
    pub ticket_type: String,
    /// `EMAIL`.
    pub channel: String,
    /// `groups/{group}` or "".
    pub group: String,
    /// `agents/{agent}` or "".
    pub assignee: String,
    /// Category path or "".
    pub category: String,
    /// `organizations/{organization}` or "".
    pub organization: String,
    /// The bare customer id of the requester.
    pub requester: String,
    /// The requester's display name.
    pub requester_name: String,
    /// `VIP`.
    pub requester_tier: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Custom field values by key.
    pub custom_fields: BTreeMap<String, String>,
    /// The earliest SLA due time not yet achieved, microseconds.
    pub sla_due_time: Option<i64>,
    /// When the first response is due, while it is not given, microseconds.
    pub first_response_due: Option<i64>,
    /// The requester's BCP 47 locale (`zh-CN`), "" when unknown.
    pub requester_locale: String,
    /// The requester's IANA time zone (`Asia/Shanghai`), "" when unknown.
    pub requester_time_zone: String,
}

/// The event as the evaluator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFacts {
    /// What happened.
    pub kinds: Vec<EventKind>,
    /// Contract paths of the fields the event changed (`status`, `assignee`, `custom_fields.x`).
    pub changed: Vec<String>,
    /// Who made it.
    pub actor: ActorKind,
    /// For comment events: the comment's text.
    pub comment: String,
    /// When it committed, microseconds.
    pub time: i64,
}

/// A condition's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionOutcome {
    /// The condition.
    pub condition: Condition,
    /// From the all-of list.
    pub all: bool,
    /// Whether it holds.
    pub holds: bool,
}

/// What evaluating one trigger found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The event is one the trigger reacts to.
    pub event_matches: bool,
    /// Each condition's outcome, all-of first.
    pub conditions: Vec<ConditionOutcome>,
}

impl Evaluation {
    /// Whether the trigger fires: its event, every all-of condition, one any-of (if any).
    pub fn fires(&self) -> bool {
        let all = self.conditions.iter().filter(|c| c.all).all(|c| c.holds);
        let mut any = self.conditions.iter().filter(|c| !c.all).peekable();
        let any_holds = any.peek().is_none() || any.any(|c| c.holds);
        self.event_matches && all && any_holds
    }
}

/// Evaluates `trigger` for `event` on `ticket`.
pub fn evaluate(trigger: &TriggerRecord, ticket: &TicketFacts, event: &EventFacts) -> Evaluation {
    Evaluation {
        event_matches: trigger.events.iter().any(|k| event.kinds.contains(k)),
        conditions: outcomes(trigger, ticket, event),
    }
}

/// Evaluates an automation's conditions on `ticket` at `now` (its time condition is the
/// caller's: see [`super::schedule::decide`]).
pub fn evaluate_at(rule: &TriggerRecord, ticket: &TicketFacts, now: i64) -> Evaluation {
    let event = EventFacts {
        kinds: Vec::new(),
        changed: Vec::new(),
        actor: ActorKind::Automation,
        comment: String::new(),
        time: now,
    };
    Evaluation {
        event_matches: true,
        conditions: outcomes(rule, ticket, &event),
    }
}

fn outcomes(
    rule: &TriggerRecord,
    ticket: &TicketFacts,
    event: &EventFacts,
) -> Vec<ConditionOutcome> {
    let outcome = |condition: &Condition, all: bool| ConditionOutcome {
        condition: condition.clone(),
        all,
        holds: holds(condition, ticket, event),
    };
    rule.all_conditions
        .iter()
        .map(|c| outcome(c, true))
        .chain(rule.any_conditions.iter().map(|c| outcome(c, false)))
        .collect()
}

/// The triggers that fire for an event, in evaluation order, up to and including the first that
/// stops processing. `eligible` says which may fire at all (active, created before the event,
/// not the one whose change this event records).
pub fn firing_triggers<'a>(
    triggers: &'a [TriggerRecord],
    ticket: &TicketFacts,
    event: &EventFacts,
    eligible: impl Fn(&TriggerRecord) -> bool,
) -> Vec<&'a TriggerRecord> {
    let mut ordered: Vec<&TriggerRecord> = triggers.iter().filter(|t| eligible(t)).collect();
    ordered.sort_by(|a, b| (a.position, &a.id).cmp(&(b.position, &b.id)));
    let mut fired = Vec::new();
    for trigger in ordered {
        if evaluate(trigger, ticket, event).fires() {
            fired.push(trigger);
            if trigger.stop_processing {
                break;
            }
        }
    }
    fired
}

/// Whether a trigger may fire for an event at `event_time` caused by trigger `cause` (if any).
pub fn eligible(trigger: &TriggerRecord, event_time: i64, cause: Option<&str>) -> bool {
    trigger.active && trigger.create_time <= event_time && cause != Some(trigger.id.as_str())
}

fn holds(condition: &Condition, ticket: &TicketFacts, event: &EventFacts) -> bool {
    let value = condition.value.as_str();
    match (&condition.field, condition.operator) {
        (Field::Tags, Operator::Includes) => ticket.tags.iter().any(|t| t == value),
        (Field::Tags, Operator::NotIncludes) => !ticket.tags.iter().any(|t| t == value),
        (Field::Text, Operator::Contains) => contains_words(ticket, event, value),
        (Field::Text, Operator::NotContains) => !contains_words(ticket, event, value),
        (field, Operator::Changed) => {
            let path = field.path();
            event.changed.contains(&path)
                && (value.is_empty() || scalar(field, ticket, event) == value)
        }
        (Field::RequesterLocale, Operator::Is) => same_language(&ticket.requester_locale, value),
        (Field::RequesterLocale, Operator::IsNot) => {
            !same_language(&ticket.requester_locale, value)
        }
        (field, Operator::Is) => scalar(field, ticket, event) == value,
        (field, Operator::IsNot) => scalar(field, ticket, event) != value,
        (field, Operator::Present) => !scalar(field, ticket, event).is_empty(),
        (field, Operator::Absent) => scalar(field, ticket, event).is_empty(),
        // Validation pairs each field with its operators; any other pair never holds.
        _ => false,
    }
}

/// Whether `locale` is `wanted` or one of its regional forms (`zh` takes `zh-CN` and `zh-TW`;
/// `zh-CN` only `zh-CN`), ignoring case and `_` for `-`.
fn same_language(locale: &str, wanted: &str) -> bool {
    let normal = |s: &str| s.trim().replace('_', "-").to_ascii_lowercase();
    let (locale, wanted) = (normal(locale), normal(wanted));
    !wanted.is_empty()
        && (locale == wanted
            || locale
                .strip_prefix(&wanted)
                .is_some_and(|rest| rest.starts_with('-')))
}

fn scalar<'a>(field: &Field, ticket: &'a TicketFacts, event: &EventFacts) -> &'a str {
    match field {
        Field::Status => &ticket.status,
        Field::Priority => &ticket.priority,
        Field::Type => &ticket.ticket_type,
        Field::Channel => &ticket.channel,
        Field::Group => &ticket.group,
        Field::Assignee => &ticket.assignee,
        Field::Category => &ticket.category,
        Field::Organization => &ticket.organization,
        Field::RequesterTier => &ticket.requester_tier,
        Field::RequesterLocale => &ticket.requester_locale,
        Field::CustomField(key) => ticket.custom_fields.get(key).map_or("", String::as_str),
        Field::Actor => event.actor.name(),
        Field::Tags | Field::Text => "",
    }
}

/// Whether every word of `words` occurs in the ticket's subject, description or the event's
/// comment, tokenised as the search tokenises (English stems, Chinese words).
fn contains_words(ticket: &TicketFacts, event: &EventFacts, words: &str) -> bool {
    let wanted = kefu_text::query_terms(words);
    if wanted.is_empty() {
        return false;
    }
    let text = format!(
        "{}\n{}\n{}",
        ticket.subject, ticket.description, event.comment
    );
    let present: std::collections::HashSet<String> = kefu_text::tokenize(&text)
        .into_iter()
        .map(|t| t.term)
        .collect();
    wanted.iter().all(|w| present.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::trigger::Action;

    fn trigger(id: &str, position: i32, all: Vec<Condition>, any: Vec<Condition>) -> TriggerRecord {
        TriggerRecord {
            id: id.to_owned(),
            display_name: id.to_owned(),
            description: String::new(),
            active: true,
            position,
            events: vec![EventKind::TicketCreated],
            all_conditions: all,
            any_conditions: any,
            actions: vec![Action::AddTags(vec!["x".into()])],
            stop_processing: false,
            schedule: None,
            create_time: 10,
            update_time: 10,
            version: 1,
        }
    }

    fn condition(field: Field, operator: Operator, value: &str) -> Condition {
        Condition {
            field,
            operator,
            value: value.to_owned(),
        }
    }

    fn ticket() -> TicketFacts {
        TicketFacts {
            id: "t1".into(),
            subject: "我要申请退款".into(),
            description: "The parcel arrived damaged".into(),
            status: "NEW".into(),
            priority: "NORMAL".into(),
            requester_tier: "VIP".into(),
            tags: vec!["vip".into()],
            ..Default::default()
        }
    }

    fn created() -> EventFacts {
        EventFacts {
            kinds: vec![EventKind::TicketCreated],
            changed: Vec::new(),
            actor: ActorKind::Requester,
            comment: String::new(),
            time: 20,
        }
    }

    #[test]
    fn all_and_any_conditions_combine() {
        let vip = condition(Field::RequesterTier, Operator::Is, "VIP");
        let urgent = condition(Field::Priority, Operator::Is, "URGENT");
        let refund = condition(Field::Text, Operator::Contains, "退款");
        let t = trigger("a", 0, vec![vip.clone()], vec![urgent.clone(), refund]);
        assert!(evaluate(&t, &ticket(), &created()).fires());
        let t = trigger("b", 0, vec![vip], vec![urgent]);
        let outcome = evaluate(&t, &ticket(), &created());
        assert!(!outcome.fires());
        assert_eq!(
            outcome
                .conditions
                .iter()
                .map(|c| c.holds)
                .collect::<Vec<_>>(),
            vec![true, false]
        );
    }

    #[test]
    fn text_matches_words_in_english_and_chinese() {
        let mut event = created();
        let text = |value: &str| condition(Field::Text, Operator::Contains, value);
        let damaged = trigger("a", 0, vec![text("damage parcels")], vec![]);
        assert!(evaluate(&damaged, &ticket(), &event).fires(), "stems match");
        let missing = trigger("b", 0, vec![text("damaged invoice")], vec![]);
        assert!(
            !evaluate(&missing, &ticket(), &event).fires(),
            "every word needed"
        );
        event.comment = "发票在哪里".into();
        let invoice = trigger("c", 0, vec![text("发票")], vec![]);
        assert!(
            evaluate(&invoice, &ticket(), &event).fires(),
            "the comment counts"
        );
    }

    #[test]
    fn changed_needs_the_event_to_change_the_field() {
        let mut event = created();
        event.kinds = vec![EventKind::TicketUpdated];
        let mut t = trigger(
            "a",
            0,
            vec![condition(Field::Priority, Operator::Changed, "")],
            vec![],
        );
        t.events = vec![EventKind::TicketUpdated];
        assert!(!evaluate(&t, &ticket(), &event).fires());
        event.changed = vec!["priority".into()];
        assert!(evaluate(&t, &ticket(), &event).fires());
        t.all_conditions[0].value = "URGENT".into();
        assert!(
            !evaluate(&t, &ticket(), &event).fires(),
            "changed, but not to URGENT"
        );
    }

    #[test]
    fn order_is_by_position_and_stop_processing_ends_it() {
        let mut first = trigger("z", 1, vec![], vec![]);
        first.stop_processing = true;
        let earlier = trigger("y", 0, vec![], vec![]);
        let later = trigger("a", 2, vec![], vec![]);
        let all = [later, first, earlier];
        let fired = firing_triggers(&all, &ticket(), &created(), |_| true);
        assert_eq!(
            fired.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
            ["y", "z"]
        );
    }

    #[test]
    fn a_trigger_never_fires_on_its_own_change_nor_on_older_events() {
        let t = trigger("a", 0, vec![], vec![]);
        assert!(eligible(&t, 20, None));
        assert!(eligible(&t, 20, Some("b")));
        assert!(!eligible(&t, 20, Some("a")));
        assert!(!eligible(&t, 5, None), "created after the event");
        let mut off = t.clone();
        off.active = false;
        assert!(!eligible(&off, 20, None));
    }
}
