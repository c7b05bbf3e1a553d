//! Service-level agreements: which policy applies to a ticket, when each target is due with the
//! clock paused in waiting statuses, when a target is met or breached, and the measured times.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use kefu_server::Violations;
use kefu_server::common::{Channel, Tier};

use super::calendar::{Clock, Interval, Schedule, ScheduleError};
use super::kinds::{Priority, TicketType};

/// Longest SLA target, in minutes (a year).
pub const MAX_TARGET_MINUTES: i32 = 525_600;
/// Most working intervals in one schedule.
pub const MAX_INTERVALS: usize = 50;
/// Most holidays in one schedule.
pub const MAX_HOLIDAYS: usize = 500;

/// Checks a schedule's working intervals as a client sends them — `(day_of_week, start_minute,
/// end_minute)` — each violation on `business_schedule.intervals[i].<field>`; returns the good ones.
pub fn check_intervals(
    raw: &[(i32, i32, i32)],
    holidays: usize,
    v: &mut Violations,
) -> Vec<(u8, u16, u16)> {
    if raw.is_empty() || raw.len() > MAX_INTERVALS {
        v.add(
            "business_schedule.intervals",
            format!("must hold 1 to {MAX_INTERVALS} intervals"),
        );
    }
    if holidays > MAX_HOLIDAYS {
        v.add(
            "business_schedule.holidays",
            format!("at most {MAX_HOLIDAYS} holidays"),
        );
    }
    let mut intervals = Vec::new();
    for (i, &(day, start, end)) in raw.iter().enumerate() {
        let f = |name: &str| format!("business_schedule.intervals[{i}].{name}");
        let day = u8::try_from(day).ok().filter(|d| (1..=7).contains(d));
        let start = u16::try_from(start).ok().filter(|m| *m < 1440);
        let end = u16::try_from(end).ok().filter(|m| *m <= 1440);
        if day.is_none() {
            v.add(f("day_of_week"), "must be 1 (Monday) to 7 (Sunday)");
        }
        if start.is_none() {
            v.add(f("start_minute"), "must be 0 to 1439");
        }
        if end.is_none() {
            v.add(f("end_minute"), "must be 1 to 1440");
        }
        if let (Some(day), Some(start), Some(end)) = (day, start, end) {
            intervals.push((day, start, end));
        }
    }
    intervals
}

/// Checks a policy's position and target lengths, each violation on `sla_policy.<field>`.
pub fn check_policy_numbers(position: i32, targets: [(&str, i32); 3], v: &mut Violations) {
    if !(0..=1_000_000).contains(&position) {
        v.add("sla_policy.position", "must be 0 to 1,000,000");
    }
    for (field, minutes) in targets {
        if !(0..=MAX_TARGET_MINUTES).contains(&minutes) {
            v.add(
                format!("sla_policy.{field}"),
                format!("must be 0 to {MAX_TARGET_MINUTES} minutes"),
            );
        }
    }
    if targets.iter().all(|(_, minutes)| *minutes == 0) {
        v.add(
            "sla_policy.first_response_minutes",
            "a policy needs at least one target",
        );
    }
}

/// A business schedule as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRecord {
    /// Id.
    pub id: String,
    /// Name shown to people.
    pub display_name: String,
    /// IANA zone name.
    pub time_zone: String,
    /// `(ISO weekday 1–7, start minute, end minute)`.
    pub intervals: Vec<(u8, u16, u16)>,
    /// `YYYY-MM-DD` dates.
    pub holidays: Vec<String>,
    /// Micros.
    pub create_time: i64,
}

/// Why a stored or submitted schedule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadSchedule {
    /// Unknown zone.
    #[error("unknown time zone {0:?}: use an IANA name such as Asia/Shanghai")]
    TimeZone(String),
    /// Weekday out of 1–7.
    #[error("day_of_week {0} must be 1 (Monday) to 7 (Sunday)")]
    Day(u8),
    /// A holiday is not a date.
    #[error("holiday {0:?} must be a YYYY-MM-DD date")]
    Holiday(String),
    /// Interval rules.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
}

impl ScheduleRecord {
    /// The clock this schedule defines.
    pub fn clock(&self) -> Result<Clock, BadSchedule> {
        let zone = chrono_tz::Tz::from_str(&self.time_zone)
            .map_err(|_| BadSchedule::TimeZone(self.time_zone.clone()))?;
        let mut week: [Vec<Interval>; 7] = Default::default();
        for &(day, start, end) in &self.intervals {
            if !(1..=7).contains(&day) {
                return Err(BadSchedule::Day(day));
            }
            week[usize::from(day - 1)].push(Interval { start, end });
        }
        let holidays = self
            .holidays
            .iter()
            .map(|h| {
                NaiveDate::parse_from_str(h, "%Y-%m-%d")
                    .map_err(|_| BadSchedule::Holiday(h.clone()))
            })
            .collect::<Result<BTreeSet<_>, _>>()?;
        Ok(Clock::Business(Schedule::new(zone, week, holidays)?))
    }
}

/// An SLA policy as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRecord {
    /// Id.
    pub id: String,
    /// Name shown to people.
    pub display_name: String,
    /// Lower is tried first.
    pub position: i32,
    /// Matching priorities; empty matches all.
    pub priorities: Vec<Priority>,
    /// Matching requester tiers; empty matches all.
    pub tiers: Vec<Tier>,
    /// Matching ticket types; empty matches all.
    pub types: Vec<TicketType>,
    /// Matching channels; empty matches all.
    pub channels: Vec<Channel>,
    /// Matching group ids; empty matches all.
    pub groups: Vec<String>,
    /// Targets in minutes; 0 means none.
    pub first_response_minutes: i32,
    /// Target in minutes; 0 means none.
    pub next_response_minutes: i32,
    /// Target in minutes; 0 means none.
    pub resolution_minutes: i32,
    /// Business schedule id; `None` counts calendar time.
    pub schedule_id: Option<String>,
    /// Creation time, micros (ties in position go to the older).
    pub create_time: i64,
}

/// The facts of a ticket that policies match on.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// Priority.
    pub priority: Priority,
    /// Requester tier.
    pub tier: Tier,
    /// Type.
    pub ticket_type: TicketType,
    /// Channel.
    pub channel: Channel,
    /// Group id, if any.
    pub group: Option<&'a str>,
}

impl PolicyRecord {
    /// Whether every non-empty condition of the policy contains the ticket's value.
    pub fn matches(&self, facts: &Facts<'_>) -> bool {
        (self.priorities.is_empty() || self.priorities.contains(&facts.priority))
            && (self.tiers.is_empty() || self.tiers.contains(&facts.tier))
            && (self.types.is_empty() || self.types.contains(&facts.ticket_type))
            && (self.channels.is_empty() || self.channels.contains(&facts.channel))
            && (self.groups.is_empty()
                || facts
                    .group
                    .is_some_and(|g| self.groups.iter().any(|x| x == g)))
    }
}

/// The first matching policy in position order (then oldest first).
pub fn select<'a>(policies: &'a [PolicyRecord], facts: &Facts<'_>) -> Option<&'a PolicyRecord> {
    let mut ordered: Vec<&PolicyRecord> = policies.iter().collect();
    ordered.sort_by(|a, b| {
        (a.position, a.create_time, &a.id).cmp(&(b.position, b.create_time, &b.id))
    });
    ordered.into_iter().find(|p| p.matches(facts))
}

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
}

impl Target {
    fn active(&self) -> bool {
        self.seconds > 0 && self.start.is_some() && self.achieved.is_none()
    }

    fn recompute(&mut self, clock: &Clock, pauses: &[(i64, Option<i64>)]) {
        self.due = match (self.active(), self.start) {
            (true, Some(start)) => clock.due(start, self.seconds, pauses),
            _ => None,
        };
    }

    /// Marks the target met at `at`, and breached if more counted time than allowed had passed.
    fn achieve(&mut self, at: i64, clock: &Clock, pauses: &[(i64, Option<i64>)]) {
        if let (true, Some(start)) = (self.active(), self.start) {
            if clock.elapsed_micros_excluding(start, at, pauses) > self.seconds * 1_000_000 {
                self.breached = true;
            }
            self.achieved = Some(at);
            self.due = None;
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
        let pauses = self.pauses.clone();
        for target in self.targets_mut() {
            target.recompute(clock, &pauses);
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
            let pauses = self.pauses.clone();
            self.next_response.recompute(clock, &pauses);
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
        let pauses = self.pauses.clone();
        self.resolution.recompute(clock, &pauses);
    }

    /// Marks targets whose due time is at or before `now` as breached; returns the newly breached.
    pub fn sweep(&mut self, now: i64) -> Vec<TargetKind> {
        let mut breached = Vec::new();
        let kinds = [
            TargetKind::FirstResponse,
            TargetKind::NextResponse,
            TargetKind::Resolution,
        ];
        for (kind, target) in kinds.into_iter().zip(self.targets_mut()) {
            if !target.breached && target.due.is_some_and(|due| due <= now) {
                target.breached = true;
                breached.push(kind);
            }
        }
        breached
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

    const MIN: i64 = 60 * 1_000_000;
    const HOUR: i64 = 60 * MIN;

    fn policy(id: &str, position: i32) -> PolicyRecord {
        PolicyRecord {
            id: id.to_owned(),
            display_name: id.to_owned(),
            position,
            priorities: Vec::new(),
            tiers: Vec::new(),
            types: Vec::new(),
            channels: Vec::new(),
            groups: Vec::new(),
            first_response_minutes: 60,
            next_response_minutes: 30,
            resolution_minutes: 480,
            schedule_id: None,
            create_time: 0,
        }
    }

    fn facts(priority: Priority, tier: Tier) -> Facts<'static> {
        Facts {
            priority,
            tier,
            ticket_type: TicketType::Question,
            channel: Channel::Email,
            group: None,
        }
    }

    #[test]
    fn the_first_matching_policy_in_position_order_applies() {
        let mut vip = policy("vip", 1);
        vip.tiers = vec![Tier::Vip];
        let mut urgent = policy("urgent", 2);
        urgent.priorities = vec![Priority::Urgent];
        let fallback = policy("default", 100);
        let mut grouped = policy("billing", 0);
        grouped.groups = vec!["billing".into()];
        let policies = vec![fallback, urgent, vip, grouped];
        let (urgent, normal) = (Priority::Urgent, Priority::Normal);
        assert_eq!(
            select(&policies, &facts(urgent, Tier::Vip)).unwrap().id,
            "vip"
        );
        assert_eq!(
            select(&policies, &facts(urgent, Tier::Gold)).unwrap().id,
            "urgent"
        );
        assert_eq!(
            select(&policies, &facts(normal, Tier::Gold)).unwrap().id,
            "default"
        );
        let mut in_billing = facts(normal, Tier::Standard);
        in_billing.group = Some("billing");
        assert_eq!(select(&policies, &in_billing).unwrap().id, "billing");
        assert_eq!(select(&[], &facts(normal, Tier::Gold)), None);
    }

    #[test]
    fn schedule_intervals_and_policy_numbers_are_checked_field_by_field() {
        let mut v = Violations::new();
        let good = check_intervals(&[(1, 540, 1080), (5, 0, 1440)], 0, &mut v);
        assert_eq!(good, vec![(1, 540, 1080), (5, 0, 1440)]);
        check_policy_numbers(
            10,
            [("first_response_minutes", 60), ("a", 0), ("b", 0)],
            &mut v,
        );
        assert!(v.is_empty());
        check_intervals(&[(0, 1440, 1441)], MAX_HOLIDAYS + 1, &mut v);
        check_intervals(&[], 0, &mut v);
        let fields: Vec<&str> = v.iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "business_schedule.holidays",
                "business_schedule.intervals[0].day_of_week",
                "business_schedule.intervals[0].start_minute",
                "business_schedule.intervals[0].end_minute",
                "business_schedule.intervals"
            ]
        );
        let mut v = Violations::new();
        check_policy_numbers(
            -1,
            [("x", 0), ("y", MAX_TARGET_MINUTES + 1), ("z", 0)],
            &mut v,
        );
        assert_eq!(v.iter().count(), 2);
        let mut v = Violations::new();
        check_policy_numbers(0, [("x", 0), ("y", 0), ("z", 0)], &mut v);
        assert_eq!(v.iter().count(), 1, "a policy needs a target");
    }

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
