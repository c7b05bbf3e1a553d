//! Integration tests of the automation service over gRPC, with real customers and tickets
//! services beside it, on SQLite and on PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

mod helpers;

mod acknowledge;
mod firing;
mod macros;
mod queue;
mod replicas;
mod requester_care;
mod return_visits;
mod rule_macros;
mod schedules;
mod sla_warnings;
mod triggers;
