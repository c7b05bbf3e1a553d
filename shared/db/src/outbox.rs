//! The transactional outbox: a service writes its event row in the same transaction as the change
//! it describes, so an event exists if and only if the change committed. `WatchEvents` tails the
//! table by position. kefu-db's own migration creates the table.
//!
//! Ordering (docs/decisions/0006-outbox-order.md): on PostgreSQL, sequence values are handed out at
//! insert time but transactions commit in any order, so a reader tailing by `seq` alone could see
//! seq 12 before seq 11 commits and then skip 11 forever. Each event therefore records its writing
//! transaction's id (`xid`, the column's default), the stream is ordered by `(xid, seq)`, and a
//! reader sees only events of transactions older than its snapshot's `xmin`: every such
//! transaction has ended, and every transaction still able to write has a larger xid. Writers
//! take no lock, so they commit in parallel (and share WAL flushes). SQLite runs one write
//! transaction at a time, so `seq` is commit order there and `xid` stays 0.

use std::fmt;
use std::time::Duration;

use sqlx::{Any, Row, Transaction};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::{Database, DbError, Dialect};

/// Events read per query while catching up.
const BATCH: i64 = 256;
/// How often a caught-up watcher re-reads the table anyway: writes by other replicas of the
/// service do not reach this process's [`OutboxSignal`].
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// A place in the stream: every event after it is still to come. Opaque to clients, who only
/// send back the cursor of the last event they handled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// The writing transaction (0 on SQLite and for events written before xids were recorded).
    xid: i64,
    /// The event's sequence number, unique across the table.
    seq: i64,
}

/// A cursor this stream did not hand out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a cursor returned by WatchEvents")]
pub struct BadCursor;

impl Position {
    /// Before the first event.
    pub const START: Position = Position { xid: 0, seq: 0 };

    /// Parses a cursor (`<seq>` or `<xid>-<seq>`, as [`fmt::Display`] writes them); empty means
    /// [`Position::START`].
    pub fn parse(cursor: &str) -> Result<Self, BadCursor> {
        if cursor.is_empty() {
            return Ok(Self::START);
        }
        let number = |text: &str| match text.parse::<i64>() {
            Ok(n) if n >= 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
            _ => Err(BadCursor),
        };
        match cursor.split_once('-') {
            None => Ok(Self {
                xid: 0,
                seq: number(cursor)?,
            }),
            Some((xid, seq)) => {
                let xid = number(xid)?;
                if xid == 0 {
                    // Written as `<seq>`: one spelling per position.
                    return Err(BadCursor);
                }
                Ok(Self {
                    xid,
                    seq: number(seq)?,
                })
            }
        }
    }

    /// A fixed-width text that sorts as positions do, for a consumer that stores how far one
    /// resource's events got in a text column (the empty text sorts before every position).
    pub fn order_key(&self) -> String {
        format!("{:019}{:019}", self.xid, self.seq)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.xid == 0 {
            write!(f, "{}", self.seq)
        } else {
            write!(f, "{}-{}", self.xid, self.seq)
        }
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
    event: NewEvent<'_>,
) -> Result<(), DbError> {
    // `xid` comes from the column's default: the writing transaction's id on PostgreSQL.
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
    let query = match db.dialect() {
        // Only transactions that have ended: none older than the snapshot's xmin is running.
        Dialect::Postgres => {
            "SELECT xid, seq, event_type, resource, subject, payload, event_time FROM events \
             WHERE (xid, seq) > ($1, $2) \
             AND xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
             ORDER BY xid, seq LIMIT $3"
        }
        Dialect::Sqlite => {
            "SELECT xid, seq, event_type, resource, subject, payload, event_time FROM events \
             WHERE (xid, seq) > ($1, $2) ORDER BY xid, seq LIMIT $3"
        }
    };
    let rows = sqlx::query(query)
        .bind(after.xid)
        .bind(after.seq)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(decode).collect()
}

/// Every event about one subject, oldest first (for exports and audits).
pub async fn read_subject(db: &Database, subject: &str) -> Result<Vec<StoredEvent>, DbError> {
    let rows = sqlx::query(
        "SELECT xid, seq, event_type, resource, subject, payload, event_time FROM events \
         WHERE subject = $1 ORDER BY xid, seq",
    )
    .bind(subject)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(decode).collect()
}

fn decode(row: &sqlx::any::AnyRow) -> Result<StoredEvent, DbError> {
    Ok(StoredEvent {
        position: Position {
            xid: row.try_get("xid")?,
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
        for good in ["42", "0", "7301-42", "9223372036854775807-1"] {
            assert_eq!(
                Position::parse(good).map(|p| p.to_string()),
                Ok(good.to_owned())
            );
        }
        for bad in [
            "-1",
            "abc",
            "+3",
            "1.5",
            "99999999999999999999",
            "0-42",
            "5-",
            "-5",
            "5--1",
            "5-+1",
            "5-1-2",
            " 5",
        ] {
            assert_eq!(Position::parse(bad), Err(BadCursor), "{bad}");
        }
    }

    #[test]
    fn order_keys_sort_as_positions_do() {
        let positions: Vec<Position> = ["", "3", "41", "9-1", "9-10", "10-2", "123456-0"]
            .iter()
            .map(|c| Position::parse(c).unwrap_or(Position { xid: -1, seq: -1 }))
            .collect();
        assert!(positions.iter().all(|p| p.xid >= 0), "every cursor parses");
        for pair in positions.windows(2) {
            assert!(pair[0] < pair[1], "{:?}", pair);
            assert!(pair[0].order_key() < pair[1].order_key(), "{:?}", pair);
        }
    }
}
