//! Tests of the business-time calendar.

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
