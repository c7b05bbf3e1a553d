//! All SQL of the customers service, one query text for SQLite and PostgreSQL. No rules here:
//! functions read and write rows; `ops` decides what to write.
//!
//! `INSERT` statements use `execute()`, never `RETURNING` read with `fetch_one`, which on SQLite
//! keeps the WAL from checkpointing (see kefu-db).

mod activity;
mod customers;
mod organizations;

pub use kefu_db::row::{delete_versioned, find, find_all};

pub use activity::{
    InteractionFilter, insert_interaction, insert_purchase, interactions_of, list_interactions,
    list_purchases, purchases_of,
};
pub use customers::{
    CustomerFilter, email_owners, erase_interactions, find_by_external_id, has_merged_children,
    insert_customer, list_customers, merged_children, set_merged_into, update_customer,
};
pub use organizations::{
    OrganizationFilter, domain_owners, insert_organization, list_organizations,
    organization_for_domain, organization_has_members, update_organization,
};

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub(crate) fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
