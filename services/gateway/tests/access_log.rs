//! Every RPC through the gateway carries a request id to the service and leaves one access log
//! line: method, code, latency, principal id and request id, never the credentials. (Own test
//! binary: it installs a global tracing subscriber that writes into a buffer.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kefu_principal::{InternalKey, Principal, Role};
use kefu_proto::customers::v1 as cpb;
use tonic::metadata::MetadataValue;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

mod support;

const LIST_CUSTOMERS: &str = "/kefu.customers.v1.CustomerService/ListCustomers";

/// Log output collected in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The access log lines written so far, as JSON objects.
    fn access_lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|line| line["target"] == "access")
            .collect()
    }

    /// Waits for the access log line of `request_id`.
    async fn access_line_of(&self, request_id: &str) -> serde_json::Value {
        for _ in 0..100 {
            if let Some(line) = self
                .access_lines()
                .into_iter()
                .find(|line| line["request_id"] == request_id)
            {
                return line;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no access log line for request {request_id} in:\n{}",
            self.text()
        );
    }
}

/// An upstream that answers every ListCustomers with NOT_FOUND and reports the request id it got.
async fn recording_upstream() -> (
    SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<Option<String>>,
) {
    let (seen, received) = tokio::sync::mpsc::unbounded_channel::<Option<String>>();
    let addr = support::serve_fake(move |request| {
        // The gateway's own health checks come here too; only the calls count.
        if request.uri().path() == LIST_CUSTOMERS {
            let request_id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let _ = seen.send(request_id);
        }
        async { tonic::Status::not_found("no such customer").into_http::<tonic::body::Body>() }
    })
    .await;
    (addr, received)
}

fn list_request(
    token: &str,
    request_id: Option<&str>,
) -> tonic::Request<cpb::ListCustomersRequest> {
    let mut request = support::with_bearer(cpb::ListCustomersRequest::default(), token);
    if let Some(request_id) = request_id {
        request
            .metadata_mut()
            .insert("x-request-id", MetadataValue::try_from(request_id).unwrap());
    }
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_gets_a_request_id_and_one_access_log_line_without_credentials() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_writer(move || writer.clone())
                .with_filter(LevelFilter::INFO),
        )
        .init();

    let (upstream, mut received) = recording_upstream().await;
    let gw = support::gateway(
        &InternalKey::generate(),
        support::upstream_at(upstream.to_string()),
        |_| {},
    )
    .await;
    let api_key = gw.key(&Principal::new("ops-7", Role::Admin)).await;
    let mut client = cpb::customer_service_client::CustomerServiceClient::new(gw.channel().await);
    let mut next_forwarded = async || {
        tokio::time::timeout(Duration::from_secs(5), received.recv())
            .await
            .expect("the upstream was called")
            .unwrap()
            .expect("the call reached the service with a request id")
    };

    // No request id from the caller: the gateway makes one and logs the call under it.
    let status = client
        .list_customers(list_request(&api_key, None))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    let generated = next_forwarded().await;
    assert_eq!(generated.len(), 32, "{generated}");
    assert!(
        generated.chars().all(|c| c.is_ascii_hexdigit()),
        "{generated}"
    );
    let line = logs.access_line_of(&generated).await;
    assert_eq!(line["message"], "rpc");
    assert_eq!(line["method"], LIST_CUSTOMERS);
    assert_eq!(line["code"], "5", "{line}");
    assert_eq!(line["principal"], "ops-7", "{line}");
    assert!(line["latency_us"].is_u64(), "{line}");

    // A caller's own request id is passed on and logged as it is.
    let _ = client
        .list_customers(list_request(&api_key, Some("crm-ticket-42")))
        .await;
    assert_eq!(next_forwarded().await, "crm-ticket-42");
    logs.access_line_of("crm-ticket-42").await;

    // One too long to be an id gets a fresh one instead.
    let oversized = "r".repeat(200);
    let _ = client
        .list_customers(list_request(&api_key, Some(&oversized)))
        .await;
    let replaced = next_forwarded().await;
    assert_eq!(replaced.len(), 32, "{replaced}");
    assert_ne!(replaced, generated);
    logs.access_line_of(&replaced).await;

    // Refused credentials are logged too, with no principal, and never reach the service.
    let status = client
        .list_customers(list_request("not-a-key-at-all", Some("bad-credentials")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    let line = logs.access_line_of("bad-credentials").await;
    assert_eq!(line["code"], "16", "{line}");
    assert_eq!(line["principal"], "-", "{line}");
    assert!(
        received.try_recv().is_err(),
        "a refused call reached the service"
    );

    // One line per call, and no credentials anywhere in the logs.
    assert_eq!(logs.access_lines().len(), 4, "{}", logs.text());
    let text = logs.text();
    assert!(!text.contains(&api_key), "the API key was logged:\n{text}");
    assert!(
        !text.contains("not-a-key-at-all"),
        "a token was logged:\n{text}"
    );
    assert!(
        !text.contains("Bearer"),
        "an authorization header was logged:\n{text}"
    );
}
