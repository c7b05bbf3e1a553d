//! The server side of every service's `WatchEvents`: the cursor a client sends, and the stream
//! of stored outbox events decoded into the service's own event message.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use kefu_db::outbox::{self, OutboxSignal, StoredEvent};
use kefu_db::{Database, DbError};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::Violations;

/// A `WatchEvents` response stream.
pub type EventStream<R> = Pin<Box<dyn Stream<Item = Result<R, Status>> + Send + 'static>>;

/// The sequence number after which to stream: empty starts from the first event.
pub fn parse_cursor(cursor: &str) -> Result<i64, Violations> {
    if cursor.is_empty() {
        return Ok(0);
    }
    match cursor.parse::<i64>() {
        Ok(seq) if seq >= 0 => Ok(seq),
        _ => {
            let mut v = Violations::new();
            v.add("after_cursor", "is not a cursor returned by WatchEvents");
            Err(v)
        }
    }
}

/// Decodes a stored event into the service's message `E`; `None` (logged) if it does not decode.
pub fn decode<E: prost::Message + Default>(stored: &StoredEvent) -> Option<E> {
    match E::decode(stored.payload.as_slice()) {
        Ok(event) => Some(event),
        Err(error) => {
            tracing::error!(seq = stored.seq, %error, "undecodable event in the outbox");
            None
        }
    }
}

/// Every committed event after `after`, then new ones as they commit, until the client goes or
/// `shutdown` fires. `respond` turns a stored event (its payload and sequence number, which is
/// the cursor) into the response message; `map_error` turns a database failure into the status
/// that ends the stream.
pub fn watch<R: Send + 'static>(
    db: Database,
    after: i64,
    signal: &OutboxSignal,
    shutdown: CancellationToken,
    respond: impl Fn(&StoredEvent) -> Option<R> + Send + Sync + 'static,
    map_error: impl Fn(DbError) -> Status + Send + Sync + 'static,
) -> EventStream<R> {
    let receiver = outbox::tail(db, after, signal, shutdown);
    let respond = std::sync::Arc::new(respond);
    let map_error = std::sync::Arc::new(map_error);
    let stream = ReceiverStream::new(receiver).filter_map(move |item| {
        let respond = respond.clone();
        let map_error = map_error.clone();
        async move {
            match item {
                Ok(stored) => respond(&stored).map(Ok),
                Err(error) => Some(Err(map_error(error))),
            }
        }
    });
    Box::pin(stream)
}

/// A proto timestamp from UTC microseconds.
pub fn timestamp(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
    }
}

/// Keeps a consumer of another service's event stream going until `stop`: runs `follow_once`
/// (which resumes from the consumer's stored cursor) and, whenever the stream breaks (the other
/// service restarting, a network fault), tries again after a doubling pause of 200 ms to 10 s.
pub async fn follow_with_retry<F, Fut>(
    stream: &'static str,
    stop: CancellationToken,
    mut follow_once: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    const FIRST_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);
    let mut pause = FIRST_PAUSE;
    loop {
        let started = tokio::time::Instant::now();
        let result = tokio::select! {
            () = stop.cancelled() => return,
            result = follow_once() => result,
        };
        match result {
            Ok(()) => return,
            Err(error) => {
                // A stream that ran for a while was healthy: start the pauses over.
                if started.elapsed() > std::time::Duration::from_secs(10) {
                    pause = FIRST_PAUSE;
                }
                tracing::warn!(stream, %error, retry_in_ms = pause.as_millis() as u64, "event stream interrupted");
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(std::time::Duration::from_secs(10));
    }
}

/// A request made by a service itself (background work, not on a caller's behalf): it carries the
/// service's own principal (role INTEGRATION, id `service`), signed with the internal key and
/// valid for `ttl`.
pub fn as_service<T>(
    key: &kefu_principal::InternalKey,
    service: &str,
    ttl: std::time::Duration,
    message: T,
) -> Result<tonic::Request<T>, String> {
    let mut request = tonic::Request::new(message);
    let token = key.sign(&kefu_principal::Principal::service(service), ttl);
    let value = token
        .parse()
        .map_err(|_| "unusable principal token".to_owned())?;
    request
        .metadata_mut()
        .insert(kefu_principal::PRINCIPAL_HEADER, value);
    crate::outgoing::inject_trace_context(request.metadata_mut());
    Ok(request)
}

/// Hands every message of an open event stream to `handle`, in order, until `stop` (then
/// `Ok`), the stream failing or ending, or `handle` failing (then `Err`, and the consumer
/// resumes from its stored cursor).
pub async fn consume<M, Fut>(
    mut stream: tonic::Streaming<M>,
    stop: &CancellationToken,
    mut handle: impl FnMut(M) -> Fut,
) -> Result<(), String>
where
    Fut: std::future::Future<Output = Result<(), String>>,
{
    loop {
        let next = tokio::select! {
            () = stop.cancelled() => return Ok(()),
            next = stream.message() => next,
        };
        let Some(message) = next.map_err(|s| s.message().to_owned())? else {
            return Err("stream ended".to_owned());
        };
        handle(message).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_sequence_numbers() {
        assert_eq!(parse_cursor(""), Ok(0));
        assert_eq!(parse_cursor("42"), Ok(42));
        assert!(parse_cursor("-1").is_err());
        assert!(parse_cursor("abc").is_err());
    }

    #[test]
    fn timestamps_keep_microseconds_before_1970_too() {
        assert_eq!(
            timestamp(1_500_001),
            prost_types::Timestamp {
                seconds: 1,
                nanos: 500_001_000
            }
        );
        assert_eq!(
            timestamp(-1),
            prost_types::Timestamp {
                seconds: -1,
                nanos: 999_999_000
            }
        );
    }
}
