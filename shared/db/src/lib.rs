//! Database plumbing shared by every kefu service.
//!
//! - [`Database`]: one sqlx `Any` pool over **SQLite** (the embedded default: a file under the data
//!   directory, WAL, foreign keys, busy timeout) or **PostgreSQL** (chosen by a `postgres://` URL).
//!   Queries are written once with `$1` placeholders; what differs by dialect lives in [`Dialect`].
//! - [`Write`]: a write transaction; the change, its events, request ids and consumer cursors
//!   commit together, and the commit wakes the event watchers.
//! - [`Migrations`]: a service's migrations, embedded in its binary, run at start-up after
//!   kefu-db's own (the tables below).
//! - [`outbox`], [`idempotency`], [`cursors`]: the tables kefu-db owns in every service's
//!   database: the transactional outbox behind `WatchEvents`, AIP-155 request ids, and where the
//!   service's consumers of other services' streams got to.
//! - [`row`]: reading rows and the column encodings both databases share; [`time`]: timestamps.
//!
//! A trap this crate's users must know: on SQLite, `INSERT … RETURNING` read with `fetch_one` or
//! `fetch_optional` keeps the WAL from checkpointing, so the `-wal` file grows without bound.
//! Read rows with [`row::one`] or [`row::all`] (`fetch_all`), or use `execute`. The
//! customers service's store tests guard the WAL size.

pub mod cursors;
mod database;
mod error;
pub mod idempotency;
pub mod outbox;
pub mod row;
mod sql;
pub mod time;
mod write;

pub use database::{Database, Dialect, Migrations, default_sqlite_url};
pub use error::{DbError, Fault, classify};
pub use sql::Params;
pub use sqlx;
pub use write::Write;
