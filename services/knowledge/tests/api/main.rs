//! Integration tests of the knowledge service over gRPC, on SQLite and on PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

mod helpers;

mod articles;
mod categories;
mod readers;
mod search;
