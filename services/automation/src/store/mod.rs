//! All SQL of the automation service, one query text for SQLite and PostgreSQL; no rules here.

mod firings;
mod triggers;

pub use firings::*;
pub use triggers::*;
