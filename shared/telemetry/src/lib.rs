//! One telemetry setup for every kefu binary.
//!
//! - Logs: human-readable by default, one JSON object per line with `KEFU_LOG_FORMAT=json`;
//!   levels from `RUST_LOG` (default `info`).
//! - Traces: exported over OTLP/gRPC when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; W3C trace context
//!   is the propagator either way, so incoming `traceparent` headers parent our spans.
//!
//! Building the configuration ([`TelemetryConfig::from_env`]) is separate from installing it
//! ([`TelemetryConfig::install`]), so tests can stay quiet by never installing anything.

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use thiserror::Error;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// For people at a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// What to set up, read from the environment.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// The `service.name` on traces and the target of logs.
    pub service_name: String,
    /// Log format (`KEFU_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`), if traces are exported.
    pub otlp_endpoint: Option<String>,
}

/// Why telemetry could not be set up.
#[derive(Debug, Error)]
pub enum TelemetryError {
    /// `KEFU_LOG_FORMAT` is neither `pretty` nor `json`.
    #[error("KEFU_LOG_FORMAT must be `pretty` or `json`, not `{0}`")]
    BadLogFormat(String),
    /// The OTLP exporter could not be built.
    #[error("cannot build the OTLP exporter")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// A global subscriber was already installed.
    #[error("a tracing subscriber is already installed")]
    AlreadyInstalled(#[from] tracing_subscriber::util::TryInitError),
}

/// Keeps the trace exporter alive; [`TelemetryGuard::shutdown`] flushes what is buffered.
#[must_use = "dropping the guard does not flush traces; call shutdown() on exit"]
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Flushes pending spans and stops the exporter.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "flushing traces failed");
        }
    }
}

impl TelemetryConfig {
    /// Reads `KEFU_LOG_FORMAT` and `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn from_env(service_name: &str) -> Result<Self, TelemetryError> {
        let log_format = match std::env::var("KEFU_LOG_FORMAT")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => return Err(TelemetryError::BadLogFormat(other.to_owned())),
        };
        let otlp_endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
            .ok()
            .filter(|v| !v.trim().is_empty());
        Ok(Self {
            service_name: service_name.to_owned(),
            log_format,
            otlp_endpoint,
        })
    }

    /// Installs the global subscriber and, when configured, the OTLP trace pipeline.
    pub fn install(self) -> Result<TelemetryGuard, TelemetryError> {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        let fmt_layer = match self.log_format {
            LogFormat::Pretty => tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .with_target(false)
                .compact()
                .boxed(),
            LogFormat::Json => tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .boxed(),
        };
        let provider = match &self.otlp_endpoint {
            Some(endpoint) => {
                use opentelemetry_otlp::WithExportConfig;
                let exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_endpoint(endpoint.clone())
                    .build()?;
                Some(
                    SdkTracerProvider::builder()
                        .with_batch_exporter(exporter)
                        .with_resource(
                            Resource::builder()
                                .with_service_name(self.service_name.clone())
                                .build(),
                        )
                        .build(),
                )
            }
            None => None,
        };
        let otel_layer = provider.as_ref().map(|provider| {
            opentelemetry::global::set_tracer_provider(provider.clone());
            tracing_opentelemetry::layer().with_tracer(provider.tracer(self.service_name.clone()))
        });
        tracing_subscriber::registry()
            .with(filter)
            .with(fmt_layer)
            .with(otel_layer)
            .try_init()?;
        Ok(TelemetryGuard { provider })
    }
}
