//! A request body that passes gRPC messages through untouched while reading only their 5-byte
//! length prefixes, and fails the stream at the first message over the cap: the gateway enforces
//! a message size limit without decoding a single message.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Buf;
use hyper::body::{Body, Frame, SizeHint};

use crate::replay::Attempt;

/// Why a body was cut.
#[derive(Debug, thiserror::Error)]
#[error("a request message of {size} bytes exceeds the gateway's limit of {limit} bytes")]
pub struct TooLarge {
    /// The declared message size.
    pub size: u64,
    /// The cap.
    pub limit: u64,
}

/// Where the reader is in the gRPC framing: a 5-byte prefix (flag, big-endian length), then the
/// message.
#[derive(Debug, Clone)]
pub struct Framing {
    limit: u64,
    header: [u8; 5],
    header_len: usize,
    payload_left: u64,
}

impl Framing {
    /// At the start of a stream, refusing messages over `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            limit: limit as u64,
            header: [0; 5],
            header_len: 0,
            payload_left: 0,
        }
    }

    /// Follows the framing through one chunk; `Err` at an oversized message.
    pub fn scan(&mut self, mut chunk: &[u8]) -> Result<(), TooLarge> {
        while !chunk.is_empty() {
            if self.payload_left > 0 {
                let take = usize::try_from(self.payload_left)
                    .unwrap_or(usize::MAX)
                    .min(chunk.len());
                self.payload_left -= take as u64;
                chunk.advance(take);
                continue;
            }
            let take = (5 - self.header_len).min(chunk.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&chunk[..take]);
            self.header_len += take;
            chunk.advance(take);
            if self.header_len == 5 {
                let size = u64::from(u32::from_be_bytes([
                    self.header[1],
                    self.header[2],
                    self.header[3],
                    self.header[4],
                ]));
                if size > self.limit {
                    return Err(TooLarge {
                        size,
                        limit: self.limit,
                    });
                }
                self.payload_left = size;
                self.header_len = 0;
            }
        }
        Ok(())
    }
}

/// The request body as forwarded upstream.
pub struct Limited {
    inner: Attempt,
    framing: Framing,
    /// Set when the cap was hit, so the caller can answer RESOURCE_EXHAUSTED.
    tripped: Arc<AtomicBool>,
}

impl Limited {
    /// Wraps `inner`; `tripped` turns true if a message is over `limit` bytes.
    pub fn new(inner: Attempt, limit: usize, tripped: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            framing: Framing::new(limit),
            tripped,
        }
    }
}

impl Body for Limited {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let data = data.clone();
                    if let Err(error) = self.framing.scan(&data) {
                        self.tripped.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(Box::new(error))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(Box::new(error)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn frame(len: u32) -> Vec<u8> {
        let mut out = vec![0];
        out.extend_from_slice(&len.to_be_bytes());
        out.extend(std::iter::repeat_n(7_u8, len as usize));
        out
    }

    #[test]
    fn messages_under_the_cap_pass_in_any_chunking() {
        let stream: Vec<u8> = [frame(10), frame(0), frame(100)].concat();
        for chunk_size in [1, 2, 4, 5, 6, 7, 64, 1000] {
            let mut framing = Framing::new(100);
            for chunk in stream.chunks(chunk_size) {
                assert!(framing.scan(chunk).is_ok(), "chunks of {chunk_size}");
            }
        }
    }

    #[test]
    fn the_first_message_over_the_cap_fails_from_its_prefix() {
        let mut framing = Framing::new(100);
        assert!(framing.scan(&frame(50)).is_ok());
        let big = frame(101);
        // Only the prefix is needed to refuse it.
        let error = framing.scan(&big[..5]).unwrap_err();
        assert_eq!((error.size, error.limit), (101, 100));
    }
}
