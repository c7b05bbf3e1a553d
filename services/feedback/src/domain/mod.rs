//! The feedback service's rules, free of I/O and wire types: who may do what, what a score means,
//! what a follow-up ticket says, and how a complaint's ticket decides the complaint's state.

pub mod access;
pub mod follow_up;
pub mod kinds;
pub mod records;
pub mod survey;
