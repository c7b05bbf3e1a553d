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
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const HOUR: i64 = 3600;

    fn at(zone: Tz, text: &str) -> i64 {
        let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
        micros(
            zone.from_local_datetime(&local)
                .earliest()
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    fn show(zone: Tz, instant: i64) -> String {
        utc(instant)
            .with_timezone(&zone)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    fn nine_to_five(zone: Tz, holidays: &[&str]) -> Clock {
        let day = vec![Interval {
            start: 9 * 60,
            end: 17 * 60,
        }];
        let week = [
            day.clone(),
            day.clone(),
            day.clone(),
            day.clone(),
            day,
            Vec::new(),
            Vec::new(),
        ];
        let holidays = holidays
            .iter()
            .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap())
            .collect();
        Clock::Business(Schedule::new(zone, week, holidays).unwrap())
    }

    #[test]
    fn calendar_clock_counts_every_second() {
        let clock = Clock::Calendar;
        assert_eq!(clock.add(0, 90), Some(90 * MICROS_PER_SEC));
        assert_eq!(clock.elapsed(0, 90 * MICROS_PER_SEC), 90);
        assert_eq!(clock.elapsed(10, 0), 0);
    }

    #[test]
    fn working_time_is_inside_an_interval_of_a_day_that_is_no_holiday() {
        let z = chrono_tz::Asia::Shanghai;
        let clock = nine_to_five(z, &["2026-10-01"]);
        assert!(
            clock.is_working(at(z, "2026-03-10 09:00")),
            "opening minute"
        );
        assert!(clock.is_working(at(z, "2026-03-10 16:59")));
        assert!(
            !clock.is_working(at(z, "2026-03-10 17:00")),
            "closed at closing"
        );
        assert!(!clock.is_working(at(z, "2026-03-10 08:59")));
        assert!(!clock.is_working(at(z, "2026-03-14 12:00")), "a Saturday");
        assert!(!clock.is_working(at(z, "2026-10-01 12:00")), "a holiday");
        assert!(Clock::Calendar.is_working(at(z, "2026-03-14 03:00")));
    }

    #[test]
    fn within_one_working_day() {
        let z = chrono_tz::Europe::Berlin;
        let clock = nine_to_five(z, &[]);
        // Tuesday 10:00 + 2 h = 12:00
        let due = clock.add(at(z, "2026-03-10 10:00"), 2 * HOUR).unwrap();
        assert_eq!(show(z, due), "2026-03-10 12:00 CET");
        // Before opening: the clock starts at 09:00.
        let due = clock.add(at(z, "2026-03-10 06:30"), HOUR).unwrap();
        assert_eq!(show(z, due), "2026-03-10 10:00 CET");
        // Exactly at closing: it ends there, not on the next morning.
        let due = clock.add(at(z, "2026-03-10 09:00"), 8 * HOUR).unwrap();
        assert_eq!(show(z, due), "2026-03-10 17:00 CET");
    }

    #[test]
    fn rolls_over_nights_and_weekends() {
        let z = chrono_tz::Europe::Berlin;
        let clock = nine_to_five(z, &[]);
        // Friday 16:00 + 4 h: 1 h on Friday, 3 h on Monday.
        let due = clock.add(at(z, "2026-03-13 16:00"), 4 * HOUR).unwrap();
        assert_eq!(show(z, due), "2026-03-16 12:00 CET");
        // Created on Saturday: nothing counts until Monday 09:00.
        let due = clock.add(at(z, "2026-03-14 11:00"), HOUR).unwrap();
        assert_eq!(show(z, due), "2026-03-16 10:00 CET");
        assert_eq!(
            clock.elapsed(at(z, "2026-03-13 16:00"), at(z, "2026-03-16 12:00")),
            4 * HOUR
        );
        // A full week is 40 working hours.
        assert_eq!(
            clock.elapsed(at(z, "2026-03-09 00:00"), at(z, "2026-03-16 00:00")),
            40 * HOUR
        );
    }

    #[test]
    fn skips_holidays() {
        let z = chrono_tz::Asia::Shanghai;
        // 2026-10-01..07: National Day holidays; 2026-10-01 is a Thursday.
        let clock = nine_to_five(
            z,
            &[
                "2026-10-01",
                "2026-10-02",
                "2026-10-05",
                "2026-10-06",
                "2026-10-07",
            ],
        );
        let due = clock.add(at(z, "2026-09-30 16:00"), 2 * HOUR).unwrap();
        assert_eq!(show(z, due), "2026-10-08 10:00 CST");
        assert_eq!(
            clock.elapsed(at(z, "2026-09-30 16:00"), at(z, "2026-10-08 10:00")),
            2 * HOUR
        );
    }

    #[test]
    fn the_same_schedule_in_different_zones_is_different_utc_time() {
        let tokyo = nine_to_five(chrono_tz::Asia::Tokyo, &[]);
        let new_york = nine_to_five(chrono_tz::America::New_York, &[]);
        // Monday 2026-03-02 12:00 UTC is 21:00 in Tokyo (closed) and 07:00 in New York (not yet open).
        let start = at(chrono_tz::UTC, "2026-03-02 12:00");
        let tokyo_due = tokyo.add(start, HOUR).unwrap();
        let ny_due = new_york.add(start, HOUR).unwrap();
        assert_eq!(
            show(chrono_tz::Asia::Tokyo, tokyo_due),
            "2026-03-03 10:00 JST"
        );
        assert_eq!(
            show(chrono_tz::America::New_York, ny_due),
            "2026-03-02 10:00 EST"
        );
    }

    #[test]
    fn spring_forward_day_keeps_wall_clock_hours() {
        let z = chrono_tz::America::New_York;
        // 2026-03-08 (Sunday) clocks jump 02:00 → 03:00. A 24/7 schedule loses that hour.
        let all_day = vec![Interval {
            start: 0,
            end: 1440,
        }];
        let clock = Clock::Business(
            Schedule::new(z, std::array::from_fn(|_| all_day.clone()), BTreeSet::new()).unwrap(),
        );
        assert_eq!(
            clock.elapsed(at(z, "2026-03-08 00:00"), at(z, "2026-03-09 00:00")),
            23 * HOUR
        );
        // Working hours on the Monday after are the same wall-clock hours, one hour earlier in UTC.
        let nine = nine_to_five(z, &[]);
        let friday = nine.add(at(z, "2026-03-06 16:00"), 2 * HOUR).unwrap();
        assert_eq!(show(z, friday), "2026-03-09 10:00 EDT");
        assert_eq!(
            nine.elapsed(at(z, "2026-03-06 16:00"), friday),
            2 * HOUR,
            "a DST weekend costs no working time"
        );
    }

    #[test]
    fn interval_over_a_dst_gap_is_shorter_in_real_time() {
        let z = chrono_tz::Europe::Berlin;
        // 2026-03-29 (Sunday): 02:00 → 03:00. A Sunday shift 01:00-05:00 lasts 3 real hours.
        let mut week: [Vec<Interval>; 7] = Default::default();
        week[6] = vec![Interval {
            start: 60,
            end: 300,
        }];
        let clock = Clock::Business(Schedule::new(z, week, BTreeSet::new()).unwrap());
        let start = at(z, "2026-03-29 00:00");
        assert_eq!(clock.elapsed(start, at(z, "2026-03-29 12:00")), 3 * HOUR);
        let due = clock.add(start, 2 * HOUR).unwrap();
        assert_eq!(show(z, due), "2026-03-29 04:00 CEST");
    }

    #[test]
    fn fall_back_day_is_longer_in_real_time() {
        let z = chrono_tz::Europe::Berlin;
        // 2026-10-25 (Sunday): 03:00 → 02:00. A Sunday shift 01:00-05:00 lasts 5 real hours.
        let mut week: [Vec<Interval>; 7] = Default::default();
        week[6] = vec![Interval {
            start: 60,
            end: 300,
        }];
        let clock = Clock::Business(Schedule::new(z, week, BTreeSet::new()).unwrap());
        let start = at(z, "2026-10-25 00:00");
        assert_eq!(clock.elapsed(start, at(z, "2026-10-25 12:00")), 5 * HOUR);
        let due = clock.add(start, 5 * HOUR).unwrap();
        assert_eq!(show(z, due), "2026-10-25 05:00 CET");
    }

    #[test]
    fn split_shifts_and_add_is_the_inverse_of_elapsed() {
        let z = chrono_tz::Asia::Shanghai;
        let day = vec![
            Interval {
                start: 9 * 60,
                end: 12 * 60,
            },
            Interval {
                start: 13 * 60 + 30,
                end: 18 * 60,
            },
        ];
        let mut week: [Vec<Interval>; 7] = Default::default();
        for d in week.iter_mut().take(5) {
            *d = day.clone();
        }
        let clock = Clock::Business(Schedule::new(z, week, BTreeSet::new()).unwrap());
        let start = at(z, "2026-06-01 11:00");
        let due = clock.add(start, 2 * HOUR).unwrap();
        assert_eq!(show(z, due), "2026-06-01 14:30 CST", "lunch does not count");
        for minutes in [
            0,
            1,
            59,
            60,
            61,
            7 * 60 + 29,
            7 * 60 + 30,
            40 * 60,
            100 * 60,
        ] {
            let due = clock.add(start, minutes * 60).unwrap();
            assert_eq!(clock.elapsed(start, due), minutes * 60, "{minutes} min");
        }
    }

    #[test]
    fn pauses_stop_the_clock_and_resume_where_it_left_off() {
        let z = chrono_tz::Europe::Berlin;
        let clock = nine_to_five(z, &[]);
        let created = at(z, "2026-03-10 09:00"); // Tuesday
        // 8 working hours, no pause: Tuesday 17:00.
        assert_eq!(
            show(z, clock.due(created, 8 * HOUR, &[]).unwrap()),
            "2026-03-10 17:00 CET"
        );
        // Paused 11:00 → next day 11:00 (8 working hours lost): due Wednesday 17:00.
        let pauses = [(at(z, "2026-03-10 11:00"), Some(at(z, "2026-03-11 11:00")))];
        let due = clock.due(created, 8 * HOUR, &pauses).unwrap();
        assert_eq!(show(z, due), "2026-03-11 17:00 CET");
        // While paused there is no due time.
        let open = [(at(z, "2026-03-10 11:00"), None)];
        assert_eq!(clock.due(created, 8 * HOUR, &open), None);
        // A pause that starts after the target was reached does not move it.
        let late = [(at(z, "2026-03-10 18:00"), Some(at(z, "2026-03-12 09:00")))];
        assert_eq!(
            show(z, clock.due(created, 8 * HOUR, &late).unwrap()),
            "2026-03-10 17:00 CET"
        );
        // A pause over the weekend costs nothing extra.
        let weekend = [(at(z, "2026-03-13 17:30"), Some(at(z, "2026-03-16 08:00")))];
        let friday = at(z, "2026-03-13 13:00");
        assert_eq!(
            show(z, clock.due(friday, 8 * HOUR, &weekend).unwrap()),
            "2026-03-16 13:00 CET"
        );
        // Elapsed time excludes the paused part.
        assert_eq!(
            clock.elapsed_excluding(created, at(z, "2026-03-11 12:00"), &pauses),
            3 * HOUR
        );
    }

    #[test]
    fn bad_schedules_are_refused() {
        let z = chrono_tz::UTC;
        let mut week: [Vec<Interval>; 7] = Default::default();
        assert_eq!(
            Schedule::new(z, week.clone(), BTreeSet::new()),
            Err(ScheduleError::Empty)
        );
        week[0] = vec![Interval {
            start: 600,
            end: 500,
        }];
        assert!(matches!(
            Schedule::new(z, week.clone(), BTreeSet::new()),
            Err(ScheduleError::BadInterval { day: 0, .. })
        ));
        week[0] = vec![Interval {
            start: 0,
            end: 1441,
        }];
        assert!(Schedule::new(z, week.clone(), BTreeSet::new()).is_err());
        week[0] = vec![
            Interval {
                start: 60,
                end: 200,
            },
            Interval {
                start: 100,
                end: 300,
            },
        ];
        assert_eq!(
            Schedule::new(z, week, BTreeSet::new()),
            Err(ScheduleError::Overlap { day: 0 })
        );
    }

    #[test]
    fn an_all_holiday_schedule_has_no_due_time() {
        let z = chrono_tz::UTC;
        let mut week: [Vec<Interval>; 7] = Default::default();
        week[0] = vec![Interval { start: 0, end: 60 }];
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let holidays = (0..4 * 366).map(|d| start + Duration::days(d)).collect();
        let clock = Clock::Business(Schedule::new(z, week, holidays).unwrap());
        assert_eq!(clock.add(at(z, "2026-01-01 00:00"), HOUR), None);
    }
}
