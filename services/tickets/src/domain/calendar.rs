//! Business-time arithmetic: how much working time lies between two instants, and which instant
//! is a given amount of working time after another, under a weekly schedule in a time zone with
//! holidays. Instants are UTC microseconds, as stored; durations are seconds.
//!
//! Working intervals are wall-clock times in the schedule's zone, so a DST change moves them in
//! UTC and the working day it falls on is an hour shorter or longer in real time, as it is for the
//! people working it.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

const MICROS_PER_SEC: i64 = 1_000_000;
/// How far ahead a due time is searched for: a schedule with no working time in this span
/// (every day a holiday) has no due time.
const HORIZON_DAYS: i64 = 3 * 366;

/// A working interval within a day, in minutes after local midnight: `start < end <= 1440`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// First working minute.
    pub start: u16,
    /// First minute after work.
    pub end: u16,
}

/// A weekly working schedule in a time zone, minus holidays.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The zone the intervals are wall-clock times in.
    pub time_zone: Tz,
    /// Working intervals per weekday, Monday first; each day's sorted and non-overlapping.
    pub week: [Vec<Interval>; 7],
    /// Dates (in the schedule's zone) with no working time.
    pub holidays: BTreeSet<NaiveDate>,
}

/// Why a schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// An interval is empty, reversed, or past midnight.
    #[error("day {day}: interval {start}-{end} must satisfy 0 <= start < end <= 1440 minutes")]
    BadInterval {
        /// Weekday, 0 = Monday.
        day: usize,
        /// Start minute.
        start: u16,
        /// End minute.
        end: u16,
    },
    /// Two intervals of a day overlap.
    #[error("day {day}: intervals overlap")]
    Overlap {
        /// Weekday, 0 = Monday.
        day: usize,
    },
    /// No working time in the week.
    #[error("the schedule has no working time")]
    Empty,
}

impl Schedule {
    /// Builds a schedule, sorting each day's intervals and refusing bad ones.
    pub fn new(
        time_zone: Tz,
        mut week: [Vec<Interval>; 7],
        holidays: BTreeSet<NaiveDate>,
    ) -> Result<Self, ScheduleError> {
        for (day, intervals) in week.iter_mut().enumerate() {
            intervals.sort_by_key(|i| i.start);
            for i in intervals.iter() {
                if i.start >= i.end || i.end > 1440 {
                    return Err(ScheduleError::BadInterval {
                        day,
                        start: i.start,
                        end: i.end,
                    });
                }
            }
            if intervals.windows(2).any(|w| w[0].end > w[1].start) {
                return Err(ScheduleError::Overlap { day });
            }
        }
        if week.iter().all(Vec::is_empty) {
            return Err(ScheduleError::Empty);
        }
        Ok(Self {
            time_zone,
            week,
            holidays,
        })
    }

    /// The working periods of one local date, as UTC microsecond ranges.
    fn periods(&self, date: NaiveDate) -> Vec<(i64, i64)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        let weekday = date.weekday().num_days_from_monday() as usize;
        self.week[weekday]
            .iter()
            .map(|i| (self.instant(date, i.start), self.instant(date, i.end)))
            .filter(|(start, end)| start < end)
            .collect()
    }

    /// The UTC instant of a local wall-clock minute. A repeated time (autumn) is its first
    /// occurrence; a skipped time (spring) is the instant the clocks jumped past it.
    fn instant(&self, date: NaiveDate, minute: u16) -> i64 {
        let local =
            date.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(i64::from(minute));
        micros(self.resolve(local))
    }

    fn resolve(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.time_zone.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => {
                // In a gap: the first valid wall time after it is the moment the clocks jumped.
                let mut probe = local;
                for _ in 0..(24 * 4) {
                    probe += Duration::minutes(15);
                    if let Some(t) = self.time_zone.from_local_datetime(&probe).earliest() {
                        let skipped = probe - local;
                        return t.with_timezone(&Utc) - skipped;
                    }
                }
                local.and_utc()
            }
        }
    }

    fn local_date(&self, at: i64) -> NaiveDate {
        utc(at).with_timezone(&self.time_zone).date_naive()
    }
}

/// How a target's time is counted.
#[derive(Debug, Clone, PartialEq)]
pub enum Clock {
    /// Every second counts.
    Calendar,
    /// Only working time under the schedule counts.
    Business(Schedule),
}

impl Clock {
    /// Whether `at` is counted time: always on the calendar; under a schedule, inside one of
    /// the working intervals of a day that is not a holiday.
    pub fn is_working(&self, at: i64) -> bool {
        match self {
            Self::Calendar => true,
            Self::Business(schedule) => schedule
                .periods(schedule.local_date(at))
                .iter()
                .any(|&(start, end)| start <= at && at < end),
        }
    }

    /// Seconds of counted time in `[from, to)`; zero when `to <= from`.
    pub fn elapsed(&self, from: i64, to: i64) -> i64 {
        self.elapsed_micros(from, to) / MICROS_PER_SEC
    }

    /// The instant `seconds` of counted time after `from`; `None` if no such instant lies within
    /// three years (a schedule that is all holidays).
    pub fn add(&self, from: i64, seconds: i64) -> Option<i64> {
        self.add_micros(from, seconds.max(0).saturating_mul(MICROS_PER_SEC))
    }

    fn elapsed_micros(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        match self {
            Clock::Calendar => to - from,
            Clock::Business(schedule) => {
                let mut total = 0;
                let mut date = schedule.local_date(from) - Duration::days(1);
                let last = schedule.local_date(to) + Duration::days(1);
                while date <= last {
                    for (start, end) in schedule.periods(date) {
                        let (s, e) = (start.max(from), end.min(to));
                        if s < e {
                            total += e - s;
                        }
                    }
                    date += Duration::days(1);
                }
                total
            }
        }
    }

    fn add_micros(&self, from: i64, micros: i64) -> Option<i64> {
        let mut remaining = micros.max(0);
        match self {
            Clock::Calendar => from.checked_add(remaining),
            Clock::Business(schedule) => {
                // The day before too: its periods can reach past local midnight in UTC terms.
                let mut date = schedule.local_date(from) - Duration::days(1);
                for _ in 0..HORIZON_DAYS {
                    for (start, end) in schedule.periods(date) {
                        let start = start.max(from);
                        if start >= end {
                            continue;
                        }
                        if remaining == 0 {
                            return Some(start);
                        }
                        if end - start >= remaining {
                            return Some(start + remaining);
                        }
                        remaining -= end - start;
                    }
                    date += Duration::days(1);
                }
                None
            }
        }
    }

    /// The due time of a target of `seconds` started at `start`, with the clock stopped during
    /// `pauses` (`[from, to)` ranges, sorted; an open one has `to = None`). `None` while paused
    /// or if the schedule never reaches it.
    pub fn due(&self, start: i64, seconds: i64, pauses: &[(i64, Option<i64>)]) -> Option<i64> {
        let mut cursor = start;
        let mut remaining = seconds.max(0).saturating_mul(MICROS_PER_SEC);
        for &(pause_start, pause_end) in pauses {
            if pause_end.is_some_and(|end| end <= cursor) {
                continue;
            }
            if pause_start > cursor {
                let counted = self.elapsed_micros(cursor, pause_start);
                if counted >= remaining {
                    return self.add_micros(cursor, remaining);
                }
                remaining -= counted;
            }
            cursor = cursor.max(pause_end?);
        }
        self.add_micros(cursor, remaining)
    }

    /// Counted seconds from `start` to `end` with the clock stopped during `pauses`.
    pub fn elapsed_excluding(&self, start: i64, end: i64, pauses: &[(i64, Option<i64>)]) -> i64 {
        self.elapsed_micros_excluding(start, end, pauses) / MICROS_PER_SEC
    }

    /// Counted microseconds from `start` to `end` with the clock stopped during `pauses`.
    pub fn elapsed_micros_excluding(
        &self,
        start: i64,
        end: i64,
        pauses: &[(i64, Option<i64>)],
    ) -> i64 {
        let mut total = self.elapsed_micros(start, end);
        for &(pause_start, pause_end) in pauses {
            let from = pause_start.max(start);
            let to = pause_end.unwrap_or(end).min(end);
            total -= self.elapsed_micros(from, to);
        }
        total.max(0)
    }
}

fn utc(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at).unwrap_or_default()
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "calendar_tests.rs"]
mod tests;
