//! Integration tests of the tickets service over gRPC, with a real customers service beside it,
//! on SQLite and on PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

mod helpers;

mod access;
mod classify;
mod escalation;
mod fields;
mod followers;
mod hours;
mod lifecycle;
mod merges;
mod policies;
mod queries;
mod requesters;
mod retiring;
mod retries;
mod routing;
mod schedules;
mod scopes;
mod search;
mod skills;
mod sla;
mod stats;
mod tiers;
mod views;
