//! The automation rules, as pure functions over plain values: what a trigger is, when it holds
//! for a ticket event, what it plans to do, and how a chain of automated changes is bounded.

pub mod access;
pub mod defaults;
pub mod evaluate;
pub mod firing;
pub mod macros;
pub mod requester;
pub mod schedule;
pub mod template;
pub mod trigger;
