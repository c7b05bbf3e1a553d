//! Bad HTTP/2 and bad gRPC from clients: clean errors, and the gateway stays up.

use std::time::Duration;

use kefu_principal::{InternalKey, Principal, Role};

use crate::helpers::*;
use crate::support::gateway;

/// The grpc-status of a response, from its headers (trailers-only) or its trailers.
async fn grpc_status(response: h2::client::ResponseFuture) -> String {
    let response = response.await.unwrap();
    if let Some(status) = response.headers().get("grpc-status") {
        return status.to_str().unwrap().to_owned();
    }
    let mut body = response.into_body();
    while let Some(data) = body.data().await {
        data.unwrap();
    }
    let trailers = body.trailers().await.unwrap().unwrap();
    trailers
        .get("grpc-status")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

/// Reads until the peer closes; fails the test if it keeps the connection open.
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the gateway kept a broken connection open");
    received
}

/// The frame types in a run of HTTP/2 frames.
fn frame_types(mut bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    while bytes.len() >= 9 {
        let length = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]) as usize;
        types.push(bytes[3]);
        bytes = &bytes[(9 + length).min(bytes.len())..];
    }
    types
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_and_garbage_headers_get_clean_errors_and_the_gateway_stays_up() {
    use tokio::io::AsyncWriteExt;
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let gw = gateway(&key, upstream(&backend), |_| {}).await;
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;

    // Not HTTP/2 at all: the connection is closed.
    let mut http1 = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    http1
        .write_all(b"GET / HTTP/1.1\r\nHost: kefu\r\n\r\n")
        .await
        .unwrap();
    read_until_closed(&mut http1).await;

    // A valid preface, then a SETTINGS frame of 5 bytes (it must be a multiple of 6): GOAWAY.
    let mut broken = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    broken
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    broken
        .write_all(&[0, 0, 5, 0x4, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5])
        .await
        .unwrap();
    let answer = read_until_closed(&mut broken).await;
    assert!(
        frame_types(&answer).contains(&0x7),
        "no GOAWAY in {answer:?}"
    );

    // Garbage in well-formed frames: each call gets a gRPC status, the connection lives on.
    let stream = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let (sender, connection) = h2::client::handshake(stream).await.unwrap();
    tokio::spawn(connection);
    let call = |path: &str, headers: &[(&str, &[u8])]| {
        let mut request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}{path}", gw.addr))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        for (name, value) in headers {
            request = request.header(*name, http::HeaderValue::from_bytes(value).unwrap());
        }
        let sender = sender.clone();
        let request = request.body(()).unwrap();
        async move {
            let mut sender = sender.ready().await.unwrap();
            let (response, mut body) = sender.send_request(request, false).unwrap();
            // One empty gRPC message: a valid request for any method whose fields are optional.
            // A call refused on its headers may be answered (and its stream closed) before the
            // body is sent; the answer is what counts.
            let _ = body.send_data(bytes::Bytes::from_static(&[0; 5]), true);
            grpc_status(response).await
        }
    };
    let bearer = format!("Bearer {admin_key}");
    let get = "/kefu.customers.v1.CustomerService/GetCustomer";
    // Credentials that are not text.
    assert_eq!(
        call(get, &[("authorization", b"Bearer \xff\xfe\x80")]).await,
        "16"
    );
    // A deadline that is not one: INVALID_ARGUMENT, nothing forwarded (the same call with a
    // good deadline succeeds).
    let list = "/kefu.customers.v1.CustomerService/ListCustomers";
    assert_eq!(
        call(
            list,
            &[
                ("authorization", bearer.as_bytes()),
                ("grpc-timeout", b"5S")
            ]
        )
        .await,
        "0"
    );
    for timeout in [&b"banana"[..], b"5", b"123456789S", b"\xff1S"] {
        assert_eq!(
            call(
                list,
                &[
                    ("authorization", bearer.as_bytes()),
                    ("grpc-timeout", timeout)
                ]
            )
            .await,
            "3",
            "grpc-timeout {timeout:?}"
        );
    }
    // Paths that name no kefu method: UNIMPLEMENTED.
    for path in [
        "/",
        "/%ff%fe",
        "/kefu.customers.v1.CustomerService",
        "/kefu.nothing.v1.X/Y",
    ] {
        assert_eq!(
            call(path, &[("authorization", bearer.as_bytes())]).await,
            "12",
            "{path}"
        );
    }

    // A header block far over any sane size (1 MiB): refused, on its own connection, promptly.
    let stream = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let (mut huge_sender, huge_connection) = h2::client::Builder::new()
        .max_send_buffer_size(4 * 1024 * 1024)
        .handshake::<_, bytes::Bytes>(stream)
        .await
        .unwrap();
    tokio::spawn(huge_connection);
    let request = http::Request::builder()
        .method("POST")
        .uri(format!(
            "http://{}/kefu.customers.v1.CustomerService/ListCustomers",
            gw.addr
        ))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", bearer.as_str())
        .header("x-padding", "p".repeat(1024 * 1024))
        .body(())
        .unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(5), async {
        let (response, mut body) = huge_sender.send_request(request, false)?;
        body.send_data(bytes::Bytes::from_static(&[0; 5]), true)?;
        let response = response.await?;
        Ok::<_, h2::Error>((
            response.status(),
            response.headers().get("grpc-status").cloned(),
        ))
    })
    .await
    .expect("an oversized header block got no answer");
    assert!(
        !matches!(&outcome, Ok((status, Some(code))) if *status == 200 && code == "0"),
        "an oversized header block was served: {outcome:?}"
    );

    // The gateway still serves well-formed calls, on a new connection and on the same one.
    let mut client = Customers::new(gw.channel().await);
    list_as(&mut client, &admin_key).await.unwrap();
    assert_eq!(
        call(
            "/kefu.customers.v1.CustomerService/ListCustomers",
            &[("authorization", bearer.as_bytes())]
        )
        .await,
        "0"
    );
}
