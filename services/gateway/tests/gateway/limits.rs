//! Limits the gateway enforces: rate limits, deadlines and message sizes.

use std::time::Duration;

use kefu_gateway::RateLimit;
use kefu_principal::{InternalKey, Principal, Role};
use kefu_proto::customers::v1 as cpb;
use kefu_testkit::assert_status;
use tonic::Code;

use crate::helpers::*;
use crate::support::{gateway, with_bearer};

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
