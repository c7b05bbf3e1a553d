//! What the gateway tests share: a customers service behind it, calls through it, and stand-in replicas that answer health checks.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use kefu_principal::InternalKey;
use kefu_proto::customers::v1 as cpb;
use kefu_testkit::{Backend, TestServer};
use tonic::transport::Channel;

use crate::support::{serve_fake, upstream_at, with_bearer};

pub type Customers = cpb::customer_service_client::CustomerServiceClient<Channel>;

pub async fn customers(key: &InternalKey) -> TestServer {
    TestServer::service::<kefu_customers::Customers>(Backend::Sqlite, key, ())
        .await
        .unwrap()
        .unwrap()
}

/// ListCustomers through the gateway, authenticated with `token`.
pub async fn list_as(
    client: &mut Customers,
    token: &str,
) -> Result<tonic::Response<cpb::ListCustomersResponse>, tonic::Status> {
    client
        .list_customers(with_bearer(cpb::ListCustomersRequest::default(), token))
        .await
}

/// Creates a customer called `display_name` through the gateway, authenticated with `token`.
pub async fn create_customer(
    client: &mut Customers,
    token: &str,
    display_name: &str,
) -> cpb::Customer {
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

pub fn upstream(server: &TestServer) -> HashMap<String, Vec<String>> {
    upstream_at(server.addr.to_string())
}

/// What the gateway's grpc.health.v1 Check says about `service`.
pub async fn health_of(channel: Channel, service: &str) -> Result<i32, tonic::Status> {
    tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .map(|response| response.into_inner().status)
}

/// Waits until the gateway's health Check says `service` is SERVING.
pub async fn until_serving(channel: &Channel, service: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let status = health_of(channel.clone(), service).await;
        if status.as_ref().ok() == Some(&SERVING) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{service} never reported SERVING: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub const SERVING: i32 = tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
/// A grpc.health.v1 Check answer: SERVING or NOT_SERVING.
pub fn health_response(serving: bool) -> http::Response<tonic::body::Body> {
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
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let frames = vec![
        Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(grpc_frame(&message))),
        Ok(hyper::body::Frame::trailers(trailers)),
    ];
    grpc_response(http_body_util::StreamBody::new(tokio_stream::iter(frames)))
}

/// A 200 `application/grpc` response with `body`, as a replica answers.
pub fn grpc_response<B>(body: B) -> http::Response<tonic::body::Body>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut response = http::Response::new(tonic::body::Body::new(body));
    response.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/grpc"),
    );
    response
}

/// `message` as one gRPC frame.
pub fn grpc_frame(message: &[u8]) -> bytes::Bytes {
    let mut framed = vec![0_u8];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(message);
    bytes::Bytes::from(framed)
}

/// A stand-in upstream that answers grpc.health.v1 Check from a switch and every other call with
/// NOT_FOUND, counting both.
pub struct FakeReplica {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// What its health checks answer: SERVING while true.
    pub serving: Arc<AtomicBool>,
    /// Calls other than health checks.
    pub hits: Arc<AtomicUsize>,
    /// Health checks answered.
    pub checks: Arc<AtomicUsize>,
}

impl FakeReplica {
    /// Starts one, SERVING.
    pub async fn start() -> Self {
        let serving = Arc::new(AtomicBool::new(true));
        let hits = Arc::new(AtomicUsize::new(0));
        let checks = Arc::new(AtomicUsize::new(0));
        let (answer_serving, answer_hits, answer_checks) =
            (serving.clone(), hits.clone(), checks.clone());
        let addr = serve_fake(move |request| {
            let (serving, hits, checks) = (
                answer_serving.clone(),
                answer_hits.clone(),
                answer_checks.clone(),
            );
            async move {
                if request.uri().path() != "/grpc.health.v1.Health/Check" {
                    hits.fetch_add(1, Ordering::SeqCst);
                    return tonic::Status::not_found("fake").into_http::<tonic::body::Body>();
                }
                let response = health_response(serving.load(Ordering::SeqCst));
                checks.fetch_add(1, Ordering::SeqCst);
                response
            }
        })
        .await;
        Self {
            addr,
            serving,
            hits,
            checks,
        }
    }

    /// Calls other than health checks so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Waits until the gateway has checked this replica's health twice more: the first of them
    /// may have started before the caller changed something; the second began after the first
    /// answer was applied (a replica's checks run one after another).
    pub async fn two_more_health_rounds(&self) {
        let target = self.checks.load(Ordering::SeqCst) + 2;
        tokio::time::timeout(Duration::from_secs(10), async {
            while self.checks.load(Ordering::SeqCst) < target {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the gateway keeps checking the replica's health");
    }
}
