//! The tickets service's rules: the state machine, business-time arithmetic, SLA policies and
//! targets, who may do what. No I/O here.

pub mod access;
pub mod calendar;
pub mod lifecycle;
pub mod links;
pub mod sla;
pub mod ticket;
