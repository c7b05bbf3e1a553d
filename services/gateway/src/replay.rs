//! The request body shared by the attempts of one call. What an attempt has sent upstream is kept
//! (up to a cap), so that a call an upstream refused without processing it — a stream past its
//! GOAWAY while it shuts down, or one it reset with REFUSED_STREAM — can go to another replica
//! with the same bytes: gRPC's transparent retry. Nothing is buffered ahead of the upstream;
//! bytes are only kept as they pass.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// Most bytes kept for a retry; a call that sent more is not retried.
pub const REPLAY_CAP: usize = 64 * 1024;

struct Shared<B> {
    inner: Pin<Box<B>>,
    sent: Vec<Bytes>,
    sent_bytes: usize,
    replayable: bool,
}

/// One call's request body, from which each attempt takes its own [`Attempt`].
pub struct Replay<B = Incoming> {
    shared: Arc<Mutex<Shared<B>>>,
}

impl<B> std::fmt::Debug for Replay<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay").finish_non_exhaustive()
    }
}

impl<B> Replay<B> {
    /// Wraps the caller's body.
    pub fn new(inner: B) -> Self {
        Self {
            shared: Arc::new(Mutex::new(Shared {
                inner: Box::pin(inner),
                sent: Vec::new(),
                sent_bytes: 0,
                replayable: true,
            })),
        }
    }

    /// A body for the next attempt: what earlier attempts sent, then the rest of the caller's
    /// body. `None` when earlier attempts sent more than can be replayed.
    pub fn attempt(&self) -> Option<Attempt<B>> {
        let replayable = self.shared.lock().map(|s| s.replayable).unwrap_or(false);
        replayable.then(|| Attempt {
            shared: self.shared.clone(),
            next: 0,
        })
    }
}

/// The body of one attempt.
pub struct Attempt<B = Incoming> {
    shared: Arc<Mutex<Shared<B>>>,
    /// The next kept chunk this attempt has not sent yet.
    next: usize,
}

/// The caller's body failed.
#[derive(Debug, thiserror::Error)]
#[error("reading the request body failed: {0}")]
pub struct BodyError(#[source] Box<dyn std::error::Error + Send + Sync>);

impl<B> Body for Attempt<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let next = self.next;
        let Ok(mut shared) = self.shared.lock() else {
            return Poll::Ready(None);
        };
        if let Some(kept) = shared.sent.get(next).cloned() {
            drop(shared);
            self.next += 1;
            return Poll::Ready(Some(Ok(Frame::data(kept))));
        }
        let polled = shared.inner.as_mut().poll_frame(cx);
        match polled {
            Poll::Ready(Some(Ok(frame))) => {
                match frame.data_ref() {
                    Some(data)
                        if shared.replayable && shared.sent_bytes + data.len() <= REPLAY_CAP =>
                    {
                        shared.sent_bytes += data.len();
                        shared.sent.push(data.clone());
                        drop(shared);
                        self.next += 1;
                    }
                    // Too much to keep, or trailers: this call can no longer be replayed.
                    _ => {
                        shared.replayable = false;
                        shared.sent = Vec::new();
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(BodyError(error.into())))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.shared
            .lock()
            .map(|s| self.next >= s.sent.len() && s.inner.is_end_stream())
            .unwrap_or(true)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::convert::Infallible;

    use http_body_util::{BodyExt, StreamBody};

    use super::*;

    type Frames = futures::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>;

    fn body(chunks: &[&'static [u8]]) -> StreamBody<Frames> {
        let frames: Vec<_> = chunks
            .iter()
            .map(|c| Ok(Frame::data(Bytes::from_static(c))))
            .collect();
        StreamBody::new(futures::stream::iter(frames))
    }

    async fn collect<B>(attempt: Attempt<B>) -> Vec<u8>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        attempt.collect().await.unwrap().to_bytes().to_vec()
    }

    #[tokio::test]
    async fn a_second_attempt_sends_what_the_first_sent_then_the_rest() {
        let replay = Replay::new(body(&[b"hello ", b"wor", b"ld"]));
        let mut first = replay.attempt().unwrap();
        let frame = first.frame().await.unwrap().unwrap();
        assert_eq!(frame.data_ref().unwrap().as_ref(), b"hello ");
        drop(first);
        let second = replay.attempt().unwrap();
        assert_eq!(collect(second).await, b"hello world");
        // And a third sends it all again.
        assert_eq!(collect(replay.attempt().unwrap()).await, b"hello world");
    }

    #[tokio::test]
    async fn bodies_over_the_cap_are_not_replayed() {
        static BIG: [u8; REPLAY_CAP + 1] = [7; REPLAY_CAP + 1];
        let replay = Replay::new(body(&[b"small", &BIG]));
        let sent = collect(replay.attempt().unwrap()).await;
        assert_eq!(sent.len(), 5 + BIG.len());
        assert!(replay.attempt().is_none());
    }
}
