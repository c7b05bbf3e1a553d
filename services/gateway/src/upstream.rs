//! One HTTP/2 connection to a replica, driven with `h2` directly: the calling task opens the
//! stream, hands over the request bytes it already holds and waits for the answer itself, so a
//! unary call's HEADERS and DATA leave in one write and no task sits between the caller and the
//! connection. (hyper's client adds a dispatch task, a response task and, since `h2` opens streams
//! in the connection task, a body task per call, and flushes HEADERS before DATA.)

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use h2::client::SendRequest;
use h2::{Ping, RecvStream, SendStream};
use http::HeaderMap;
use hyper::body::{Body, Frame, SizeHint};
use tokio_util::sync::{CancellationToken, DropGuard};
use tonic::Status;

/// Receive window per stream, as hyper's client sets it.
const STREAM_WINDOW: u32 = 2 * 1024 * 1024;
/// Receive window for the whole connection, as hyper's client sets it.
const CONNECTION_WINDOW: u32 = 5 * 1024 * 1024;
/// How often an idle-or-not connection is pinged, so a silently dead peer is noticed.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// How long a ping may go unanswered before the connection counts as dead.
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// An open connection: clone its sender per call.
#[derive(Debug, Clone)]
pub struct Connection {
    sender: SendRequest<Bytes>,
    closed: Arc<AtomicBool>,
}

impl Connection {
    /// HTTP/2 handshake over `stream`; the connection is driven by a task of its own from here,
    /// on the calling thread's runtime.
    pub async fn handshake(
        stream: tokio::net::TcpStream,
        address: &str,
    ) -> Result<Self, h2::Error> {
        let (sender, mut connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .enable_push(false)
            .handshake::<_, Bytes>(stream)
            .await?;
        let closed = Arc::new(AtomicBool::new(false));
        let ping_pong = connection.ping_pong();
        let address = address.to_owned();
        // Set when the task ends, or is dropped with its runtime (a worker thread stopping).
        let ended = MarkClosed(closed.clone());
        tokio::spawn(async move {
            let _ended = ended;
            let keep_alive = async move {
                let Some(mut ping_pong) = ping_pong else {
                    return std::future::pending().await;
                };
                loop {
                    tokio::time::sleep(KEEP_ALIVE_INTERVAL).await;
                    match tokio::time::timeout(KEEP_ALIVE_TIMEOUT, ping_pong.ping(Ping::opaque()))
                        .await
                    {
                        Ok(Ok(_pong)) => {}
                        Ok(Err(error)) => return error.to_string(),
                        Err(_) => return "keep-alive ping unanswered".to_owned(),
                    }
                }
            };
            tokio::select! {
                result = &mut connection => {
                    if let Err(error) = result {
                        tracing::debug!(upstream = %address, %error, "upstream connection ended");
                    }
                }
                reason = keep_alive => {
                    tracing::warn!(upstream = %address, %reason, "upstream connection dropped");
                }
            }
        });
        Ok(Self { sender, closed })
    }

    /// Whether the connection has ended (closed by either side or failed).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// A sender for one call.
    pub fn sender(&self) -> SendRequest<Bytes> {
        self.sender.clone()
    }
}

/// Marks a connection closed when dropped.
struct MarkClosed(Arc<AtomicBool>);

impl Drop for MarkClosed {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Why a request body stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum PumpError {
    /// Reading the caller's body failed (it reset the call, or a message was over the cap).
    #[error("reading the request body failed: {0}")]
    Body(Box<dyn std::error::Error + Send + Sync>),
    /// The upstream reset the stream or the connection failed.
    #[error("sending to the upstream failed: {0}")]
    Send(#[from] h2::Error),
    /// The call was given up (the caller went away or the answer is complete).
    #[error("the call was given up")]
    Cancelled,
}

/// Copies `body` into `stream`: each chunk is handed to `h2` as it arrives and the next is read
/// only once the stream has send capacity again, so a slow upstream slows the caller instead of
/// filling memory. The first chunk is handed over at once (it is already in memory), which is
/// what lets HEADERS and DATA of a unary call leave together.
pub async fn pump<B>(
    mut body: B,
    mut stream: SendStream<Bytes>,
    cancel: CancellationToken,
) -> Result<(), PumpError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let result = copy(&mut body, &mut stream, &cancel).await;
    if let Err(error) = &result {
        // The upstream must not act on a call that was cut short.
        if !matches!(error, PumpError::Send(_)) {
            stream.send_reset(h2::Reason::CANCEL);
        }
    }
    result
}

async fn copy<B>(
    body: &mut B,
    stream: &mut SendStream<Bytes>,
    cancel: &CancellationToken,
) -> Result<(), PumpError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut first = true;
    loop {
        let frame = poll_fn(|cx| {
            if let Poll::Ready(reset) = stream.poll_reset(cx) {
                return Poll::Ready(Err(match reset {
                    Ok(reason) => PumpError::Send(reason.into()),
                    Err(error) => PumpError::Send(error),
                }));
            }
            Pin::new(&mut *body).poll_frame(cx).map(Ok)
        });
        let frame = tokio::select! {
            biased;
            frame = frame => frame?,
            () = cancel.cancelled() => return Err(PumpError::Cancelled),
        };
        let frame = match frame {
            None => {
                stream.send_data(Bytes::new(), true)?;
                return Ok(());
            }
            Some(Err(error)) => return Err(PumpError::Body(error.into())),
            Some(Ok(frame)) => frame,
        };
        let frame = match frame.into_data() {
            Ok(data) => {
                let end = body.is_end_stream();
                if !first && !data.is_empty() {
                    // Back-pressure: wait until the upstream has room before handing more over.
                    stream.reserve_capacity(1);
                    let room = poll_fn(|cx| stream.poll_capacity(cx));
                    let room = tokio::select! {
                        biased;
                        room = room => room,
                        () = cancel.cancelled() => return Err(PumpError::Cancelled),
                    };
                    match room {
                        Some(Ok(_)) => {}
                        Some(Err(error)) => return Err(error.into()),
                        None => return Err(PumpError::Cancelled),
                    }
                }
                first = false;
                stream.send_data(data, end)?;
                if end {
                    return Ok(());
                }
                continue;
            }
            Err(frame) => frame,
        };
        if let Ok(trailers) = frame.into_trailers() {
            stream.reserve_capacity(0);
            stream.send_trailers(trailers)?;
            return Ok(());
        }
    }
}

/// An upstream's answer as the body of the gateway's response. Received bytes are released back
/// to the upstream's flow-control window as they are passed on. Dropping it cancels the request
/// body still being sent, if any.
///
/// If the upstream's stream breaks after its headers (the replica was killed, its connection
/// reset), the caller gets a proper end — trailers with the gRPC code of what happened — rather
/// than a reset of its own stream, which clients report as `INTERNAL`.
pub struct Answer {
    stream: RecvStream,
    data_done: bool,
    ended: bool,
    _pump: DropGuard,
}

impl Answer {
    /// The body of `stream`; `pump` is cancelled when it is dropped.
    pub fn new(stream: RecvStream, pump: DropGuard) -> Self {
        Self {
            stream,
            data_done: false,
            ended: false,
            _pump: pump,
        }
    }

    fn broken(&mut self, error: &h2::Error) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
        self.ended = true;
        tracing::warn!(%error, "upstream stream broke mid-answer");
        let status = broken_stream_status(error);
        let mut trailers = HeaderMap::new();
        if status.add_header(&mut trailers).is_err() {
            trailers.insert("grpc-status", http::HeaderValue::from_static("14"));
        }
        Poll::Ready(Some(Ok(Frame::trailers(trailers))))
    }
}

/// The status a caller gets when the upstream's stream broke mid-answer (gRPC's HTTP/2 error code
/// mapping, except that a reset or lost connection is `UNAVAILABLE`: the replica went away, and
/// the caller may retry or resume).
pub fn broken_stream_status(error: &h2::Error) -> Status {
    let message = "the upstream replica stopped mid-answer";
    match error.reason() {
        Some(h2::Reason::CANCEL) => Status::cancelled(message),
        Some(h2::Reason::ENHANCE_YOUR_CALM) => Status::resource_exhausted(message),
        Some(h2::Reason::INADEQUATE_SECURITY) => Status::permission_denied(message),
        _ => Status::unavailable(message),
    }
}

impl Body for Answer {
    type Data = Bytes;
    type Error = h2::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if !self.data_done {
            match ready!(self.stream.poll_data(cx)) {
                Some(Ok(data)) => {
                    // Only fails once the stream is gone, when there is nothing left to release.
                    let _ = self.stream.flow_control().release_capacity(data.len());
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Some(Err(error)) => return self.broken(&error),
                None => self.data_done = true,
            }
        }
        match ready!(self.stream.poll_trailers(cx)) {
            Ok(Some(trailers)) => {
                self.ended = true;
                Poll::Ready(Some(Ok(Frame::trailers(trailers))))
            }
            Ok(None) => Poll::Ready(None),
            Err(error) => self.broken(&error),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.stream.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// Whether an upstream failure means the call was never processed there, so it may go to another
/// replica: the stream was refused (REFUSED_STREAM) or came after the replica's GOAWAY.
pub fn refused_unprocessed(error: &h2::Error) -> bool {
    error.reason() == Some(h2::Reason::REFUSED_STREAM) || (error.is_go_away() && error.is_remote())
}

/// Headers that are about one HTTP/1 connection and have no place in HTTP/2 (`h2` refuses them).
pub fn strip_connection_headers(headers: &mut HeaderMap) {
    for name in [
        http::header::CONNECTION,
        http::header::TRANSFER_ENCODING,
        http::header::UPGRADE,
    ] {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
    if headers
        .get(http::header::TE)
        .is_some_and(|te| te != "trailers")
    {
        headers.remove(http::header::TE);
    }
}
