//! The knowledge service's rules: who sees what, the article life cycle, the category tree, and
//! (from the shared `kefu-text` crate) text analysis for search. No I/O here, no wire types.

pub mod access;
pub mod article;
pub mod category;
pub mod kinds;
pub use kefu_text as search;
