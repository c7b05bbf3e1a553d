//! The server side of every service's `WatchEvents`: a client's cursor in, the stored outbox
//! events decoded into the service's own event message out, each carrying its cursor.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use kefu_db::Database;
use kefu_db::Write;
use kefu_db::outbox::{self, Position, StoredEvent};
use kefu_principal::Principal;
use kefu_proto::{OutboxEvent, WatchResponse};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::api::Rpc;
use crate::{ServiceError, Violations, principal_of};

/// A `WatchEvents` response stream.
pub type EventStream<R> = Pin<Box<dyn Stream<Item = Result<R, Status>> + Send + 'static>>;

/// What a service's `WatchEvents` serves from: its database and the shutdown that ends open
/// streams. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventFeed {
    db: Database,
    shutdown: CancellationToken,
}

impl EventFeed {
    /// Serves the events of `db` until `shutdown`.
    pub fn new(db: Database, shutdown: CancellationToken) -> Self {
        Self { db, shutdown }
    }

    /// Serves a `WatchEvents` call: the caller must pass `allow`, then gets [`EventFeed::watch`]
    /// from the request's cursor.
    pub fn serve<R: WatchResponse>(
        &self,
        request: &Request<R::Request>,
        allow: impl FnOnce(&Principal) -> Result<(), Status>,
    ) -> Rpc<EventStream<R>> {
        allow(&principal_of(request)?)?;
        let stream = self.watch(R::after_cursor(request.get_ref()))?;
        Ok(Response::new(stream))
    }

    /// Every committed event after `after_cursor` (empty: from the first), then new ones as they
    /// commit, until the client goes or the server shuts down. A database failure ends the
    /// stream with a retryable status; the client resumes from the last cursor it saw.
    pub fn watch<R: WatchResponse>(
        &self,
        after_cursor: &str,
    ) -> Result<EventStream<R>, ServiceError> {
        let after = Position::parse(after_cursor).map_err(|error| {
            let mut v = Violations::new();
            v.add("after_cursor", error.to_string());
            ServiceError::Invalid(v)
        })?;
        let receiver = outbox::tail(self.db.clone(), after, self.shutdown.clone());
        let stream = ReceiverStream::new(receiver).filter_map(|item| async move {
            match item {
                Ok(stored) => respond::<R>(&stored).map(Ok),
                Err(error) => Some(Err(Status::from(ServiceError::from(error)))),
            }
        });
        Ok(Box::pin(stream))
    }
}

/// The response for a stored event; `None` (logged) for a payload that does not decode.
fn respond<R: WatchResponse>(stored: &StoredEvent) -> Option<R> {
    match <R::Event as prost::Message>::decode(stored.payload.as_slice()) {
        Ok(event) => Some(R::from_event(event, stored.position.to_string())),
        Err(error) => {
            tracing::error!(cursor = %stored.position, %error, "undecodable event in the outbox");
            None
        }
    }
}

/// Decodes a stored event as `E` with its cursor set, for exports and audits that read the
/// outbox directly; `None` (logged) if it does not decode.
pub fn decode<R: WatchResponse>(stored: &StoredEvent) -> Option<R::Event> {
    respond::<R>(stored).and_then(|response| response.into_event().map(|(_, event)| event))
}

/// Appends `event` to the outbox in `tx`, at `now`; `subject` is the customer or ticket it
/// concerns, for exports and audits.
pub async fn append(
    tx: &mut Write,
    event: &impl OutboxEvent,
    subject: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    tx.emit(event.type_name(), event.resource(), subject, event, now)
        .await?;
    Ok(())
}
