//! The gateway in front of real services: authentication, principal minting, routing,
//! balancing and ejection, rate limits, deadlines, streaming, health and reflection, one module
//! per concern.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

#[path = "../support/mod.rs"]
mod support;

mod auth;
mod health;
mod helpers;
mod limits;
mod protocol;
mod streams;
mod workers;
