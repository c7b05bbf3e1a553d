//! Integration tests of the customers service over gRPC, on SQLite and on PostgreSQL
//! (when `KEFU_TEST_POSTGRES_URL` is set; CI always sets it). One binary, one module per area.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

mod helpers;

mod activity;
mod auth;
mod customers;
mod events;
mod import_upsert;
mod lifecycle;
mod organizations;
mod store;
