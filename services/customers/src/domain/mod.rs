//! The customers service's rules: what a valid customer is, who may do what, and how updates,
//! merges and erasure change a record. No I/O here.

pub mod access;
pub mod activity;
pub mod customer;
pub mod organization;
pub mod validate;

pub use access::{Action, authorize};
