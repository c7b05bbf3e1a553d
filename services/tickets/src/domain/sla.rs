//! Service-level agreements on a ticket: when each target is due with the clock paused in waiting
//! statuses, when a target is met or breached, and the measured times.

use serde::{Deserialize, Serialize};

use super::calendar::Clock;
use super::policy::PolicyRecord;

/// One target's progress.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// When its clock started (micros); `None` when not running.
    pub start: Option<i64>,
    /// Target length in counted seconds; 0 means no target.
    pub seconds: i64,
    /// When it was met.
    pub achieved: Option<i64>,
    /// Whether it was missed.
    pub breached: bool,
    /// When it is due (cached from the clock); `None` when met, paused, or no target.
    pub due: Option<i64>,
    /// The escalation levels (percent of the target) that fired, in firing order.
    #[serde(default)]
    pub escalated: Vec<u32>,
    /// When the lowest level not yet fired is due (cached, like `due`).
    #[serde(default)]
    pub escalate_at: Option<i64>,
}

/// Counted seconds at which `percent` of a `seconds`-long target has passed, rounded up.
fn level_seconds(seconds: i64, percent: u32) -> i64 {
    (seconds.saturating_mul(i64::from(percent)) + 99) / 100
}

impl Target {
    fn active(&self) -> bool {
        self.seconds > 0 && self.start.is_some() && self.achieved.is_none()
    }

    fn recompute(&mut self, clock: &Clock, pauses: &[(i64, Option<i64>)], levels: &[u32]) {
        self.due = match (self.active(), self.start) {
            (true, Some(start)) => clock.due(start, self.seconds, pauses),
            _ => None,
        };
        self.escalate_at = match (self.due, self.start, self.next_level(levels)) {
            (Some(_), Some(start), Some(percent)) => {
                clock.due(start, level_seconds(self.seconds, percent), pauses)
            }
            _ => None,
        };
    }

    /// The lowest of `levels` (ascending) that has not fired.
    fn next_level(&self, levels: &[u32]) -> Option<u32> {
        levels
            .iter()
            .copied()
            .find(|percent| !self.escalated.contains(percent))
    }

    /// Fires, in order, every level not yet fired that is due at `now`, while the target runs;
    /// returns them.
    fn escalate(
        &mut self,
        now: i64,
        clock: &Clock,
        pauses: &[(i64, Option<i64>)],
        levels: &[u32],
    ) -> Vec<u32> {
        let mut fired = Vec::new();
        while self.escalate_at.is_some_and(|at| at <= now) {
            let Some(percent) = self.next_level(levels) else {
                break;
            };
            self.escalated.push(percent);
            fired.push(percent);
            self.recompute(clock, pauses, levels);
        }
        fired
    }

    /// Marks the target met at `at`, and breached if more counted time than allowed had passed.
    fn achieve(&mut self, at: i64, clock: &Clock, pauses: &[(i64, Option<i64>)]) {
        if let (true, Some(start)) = (self.active(), self.start) {
            if clock.elapsed_micros_excluding(start, at, pauses) > self.seconds * 1_000_000 {
                self.breached = true;
            }
            self.achieved = Some(at);
            self.due = None;
            self.escalate_at = None;
        }
    }
}

/// Which target of an SLA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// First public agent reply.
    FirstResponse,
    /// Next public agent reply after a requester's reply.
    NextResponse,
    /// Solved.
    Resolution,
}

impl TargetKind {
    /// Every target, in the order an SLA keeps them.
    pub const ALL: [TargetKind; 3] = [
        TargetKind::FirstResponse,
        TargetKind::NextResponse,
        TargetKind::Resolution,
    ];

    /// The name used in events and audits.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::FirstResponse => "first_response",
            TargetKind::NextResponse => "next_response",
            TargetKind::Resolution => "resolution",
        }
    }
}

/// A ticket's SLA state, stored with the ticket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlaRecord {
    /// The policy that applies.
    pub policy_id: Option<String>,
    /// When the clock was stopped: `[from, to)`, the last open while paused.
    pub pauses: Vec<(i64, Option<i64>)>,
    /// Until the first public agent reply.
    pub first_response: Target,
    /// Until the next public agent reply after a requester's reply.
    pub next_response: Target,
    /// Until solved.
    pub resolution: Target,
    /// The policy's escalation levels, percent of a target, ascending.
    #[serde(default)]
    pub levels: Vec<u32>,
}

impl SlaRecord {
    /// A new ticket's SLA under `policy` (none: no targets), started at `created`.
    pub fn start(policy: Option<&PolicyRecord>, created: i64, clock: &Clock) -> Self {
        let mut sla = SlaRecord::default();
        sla.first_response.start = Some(created);
        sla.resolution.start = Some(created);
        sla.apply_policy(policy, clock);
        sla
    }

    /// Switches to `policy` (after a priority change): new target lengths, same start times.
    pub fn apply_policy(&mut self, policy: Option<&PolicyRecord>, clock: &Clock) {
        self.policy_id = policy.map(|p| p.id.clone());
        let minutes = |m: i32| i64::from(m.max(0)) * 60;
        self.first_response.seconds = policy.map_or(0, |p| minutes(p.first_response_minutes));
        self.next_response.seconds = policy.map_or(0, |p| minutes(p.next_response_minutes));
        self.resolution.seconds = policy.map_or(0, |p| minutes(p.resolution_minutes));
        self.levels = policy.map_or_else(Vec::new, PolicyRecord::level_percents);
        self.recompute(clock);
    }

    fn targets_mut(&mut self) -> [&mut Target; 3] {
        [
            &mut self.first_response,
            &mut self.next_response,
            &mut self.resolution,
        ]
    }

    fn recompute(&mut self, clock: &Clock) {
        let (pauses, levels) = (self.pauses.clone(), self.levels.clone());
        for target in self.targets_mut() {
            target.recompute(clock, &pauses, &levels);
        }
    }

    /// Whether the clock is stopped now.
    pub fn paused(&self) -> bool {
        self.pauses.last().is_some_and(|(_, end)| end.is_none())
    }

    /// Stops or restarts the clock at `at` to match a status change.
    pub fn set_paused(&mut self, paused: bool, at: i64, clock: &Clock) {
        match (self.paused(), paused) {
            (false, true) => self.pauses.push((at, None)),
            (true, false) => {
                if let Some(last) = self.pauses.last_mut() {
                    last.1 = Some(at.max(last.0));
                }
            }
            _ => return,
        }
        self.recompute(clock);
    }

    /// A public agent reply at `at`: meets the first- and next-response targets.
    pub fn agent_replied(&mut self, at: i64, clock: &Clock) {
        let pauses = self.pauses.clone();
        self.first_response.achieve(at, clock, &pauses);
        self.next_response.achieve(at, clock, &pauses);
    }

    /// A public requester reply at `at`: starts the next-response clock unless it already runs.
    pub fn requester_replied(&mut self, at: i64, clock: &Clock) {
        if self.next_response.seconds > 0 && !self.next_response.active() {
            self.next_response = Target {
                start: Some(at),
                seconds: self.next_response.seconds,
                ..Target::default()
            };
            let (pauses, levels) = (self.pauses.clone(), self.levels.clone());
            self.next_response.recompute(clock, &pauses, &levels);
        }
    }

    /// Solved at `at`: meets the resolution target.
    pub fn solved(&mut self, at: i64, clock: &Clock) {
        let pauses = self.pauses.clone();
        self.resolution.achieve(at, clock, &pauses);
    }

    /// Reopened: the resolution target runs again from its original start (paused time excluded).
    pub fn reopened(&mut self, clock: &Clock) {
        self.resolution.achieved = None;
        let (pauses, levels) = (self.pauses.clone(), self.levels.clone());
        self.resolution.recompute(clock, &pauses, &levels);
    }

    /// Marks targets whose due time is at or before `now` as breached; returns the newly breached.
    pub fn sweep(&mut self, now: i64) -> Vec<TargetKind> {
        let mut breached = Vec::new();
        for (kind, target) in TargetKind::ALL.into_iter().zip(self.targets_mut()) {
            if !target.breached && target.due.is_some_and(|due| due <= now) {
                target.breached = true;
                breached.push(kind);
            }
        }
        breached
    }

    /// Fires every escalation level due at `now` on each running target, each once per target;
    /// returns what fired, in order.
    pub fn escalate(&mut self, now: i64, clock: &Clock) -> Vec<(TargetKind, u32)> {
        let (pauses, levels) = (self.pauses.clone(), self.levels.clone());
        let mut fired = Vec::new();
        for (kind, target) in TargetKind::ALL.into_iter().zip(self.targets_mut()) {
            for percent in target.escalate(now, clock, &pauses, &levels) {
                fired.push((kind, percent));
            }
        }
        fired
    }

    /// When the sweeper next has work on this ticket: a breach or an escalation level.
    pub fn wake_at(&self) -> Option<i64> {
        [&self.first_response, &self.next_response, &self.resolution]
            .into_iter()
            .filter_map(|t| t.escalate_at)
            .chain(self.next_due())
            .min()
    }

    /// The soonest due time of a target not yet breached (what the sweeper waits for).
    pub fn next_due(&self) -> Option<i64> {
        [&self.first_response, &self.next_response, &self.resolution]
            .into_iter()
            .filter(|t| !t.breached)
            .filter_map(|t| t.due)
            .min()
    }

    /// Whether any target was breached.
    pub fn any_breached(&self) -> bool {
        self.first_response.breached || self.next_response.breached || self.resolution.breached
    }

    /// Counted seconds from `start` to `end`, paused time excluded.
    pub fn counted(&self, clock: &Clock, start: i64, end: i64) -> i64 {
        clock.elapsed_excluding(start, end, &self.pauses)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::calendar::{Interval, Schedule};
    use crate::domain::policy::tests::policy;

    const MIN: i64 = 60 * 1_000_000;
    const HOUR: i64 = 60 * MIN;

    #[test]
    fn targets_start_at_creation_and_are_met_by_replies_and_solving() {
        let clock = Clock::Calendar;
        let p = policy("p", 0);
        let mut sla = SlaRecord::start(Some(&p), 0, &clock);
        assert_eq!(sla.first_response.due, Some(HOUR));
        assert_eq!(sla.resolution.due, Some(8 * HOUR));
        assert_eq!(sla.next_response.due, None, "no requester reply yet");
        sla.agent_replied(30 * MIN, &clock);
        assert_eq!(sla.first_response.achieved, Some(30 * MIN));
        assert!(!sla.first_response.breached);
        // The requester answers: the next-response clock runs for 30 minutes.
        sla.requester_replied(2 * HOUR, &clock);
        assert_eq!(sla.next_response.due, Some(2 * HOUR + 30 * MIN));
        // A second requester reply does not restart it.
        sla.requester_replied(2 * HOUR + 10 * MIN, &clock);
        assert_eq!(sla.next_response.due, Some(2 * HOUR + 30 * MIN));
        // Met late: breached.
        sla.agent_replied(3 * HOUR, &clock);
        assert!(sla.next_response.breached);
        sla.solved(4 * HOUR, &clock);
        assert_eq!(sla.resolution.achieved, Some(4 * HOUR));
        assert!(!sla.resolution.breached);
        assert_eq!(sla.next_due(), None);
    }

    #[test]
    fn waiting_pauses_the_clock_and_reopening_resumes_resolution() {
        let clock = Clock::Calendar;
        let sla_policy = policy("p", 0);
        let mut sla = SlaRecord::start(Some(&sla_policy), 0, &clock);
        sla.agent_replied(10 * MIN, &clock);
        sla.set_paused(true, HOUR, &clock); // PENDING after 1 h
        assert_eq!(sla.resolution.due, None);
        assert!(sla.paused());
        sla.set_paused(false, 5 * HOUR, &clock); // requester answered 4 h later
        assert_eq!(
            sla.resolution.due,
            Some(12 * HOUR),
            "8 h target + 4 h paused"
        );
        sla.solved(6 * HOUR, &clock); // 1 h before the pause + 1 h after = 2 h counted
        sla.set_paused(true, 6 * HOUR, &clock);
        assert!(!sla.resolution.breached);
        assert_eq!(sla.counted(&clock, 0, 6 * HOUR), 2 * 3600);
        sla.set_paused(false, 30 * HOUR, &clock);
        sla.reopened(&clock);
        assert_eq!(sla.resolution.achieved, None);
        assert_eq!(
            sla.resolution.due,
            Some(36 * HOUR),
            "6 h left, from the reopen"
        );
    }

    #[test]
    fn the_sweeper_marks_each_breach_once() {
        let clock = Clock::Calendar;
        let sla_policy = policy("p", 0);
        let mut sla = SlaRecord::start(Some(&sla_policy), 0, &clock);
        assert!(sla.sweep(HOUR - 1).is_empty());
        assert_eq!(sla.sweep(HOUR), vec![TargetKind::FirstResponse]);
        assert!(sla.sweep(2 * HOUR).is_empty(), "not twice");
        assert_eq!(sla.next_due(), Some(8 * HOUR));
        assert_eq!(sla.sweep(9 * HOUR), vec![TargetKind::Resolution]);
        assert!(sla.any_breached());
        // Met after the breach: stays breached, no longer due.
        sla.agent_replied(10 * HOUR, &clock);
        assert!(sla.first_response.breached);
        assert_eq!(sla.first_response.due, None);
    }

    #[test]
    fn escalation_levels_fire_once_per_target_at_their_share_of_it() {
        let clock = Clock::Calendar;
        let mut p = policy("p", 0);
        for percent in [150, 75, 100] {
            p.escalations
                .push(crate::domain::escalation::EscalationLevel {
                    percent,
                    raise_priority: None,
                    group_id: None,
                    assignee_id: None,
                    notify_lead: false,
                });
        }
        // First response 1 h, resolution 8 h.
        let mut sla = SlaRecord::start(Some(&p), 0, &clock);
        assert_eq!(sla.levels, vec![75, 100, 150]);
        assert_eq!(sla.wake_at(), Some(45 * MIN), "75% of the first response");
        assert!(sla.escalate(45 * MIN - 1, &clock).is_empty());
        assert_eq!(
            sla.escalate(45 * MIN, &clock),
            vec![(TargetKind::FirstResponse, 75)]
        );
        assert!(sla.escalate(50 * MIN, &clock).is_empty(), "not twice");
        // The sweeper was away: both levels due by 100 min fire, in order.
        assert_eq!(
            sla.escalate(100 * MIN, &clock),
            vec![
                (TargetKind::FirstResponse, 100),
                (TargetKind::FirstResponse, 150)
            ]
        );
        assert_eq!(sla.first_response.escalated, vec![75, 100, 150]);
        assert_eq!(sla.wake_at(), Some(HOUR), "the breach, still to be marked");
        sla.sweep(HOUR);
        assert_eq!(sla.wake_at(), Some(6 * HOUR), "75% of the resolution");
        // Paused: no level comes due; met: none is left.
        sla.set_paused(true, 2 * HOUR, &clock);
        assert_eq!(sla.wake_at(), None);
        assert!(sla.escalate(7 * HOUR, &clock).is_empty());
        sla.set_paused(false, 3 * HOUR, &clock);
        assert_eq!(sla.resolution.escalate_at, Some(7 * HOUR), "an hour paused");
        sla.solved(4 * HOUR, &clock);
        assert_eq!(sla.wake_at(), None);
    }

    #[test]
    fn a_priority_change_keeps_start_times_and_changes_lengths() {
        let clock = Clock::Calendar;
        let normal = policy("normal", 1);
        let mut urgent = policy("urgent", 0);
        urgent.first_response_minutes = 15;
        urgent.resolution_minutes = 120;
        let mut sla = SlaRecord::start(Some(&normal), 0, &clock);
        sla.apply_policy(Some(&urgent), &clock);
        assert_eq!(sla.policy_id.as_deref(), Some("urgent"));
        assert_eq!(sla.first_response.due, Some(15 * MIN));
        assert_eq!(sla.resolution.due, Some(2 * HOUR));
        sla.apply_policy(None, &clock);
        assert_eq!(sla.next_due(), None, "no policy, no targets");
    }

    #[test]
    fn business_hours_policy_with_a_pause_over_the_weekend() {
        // Mon–Fri 09:00–17:00 UTC. Created Friday 2026-03-13 16:00 with a 2 h first response.
        let day = vec![Interval {
            start: 540,
            end: 1020,
        }];
        let mut week: [Vec<Interval>; 7] = Default::default();
        for d in week.iter_mut().take(5) {
            *d = day.clone();
        }
        let clock = Clock::Business(Schedule::new(chrono_tz::UTC, week, BTreeSet::new()).unwrap());
        let friday_16 = 1_773_417_600 * 1_000_000; // 2026-03-13 16:00 UTC
        let mut p = policy("p", 0);
        p.first_response_minutes = 120;
        p.resolution_minutes = 0;
        let mut sla = SlaRecord::start(Some(&p), friday_16, &clock);
        let monday_10 = friday_16 + 2 * 24 * HOUR + 18 * HOUR;
        assert_eq!(sla.first_response.due, Some(monday_10));
        assert_eq!(sla.resolution.due, None, "no resolution target");
        // On hold from Friday 16:30 to Monday 09:30 costs 60 working minutes (16:30–17:00 on
        // Friday, 09:00–09:30 on Monday); the weekend costs nothing.
        sla.set_paused(true, friday_16 + 30 * MIN, &clock);
        sla.set_paused(false, monday_10 - 30 * MIN, &clock);
        assert_eq!(sla.first_response.due, Some(monday_10 + HOUR));
        // Replied while on hold again after 1 h 20 min counted: met in time, the pause excluded.
        sla.set_paused(true, monday_10 + 20 * MIN, &clock);
        sla.agent_replied(monday_10 + 5 * HOUR, &clock);
        assert!(!sla.first_response.breached);
        assert_eq!(sla.first_response.achieved, Some(monday_10 + 5 * HOUR));
    }

    #[test]
    fn a_reply_after_the_allowed_time_is_a_breach_even_before_the_sweeper_ran() {
        let clock = Clock::Calendar;
        let p = policy("p", 0);
        let mut sla = SlaRecord::start(Some(&p), 0, &clock);
        sla.agent_replied(HOUR + 1_000_000, &clock);
        assert!(sla.first_response.breached);
        sla.solved(8 * HOUR, &clock);
        assert!(!sla.resolution.breached, "exactly on time is in time");
    }
}
