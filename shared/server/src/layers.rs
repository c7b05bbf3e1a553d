//! The HTTP-level layer stack in front of every service, outermost first:
//!
//! 1. **request id** — keep the caller's `x-request-id` or make one, and echo it on the response,
//!    so a client's log line and ours can be joined;
//! 2. **trace span** — one span per RPC named by its path, parented by the caller's W3C
//!    `traceparent`, so gateway → service → service is one trace; it carries the request id;
//! 3. **access log** — one line per RPC with latency, and the gRPC code when it failed;
//! 4. **client faults** — tonic answers a badly framed request body (a truncated frame, no
//!    message, the compressed flag without `grpc-encoding`) with `INTERNAL`; it is the client's
//!    mistake, so it is rewritten to `INVALID_ARGUMENT` (the codec does the same for bodies that
//!    are not valid messages, see `kefu_proto::codec`).
//!
//! Deadlines (`grpc-timeout`, capped by the server's timeout) are enforced by tonic's server itself.

use std::time::Duration;

use http::Request;
use tower::util::MapResponseLayer;
use tower_http::classify::{GrpcErrorsAsFailures, GrpcFailureClass, SharedClassifier};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::{Level, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The header that carries the correlation id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The innermost layer: see the module docs.
pub type ClientFaultsLayer = MapResponseLayer<fn(GrpcResponse) -> GrpcResponse>;

type GrpcResponse = http::Response<tonic::body::Body>;

/// The layers, ready for `tonic::transport::Server::layer`.
pub type Stack = tower::layer::util::Stack<
    ClientFaultsLayer,
    tower::layer::util::Stack<
        PropagateRequestIdLayer,
        tower::layer::util::Stack<
            TraceLayer<
                SharedClassifier<GrpcErrorsAsFailures>,
                fn(&Request<tonic::body::Body>) -> Span,
                (),
                fn(&http::Response<tonic::body::Body>, Duration, &Span),
                (),
                (),
                fn(GrpcFailureClass, Duration, &Span),
            >,
            tower::layer::util::Stack<
                SetRequestIdLayer<MakeRequestUuid>,
                tower::layer::util::Identity,
            >,
        >,
    >,
>;

/// Builds the stack.
pub fn stack() -> Stack {
    tower::ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_grpc()
                .make_span_with(make_span as fn(&Request<tonic::body::Body>) -> Span)
                .on_request(())
                .on_response(on_response as fn(&http::Response<tonic::body::Body>, Duration, &Span))
                .on_body_chunk(())
                .on_eos(())
                .on_failure(on_failure as fn(GrpcFailureClass, Duration, &Span)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(MapResponseLayer::new(
            client_faults as fn(GrpcResponse) -> GrpcResponse,
        ))
        .into_inner()
}

/// The texts tonic's framing answers `INTERNAL` with when the request body is at fault.
const CLIENT_FRAMING_FAULTS: &[&str] = &[
    "protocol error: received message with compressed-flag but no grpc-encoding",
    "protocol error: received message with invalid compression flag",
    "Unexpected EOF decoding stream",
    "Missing request message",
    "Error decompressing",
    "failed to decode Protobuf message",
];

/// Rewrites a trailers-only `INTERNAL` caused by the request's framing to `INVALID_ARGUMENT`.
fn client_faults(mut response: GrpcResponse) -> GrpcResponse {
    let headers = response.headers();
    let is_internal = headers
        .get("grpc-status")
        .is_some_and(|status| status.as_bytes() == b"13");
    if !is_internal {
        return response;
    }
    let Some(status) = tonic::Status::from_header_map(headers) else {
        return response;
    };
    if !CLIENT_FRAMING_FAULTS
        .iter()
        .any(|fault| status.message().starts_with(fault))
    {
        return response;
    }
    let replacement = tonic::Status::invalid_argument(format!(
        "the request body is not a well-formed gRPC message: {}",
        status.message()
    ));
    let headers = response.headers_mut();
    for name in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        headers.remove(name);
    }
    if replacement.add_header(headers).is_err() {
        tracing::warn!("could not rewrite a framing fault's status");
    }
    response
}

fn make_span(request: &Request<tonic::body::Body>) -> Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let path = request.uri().path();
    // Probes (the gateway's, Kubernetes') call health every few seconds: keep them out of the
    // INFO log.
    let span = if path.starts_with(HEALTH_PREFIX) {
        tracing::debug_span!(
            "probe",
            otel.name = %path,
            otel.kind = "server",
            rpc.method = %path,
            request_id = %request_id,
        )
    } else {
        tracing::info_span!(
            "rpc",
            otel.name = %path,
            otel.kind = "server",
            rpc.method = %path,
            request_id = %request_id,
            principal = tracing::field::Empty,
        )
    };
    let parent = crate::outgoing::extract_context(request.headers());
    let _ = span.set_parent(parent);
    span
}

/// Health checks: logged at DEBUG.
const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";

fn on_response(response: &http::Response<tonic::body::Body>, latency: Duration, span: &Span) {
    if span.metadata().is_some_and(|m| m.name() == "probe") {
        tracing::debug!(latency_us = latency.as_micros() as u64, "probe answered");
        return;
    }
    // Trailers-only responses (errors raised before any message) carry grpc-status in the headers.
    let code = response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("0");
    tracing::event!(
        Level::INFO,
        latency_us = latency.as_micros() as u64,
        grpc.code = code,
        "rpc finished"
    );
}

fn on_failure(failure: GrpcFailureClass, latency: Duration, _span: &Span) {
    match failure {
        GrpcFailureClass::Code(code) => {
            tracing::event!(
                Level::DEBUG,
                latency_us = latency.as_micros() as u64,
                grpc.code = code.get(),
                "rpc failed"
            );
        }
        GrpcFailureClass::Error(error) => {
            tracing::event!(Level::WARN, latency_us = latency.as_micros() as u64, %error, "rpc transport error");
        }
    }
}
