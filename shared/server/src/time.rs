//! Proto timestamps ↔ the UTC microseconds both databases store, checked once for every service:
//! a timestamp a client sends that does not fit is a bad field, never an overflow.

use prost_types::Timestamp;

use crate::Violations;

/// A proto timestamp from UTC microseconds.
pub fn timestamp(micros: i64) -> Timestamp {
    Timestamp {
        seconds: micros.div_euclid(1_000_000),
        // rem_euclid is in 0..1_000_000, so the nanoseconds fit an i32.
        nanos: i32::try_from(micros.rem_euclid(1_000_000) * 1000).unwrap_or(0),
    }
}

/// UTC microseconds of a proto timestamp; `None` when its nanoseconds are out of range or the
/// instant does not fit in 64-bit microseconds.
pub fn micros_of(ts: &Timestamp) -> Option<i64> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return None;
    }
    let micros = i128::from(ts.seconds) * 1_000_000 + i128::from(ts.nanos / 1000);
    i64::try_from(micros).ok()
}

/// An optional timestamp field: `None` when unset; a violation on `field` when it cannot be used.
pub fn optional_micros(ts: Option<&Timestamp>, field: &str, v: &mut Violations) -> Option<i64> {
    let ts = ts?;
    let micros = micros_of(ts);
    if micros.is_none() {
        v.add(field, "is not a valid timestamp");
    }
    micros
}

/// A required timestamp field.
pub fn required_micros(ts: Option<&Timestamp>, field: &str, v: &mut Violations) -> Option<i64> {
    if ts.is_none() {
        v.add(field, "is required");
    }
    optional_micros(ts, field, v)
}

/// Longest reporting period, in microseconds: 366 days.
pub const MAX_PERIOD_MICROS: i64 = 366 * 24 * 3600 * 1_000_000;

/// A required reporting period `[start_time, end_time)` of at most 366 days, in microseconds.
pub fn period(
    start: Option<&Timestamp>,
    end: Option<&Timestamp>,
    v: &mut Violations,
) -> Option<(i64, i64)> {
    let start = required_micros(start, "start_time", v);
    let end = required_micros(end, "end_time", v);
    match (start, end) {
        (Some(start), Some(end)) if end <= start => {
            v.add("end_time", "must be after start_time");
            None
        }
        (Some(start), Some(end)) if end - start > MAX_PERIOD_MICROS => {
            v.add("end_time", "the period may be at most 366 days");
            None
        }
        (Some(start), Some(end)) => Some((start, end)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microseconds_round_trip_before_1970_too() {
        for micros in [0, 1_500_001, -1, -1_500_001, i64::MAX, i64::MIN] {
            assert_eq!(micros_of(&timestamp(micros)), Some(micros), "{micros}");
        }
        assert_eq!(
            timestamp(-1),
            Timestamp {
                seconds: -1,
                nanos: 999_999_000
            }
        );
    }

    #[test]
    fn timestamps_that_do_not_fit_are_bad_fields_not_overflows() {
        let far = Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert_eq!(micros_of(&far), None);
        let bad_nanos = Timestamp {
            seconds: 1,
            nanos: -1,
        };
        assert_eq!(micros_of(&bad_nanos), None);
        let mut v = Violations::new();
        assert_eq!(optional_micros(Some(&far), "t", &mut v), None);
        assert_eq!(optional_micros(None, "u", &mut v), None);
        assert_eq!(v.iter().map(|(f, _)| f).collect::<Vec<_>>(), ["t"]);
    }

    #[test]
    fn periods_are_required_ordered_and_bounded() {
        let at = |s: i64| {
            Some(Timestamp {
                seconds: s,
                nanos: 0,
            })
        };
        let mut v = Violations::new();
        assert_eq!(
            period(at(0).as_ref(), at(60).as_ref(), &mut v),
            Some((0, 60_000_000))
        );
        assert!(v.is_empty());
        assert_eq!(period(None, at(60).as_ref(), &mut v), None);
        assert_eq!(period(at(60).as_ref(), at(60).as_ref(), &mut v), None);
        assert_eq!(
            period(at(0).as_ref(), at(367 * 86_400).as_ref(), &mut v),
            None
        );
        assert_eq!(v.iter().count(), 3);
    }
}
