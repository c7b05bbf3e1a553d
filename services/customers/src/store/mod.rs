//! All SQL of the customers service, one query text for SQLite and PostgreSQL. No rules here:
//! functions read and write rows; `ops` decides what to write.
//!
//! `INSERT` statements use `execute()`, never `RETURNING` read with `fetch_one`, which on SQLite
//! keeps the WAL from checkpointing (see kefu-db).

mod activity;
mod customers;
mod organizations;

pub use activity::{
    InteractionFilter, insert_interaction, insert_purchase, interactions_of, list_interactions,
    list_purchases, purchases_of,
};
pub use customers::{
    CustomerFilter, delete_customer, email_owners, erase_interactions, find_by_external_id,
    get_customer, get_customers, has_merged_children, insert_customer, list_customers,
    merged_children, set_merged_into, update_customer,
};
pub use organizations::{
    OrganizationFilter, delete_organization, domain_owners, get_organization, insert_organization,
    list_organizations, organization_for_domain, organization_has_members, update_organization,
};

use sqlx::Row;
use sqlx::any::AnyRow;

pub(crate) fn json_list(row: &AnyRow, column: &str) -> Result<Vec<String>, sqlx::Error> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

pub(crate) fn opt_i64(row: &AnyRow, column: &str) -> Result<Option<i64>, sqlx::Error> {
    row.try_get::<Option<i64>, _>(column)
}

pub(crate) fn int(row: &AnyRow, column: &str) -> Result<i32, sqlx::Error> {
    let value: i64 = row.try_get(column)?;
    i32::try_from(value).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}
