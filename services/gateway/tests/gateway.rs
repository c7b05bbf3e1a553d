//! The gateway in front of real services: authentication, principal minting, routing,
//! balancing and ejection, rate limits, deadlines, streaming, health and reflection.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

use std::collections::HashMap;
use std::time::Duration;

use kefu_gateway::{Config, RateLimit};
use kefu_principal::{InternalKey, PRINCIPAL_HEADER, Principal, Role};
use kefu_proto::customers::v1 as cpb;
use kefu_testkit::{Backend, TestServer, assert_status};
use tonic::Code;
use tonic::transport::Channel;

mod support;
use support::{gateway, serve_fake, upstream_at, with_bearer};

type Customers = cpb::customer_service_client::CustomerServiceClient<Channel>;

async fn customers(key: &InternalKey) -> TestServer {
    TestServer::service::<kefu_customers::Customers>(Backend::Sqlite, key, ())
        .await
        .unwrap()
        .unwrap()
}

/// ListCustomers through the gateway, authenticated with `token`.
async fn list_as(
    client: &mut Customers,
    token: &str,
) -> Result<tonic::Response<cpb::ListCustomersResponse>, tonic::Status> {
    client
        .list_customers(with_bearer(cpb::ListCustomersRequest::default(), token))
        .await
}

/// Creates a customer called `display_name` through the gateway, authenticated with `token`.
async fn create_customer(client: &mut Customers, token: &str, display_name: &str) -> cpb::Customer {
    client
        .create_customer(with_bearer(
            cpb::CreateCustomerRequest {
                customer: Some(cpb::Customer {
                    display_name: display_name.into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
}

fn upstream(server: &TestServer) -> HashMap<String, Vec<String>> {
    upstream_at(server.addr.to_string())
}

/// What the gateway's grpc.health.v1 Check says about `service`.
async fn health_of(channel: Channel, service: &str) -> Result<i32, tonic::Status> {
    tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .map(|response| response.into_inner().status)
}

const SERVING: i32 = tonic_health::pb::health_check_response::ServingStatus::Serving as i32;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_authenticate_and_client_principals_are_replaced() {
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let gw = gateway(&key, upstream(&backend), |_| {}).await;
    let mut client = Customers::new(gw.channel().await);
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    let created = create_customer(&mut client, &admin_key, "Through the gateway").await;
    assert_eq!(created.display_name, "Through the gateway");

    // No credentials, a wrong key, garbage: UNAUTHENTICATED.
    assert_status(
        client
            .list_customers(cpb::ListCustomersRequest::default())
            .await,
        Code::Unauthenticated,
        &[],
    );
    for token in [
        "kefu_00000000000000000000000000000000_nope",
        "not-a-jwt",
        &format!("{admin_key}x"),
    ] {
        assert_status(
            list_as(&mut client, token).await,
            Code::Unauthenticated,
            &[],
        );
    }
    // A customer key with a smuggled admin principal acts as the customer only.
    let customer_id = created.name.trim_start_matches("customers/").to_owned();
    let customer_key = gw.key(&Principal::customer(&customer_id)).await;
    let mut smuggled = with_bearer(cpb::ListCustomersRequest::default(), &customer_key);
    let forged = key.sign(
        &Principal::new("root", Role::Admin),
        Duration::from_secs(60),
    );
    smuggled
        .metadata_mut()
        .insert(PRINCIPAL_HEADER, forged.parse().unwrap());
    assert_status(
        client.list_customers(smuggled).await,
        Code::PermissionDenied,
        &[],
    );
    let own = client
        .get_customer(with_bearer(
            cpb::GetCustomerRequest {
                name: created.name.clone(),
            },
            &customer_key,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.name, created.name);
    // Revoked keys stop working at once on the gateway that revoked them (others within 5 s).
    let id = customer_key.split('_').nth(1).unwrap();
    assert!(gw.keys.revoke(id).await.unwrap());
    assert_status(
        client
            .get_customer(with_bearer(
                cpb::GetCustomerRequest { name: created.name },
                &customer_key,
            ))
            .await,
        Code::Unauthenticated,
        &[],
    );
    // Unknown services are UNIMPLEMENTED, known-but-unconfigured ones too.
    let mut tickets = kefu_proto::tickets::v1::ticket_service_client::TicketServiceClient::new(
        gw.channel().await,
    );
    assert_status(
        tickets
            .list_tickets(with_bearer(
                kefu_proto::tickets::v1::ListTicketsRequest::default(),
                &admin_key,
            ))
            .await,
        Code::Unimplemented,
        &[],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_cover_the_whole_api() {
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let gw = gateway(&key, upstream(&backend), |_| {}).await;
    let channel = gw.channel().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let status = health_of(channel.clone(), "kefu.customers.v1.CustomerService").await;
        if status.as_ref().ok() == Some(&SERVING) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "customers never reported SERVING: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Reflection lists every kefu service, without credentials.
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut reflection = ServerReflectionClient::new(channel);
    let request = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for service in [
        "kefu.customers.v1.CustomerService",
        "kefu.tickets.v1.TicketService",
        "kefu.knowledge.v1.KnowledgeService",
    ] {
        assert!(
            names.iter().any(|n| n == service),
            "{service} missing from {names:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replica_is_ejected_while_requests_keep_succeeding() {
    let key = InternalKey::generate();
    let first = customers(&key).await;
    let second = customers(&key).await;
    let upstreams = [(
        "customers".to_owned(),
        vec![first.addr.to_string(), second.addr.to_string()],
    )]
    .into_iter()
    .collect();
    let gw = gateway(&key, upstreams, |_| {}).await;
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    let mut client = Customers::new(gw.channel().await);
    for _ in 0..20 {
        list_as(&mut client, &admin_key).await.unwrap();
    }
    first.stop().await.unwrap();
    for i in 0..100 {
        let result = list_as(&mut client, &admin_key).await;
        assert!(
            result.is_ok(),
            "request {i} after the kill failed: {result:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_resource_exhausted_with_retry_info() {
    use tonic_types::StatusExt;
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let gw = gateway(&key, upstream(&backend), |config| {
        config.rate_limits.insert(
            Role::Agent,
            RateLimit {
                per_second: 1,
                burst: 3,
            },
        );
    })
    .await;
    let agent_key = gw.key(&Principal::new("busy-agent", Role::Agent)).await;
    let other_key = gw.key(&Principal::new("calm-agent", Role::Agent)).await;
    let mut client = Customers::new(gw.channel().await);
    for _ in 0..3 {
        list_as(&mut client, &agent_key).await.unwrap();
    }
    let status = assert_status(
        list_as(&mut client, &agent_key).await,
        Code::ResourceExhausted,
        &[],
    );
    let retry = status.get_details_retry_info().expect("RetryInfo attached");
    assert!(
        retry
            .retry_delay
            .is_some_and(|d| d <= Duration::from_secs(1))
    );
    // The bucket is per principal.
    list_as(&mut client, &other_key).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_upstream_is_cut_at_the_callers_deadline() {
    // An HTTP/2 server that accepts calls and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_request| async {
                    std::future::pending::<
                        Result<http::Response<tonic::body::Body>, std::convert::Infallible>,
                    >()
                    .await
                });
                let _ =
                    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
            });
        }
    });
    let key = InternalKey::generate();
    let upstreams = [("customers".to_owned(), vec![addr.to_string()])]
        .into_iter()
        .collect();
    // The gateway caps deadlines at 300 ms; the caller allows 10 s.
    let gw = gateway(&key, upstreams, |config| {
        config.max_timeout = Duration::from_millis(300)
    })
    .await;
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    let mut client = Customers::new(gw.channel().await);
    let mut request = with_bearer(cpb::ListCustomersRequest::default(), &admin_key);
    request.set_timeout(Duration::from_secs(10));
    let started = std::time::Instant::now();
    assert_status(
        client.list_customers(request).await,
        Code::DeadlineExceeded,
        &[],
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "cut near the deadline, took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_flow_through_the_gateway() {
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let gw = gateway(&key, upstream(&backend), |_| {}).await;
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    let mut client = Customers::new(gw.channel().await);
    let mut stream = client
        .watch_events(with_bearer(cpb::WatchEventsRequest::default(), &admin_key))
        .await
        .unwrap()
        .into_inner();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_streams_pass_and_oversized_messages_are_refused() {
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let gw = gateway(&key, upstream(&backend), |config| {
        config.max_message_bytes = 2048
    })
    .await;
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    let mut client = Customers::new(gw.channel().await);
    // A client-streaming import, row by row through the gateway.
    let rows: Vec<_> = (0..50)
        .map(|i| cpb::ImportCustomersRequest {
            customer: Some(cpb::Customer {
                display_name: format!("Imported {i}"),
                external_id: format!("crm-{i}"),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .collect();
    let imported = client
        .import_customers(with_bearer(tokio_stream::iter(rows), &admin_key))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(imported.created_count, 50);
    // One message over the gateway's cap: refused, nothing created.
    let big = cpb::CreateCustomerRequest {
        customer: Some(cpb::Customer {
            display_name: "Too big".into(),
            attributes: (0..10)
                .map(|i| (format!("k{i}"), "x".repeat(500)))
                .collect(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let status = assert_status(
        client.create_customer(with_bearer(big, &admin_key)).await,
        Code::ResourceExhausted,
        &[],
    );
    assert!(status.message().contains("2048"), "{}", status.message());
    let listed = client
        .list_customers(with_bearer(
            cpb::ListCustomersRequest {
                page_size: 100,
                ..Default::default()
            },
            &admin_key,
        ))
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert_eq!(listed.len(), 50);
}

/// A grpc.health.v1 Check answer: SERVING or NOT_SERVING.
fn health_response(serving: bool) -> http::Response<tonic::body::Body> {
    use prost::Message;
    let status = if serving {
        tonic_health::pb::health_check_response::ServingStatus::Serving
    } else {
        tonic_health::pb::health_check_response::ServingStatus::NotServing
    };
    let message = tonic_health::pb::HealthCheckResponse {
        status: status as i32,
    }
    .encode_to_vec();
    let mut framed = vec![0_u8];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(&message);
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let frames = vec![
        Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(bytes::Bytes::from(framed))),
        Ok(hyper::body::Frame::trailers(trailers)),
    ];
    let body = http_body_util::StreamBody::new(tokio_stream::iter(frames));
    let mut response = http::Response::new(tonic::body::Body::new(body));
    response.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/grpc"),
    );
    response
}

/// A stand-in upstream: answers grpc.health.v1 Check from a switch, counts every other call and
/// answers it with an empty OK.
async fn fake_replica(
    serving: std::sync::Arc<std::sync::atomic::AtomicBool>,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> std::net::SocketAddr {
    use std::sync::atomic::Ordering;
    serve_fake(move |request| {
        let (serving, hits) = (serving.clone(), hits.clone());
        async move {
            if request.uri().path() != "/grpc.health.v1.Health/Check" {
                hits.fetch_add(1, Ordering::Relaxed);
                return tonic::Status::not_found("fake").into_http::<tonic::body::Body>();
            }
            health_response(serving.load(Ordering::Relaxed))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_serving_replicas_are_ejected_and_readmitted_when_healthy() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let a_serving = Arc::new(AtomicBool::new(true));
    let (a_hits, b_hits) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let a = fake_replica(a_serving.clone(), a_hits.clone()).await;
    let b = fake_replica(Arc::new(AtomicBool::new(true)), b_hits.clone()).await;
    let key = InternalKey::generate();
    let upstreams = [("customers".to_owned(), vec![a.to_string(), b.to_string()])]
        .into_iter()
        .collect();
    let gw = gateway(&key, upstreams, |_| {}).await;
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    let mut client = Customers::new(gw.channel().await);
    let mut call_many = async |n: usize| {
        for _ in 0..n {
            let _ = list_as(&mut client, &admin_key).await;
        }
    };
    call_many(40).await;
    assert!(
        a_hits.load(Ordering::Relaxed) > 0 && b_hits.load(Ordering::Relaxed) > 0,
        "both replicas share the load"
    );
    // A reports NOT_SERVING: after a health round it gets nothing.
    a_serving.store(false, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let before = a_hits.load(Ordering::Relaxed);
    call_many(40).await;
    assert_eq!(
        a_hits.load(Ordering::Relaxed),
        before,
        "an unhealthy replica is skipped"
    );
    // Healthy again: back in rotation.
    a_serving.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(600)).await;
    call_many(40).await;
    assert!(
        a_hits.load(Ordering::Relaxed) > before,
        "a recovered replica is used again"
    );
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
        let mut response = http::Response::new(tonic::body::Body::new(
            http_body_util::StreamBody::new(frames),
        ));
        response.headers_mut().insert(
            "content-type",
            http::HeaderValue::from_static("application/grpc"),
        );
        response
    })
    .await
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

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwts_reach_the_services_as_the_principal_they_name() {
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, encode};
    const SECRET: &[u8] = b"gateway-test-hs256-secret";
    let private_pem = include_bytes!("fixtures/rs256-test-private.pem");
    let public_pem = include_bytes!("fixtures/rs256-test-public.pem");
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let gw = gateway(&key, upstream(&backend), |config| {
        config.jwt = Some(kefu_gateway::auth::JwtConfig {
            hs256: Some(DecodingKey::from_secret(SECRET)),
            rs256: Some(DecodingKey::from_rsa_pem(public_pem).unwrap()),
            issuer: "https://login.example.com".into(),
            audience: "kefu".into(),
        });
    })
    .await;
    let mut client = Customers::new(gw.channel().await);
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    let mut names = Vec::new();
    for display_name in ["Mei", "Jun"] {
        let created = create_customer(&mut client, &admin_key, display_name).await;
        names.push(created.name);
    }
    let mei_id = names[0].trim_start_matches("customers/").to_owned();
    let claims = |role: &str, aud: &str, exp: u64, customer_id: Option<&str>| {
        let mut claims = serde_json::json!({
            "sub": "user-7",
            "role": role,
            "iss": "https://login.example.com",
            "aud": aud,
            "exp": exp,
        });
        if let Some(customer_id) = customer_id {
            claims["customer_id"] = customer_id.into();
        }
        claims
    };
    let hs256 = |c: &serde_json::Value| {
        encode(
            &Header::new(Algorithm::HS256),
            c,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    };
    let rs256 = |c: &serde_json::Value| {
        encode(
            &Header::new(Algorithm::RS256),
            c,
            &EncodingKey::from_rsa_pem(private_pem).unwrap(),
        )
        .unwrap()
    };
    let in_an_hour = unix_now() + 3600;

    // An HS256 agent token lists every customer.
    let agent = hs256(&claims("AGENT", "kefu", in_an_hour, None));
    let listed = list_as(&mut client, &agent).await.unwrap().into_inner();
    assert_eq!(listed.customers.len(), 2);

    // An RS256 customer token acts as that customer only: its own record, nobody else's, no list.
    let mei = rs256(&claims("CUSTOMER", "kefu", in_an_hour, Some(&mei_id)));
    let own = client
        .get_customer(with_bearer(
            cpb::GetCustomerRequest {
                name: names[0].clone(),
            },
            &mei,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.display_name, "Mei");
    let other = client
        .get_customer(with_bearer(
            cpb::GetCustomerRequest {
                name: names[1].clone(),
            },
            &mei,
        ))
        .await;
    assert!(
        matches!(
            other.as_ref().map_err(tonic::Status::code),
            Err(Code::PermissionDenied | Code::NotFound)
        ),
        "{other:?}"
    );
    assert_status(
        list_as(&mut client, &mei).await,
        Code::PermissionDenied,
        &[],
    );

    // Expired, for another audience, or signed with the wrong key: UNAUTHENTICATED at the gateway.
    let expired = hs256(&claims("ADMIN", "kefu", unix_now() - 3600, None));
    let elsewhere = rs256(&claims("ADMIN", "another-api", in_an_hour, None));
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &claims("ADMIN", "kefu", in_an_hour, None),
        &EncodingKey::from_secret(b"guessed"),
    )
    .unwrap();
    for token in [expired, elsewhere, forged] {
        assert_status(
            list_as(&mut client, &token).await,
            Code::Unauthenticated,
            &[],
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstreams_given_by_host_name_are_resolved_and_served() {
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let by_name = upstream_at(format!("localhost:{}", backend.addr.port()));
    let gw = gateway(&key, by_name, |_| {}).await;
    let mut client = Customers::new(gw.channel().await);
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    // Before and after health rounds have re-resolved the name (every 200 ms here).
    for round in 0..3 {
        let created = create_customer(&mut client, &admin_key, &format!("Round {round}")).await;
        assert_eq!(created.display_name, format!("Round {round}"));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let status = health_of(gw.channel().await, "kefu.customers.v1.CustomerService").await;
    assert_eq!(status.unwrap(), SERVING);
}

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
            body.send_data(bytes::Bytes::from_static(&[0; 5]), true)
                .unwrap();
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

/// A stand-in upstream that answers health checks SERVING and every other call with NOT_FOUND,
/// and reports which of its connections carried calls and how many of those are still open.
async fn connection_counting_replica() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<std::collections::HashSet<usize>>>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let carried = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let open = Arc::new(AtomicUsize::new(0));
    let (carried_by, still_open) = (carried.clone(), open.clone());
    tokio::spawn(async move {
        let mut next_id = 0;
        while let Ok((stream, _)) = listener.accept().await {
            let id = next_id;
            next_id += 1;
            let (carried, open, closing) =
                (carried_by.clone(), still_open.clone(), still_open.clone());
            tokio::spawn(async move {
                let counted = Arc::new(AtomicBool::new(false));
                let marked = counted.clone();
                let service = hyper::service::service_fn(move |request: http::Request<_>| {
                    let health = request.uri().path() == "/grpc.health.v1.Health/Check";
                    if !health && !marked.swap(true, Ordering::Relaxed) {
                        carried.lock().unwrap().insert(id);
                        open.fetch_add(1, Ordering::Relaxed);
                    }
                    async move {
                        let response = if health {
                            health_response(true)
                        } else {
                            tonic::Status::not_found("counted").into_http::<tonic::body::Body>()
                        };
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ =
                    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                if counted.load(Ordering::Relaxed) {
                    closing.fetch_sub(1, Ordering::Relaxed);
                }
            });
        }
    });
    (addr, carried, open)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_worker_thread_serves_its_clients_over_its_own_upstream_connection() {
    use std::sync::atomic::Ordering;
    let (replica, carried, open) = connection_counting_replica().await;
    let key = InternalKey::generate();
    let mut gw = gateway(&key, upstream_at(replica.to_string()), |config| {
        config.worker_threads = 3;
        config.drain_timeout = Duration::from_millis(500);
    })
    .await;
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    // Six client connections over three workers: two each, one upstream connection per worker.
    let mut clients = Vec::new();
    for _ in 0..6 {
        clients.push(Customers::new(gw.channel().await));
    }
    for client in &mut clients {
        for _ in 0..3 {
            let call = list_as(client, &admin_key);
            assert_status(call.await, Code::NotFound, &[]);
        }
    }
    assert_eq!(
        carried.lock().unwrap().len(),
        3,
        "one upstream connection per worker thread, shared by that worker's clients"
    );
    assert_eq!(open.load(Ordering::Relaxed), 3);

    // Stopping the gateway ends the workers and closes every upstream connection they held.
    gw.stop();
    tokio::time::timeout(Duration::from_secs(5), async {
        while open.load(Ordering::Relaxed) > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the workers' upstream connections close when the gateway stops");
    let call = list_as(&mut clients[0], &admin_key);
    assert!(
        call.await.is_err(),
        "a stopped gateway serves no more calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_in_a_postgresql_key_store_work_from_every_worker_thread() {
    let Some(store) = kefu_testkit::TestDatabase::create(Backend::Postgres)
        .await
        .unwrap()
    else {
        return;
    };
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let mut config = Config::new(store.url.clone(), key.clone(), upstream(&backend));
    config.worker_threads = 2;
    let prepared = kefu_gateway::prepare(config).await.unwrap();
    let keys = prepared.keys();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(prepared.serve(listener, async move {
        let _ = stopped.await;
    }));
    let connect = || async {
        tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap()
    };
    // Two connections, one per worker thread; each worker's first call misses the key cache and
    // looks the key up in PostgreSQL.
    let (mut first, mut second) = (
        Customers::new(connect().await),
        Customers::new(connect().await),
    );
    let admin_key = keys
        .create("test", &Principal::new("ops", Role::Admin))
        .await
        .unwrap()
        .0;
    let agent_key = keys
        .create("test", &Principal::new("agent-1", Role::Agent))
        .await
        .unwrap()
        .0;
    let created = create_customer(&mut first, &admin_key, "Stored in PostgreSQL keys").await;
    for client in [&mut first, &mut second] {
        for token in [&admin_key, &agent_key] {
            let got = client
                .get_customer(with_bearer(
                    cpb::GetCustomerRequest {
                        name: created.name.clone(),
                    },
                    token,
                ))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(got.display_name, "Stored in PostgreSQL keys");
        }
        assert_status(
            list_as(client, "kefu_00000000000000000000000000000000_nope").await,
            Code::Unauthenticated,
            &[],
        );
    }
    let id = agent_key.split('_').nth(1).unwrap();
    assert!(keys.revoke(id).await.unwrap());
    assert_status(
        list_as(&mut second, &agent_key).await,
        Code::Unauthenticated,
        &[],
    );
    // The gateway stops cleanly, its key store's connections closed by the runtime that owns them.
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), served)
        .await
        .expect("the gateway stops")
        .unwrap()
        .unwrap();
    drop(store);
}
