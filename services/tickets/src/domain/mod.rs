//! The tickets service's rules: the state machine, business-time arithmetic, SLA policies and
//! targets, links, the team, who may do what. No I/O here, no wire types.

pub mod access;
pub mod calendar;
pub mod changes;
pub mod classify;
pub mod escalation;
pub mod fields;
pub mod followers;
pub mod kinds;
pub mod lifecycle;
pub mod links;
pub mod policy;
pub mod routing;
pub mod scope;
pub mod skills;
pub mod sla;
pub mod team;
pub mod ticket;
pub mod views;
