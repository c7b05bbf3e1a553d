//! The one loop every service uses to follow another service's event stream: resume from the
//! stored cursor, hand each event to the handler, store where it got to, and reconnect with a
//! backoff when the stream breaks, until the service shuts down.
//!
//! Delivery is at least once: a handler stores the cursor in the same transaction as its effects
//! ([`Delivery::ack`]), so a restart resumes right after the last event it applied, and an event
//! seen again after a crash is applied again only if the handler is not idempotent (they all are).

use std::future::Future;
use std::time::Duration;

use kefu_db::{Database, Write, cursors};
use kefu_proto::WatchResponse;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::ServiceError;
use crate::clock::Clock;

/// The first pause after a broken stream; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(200);
/// The longest pause between reconnections.
const MAX_PAUSE: Duration = Duration::from_secs(10);
/// A stream that ran this long was healthy: the pauses start over.
const HEALTHY_RUN: Duration = Duration::from_secs(10);
/// Cursors of events the handler ignored are stored after this many, or when the stream idles.
const IGNORED_PER_WRITE: usize = 256;
/// How long the stream may idle before the cursor of ignored events is stored.
const IDLE_FLUSH: Duration = Duration::from_secs(1);

/// One event of another service's stream, handed to a handler.
#[derive(Debug, Clone)]
pub struct Delivery<E> {
    /// The stream it came from, the key its cursor is stored under.
    pub source: &'static str,
    /// Where to resume after it.
    pub cursor: String,
    /// The event.
    pub event: E,
}

impl<E> Delivery<E> {
    /// Records in `tx` that this event was handled, so a restart resumes after it.
    pub async fn ack(&self, tx: &mut Write, now: i64) -> Result<(), ServiceError> {
        cursors::set(tx, self.source, &self.cursor, now).await?;
        Ok(())
    }
}

/// What a handler did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// It applied the effects and stored the cursor with them ([`Delivery::ack`]).
    Acked,
    /// Nothing to do: the loop stores the cursor itself, a few events at a time.
    Ignored,
}

/// A consumer of one event stream.
#[derive(Debug, Clone)]
pub struct Follower {
    /// The stream's name, the key its cursor is stored under (`customers`, `tickets`, …).
    pub source: &'static str,
    /// Where the cursor is stored.
    pub db: Database,
    /// Time for the cursor rows.
    pub clock: Clock,
    /// Ends the loop.
    pub stop: CancellationToken,
}

impl Follower {
    /// Follows the stream until `stop`: `open(cursor)` opens it after a cursor (empty: from the
    /// start), `handle` handles each event in order. A handler error or a broken stream resumes
    /// from the stored cursor after a pause.
    pub async fn run<R, Open, OpenFuture, Handle, HandleFuture>(
        self,
        mut open: Open,
        mut handle: Handle,
    ) where
        R: WatchResponse,
        Open: FnMut(String) -> OpenFuture,
        OpenFuture: Future<Output = Result<tonic::Streaming<R>, Status>>,
        Handle: FnMut(Delivery<R::Event>) -> HandleFuture,
        HandleFuture: Future<Output = Result<Handled, ServiceError>>,
    {
        let mut pause = FIRST_PAUSE;
        loop {
            let started = Instant::now();
            let outcome = tokio::select! {
                () = self.stop.cancelled() => return,
                outcome = self.follow_once(&mut open, &mut handle) => outcome,
            };
            match outcome {
                Ok(()) => return,
                Err(error) => {
                    if started.elapsed() > HEALTHY_RUN {
                        pause = FIRST_PAUSE;
                    }
                    tracing::warn!(stream = self.source, %error, retry_in_ms = pause.as_millis() as u64, "event stream interrupted");
                }
            }
            tokio::select! {
                () = self.stop.cancelled() => return,
                () = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }

    /// One connection: `Ok` when stopped, `Err` when the stream or the handler failed.
    async fn follow_once<R, Open, OpenFuture, Handle, HandleFuture>(
        &self,
        open: &mut Open,
        handle: &mut Handle,
    ) -> Result<(), String>
    where
        R: WatchResponse,
        Open: FnMut(String) -> OpenFuture,
        OpenFuture: Future<Output = Result<tonic::Streaming<R>, Status>>,
        Handle: FnMut(Delivery<R::Event>) -> HandleFuture,
        HandleFuture: Future<Output = Result<Handled, ServiceError>>,
    {
        let cursor = self.stored_cursor().await.map_err(|e| e.to_string())?;
        let mut stream = open(cursor)
            .await
            .map_err(|status| format!("{:?}: {}", status.code(), status.message()))?;
        let mut ignored: Option<String> = None;
        let mut ignored_count = 0;
        loop {
            let next = tokio::select! {
                () = self.stop.cancelled() => {
                    self.store_ignored(&mut ignored, &mut ignored_count).await;
                    return Ok(());
                }
                () = tokio::time::sleep(IDLE_FLUSH), if ignored.is_some() => {
                    self.store_ignored(&mut ignored, &mut ignored_count).await;
                    continue;
                }
                next = stream.message() => next,
            };
            let message = next
                .map_err(|status| format!("{:?}: {}", status.code(), status.message()))?
                .ok_or_else(|| "stream ended".to_owned())?;
            let Some((cursor, event)) = message.into_event() else {
                continue;
            };
            let delivery = Delivery {
                source: self.source,
                cursor: cursor.clone(),
                event,
            };
            match handle(delivery).await.map_err(|e| e.to_string())? {
                Handled::Acked => {
                    ignored = None;
                    ignored_count = 0;
                }
                Handled::Ignored => {
                    ignored = Some(cursor);
                    ignored_count += 1;
                    if ignored_count >= IGNORED_PER_WRITE {
                        self.store_ignored(&mut ignored, &mut ignored_count).await;
                    }
                }
            }
        }
    }

    async fn stored_cursor(&self) -> Result<String, kefu_db::DbError> {
        let mut conn = self.db.read().await?;
        Ok(cursors::get(&mut conn, self.source)
            .await?
            .unwrap_or_default())
    }

    /// Stores the cursor of the last ignored events. A failure only means they are seen again.
    async fn store_ignored(&self, ignored: &mut Option<String>, count: &mut usize) {
        let Some(cursor) = ignored.take() else { return };
        *count = 0;
        let stored = async {
            let mut conn = self.db.read().await?;
            cursors::set(&mut conn, self.source, &cursor, self.clock.now_micros()).await?;
            Ok::<(), kefu_db::DbError>(())
        };
        if let Err(error) = stored.await {
            tracing::debug!(stream = self.source, %error, "cursor of ignored events not stored; they will be seen again");
        }
    }
}
