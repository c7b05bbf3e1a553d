//! Timestamps: UTC microseconds since the Unix epoch, stored as BIGINT on both databases so the
//! same query text sorts and compares them on SQLite and PostgreSQL.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in microseconds since the Unix epoch (UTC).
pub fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
