//! Every method of every service, sent bodies that are not valid requests: undecodable messages,
//! broken gRPC framing, U+0000 in a string, and seeded random bytes. Each must answer with a code
//! the client can act on — `INVALID_ARGUMENT` for the bodies that are certainly bad, a client
//! error (or OK) for random bytes that happen to decode — never `INTERNAL` or `UNKNOWN`. On both
//! databases.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use kefu_principal::{InternalKey, PRINCIPAL_HEADER, Principal, Role};
use kefu_testkit::{Backend, TestServer};
use prost_reflect::{DescriptorPool, Kind, MessageDescriptor};
use rand::{Rng, SeedableRng};
use tonic::Code;
use tower::ServiceExt;

/// One method, and where to call it.
struct Target {
    path: String,
    input: MessageDescriptor,
    client_streaming: bool,
    server_streaming: bool,
    addr: std::net::SocketAddr,
}

struct Platform {
    _servers: Vec<TestServer>,
    targets: Vec<Target>,
    token: String,
    channels: std::collections::HashMap<std::net::SocketAddr, tonic::transport::Channel>,
}

async fn start(backend: Backend) -> Option<Platform> {
    let key = InternalKey::generate();
    let customers = TestServer::service::<kefu_customers::Customers>(backend, &key, ())
        .await
        .expect("customers starts")?;
    let customers_url = format!("http://{}", customers.addr);
    let knowledge = TestServer::service::<kefu_knowledge::Knowledge>(backend, &key, ())
        .await
        .expect("knowledge starts")?;
    let mut tickets_settings = kefu_tickets::Settings::new(&customers_url);
    tickets_settings.sweep_interval = Duration::from_secs(3600);
    let tickets = TestServer::service::<kefu_tickets::Tickets>(backend, &key, tickets_settings)
        .await
        .expect("tickets starts")?;
    let tickets_url = format!("http://{}", tickets.addr);
    let feedback = TestServer::service::<kefu_feedback::Feedback>(
        backend,
        &key,
        kefu_feedback::Settings::new(&customers_url, &tickets_url),
    )
    .await
    .expect("feedback starts")?;
    let automation = TestServer::service::<kefu_automation::AutomationService>(
        backend,
        &key,
        kefu_automation::Settings::new(tickets_url.clone(), customers_url.clone()),
    )
    .await
    .expect("automation starts")?;
    let by_package = [
        ("kefu.customers.v1", &customers),
        ("kefu.knowledge.v1", &knowledge),
        ("kefu.tickets.v1", &tickets),
        ("kefu.feedback.v1", &feedback),
        ("kefu.automation.v1", &automation),
    ];
    let pool = DescriptorPool::decode(kefu_proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut targets = Vec::new();
    for service in pool.services() {
        let server = by_package
            .iter()
            .find(|(package, _)| service.package_name() == *package)
            .map(|(_, server)| server)
            .unwrap_or_else(|| panic!("no server for {}", service.full_name()));
        for method in service.methods() {
            targets.push(Target {
                path: format!("/{}/{}", service.full_name(), method.name()),
                input: method.input(),
                client_streaming: method.is_client_streaming(),
                server_streaming: method.is_server_streaming(),
                addr: server.addr,
            });
        }
    }
    assert!(targets.len() > 80, "found only {} methods", targets.len());
    let channels = by_package
        .iter()
        .map(|(_, server)| (server.addr, server.channel()))
        .collect();
    let token = key.sign(
        &Principal::new("admin-1", Role::Admin),
        Duration::from_secs(3600),
    );
    Some(Platform {
        _servers: vec![customers, knowledge, tickets, feedback, automation],
        targets,
        token,
        channels,
    })
}

/// What a call answered: its gRPC code, and the message for failure reports.
#[derive(Debug)]
struct Answer {
    code: Code,
    message: String,
}

impl Platform {
    async fn call(&self, target: &Target, body: Bytes) -> Answer {
        let request = http::Request::post(format!("http://{}{}", target.addr, target.path))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header("grpc-timeout", "10S")
            .header(PRINCIPAL_HEADER, &self.token)
            .body(tonic::body::Body::new(Full::new(body)))
            .unwrap();
        let channel = self.channels[&target.addr].clone();
        let response = tokio::time::timeout(Duration::from_secs(20), channel.oneshot(request))
            .await
            .unwrap_or_else(|_| panic!("{} did not answer", target.path))
            .unwrap_or_else(|error| panic!("{}: transport error {error}", target.path));
        if let Some(answer) = status_in(response.headers()) {
            return answer;
        }
        if target.server_streaming {
            // The stream started: the body was a valid request. Hang up.
            return Answer {
                code: Code::Ok,
                message: "stream started".to_owned(),
            };
        }
        let collected =
            tokio::time::timeout(Duration::from_secs(20), response.into_body().collect())
                .await
                .unwrap_or_else(|_| panic!("{} did not finish", target.path))
                .unwrap_or_else(|error| panic!("{}: body error {error}", target.path));
        let trailers = collected.trailers().cloned().unwrap_or_default();
        status_in(&trailers).unwrap_or_else(|| panic!("{} ended without grpc-status", target.path))
    }
}

fn status_in(headers: &http::HeaderMap) -> Option<Answer> {
    let code = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .parse::<i32>()
        .ok()?;
    let message = headers
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .map(|m| {
            percent_encoding::percent_decode_str(m)
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    Some(Answer {
        code: Code::from_i32(code),
        message,
    })
}

/// A gRPC frame: the compressed flag, the length, the message.
fn frame(compressed: u8, message: &[u8]) -> Bytes {
    let mut out = BytesMut::new();
    out.put_u8(compressed);
    out.put_u32(message.len() as u32);
    out.put_slice(message);
    out.freeze()
}

fn put_varint(out: &mut BytesMut, mut value: u64) {
    while value >= 0x80 {
        out.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    out.put_u8(value as u8);
}

fn length_delimited(field: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    put_varint(&mut out, (u64::from(field) << 3) | 2);
    put_varint(&mut out, payload.len() as u64);
    out.put_slice(payload);
    out.to_vec()
}

/// The field numbers leading to the first string field of `message`, breadth first, through
/// nested messages.
fn path_to_string(message: &MessageDescriptor) -> Option<Vec<u32>> {
    let mut queue = std::collections::VecDeque::from([(message.clone(), Vec::new())]);
    let mut seen = std::collections::HashSet::new();
    while let Some((descriptor, path)) = queue.pop_front() {
        if !seen.insert(descriptor.full_name().to_owned()) {
            continue;
        }
        for field in descriptor.fields() {
            let mut below = path.clone();
            below.push(field.number());
            match field.kind() {
                Kind::String if !field.is_map() => return Some(below),
                Kind::Message(inner) if !field.is_map() => queue.push_back((inner, below)),
                _ => {}
            }
        }
    }
    None
}

/// A message whose string at `path` holds `value` (raw bytes, so it may be bad UTF-8).
fn with_string(path: &[u32], value: &[u8]) -> Vec<u8> {
    path.iter().rev().fold(value.to_vec(), |inner, field| {
        length_delimited(*field, &inner)
    })
}

/// Bodies that are certainly not valid requests, each with what it is.
fn certainly_bad(target: &Target) -> Vec<(&'static str, Bytes)> {
    let mut bodies = vec![
        ("an invalid wire type", frame(0, &[0x0F])),
        (
            "a field longer than the message",
            frame(0, &[0x0A, 0x05, b'a']),
        ),
        (
            "the compressed flag without grpc-encoding",
            frame(1, &[0x0A, 0x01, b'a']),
        ),
        ("a frame shorter than its length", {
            let mut body = BytesMut::from(&frame(0, &[0x0A, 0x05, b'a', b'b'])[..]);
            body[4] = 40;
            body.freeze()
        }),
    ];
    if !target.client_streaming {
        bodies.push(("no message at all", Bytes::new()));
    }
    if let Some(path) = path_to_string(&target.input) {
        bodies.push((
            "bad UTF-8 in a string",
            frame(0, &with_string(&path, &[b'a', 0xFF, 0xFE])),
        ));
        bodies.push(("U+0000 in a string", frame(0, &with_string(&path, b"a\0b"))));
    }
    bodies
}

/// The codes a client can act on, for bodies that may happen to be valid.
fn is_client_answer(code: Code) -> bool {
    matches!(
        code,
        Code::Ok
            | Code::InvalidArgument
            | Code::NotFound
            | Code::AlreadyExists
            | Code::FailedPrecondition
            | Code::OutOfRange
            | Code::PermissionDenied
            | Code::Unauthenticated
            | Code::ResourceExhausted
    )
}

async fn every_method_refuses_bad_bodies(backend: Backend) {
    let Some(platform) = start(backend).await else {
        return;
    };
    let mut wrong = Vec::new();
    let mut calls = 0;
    for target in &platform.targets {
        for (what, body) in certainly_bad(target) {
            calls += 1;
            let answer = platform.call(target, body).await;
            if answer.code != Code::InvalidArgument {
                wrong.push(format!(
                    "{} with {what}: {:?} {}",
                    target.path, answer.code, answer.message
                ));
            }
        }
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    for target in &platform.targets {
        for _ in 0..40 {
            let length = rng.random_range(0..48);
            let message: Vec<u8> = (0..length).map(|_| rng.random()).collect();
            let body = if rng.random_ratio(1, 8) {
                // A random frame header too.
                let mut raw = BytesMut::from(&frame(rng.random_range(0..3), &message)[..]);
                raw[1..5].copy_from_slice(&rng.random_range(0u32..64).to_be_bytes());
                raw.freeze()
            } else {
                frame(0, &message)
            };
            calls += 1;
            let answer = platform.call(target, body.clone()).await;
            if !is_client_answer(answer.code) {
                wrong.push(format!(
                    "{} with random {body:?}: {:?} {}",
                    target.path, answer.code, answer.message
                ));
            }
        }
    }
    assert!(calls > 3_000, "only {calls} calls");
    assert!(
        wrong.is_empty(),
        "{} of {calls} calls answered wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_refuses_bad_bodies_on_sqlite() {
    every_method_refuses_bad_bodies(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_refuses_bad_bodies_on_postgres() {
    every_method_refuses_bad_bodies(Backend::Postgres).await;
}
