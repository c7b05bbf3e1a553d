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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        let traceparent = request
                            .headers()
                            .get("traceparent")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        // The gateway's own health checks come here too; only the call counts.
                        if request.uri().path().ends_with("/ListCustomers") {
                            let _ = seen.send(traceparent);
                        }
                        async {
                            Ok::<_, std::convert::Infallible>(
                                tonic::Status::unavailable("test upstream")
                                    .into_http::<tonic::body::Body>(),
                            )
                        }
                    },
                );
                let _ =
                    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
            });
        }
    });

    let key = InternalKey::generate();
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("gateway.db").display()
    );
    let upstreams = [("customers".to_owned(), vec![upstream.to_string()])]
        .into_iter()
        .collect();
    let prepared = kefu_gateway::prepare(kefu_gateway::Config::new(url, key, upstreams))
        .await
        .unwrap();
    let (api_key, _) = prepared
        .keys()
        .create("t", &Principal::new("ops", Role::Admin))
        .await
        .unwrap();
    let gateway = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = gateway.local_addr().unwrap();
    tokio::spawn(prepared.serve(gateway, std::future::pending()));

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = cpb::customer_service_client::CustomerServiceClient::new(channel);
    let mut request = tonic::Request::new(cpb::ListCustomersRequest::default());
    let metadata = request.metadata_mut();
    metadata.insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {api_key}")).unwrap(),
    );
    metadata.insert(
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
