//! The gateway joins the caller's trace: its span is a child of the incoming `traceparent` and
//! the parent of the service's. (Own test binary: it installs a global tracing subscriber.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

use std::time::Duration;

use kefu_principal::{InternalKey, Principal, Role};
use kefu_proto::customers::v1 as cpb;
use opentelemetry::trace::TracerProvider as _;
use tonic::metadata::MetadataValue;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_span_joins_the_callers_trace() {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
        .init();

    // An upstream that reports the traceparent it received.
    let (seen, mut received) = tokio::sync::mpsc::unbounded_channel::<Option<String>>();
    let upstream = support::serve_fake(move |request| {
        let traceparent = request
            .headers()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // The gateway's own health checks come here too; only the call counts.
        if request.uri().path().ends_with("/ListCustomers") {
            let _ = seen.send(traceparent);
        }
        async { tonic::Status::unavailable("test upstream").into_http::<tonic::body::Body>() }
    })
    .await;

    let key = InternalKey::generate();
    let gw = support::gateway(&key, support::upstream_at(upstream.to_string()), |_| {}).await;
    let api_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    let mut client = cpb::customer_service_client::CustomerServiceClient::new(gw.channel().await);
    let mut request = support::with_bearer(cpb::ListCustomersRequest::default(), &api_key);
    request.metadata_mut().insert(
        "traceparent",
        MetadataValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    );
    let _ = client.list_customers(request).await;
    let forwarded = tokio::time::timeout(Duration::from_secs(5), received.recv())
        .await
        .expect("the upstream was called")
        .unwrap()
        .expect("a traceparent was forwarded");
    let parts: Vec<&str> = forwarded.split('-').collect();
    assert_eq!(
        parts[1], "4bf92f3577b34da6a3ce929d0e0e4736",
        "same trace: {forwarded}"
    );
    assert_ne!(
        parts[2], "00f067aa0ba902b7",
        "the gateway's own span is the parent: {forwarded}"
    );
}
