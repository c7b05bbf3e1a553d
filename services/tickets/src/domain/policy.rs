//! SLA policies and business schedules as an admin defines them: their checks, and which policy
//! applies to a ticket.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::NaiveDate;

use kefu_server::Violations;
use kefu_server::common::{Channel, Tier};

use super::calendar::{Clock, Interval, Schedule, ScheduleError};
use super::escalation::EscalationLevel;
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
    /// Version, for etags.
    pub version: i64,
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
    /// Escalation levels, ascending by percent.
    pub escalations: Vec<EscalationLevel>,
    /// Creation time, micros (ties in position go to the older).
    pub create_time: i64,
    /// Bumped on every change; the etag derives from it.
    pub version: i64,
    /// When it was archived (never chosen again), micros.
    pub archive_time: Option<i64>,
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
    /// The percents of its escalation levels, ascending.
    pub fn level_percents(&self) -> Vec<u32> {
        let mut percents: Vec<u32> = self.escalations.iter().map(|l| l.percent).collect();
        percents.sort_unstable();
        percents
    }

    /// Its level at `percent`, if it still has one.
    pub fn level(&self, percent: u32) -> Option<&EscalationLevel> {
        self.escalations.iter().find(|l| l.percent == percent)
    }

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

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    pub(crate) fn policy(id: &str, position: i32) -> PolicyRecord {
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
            escalations: Vec::new(),
            create_time: 0,
            version: 1,
            archive_time: None,
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
}
