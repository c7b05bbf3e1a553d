//! The request path: local health and reflection, or authenticate → rate-limit → route by gRPC
//! service name → forward to a replica, bodies streamed both ways without decoding them.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use http::header::{AUTHORIZATION, HeaderValue};
use http::{Request, Response, Uri};
use hyper::body::Incoming;
use kefu_principal::{InternalKey, PRINCIPAL_HEADER, Principal, Role};
use kefu_server::outgoing::parse_grpc_timeout;
use tokio_util::sync::CancellationToken;
use tonic::Status;
use tonic::body::Body;
use tonic_types::{ErrorDetails, StatusExt};
use tower::ServiceExt;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::auth::Authenticator;
use crate::limit::Limited;
use crate::pool::Pool;
use crate::replay::Replay;
use crate::upstream::{self, Answer, refused_unprocessed, strip_connection_headers};

/// How long a minted principal is valid; it only has to outlive the request it rides on.
const PRINCIPAL_TTL: Duration = Duration::from_secs(15 * 60);
/// A minted principal is reused for this long (well inside its validity), so signing is not on
/// every request's path.
const PRINCIPAL_REUSE: Duration = Duration::from_secs(60);
const REQUEST_ID: &str = "x-request-id";

/// Everything a request needs.
pub struct Gateway {
    /// Upstream pools by package name (`tickets` for `kefu.tickets.v1`).
    pub pools: HashMap<String, Arc<Pool>>,
    /// Credentials → principal.
    pub authenticator: Authenticator,
    /// Signs the principal the services verify.
    pub internal_key: InternalKey,
    /// Token buckets per principal, one limiter per role (none: unlimited).
    pub limits: HashMap<Role, DefaultKeyedRateLimiter<String>>,
    /// The longest deadline passed on.
    pub max_timeout: Duration,
    /// Largest request message passed on, in bytes.
    pub max_message_bytes: usize,
    /// grpc.health.v1 and reflection, served by the gateway itself.
    pub local: tonic::service::Routes,
    /// Recently minted principal headers.
    pub minted: std::sync::RwLock<HashMap<Principal, (Instant, HeaderValue)>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("pools", &self.pools.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A token bucket per principal: `per_second` sustained, `burst` at once.
pub fn limiter(per_second: u32, burst: u32) -> Option<DefaultKeyedRateLimiter<String>> {
    let rate = std::num::NonZeroU32::new(per_second)?;
    let burst = std::num::NonZeroU32::new(burst.max(1))?;
    Some(DefaultKeyedRateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    ))
}

/// A random request id from the thread-local generator (no system call per request).
fn new_request_id() -> String {
    use rand::Rng;
    let bits: u128 = rand::rng().random();
    format!("{bits:032x}")
}

fn grpc_error(status: Status) -> Response<Body> {
    status.into_http()
}

/// The package part of a gRPC path: `tickets` from `/kefu.tickets.v1.TicketService/GetTicket`.
fn package_of(path: &str) -> Option<&str> {
    let service = path.strip_prefix('/')?.split('/').next()?;
    let mut parts = service.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("kefu"), Some(package), Some(_version), Some(_service)) if !package.is_empty() => {
            Some(package)
        }
        _ => None,
    }
}

fn is_local(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/") || path.starts_with("/grpc.reflection.")
}

impl Gateway {
    /// Serves one request; errors become gRPC statuses, never a dropped connection.
    pub async fn handle(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<Response<Body>, Infallible> {
        let started = Instant::now();
        let path = request.uri().path().to_owned();
        if is_local(&path) {
            return Ok(match self.local.clone().oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            });
        }
        let request_id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .map(str::to_owned)
            .unwrap_or_else(new_request_id);
        // The gateway's own span joins the caller's trace and parents the service's span.
        let span = tracing::info_span!(
            "gateway",
            otel.name = %path,
            otel.kind = "server",
            rpc.method = %path,
            request_id = %request_id,
        );
        let _ = span.set_parent(kefu_server::outgoing::extract_context(request.headers()));
        let outcome = self
            .forward(request, &path, &request_id)
            .instrument(span)
            .await;
        let (response, principal) = match outcome {
            Ok((response, principal)) => (response, Some(principal)),
            Err((status, principal)) => (grpc_error(status), principal),
        };
        let code = response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("streaming");
        tracing::info!(
            target: "access",
            method = %path,
            code,
            latency_us = started.elapsed().as_micros() as u64,
            principal = principal.as_ref().map(|p| p.id.as_str()).unwrap_or("-"),
            request_id = %request_id,
            "rpc"
        );
        Ok(response)
    }

    async fn forward(
        &self,
        mut request: Request<Incoming>,
        path: &str,
        request_id: &str,
    ) -> Result<(Response<Body>, Principal), (Status, Option<Principal>)> {
        let pool = package_of(path)
            .and_then(|package| self.pools.get(package))
            .cloned()
            .ok_or_else(|| {
                (
                    Status::unimplemented(format!("no kefu service serves {path}")),
                    None,
                )
            })?;
        let authorization = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let principal = self
            .authenticator
            .authenticate(authorization)
            .await
            .map_err(|status| (status, None))?;
        if let Some(limiter) = self.limits.get(&principal.role)
            && let Err(not_until) = limiter.check_key(&principal.id)
        {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let status = Status::with_error_details(
                tonic::Code::ResourceExhausted,
                format!(
                    "rate limit for role {} exceeded; retry in {} ms",
                    principal.role,
                    wait.as_millis()
                ),
                ErrorDetails::with_retry_info(Some(wait)),
            );
            return Err((status, Some(principal)));
        }
        // Credentials stay at the gateway; the services get a principal only the gateway can sign.
        let headers = request.headers_mut();
        headers.remove(AUTHORIZATION);
        headers.remove(PRINCIPAL_HEADER);
        match self.mint(&principal) {
            Some(value) => {
                headers.insert(PRINCIPAL_HEADER, value);
            }
            None => {
                return Err((
                    Status::internal("could not attach the principal"),
                    Some(principal),
                ));
            }
        }
        if let Ok(value) = HeaderValue::from_str(request_id) {
            headers.insert(REQUEST_ID, value);
        }
        kefu_server::outgoing::inject_into_headers(headers);
        let deadline = match headers.get("grpc-timeout") {
            None => None,
            Some(value) => {
                let parsed = value.to_str().ok().and_then(parse_grpc_timeout);
                let Some(timeout) = parsed else {
                    return Err((
                        Status::invalid_argument(
                            "grpc-timeout must be 1 to 8 digits and a unit (H, M, S, m, u or n)",
                        ),
                        Some(principal),
                    ));
                };
                Some(timeout.min(self.max_timeout))
            }
        };
        if let Some(deadline) = deadline {
            // Milliseconds, at most 8 digits (27 h): more than any cap.
            let millis = deadline.as_millis().min(99_999_999);
            if let Ok(value) = HeaderValue::from_str(&format!("{millis}m")) {
                headers.insert("grpc-timeout", value);
            }
        }
        let send = self.send(pool, request, path);
        let result = match deadline {
            Some(deadline) => match tokio::time::timeout(deadline, send).await {
                Ok(result) => result,
                Err(_) => Err(Status::deadline_exceeded(
                    "the upstream did not answer before the deadline",
                )),
            },
            None => send.await,
        };
        result
            .map(|r| (r, principal.clone()))
            .map_err(|s| (s, Some(principal)))
    }

    /// The signed principal header for `principal`, reused while fresh.
    fn mint(&self, principal: &Principal) -> Option<HeaderValue> {
        if let Some((at, value)) = self.minted.read().ok()?.get(principal)
            && at.elapsed() < PRINCIPAL_REUSE
        {
            return Some(value.clone());
        }
        let value =
            HeaderValue::from_str(&self.internal_key.sign(principal, PRINCIPAL_TTL)).ok()?;
        if let Ok(mut minted) = self.minted.write() {
            if minted.len() > 100_000 {
                minted.clear();
            }
            minted.insert(principal.clone(), (Instant::now(), value.clone()));
        }
        Some(value)
    }

    async fn send(
        &self,
        pool: Arc<Pool>,
        request: Request<Incoming>,
        path: &str,
    ) -> Result<Response<Body>, Status> {
        // The request goes only to a replica whose connection is up and ready, so a dead replica
        // costs a connect attempt, not the request: it moves on to the next candidate. A replica
        // that refuses the call unprocessed (it is shutting down) passes it on the same way.
        let (mut parts, body) = request.into_parts();
        strip_connection_headers(&mut parts.headers);
        let path_and_query = parts
            .uri
            .path_and_query()
            .cloned()
            .ok_or_else(|| Status::invalid_argument(format!("unusable request path {path}")))?;
        let replay = Replay::new(body);
        let tripped = Arc::new(AtomicBool::new(false));
        for replica in pool.candidates() {
            let connection = match replica.connection().await {
                Ok(connection) => connection,
                Err(error) => {
                    tracing::debug!(upstream = %replica.address, %error, "connect failed");
                    replica.eject();
                    continue;
                }
            };
            let Some(authority) = replica.authority.clone() else {
                replica.eject();
                continue;
            };
            let mut sender = match connection.sender().ready().await {
                Ok(sender) => sender,
                Err(error) => {
                    tracing::debug!(upstream = %replica.address, %error, "connection not usable");
                    replica.eject();
                    continue;
                }
            };
            let Some(attempt) = replay.attempt() else {
                break;
            };
            let mut head = Request::new(());
            *head.method_mut() = parts.method.clone();
            *head.uri_mut() = Uri::from_parts({
                let mut uri = http::uri::Parts::default();
                uri.scheme = Some(http::uri::Scheme::HTTP);
                uri.authority = Some(authority);
                uri.path_and_query = Some(path_and_query.clone());
                uri
            })
            .map_err(|_| Status::invalid_argument("unusable request path"))?;
            *head.version_mut() = http::Version::HTTP_2;
            *head.headers_mut() = parts.headers.clone();
            let in_flight = replica.start();
            let (answer, stream) = match sender.send_request(head, false) {
                Ok(opened) => opened,
                Err(error) => {
                    // Nothing went out: the connection was already failing.
                    tracing::debug!(upstream = %replica.address, %error, "upstream did not take the call; trying another replica");
                    replica.eject();
                    continue;
                }
            };
            let cancel = CancellationToken::new();
            let body = Limited::new(attempt, self.max_message_bytes, tripped.clone());
            let mut pump = Box::pin(upstream::pump(body, stream, cancel.clone()));
            // What the caller has sent so far goes out with the HEADERS; only a body that is
            // still arriving (client streaming) gets a task of its own.
            if std::future::poll_fn(|cx| Poll::Ready(pump.as_mut().poll(cx)))
                .await
                .is_pending()
            {
                tokio::spawn(pump);
            }
            let pump_guard = cancel.drop_guard();
            let answer = answer.await;
            drop(in_flight);
            if tripped.load(Ordering::Relaxed) {
                return Err(Status::resource_exhausted(format!(
                    "a request message exceeds the gateway's limit of {} bytes",
                    self.max_message_bytes
                )));
            }
            let error = match answer {
                Ok(answer) => {
                    return Ok(answer.map(|stream| Body::new(Answer::new(stream, pump_guard))));
                }
                Err(error) => error,
            };
            replica.eject();
            // Refused unprocessed (past the replica's GOAWAY, or REFUSED_STREAM): safe to send to
            // another replica. Anything else may have run upstream: the caller decides.
            if refused_unprocessed(&error) {
                tracing::debug!(upstream = %replica.address, %error, "upstream did not take the call; trying another replica");
                continue;
            }
            tracing::warn!(upstream = %replica.address, %error, "upstream request failed");
            return Err(Status::unavailable(format!(
                "the {} service failed mid-request",
                pool.name
            )));
        }
        Err(Status::unavailable(format!(
            "no {} replica is reachable",
            pool.name
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_come_from_the_service_name() {
        assert_eq!(
            package_of("/kefu.tickets.v1.TicketService/GetTicket"),
            Some("tickets")
        );
        assert_eq!(
            package_of("/kefu.feedback.v2.FeedbackService/X"),
            Some("feedback")
        );
        assert_eq!(package_of("/other.v1.Thing/Do"), None);
        assert_eq!(package_of("/kefu..v1.X/Y"), None);
        assert_eq!(package_of("garbage"), None);
        assert!(is_local("/grpc.health.v1.Health/Check"));
        assert!(is_local(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
        ));
    }
}
