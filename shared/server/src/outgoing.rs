//! Calls from one service to another on behalf of a caller: the outgoing request carries the
//! caller's principal, what is left of the caller's deadline (capped), and the current trace
//! context, so a dependency sees the same who, the same when-to-give-up and the same trace.

use std::time::Duration;

use kefu_principal::PRINCIPAL_HEADER;
use opentelemetry::propagation::{Extractor, Injector};
use tonic::Request;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// A request for another service carrying `incoming`'s principal, deadline (at most `cap`) and
/// the current span's trace context.
pub fn forward<T, U>(incoming: &Request<U>, message: T, cap: Duration) -> Request<T> {
    Caller::of(incoming).request(message, cap)
}

/// Who is calling and until when, kept from an incoming request so a use case can call other
/// services on the caller's behalf after the request itself was taken apart.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    principal: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>,
    deadline: Option<std::time::Instant>,
}

impl Caller {
    /// The caller of `incoming`.
    pub fn of<U>(incoming: &Request<U>) -> Self {
        Self {
            principal: incoming.metadata().get(PRINCIPAL_HEADER).cloned(),
            deadline: incoming
                .metadata()
                .get("grpc-timeout")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_grpc_timeout)
                .map(|timeout| std::time::Instant::now() + timeout),
        }
    }

    /// A request carrying the caller's principal, what is left of its deadline (at most `cap`),
    /// and the current span's trace context.
    pub fn request<T>(&self, message: T, cap: Duration) -> Request<T> {
        let mut request = Request::new(message);
        if let Some(principal) = &self.principal {
            request
                .metadata_mut()
                .insert(PRINCIPAL_HEADER, principal.clone());
        }
        let left = self
            .deadline
            .map(|deadline| deadline.saturating_duration_since(std::time::Instant::now()));
        request.set_timeout(left.map_or(cap, |left| left.min(cap)));
        inject_trace_context(request.metadata_mut());
        request
    }
}

/// Adds the current span's W3C trace context (`traceparent`, `tracestate`) to `metadata`.
pub fn inject_trace_context(metadata: &mut MetadataMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut MetadataInjector(metadata));
    });
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// The W3C trace context (`traceparent`, `tracestate`) of incoming HTTP headers.
pub fn extract_context(headers: &http::HeaderMap) -> opentelemetry::Context {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    })
}

/// Writes the current span's W3C trace context into HTTP headers, replacing any there; leaves
/// them as they are when the span carries no trace (tracing export off).
pub fn inject_into_headers(headers: &mut http::HeaderMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderInjector(headers));
    });
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::header::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Parses a `grpc-timeout` header value: up to 8 digits and a unit (H, M, S, m, u, n).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_per_spec() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None, "at most 8 digits");
        assert_eq!(parse_grpc_timeout("5x"), None);
    }

    #[test]
    fn the_callers_principal_and_a_capped_deadline_go_along() {
        let mut incoming = Request::new(());
        incoming
            .metadata_mut()
            .insert(PRINCIPAL_HEADER, MetadataValue::from_static("v1.abc.def"));
        incoming
            .metadata_mut()
            .insert("grpc-timeout", MetadataValue::from_static("30S"));
        let outgoing = forward(&incoming, 7_u8, Duration::from_secs(5));
        assert_eq!(
            outgoing
                .metadata()
                .get(PRINCIPAL_HEADER)
                .and_then(|v| v.to_str().ok()),
            Some("v1.abc.def")
        );
        assert_eq!(
            outgoing
                .metadata()
                .get("grpc-timeout")
                .and_then(|v| v.to_str().ok()),
            Some("5000000u")
        );
        incoming
            .metadata_mut()
            .insert("grpc-timeout", MetadataValue::from_static("100m"));
        let outgoing = forward(&incoming, 7_u8, Duration::from_secs(5));
        let left = outgoing
            .metadata()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout);
        assert!(
            left.is_some_and(
                |left| left <= Duration::from_millis(100) && left > Duration::from_millis(90)
            ),
            "what is left of the caller's 100 ms: {left:?}"
        );
    }
}
