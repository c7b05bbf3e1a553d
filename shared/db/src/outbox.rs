//! The transactional outbox: a service writes its event row in the same transaction as the change
//! it describes, so an event exists if and only if the change committed. `WatchEvents` tails the
//! table by position. kefu-db's own migration creates the table.
//!
//! Ordering: on PostgreSQL, sequence values are handed out at insert time but transactions commit in
//! any order, so a reader could see seq 12 before seq 11 commits and then skip 11 forever. [`append`]
//! takes a transaction-scoped advisory lock first, so events commit in sequence order. SQLite has one
//! writer at a time and needs nothing.

use std::fmt;
use std::time::Duration;

use sqlx::{Any, Row, Transaction};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::{Database, DbError, Dialect};

/// The advisory lock key that serializes outbox appends on PostgreSQL ("kefu" in ASCII).
const OUTBOX_LOCK_KEY: i64 = 0x6b65_6675;
/// Events read per query while catching up.
const BATCH: i64 = 256;
/// How often a caught-up watcher re-reads the table anyway: writes by other replicas of the
/// service do not reach this process's [`OutboxSignal`].
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// A place in the stream: every event after it is still to come. Opaque to clients, who only
/// send back the cursor of the last event they handled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    seq: i64,
}

/// A cursor this stream did not hand out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a cursor returned by WatchEvents")]
pub struct BadCursor;

impl Position {
    /// Before the first event.
    pub const START: Position = Position { seq: 0 };

    /// Parses a cursor; empty means [`Position::START`].
    pub fn parse(cursor: &str) -> Result<Self, BadCursor> {
        if cursor.is_empty() {
            return Ok(Self::START);
        }
        match cursor.parse::<i64>() {
            Ok(seq) if seq >= 0 && !cursor.starts_with('+') => Ok(Self { seq }),
            _ => Err(BadCursor),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.seq)
    }
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Where it stands in the stream; its cursor.
    pub position: Position,
    /// The service's name for the event type.
    pub event_type: String,
    /// The resource that changed.
    pub resource: String,
    /// The customer or ticket concerned, if any.
    pub subject: Option<String>,
    /// The encoded proto event.
    pub payload: Vec<u8>,
    /// Commit time, UTC microseconds.
    pub event_time: i64,
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// The service's name for the event type.
    pub event_type: &'a str,
    /// The resource that changed.
    pub resource: &'a str,
    /// The customer or ticket concerned, if any.
    pub subject: Option<&'a str>,
    /// The encoded proto event.
    pub payload: Vec<u8>,
    /// Event time, UTC microseconds.
    pub event_time: i64,
}

/// Appends an event inside the caller's transaction: it commits or rolls back with the change.
pub(crate) async fn append(
    tx: &mut Transaction<'static, Any>,
    dialect: Dialect,
    event: NewEvent<'_>,
) -> Result<(), DbError> {
    if dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(OUTBOX_LOCK_KEY)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO events (event_type, resource, subject, payload, event_time) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(event.event_type)
    .bind(event.resource)
    .bind(event.subject)
    .bind(event.payload)
    .bind(event.event_time)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Up to `limit` events after `after`, in order.
pub async fn read_after(
    db: &Database,
    after: Position,
    limit: i64,
) -> Result<Vec<StoredEvent>, DbError> {
    let rows = sqlx::query(
        "SELECT seq, event_type, resource, subject, payload, event_time FROM events \
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after.seq)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(decode).collect()
}

/// Every event about one subject, oldest first (for exports and audits).
pub async fn read_subject(db: &Database, subject: &str) -> Result<Vec<StoredEvent>, DbError> {
    let rows = sqlx::query(
        "SELECT seq, event_type, resource, subject, payload, event_time FROM events \
         WHERE subject = $1 ORDER BY seq",
    )
    .bind(subject)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(decode).collect()
}

fn decode(row: &sqlx::any::AnyRow) -> Result<StoredEvent, DbError> {
    Ok(StoredEvent {
        position: Position {
            seq: row.try_get("seq")?,
        },
        event_type: row.try_get("event_type")?,
        resource: row.try_get("resource")?,
        subject: row.try_get("subject")?,
        payload: row.try_get("payload")?,
        event_time: row.try_get("event_time")?,
    })
}

/// Wakes this process's watchers after a commit, so they do not wait for the next poll.
#[derive(Debug, Clone)]
pub struct OutboxSignal {
    sender: watch::Sender<u64>,
}

impl Default for OutboxSignal {
    fn default() -> Self {
        Self {
            sender: watch::channel(0).0,
        }
    }
}

impl OutboxSignal {
    /// Tells watchers that new events have committed.
    pub fn notify(&self) {
        self.sender
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.sender.subscribe()
    }
}

/// Streams every event after `after`, in order, then follows new ones until the receiver is
/// dropped or `cancel` fires (server shutdown). A database error is sent once and ends the stream;
/// the consumer resumes from the last position it saw.
pub fn tail(
    db: Database,
    after: Position,
    cancel: CancellationToken,
) -> mpsc::Receiver<Result<StoredEvent, DbError>> {
    let (sender, receiver) = mpsc::channel(BATCH as usize);
    let mut wake = db.signal().subscribe();
    tokio::spawn(async move {
        let mut cursor = after;
        loop {
            // Mark the current generation seen before reading, so a commit that lands during
            // the read still wakes the next wait.
            wake.borrow_and_update();
            let batch = match read_after(&db, cursor, BATCH).await {
                Ok(batch) => batch,
                Err(error) => {
                    let _ = sender.send(Err(error)).await;
                    return;
                }
            };
            let caught_up = (batch.len() as i64) < BATCH;
            for event in batch {
                cursor = event.position;
                tokio::select! {
                    sent = sender.send(Ok(event)) => if sent.is_err() { return },
                    () = cancel.cancelled() => return,
                }
            }
            if caught_up {
                tokio::select! {
                    _ = wake.changed() => {}
                    () = tokio::time::sleep(POLL_INTERVAL) => {}
                    () = sender.closed() => return,
                    () = cancel.cancelled() => return,
                }
            }
        }
    });
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_what_the_stream_never_gave() {
        assert_eq!(Position::parse(""), Ok(Position::START));
        assert_eq!(
            Position::parse("42").map(|p| p.to_string()),
            Ok("42".to_owned())
        );
        for bad in ["-1", "abc", "+3", "1.5", "99999999999999999999"] {
            assert_eq!(Position::parse(bad), Err(BadCursor), "{bad}");
        }
    }
}
