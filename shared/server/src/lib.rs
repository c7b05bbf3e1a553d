//! The service kit: everything every kefu service needs, written once.
//!
//! - [`kit`]: what a service is ([`kit::Service`]), starting it ([`kit::prepare`],
//!   [`kit::Prepared::serve`]) and its whole binary ([`kit::main`]).
//! - [`config`]: the settings every binary reads, and a service's [`Config`].
//! - [`serve`]: health (NOT_SERVING while the database is unreachable and once draining starts),
//!   reflection (`v1` and `v1alpha`), the layer stack and graceful shutdown.
//! - [`error`]: [`ServiceError`], every use case's error, and its one mapping to gRPC codes.
//! - [`events`]: the server side of `WatchEvents`; [`consumer`]: the loop that follows another
//!   service's stream; [`remote`]: calling other services.
//! - [`layers`]: request id → trace span (W3C trace context) → access log, outermost first.
//! - [`api`]: what tonic handlers share; [`auth`]: verifies the signed principal on every call except health and reflection.
//! - [`status`]: `google.rpc` error details (`BadRequest`, `ErrorInfo`) on `tonic::Status`.
//! - [`paging`], [`mask`], [`etag`], [`validate`], [`time`]: AIP-158 pages, AIP-134 update
//!   masks, AIP-154 etags, field checks, and checked timestamps.
//! - [`clock`]: the time use cases see, manual in tests.
//! - [`common`]: the domain side of `kefu.common.v1`; [`numbered_enum!`]: domain enums with
//!   their wire numbers.

pub mod api;
pub mod auth;
pub mod clock;
pub mod common;
pub mod config;
pub mod consumer;
pub mod customers;
pub mod error;
pub mod etag;
pub mod events;
mod health;
pub mod kit;
pub mod layers;
pub mod mask;
pub mod numbered;
pub mod outgoing;
pub mod paging;
pub mod records;
pub mod remote;
mod serve;
pub mod status;
pub mod time;
pub mod validate;

pub use auth::{Authenticator, principal_of};
pub use clock::Clock;
pub use config::{CommonConfig, Config, ConfigError};
pub use error::ServiceError;
pub use serve::{Grpc, ServeError, ServeSettings, serve, shutdown_signal};
pub use status::Violations;
