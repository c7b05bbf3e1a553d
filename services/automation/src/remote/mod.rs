//! The automation service's side of other services.

pub mod customers;
pub mod tickets;
