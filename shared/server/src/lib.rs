//! Server plumbing every kefu service shares.
//!
//! - [`serve`]: starts a service with health (NOT_SERVING while the database is unreachable),
//!   reflection (`v1` and `v1alpha`), the layer stack and graceful shutdown.
//! - [`layers`]: request id → trace span (W3C trace context) → access log, outermost first.
//! - [`auth`]: verifies the signed principal on every call except health and reflection.
//! - [`status`]: `google.rpc` error details (`BadRequest`, `ErrorInfo`) on `tonic::Status`.
//! - [`paging`], [`mask`], [`etag`]: AIP-158 page tokens, AIP-134 update masks, AIP-154 etags.

pub mod auth;
pub mod config;
pub mod error;
pub mod etag;
pub mod events;
mod health;
pub mod layers;
pub mod mask;
pub mod outgoing;
pub mod paging;
mod serve;
pub mod status;
pub mod validate;

pub use auth::{Authenticator, principal_of};
pub use config::{CommonConfig, ConfigError};
pub use error::ServiceError;
pub use serve::{ServeError, ServeSettings, serve, shutdown_signal};
pub use status::Violations;
