//! Integration tests of the feedback service over gRPC, with real customers and tickets services
//! beside it, on SQLite and on PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

mod helpers;

mod access;
mod campaigns;
mod intake;
mod privacy;
mod restarts;
mod scopes;
mod summary;
mod surveys;
