//! Streaming through the gateway: event streams and messages far larger than the flow-control windows.

use std::time::Duration;

use kefu_principal::{InternalKey, Principal, Role};
use kefu_proto::customers::v1 as cpb;

use crate::helpers::*;
use crate::support::{gateway, serve_fake, with_bearer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_flow_through_the_gateway() {
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let (_gw, mut client, admin_key, mut stream) = watching(&key, upstream(&backend)).await;
    for i in 0..3 {
        create_customer(&mut client, &admin_key, &format!("Streamed {i}")).await;
    }
    let mut cursors = Vec::new();
    while cursors.len() < 3 {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await
            .expect("event in time")
            .unwrap()
            .unwrap()
            .event
            .unwrap();
        cursors.push(event.cursor);
    }
    // A new stream (a reconnect) resumes after the first event's cursor.
    let mut resumed = client
        .watch_events(with_bearer(
            cpb::WatchEventsRequest {
                after_cursor: cursors[0].clone(),
            },
            &admin_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let next = resumed.message().await.unwrap().unwrap().event.unwrap();
    assert_eq!(next.cursor, cursors[1]);
}

/// A gateway in front of `upstreams`, a client of it with an admin's key, and a WatchEvents
/// stream from the start opened through it.
async fn watching(
    key: &InternalKey,
    upstreams: std::collections::HashMap<String, Vec<String>>,
) -> (
    crate::support::Gateway,
    Customers,
    String,
    tonic::Streaming<cpb::WatchEventsResponse>,
) {
    let gw = gateway(key, upstreams, |_| {}).await;
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    let mut client = Customers::new(gw.channel().await);
    let stream = client
        .watch_events(with_bearer(cpb::WatchEventsRequest::default(), &admin_key))
        .await
        .unwrap()
        .into_inner();
    (gw, client, admin_key, stream)
}

/// A stand-in upstream that answers every call by streaming the request's bytes back as they
/// arrive (a bounded queue between the two, so a slow reader slows the writer), then `grpc-status`
/// 0; health checks say SERVING.
async fn echo_replica() -> std::net::SocketAddr {
    use http_body_util::BodyExt;
    serve_fake(|request| async move {
        if request.uri().path() == "/grpc.health.v1.Health/Check" {
            return health_response(true);
        }
        let (queue, mut queued) = tokio::sync::mpsc::channel(4);
        let mut incoming = request.into_body();
        tokio::spawn(async move {
            while let Some(Ok(frame)) = incoming.frame().await {
                if let Ok(data) = frame.into_data()
                    && queue.send(hyper::body::Frame::data(data)).await.is_err()
                {
                    return;
                }
            }
            let mut trailers = http::HeaderMap::new();
            trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
            let _ = queue.send(hyper::body::Frame::trailers(trailers)).await;
        });
        let frames = futures::stream::poll_fn(move |cx| {
            queued
                .poll_recv(cx)
                .map(|frame| frame.map(Ok::<_, std::convert::Infallible>))
        });
        grpc_response(http_body_util::StreamBody::new(frames))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_failing_mid_stream_ends_the_stream_unavailable() {
    use prost::Message;
    // A customers replica that sends one event, then resets the stream as a killed one does,
    // once the test has seen that event.
    let kill = std::sync::Arc::new(tokio::sync::Notify::new());
    let killed = kill.clone();
    let replica = serve_fake(move |request| {
        let killed = killed.clone();
        async move {
            if request.uri().path() == "/grpc.health.v1.Health/Check" {
                return health_response(true);
            }
            let event = cpb::WatchEventsResponse::default().encode_to_vec();
            let first = futures::stream::iter([Ok(hyper::body::Frame::data(grpc_frame(&event)))]);
            let then_broken = futures::stream::once(async move {
                killed.notified().await;
                Err(std::io::Error::other("replica killed"))
            });
            grpc_response(http_body_util::StreamBody::new(futures::StreamExt::chain(
                first,
                then_broken,
            )))
        }
    })
    .await;
    let key = InternalKey::generate();
    let upstreams = crate::support::upstream_at(replica.to_string());
    let (_gw, _client, _admin_key, mut stream) = watching(&key, upstreams).await;
    assert!(
        stream.message().await.unwrap().is_some(),
        "the first event arrives"
    );
    kill.notify_one();
    let ended = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("the stream ends in time");
    let status = ended.expect_err("the stream fails");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_far_larger_than_the_flow_control_windows_pass_both_ways() {
    use http_body_util::BodyExt;
    let key = InternalKey::generate();
    let echo = echo_replica().await;
    let upstreams = [("echo".to_owned(), vec![echo.to_string()])]
        .into_iter()
        .collect();
    let gw = gateway(&key, upstreams, |_| {}).await;
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;

    // 160 gRPC messages of 64 KiB: 10 MiB, five times the gateway's per-stream receive window
    // and twice its connection window, each message filled with its own byte.
    const MESSAGES: usize = 160;
    const SIZE: usize = 64 * 1024;
    let message = |i: usize| {
        let mut framed = Vec::with_capacity(SIZE + 5);
        framed.push(0);
        framed.extend_from_slice(&(SIZE as u32).to_be_bytes());
        framed.resize(SIZE + 5, (i % 251) as u8);
        bytes::Bytes::from(framed)
    };
    let sent: Vec<u8> = (0..MESSAGES).flat_map(|i| message(i).to_vec()).collect();
    let frames = futures::stream::iter(
        (0..MESSAGES)
            .map(move |i| Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(message(i)))),
    );
    let stream = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/kefu.echo.v1.EchoService/Echo", gw.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", format!("Bearer {admin_key}"))
        .body(http_body_util::StreamBody::new(frames))
        .unwrap();
    let exchange = async {
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        let mut received = Vec::with_capacity(sent.len());
        let mut status = None;
        while let Some(frame) = body.frame().await {
            let frame = frame.unwrap();
            if let Some(data) = frame.data_ref() {
                received.extend_from_slice(data);
            } else if let Some(trailers) = frame.trailers_ref() {
                status = trailers.get("grpc-status").cloned();
            }
        }
        (received, status)
    };
    let (received, status) = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .expect("the exchange stalled");
    assert_eq!(status.as_ref().map(|s| s.as_bytes()), Some(&b"0"[..]));
    assert_eq!(received.len(), sent.len());
    assert!(received == sent, "the echoed bytes differ from those sent");
}
