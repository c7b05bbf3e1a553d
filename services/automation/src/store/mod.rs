//! All SQL of the automation service, one query text for SQLite and PostgreSQL; no rules here.

mod clocks;
mod firings;
mod triggers;

pub use clocks::*;
pub use firings::*;
pub use triggers::*;
