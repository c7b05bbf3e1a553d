//! Database plumbing shared by every kefu service.
//!
//! - [`Database`]: one sqlx `Any` pool over **SQLite** (the embedded default: a file under the data
//!   directory, WAL, foreign keys, busy timeout) or **PostgreSQL** (chosen by a `postgres://` URL).
//!   Queries are written once with `$1` placeholders; what differs by dialect lives in [`Dialect`].
//! - [`Migrations`]: a service's per-dialect migrations, embedded in its binary, run at start-up.
//! - [`outbox`]: the transactional outbox that feeds each service's `WatchEvents` stream.
//! - [`time`]: timestamps as UTC microseconds, the one representation both databases store.
//!
//! A trap this crate's users must know: on SQLite, `INSERT … RETURNING` read with `fetch_one` or
//! `fetch_optional` keeps the WAL from checkpointing, so the `-wal` file grows without bound.
//! Read `RETURNING` rows with `fetch_all`, or use `execute`. A test in this crate guards the WAL size.

pub mod cursors;
mod database;
mod error;
pub mod idempotency;
pub mod outbox;
mod sql;
pub mod time;

pub use database::{Database, Dialect, Migrations, WriteTx, default_sqlite_url};
pub use error::DbError;
pub use sql::Params;
pub use sqlx;
