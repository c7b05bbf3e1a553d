//! Time-based rules: a ticket's clock as the event stream shows it, when a rule's time comes for
//! it, and the once-per-entry decision that keeps a rule from firing again while its condition
//! keeps holding.

use serde::{Deserialize, Serialize};

use super::trigger::{Action, Field, Operator, TriggerRecord};

/// The longest a time condition may count, in hours (two years).
pub const MAX_HOURS: i32 = 17_520;
const MICROS_PER_HOUR: i64 = 3_600_000_000;

/// The moment a time condition counts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Since {
    /// The ticket's creation (until it is closed).
    Created,
    /// The ticket entering a status (while it stays in it), by name: `PENDING`.
    Status(String),
    /// The ticket's last solve (while it is solved or closed).
    Solved,
    /// The requester's last comment (until the ticket is closed).
    RequesterReply,
    /// The ticket's next SLA due time, counted down to (until it is closed).
    SlaDue,
}

impl Since {
    /// The contract's enum number.
    pub fn number(&self) -> i32 {
        match self {
            Self::Created => 1,
            Self::Status(_) => 2,
            Self::Solved => 3,
            Self::RequesterReply => 4,
            Self::SlaDue => 5,
        }
    }
}

/// "At least `hours` hours since `since`."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// What the hours count from.
    pub since: Since,
    /// How many, 1 to [`MAX_HOURS`].
    pub hours: i32,
}

/// The statuses a ticket may wait in (CLOSED is final: nothing is done to a closed ticket).
pub const WAITING_STATUSES: [&str; 5] = ["NEW", "OPEN", "PENDING", "ON_HOLD", "SOLVED"];

/// What the service knows of a ticket's time, from its events (microseconds; 0: never).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketClock {
    /// The bare ticket id.
    pub ticket_id: String,
    /// Status name after the last event.
    pub status: String,
    /// When it was created.
    pub create_time: i64,
    /// When it entered its status.
    pub status_time: i64,
    /// When it was last solved, while solved or closed.
    pub solve_time: i64,
    /// When its requester last commented.
    pub requester_reply_time: i64,
    /// When its next SLA target is due, as of its last event.
    pub sla_due_time: i64,
}

/// A ticket event as it moves the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockEvent {
    /// Created in `status`.
    Created {
        /// The status it starts in.
        status: String,
    },
    /// Entered `status`.
    StatusChanged {
        /// The new status.
        status: String,
    },
    /// The requester commented.
    RequesterCommented,
    /// Anything else (its facts may have changed; its time did not).
    Other,
}

impl TicketClock {
    /// The clock after `event` at `time`. A status event naming the status the ticket is
    /// already in (a redelivery) leaves the moment it entered it alone.
    pub fn after(mut self, event: &ClockEvent, time: i64) -> Self {
        match event {
            ClockEvent::Created { status } => {
                self.status.clone_from(status);
                self.create_time = time;
                self.status_time = time;
            }
            ClockEvent::StatusChanged { status } => {
                if *status != self.status {
                    if status == "SOLVED" {
                        self.solve_time = time;
                    } else if status != "CLOSED" {
                        self.solve_time = 0;
                    }
                    self.status.clone_from(status);
                    self.status_time = time;
                }
            }
            ClockEvent::RequesterCommented => self.requester_reply_time = time,
            ClockEvent::Other => {}
        }
        self
    }

    /// The clock with the SLA due time an event's facts show (0: none runs).
    pub fn with_sla_due(self, sla_due_time: i64) -> Self {
        Self {
            sla_due_time,
            ..self
        }
    }

    /// The moment `since` counts from (or, for [`Since::SlaDue`], down to) for this ticket,
    /// while it runs.
    pub fn anchor(&self, since: &Since) -> Option<i64> {
        let closed = self.status == "CLOSED";
        let moment = match since {
            Since::Created if !closed => self.create_time,
            Since::Status(status) if *status == self.status => self.status_time,
            Since::Solved if self.status == "SOLVED" || closed => self.solve_time,
            Since::RequesterReply if !closed => self.requester_reply_time,
            Since::SlaDue if !closed => self.sla_due_time,
            _ => 0,
        };
        (moment > 0).then_some(moment)
    }
}

impl Schedule {
    /// When the rule's time comes for the ticket, if its clock runs.
    pub fn due_time(&self, clock: &TicketClock) -> Option<i64> {
        let anchor = clock.anchor(&self.since)?;
        Some(anchor.saturating_add(self.offset()))
    }

    /// The span of anchors whose time came in `(from, to]`.
    pub fn anchors_due_between(&self, from: i64, to: i64) -> (i64, i64) {
        let offset = self.offset();
        (from.saturating_sub(offset), to.saturating_sub(offset))
    }

    /// How far the rule's time lies from its anchor: after it, or before an SLA due time.
    fn offset(&self) -> i64 {
        let span = i64::from(self.hours).saturating_mul(MICROS_PER_HOUR);
        match self.since {
            Since::SlaDue => -span,
            _ => span,
        }
    }
}

/// A rule's last entry on a ticket: the anchor it was for, whether the rule's conditions held at
/// the last check, and how many times they came to hold for that anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The moment the hours counted from.
    pub anchor: i64,
    /// The conditions held at the last check.
    pub holding: bool,
    /// Times they came to hold since `anchor` (each one a firing).
    pub entries: i32,
}

/// What a check does for one rule and ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing changes.
    Keep,
    /// The condition holds anew: fire, and record this entry.
    Fire(Entry),
    /// The condition stopped holding: record that, so the next time it holds it fires again.
    Release(Entry),
}

/// Whether a rule fires for a ticket now: `due` is when its time came (None: its clock does
/// not run), `holds` whether its other conditions hold, `since` when the rule was created
/// (thresholds crossed before it never fire), `last` its last entry on the ticket.
pub fn decide(
    last: Option<&Entry>,
    anchor: Option<i64>,
    due: Option<i64>,
    holds: bool,
    since: i64,
    now: i64,
) -> Decision {
    let time_holds = due.is_some_and(|due| due <= now && due >= since);
    let same_anchor = |entry: &&Entry| Some(entry.anchor) == anchor;
    match (last.filter(same_anchor), anchor) {
        (Some(entry), _) if entry.holding && !(holds && time_holds) => Decision::Release(Entry {
            holding: false,
            ..entry.clone()
        }),
        (Some(entry), Some(anchor)) if !entry.holding && holds && time_holds => {
            Decision::Fire(Entry {
                anchor,
                holding: true,
                entries: entry.entries + 1,
            })
        }
        (None, Some(anchor)) if holds && time_holds => Decision::Fire(Entry {
            anchor,
            holding: true,
            entries: 1,
        }),
        _ => Decision::Keep,
    }
}

/// The index of the first follow-up `rule` opens that the rule itself would act on again: one
/// whose tags no all-of `tags NOT_INCLUDES` condition excludes. Such a rule never stops (the
/// follow-up is solved, its own follow-up is opened, and so on).
pub fn refires_on_its_follow_ups(rule: &TriggerRecord) -> Option<usize> {
    let excluded: Vec<&str> = rule
        .all_conditions
        .iter()
        .filter(|c| c.field == Field::Tags && c.operator == Operator::NotIncludes)
        .map(|c| c.value.as_str())
        .collect();
    rule.actions.iter().position(|action| match action {
        Action::FollowUp { tags, .. } => !tags.iter().any(|t| excluded.contains(&t.as_str())),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = MICROS_PER_HOUR;

    fn pending_48() -> Schedule {
        Schedule {
            since: Since::Status("PENDING".into()),
            hours: 48,
        }
    }

    fn clock() -> TicketClock {
        TicketClock::default().after(
            &ClockEvent::Created {
                status: "NEW".into(),
            },
            HOUR,
        )
    }

    fn status(clock: TicketClock, status: &str, at: i64) -> TicketClock {
        clock.after(
            &ClockEvent::StatusChanged {
                status: status.into(),
            },
            at,
        )
    }

    #[test]
    fn the_clock_counts_from_entering_a_status_and_a_redelivery_does_not_restart_it() {
        let pending = status(clock(), "PENDING", 10 * HOUR);
        assert_eq!(pending_48().due_time(&pending), Some(58 * HOUR));
        let again = status(pending.clone(), "PENDING", 20 * HOUR);
        assert_eq!(again, pending);
        let open = status(pending, "OPEN", 30 * HOUR);
        assert_eq!(pending_48().due_time(&open), None);
        let back = status(open, "PENDING", 40 * HOUR);
        assert_eq!(pending_48().due_time(&back), Some(88 * HOUR));
    }

    #[test]
    fn solved_runs_through_closing_and_stops_on_reopening() {
        let solved = Schedule {
            since: Since::Solved,
            hours: 168,
        };
        let s = status(clock(), "SOLVED", 2 * HOUR);
        assert_eq!(solved.due_time(&s), Some(170 * HOUR));
        let closed = status(s.clone(), "CLOSED", 100 * HOUR);
        assert_eq!(solved.due_time(&closed), Some(170 * HOUR));
        let created = Schedule {
            since: Since::Created,
            hours: 1,
        };
        assert_eq!(created.due_time(&closed), None, "closed tickets are done");
        let reopened = status(s, "OPEN", 3 * HOUR);
        assert_eq!(solved.due_time(&reopened), None);
        assert_eq!(reopened.solve_time, 0);
    }

    #[test]
    fn sla_due_within_counts_down_to_the_due_time_and_a_new_due_time_is_a_new_anchor() {
        let within_2 = Schedule {
            since: Since::SlaDue,
            hours: 2,
        };
        let running = clock().with_sla_due(9 * HOUR);
        assert_eq!(within_2.due_time(&running), Some(7 * HOUR));
        // Checked over (6h, 8h]: the ticket due at 9h (warned at 7h) is in the span of anchors.
        let (low, high) = within_2.anchors_due_between(6 * HOUR, 8 * HOUR);
        assert!(low < 9 * HOUR && 9 * HOUR <= high, "({low}, {high}]");
        let met = running.clone().with_sla_due(30 * HOUR);
        assert_eq!(met.anchor(&Since::SlaDue), Some(30 * HOUR));
        assert_eq!(within_2.due_time(&running.clone().with_sla_due(0)), None);
        let closed = status(running, "CLOSED", 5 * HOUR);
        assert_eq!(within_2.due_time(&closed), None, "closed tickets are done");
    }

    #[test]
    fn a_rule_fires_once_per_entry_and_again_only_after_its_condition_stopped_holding() {
        let due = Some(50 * HOUR);
        let anchor = Some(2 * HOUR);
        let now = 60 * HOUR;
        let first = decide(None, anchor, due, true, 0, now);
        let Decision::Fire(entry) = first else {
            panic!("fires on entry: {first:?}")
        };
        assert_eq!(entry.entries, 1);
        assert_eq!(
            decide(Some(&entry), anchor, due, true, 0, now),
            Decision::Keep
        );
        let Decision::Release(released) = decide(Some(&entry), anchor, due, false, 0, now) else {
            panic!("a condition that stopped holding is released")
        };
        assert_eq!(
            decide(Some(&released), anchor, due, true, 0, now),
            Decision::Fire(Entry {
                anchor: 2 * HOUR,
                holding: true,
                entries: 2
            })
        );
        // A new anchor is a new entry, whatever the last one was.
        assert!(matches!(
            decide(Some(&entry), Some(9 * HOUR), Some(57 * HOUR), true, 0, now),
            Decision::Fire(Entry { entries: 1, .. })
        ));
        // Not yet due, or due before the rule existed: nothing.
        assert_eq!(
            decide(None, anchor, Some(70 * HOUR), true, 0, now),
            Decision::Keep
        );
        assert_eq!(
            decide(None, anchor, due, true, 55 * HOUR, now),
            Decision::Keep
        );
        assert_eq!(decide(None, None, None, true, 0, now), Decision::Keep);
    }

    #[test]
    fn the_anchors_due_in_a_window_are_the_window_moved_back_by_the_hours() {
        assert_eq!(
            pending_48().anchors_due_between(100 * HOUR, 101 * HOUR),
            (52 * HOUR, 53 * HOUR)
        );
    }

    #[test]
    fn a_follow_up_rule_must_exclude_its_own_follow_ups_by_tag() {
        let follow_up = |tags: &[&str]| Action::FollowUp {
            subject: "回访".into(),
            description: "Call back".into(),
            group: String::new(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        };
        let not_includes = |tag: &str| super::super::trigger::Condition {
            field: Field::Tags,
            operator: Operator::NotIncludes,
            value: tag.into(),
        };
        let mut rule = TriggerRecord {
            id: "r".into(),
            display_name: "Return visit".into(),
            description: String::new(),
            active: true,
            position: 0,
            events: Vec::new(),
            schedule: Some(pending_48()),
            all_conditions: Vec::new(),
            any_conditions: vec![not_includes("return-visit")],
            actions: vec![
                Action::AddTags(vec!["visited".into()]),
                follow_up(&["vip", "return-visit"]),
            ],
            stop_processing: false,
            create_time: 0,
            update_time: 0,
            version: 1,
        };
        // An any-of condition does not exclude anything on its own.
        assert_eq!(refires_on_its_follow_ups(&rule), Some(1));
        rule.all_conditions = vec![not_includes("vip-other")];
        assert_eq!(refires_on_its_follow_ups(&rule), Some(1));
        rule.all_conditions.push(not_includes("return-visit"));
        assert_eq!(refires_on_its_follow_ups(&rule), None);
        rule.actions.push(follow_up(&["other"]));
        assert_eq!(refires_on_its_follow_ups(&rule), Some(2));
    }
}
