//! Firings: what a trigger plans when it matches an event, how deep a chain of automated changes
//! may go, and how long a firing waits before its next attempt.

use super::evaluate::TicketFacts;
use super::template;
use super::trigger::{Action, EventKind, RequesterChange, RuleKind, TriggerRecord};

/// The deepest chain of automated changes that still fires triggers: a trigger reacting to a
/// change made by a trigger reacting to … five times over is skipped.
pub const MAX_DEPTH: i32 = 5;
/// The first retry waits this long; each further one doubles it, up to [`MAX_RETRY_MICROS`].
const FIRST_RETRY_MICROS: i64 = 1_000_000;
/// The longest wait between attempts (five minutes).
const MAX_RETRY_MICROS: i64 = 300_000_000;

/// Where a firing is (numbers are the contract's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FiringState {
    /// Actions still to apply.
    Pending,
    /// Every action applied.
    Applied,
    /// An action was refused.
    Failed,
    /// Not applied: the depth limit.
    Skipped,
}

impl FiringState {
    /// The contract's enum number.
    pub fn number(self) -> i32 {
        match self {
            Self::Pending => 1,
            Self::Applied => 2,
            Self::Failed => 3,
            Self::Skipped => 4,
        }
    }

    /// The state with the contract's enum number.
    pub fn from_number(number: i32) -> Option<Self> {
        [Self::Pending, Self::Applied, Self::Failed, Self::Skipped]
            .into_iter()
            .find(|s| s.number() == number)
    }
}

/// A trigger's match on one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiringRecord {
    /// Its id, also the stem of the request ids its actions are sent with.
    pub id: String,
    /// The rule's kind.
    pub rule: RuleKind,
    /// The rule.
    pub trigger_id: String,
    /// The rule's display name when it fired.
    pub trigger_name: String,
    /// The bare ticket id.
    pub ticket_id: String,
    /// `tickets:{cursor}` for a trigger, `tickets/{ticket}@{anchor}#{entry}` for an automation.
    pub source: String,
    /// The event kind a trigger fired on (None for an automation).
    pub event: Option<EventKind>,
    /// Its order among the firings of the same event.
    pub rank: i32,
    /// Where it is.
    pub state: FiringState,
    /// What it applies once done: APPLIED, or SKIPPED for a depth-limit note.
    pub final_state: FiringState,
    /// The planned actions, templates rendered.
    pub actions: Vec<Action>,
    /// How many are applied.
    pub applied_actions: i32,
    /// Automated changes that led to it.
    pub depth: i32,
    /// The last error.
    pub error: String,
    /// Attempts made.
    pub attempts: i32,
    /// When next to try.
    pub next_attempt_time: i64,
    /// When it matched.
    pub create_time: i64,
    /// When it last changed.
    pub update_time: i64,
}

impl FiringRecord {
    /// Its resource name, under its rule.
    pub fn name(&self) -> String {
        format!("{}/firings/{}", self.rule.name(&self.trigger_id), self.id)
    }
}

/// The request id of action `index` of firing `firing_id` (at most 100 characters of the
/// tickets service's request-id alphabet: a UUID, dashes and digits).
pub fn request_id(firing_id: &str, index: usize) -> String {
    format!("automation-{firing_id}-{index}")
}

/// What `trigger` plans for `ticket` at `depth`: its actions with templates rendered, or, past
/// the depth limit, one internal note saying the chain stopped there. A template that cannot
/// render (too long, out of fuel) plans nothing and fails the firing with the reason.
pub fn plan(
    trigger: &TriggerRecord,
    ticket: &TicketFacts,
    depth: i32,
) -> (Vec<Action>, FiringState, Result<(), String>) {
    if depth >= MAX_DEPTH {
        let note = format!(
            "Automation stopped: rule \"{}\" ({}) would have acted on a change made by \
             automation {depth} levels deep; the loop limit is {MAX_DEPTH}.",
            trigger.display_name,
            trigger.name()
        );
        let actions = vec![Action::Reply {
            body: note,
            public: false,
        }];
        return (actions, FiringState::Skipped, Ok(()));
    }
    match render_actions(&trigger.actions, ticket, &trigger.display_name) {
        Ok(actions) => (actions, FiringState::Applied, Ok(())),
        Err(why) => (Vec::new(), FiringState::Applied, Err(why)),
    }
}

/// The longest subject the tickets service takes.
const MAX_SUBJECT_CHARS: usize = 250;

/// `subject` cut to what the tickets service takes, marked with an ellipsis where cut: a
/// placeholder (a long subject quoted in a return visit) must not make the follow-up fail.
fn cut_subject(subject: &str) -> String {
    if subject.chars().count() <= MAX_SUBJECT_CHARS {
        return subject.to_owned();
    }
    let mut cut: String = subject.chars().take(MAX_SUBJECT_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// `actions` with their reply templates rendered for `ticket` as rule or macro `name`, or why
/// one cannot render (too long, out of fuel).
pub fn render_actions(
    actions: &[Action],
    ticket: &TicketFacts,
    name: &str,
) -> Result<Vec<Action>, String> {
    actions
        .iter()
        .map(|action| match action {
            Action::Reply { body, public } => template::render(body, ticket, name)
                .map(|text| Action::Reply {
                    body: text,
                    public: *public,
                })
                .map_err(|why| format!("reply {why}")),
            Action::FollowUp {
                subject,
                description,
                group,
                tags,
            } => Ok(Action::FollowUp {
                subject: template::render(subject, ticket, name)
                    .map(|text| cut_subject(&text))
                    .map_err(|why| format!("follow-up subject {why}"))?,
                description: template::render(description, ticket, name)
                    .map_err(|why| format!("follow-up description {why}"))?,
                group: group.clone(),
                tags: tags.clone(),
            }),
            Action::UpdateRequester(change) => Ok(Action::UpdateRequester(RequesterChange {
                customer: ticket.requester.clone(),
                ..change.clone()
            })),
            other => Ok(other.clone()),
        })
        .collect()
}

/// How long to wait after `attempts` failed attempts.
pub fn retry_delay_micros(attempts: i32) -> i64 {
    let doublings = u32::try_from(attempts.clamp(0, 20)).unwrap_or(0);
    FIRST_RETRY_MICROS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_RETRY_MICROS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger() -> TriggerRecord {
        TriggerRecord {
            id: "t1".into(),
            display_name: "Acknowledge".into(),
            description: String::new(),
            active: true,
            position: 0,
            events: vec![EventKind::TicketCreated],
            all_conditions: vec![],
            any_conditions: vec![],
            actions: vec![
                Action::Reply {
                    body: "Ticket {{ ticket.id }} received".into(),
                    public: true,
                },
                Action::AddTags(vec!["acked".into()]),
            ],
            stop_processing: false,
            schedule: None,
            create_time: 0,
            update_time: 0,
            version: 1,
        }
    }

    #[test]
    fn plans_render_templates_and_the_depth_limit_plans_only_a_note() {
        let ticket = TicketFacts {
            id: "42".into(),
            ..Default::default()
        };
        let (actions, done, result) = plan(&trigger(), &ticket, 0);
        assert_eq!(result, Ok(()));
        assert_eq!(done, FiringState::Applied);
        assert_eq!(
            actions[0],
            Action::Reply {
                body: "Ticket 42 received".into(),
                public: true
            }
        );
        let (actions, done, _) = plan(&trigger(), &ticket, MAX_DEPTH);
        assert_eq!(done, FiringState::Skipped);
        assert!(
            matches!(&actions[..], [Action::Reply { public: false, body }] if body.contains("loop limit"))
        );
    }

    #[test]
    fn follow_ups_render_their_subject_cut_to_what_tickets_take() {
        let ticket = TicketFacts {
            id: "42".into(),
            subject: "快递".repeat(200),
            ..Default::default()
        };
        let actions = [Action::FollowUp {
            subject: "回访：{{ ticket.subject }}".into(),
            description: "Ticket {{ ticket.id }}".into(),
            group: String::new(),
            tags: vec!["return-visit".into()],
        }];
        let rendered = render_actions(&actions, &ticket, "automations/r");
        let Ok(
            [
                Action::FollowUp {
                    subject,
                    description,
                    ..
                },
            ],
        ) = rendered.as_deref()
        else {
            panic!("{rendered:?}");
        };
        assert_eq!(subject.chars().count(), MAX_SUBJECT_CHARS);
        assert!(subject.starts_with("回访：快递") && subject.ends_with('…'));
        assert_eq!(description, "Ticket 42");
    }

    #[test]
    fn retries_back_off_to_a_cap_and_request_ids_fit() {
        assert_eq!(retry_delay_micros(0), 1_000_000);
        assert_eq!(retry_delay_micros(3), 8_000_000);
        assert_eq!(retry_delay_micros(40), MAX_RETRY_MICROS);
        let id = request_id("0193f4a8-7c1e-7000-8000-000000000000", 19);
        assert!(id.len() <= 100 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
