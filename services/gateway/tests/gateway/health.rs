//! Health, reflection and replica ejection: which replicas get calls, and what the gateway reports about itself.

use std::time::Duration;

use kefu_principal::{InternalKey, Principal, Role};

use std::sync::atomic::Ordering;

use crate::helpers::*;
use crate::support::{gateway, upstream_at};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_cover_the_whole_api() {
    let key = InternalKey::generate();
    let backend = customers(&key).await;
    let gw = gateway(&key, upstream(&backend), |_| {}).await;
    let channel = gw.channel().await;
    until_serving(&channel, "kefu.customers.v1.CustomerService").await;
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
async fn not_serving_replicas_are_ejected_and_readmitted_when_healthy() {
    let a = FakeReplica::start().await;
    let b = FakeReplica::start().await;
    let key = InternalKey::generate();
    let upstreams = [(
        "customers".to_owned(),
        vec![a.addr.to_string(), b.addr.to_string()],
    )]
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
    assert!(a.hits() > 0 && b.hits() > 0, "both replicas share the load");
    // A reports NOT_SERVING: once the gateway has seen that, A gets nothing.
    a.serving.store(false, Ordering::SeqCst);
    a.two_more_health_rounds().await;
    let before = a.hits();
    call_many(40).await;
    assert_eq!(a.hits(), before, "an unhealthy replica is skipped");
    // Healthy again: back in rotation.
    a.serving.store(true, Ordering::SeqCst);
    a.two_more_health_rounds().await;
    call_many(40).await;
    assert!(a.hits() > before, "a recovered replica is used again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstreams_given_by_host_name_are_resolved_and_served() {
    let replica = FakeReplica::start().await;
    let key = InternalKey::generate();
    let by_name = upstream_at(format!("localhost:{}", replica.addr.port()));
    let gw = gateway(&key, by_name, |_| {}).await;
    let mut client = Customers::new(gw.channel().await);
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    // Calls reach the replica before and after health rounds have re-resolved the name.
    for round in 1..=3 {
        let answer = list_as(&mut client, &admin_key).await;
        assert_eq!(
            answer.unwrap_err().code(),
            tonic::Code::NotFound,
            "the replica's own answer"
        );
        assert_eq!(replica.hits(), round);
        replica.two_more_health_rounds().await;
    }
    let status = health_of(gw.channel().await, "kefu.customers.v1.CustomerService").await;
    assert_eq!(status.unwrap(), SERVING);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_reports_not_serving_as_soon_as_it_starts_to_drain() {
    use tonic_health::pb::health_check_response::ServingStatus;
    let replica = FakeReplica::start().await;
    let key = InternalKey::generate();
    let mut gw = gateway(&key, upstream_at(replica.addr.to_string()), |_| {}).await;
    let channel = gw.channel().await;
    until_serving(&channel, "kefu.customers.v1.CustomerService").await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let watch = |service: &str| tonic_health::pb::HealthCheckRequest {
        service: service.into(),
    };
    let mut overall = health.watch(watch("")).await.unwrap().into_inner();
    let first = overall.message().await.unwrap().unwrap();
    assert_eq!(first.status, ServingStatus::Serving as i32);
    let mut customers = health
        .watch(watch("kefu.customers.v1.CustomerService"))
        .await
        .unwrap()
        .into_inner();
    let first = customers.message().await.unwrap().unwrap();
    assert_eq!(first.status, ServingStatus::Serving as i32);
    // Shutdown starts: the watchers hear NOT_SERVING on the connection they already have, while
    // the replica itself stays healthy.
    gw.stop();
    let next = tokio::time::timeout(Duration::from_secs(5), overall.message())
        .await
        .expect("the overall status changes at once")
        .unwrap()
        .unwrap();
    assert_eq!(next.status, ServingStatus::NotServing as i32);
    let next = tokio::time::timeout(Duration::from_secs(5), customers.message())
        .await
        .expect("each service's status changes at once")
        .unwrap()
        .unwrap();
    assert_eq!(next.status, ServingStatus::NotServing as i32);
    assert!(replica.serving.load(Ordering::SeqCst));
}
