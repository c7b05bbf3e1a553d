//! All SQL of the automation service, one query text for SQLite and PostgreSQL; no rules here.

mod clocks;
mod firings;
mod macros;
mod triggers;

pub use clocks::*;
pub use firings::*;
pub use macros::*;
pub use triggers::*;
