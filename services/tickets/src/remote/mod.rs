//! The tickets service's side of other services.

pub mod customers;
