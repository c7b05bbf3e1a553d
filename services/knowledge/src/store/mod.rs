//! All SQL of the knowledge service, one query text for SQLite and PostgreSQL; no rules here.

mod articles;
mod categories;
mod search;

pub use articles::*;
pub use categories::*;
pub use search::*;

use kefu_db::Params;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::domain::access::Scope;
use kefu_proto::knowledge::v1 as pb;

pub(crate) fn int(row: &AnyRow, column: &str) -> Result<i32, sqlx::Error> {
    let value: i64 = row.try_get(column)?;
    i32::try_from(value).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Filters shared by listing, search and the FAQ page.
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    /// Category id.
    pub category_id: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// `pb::ArticleState`.
    pub state: Option<i32>,
    /// `pb::Visibility`.
    pub visibility: Option<i32>,
    /// Articles carrying every one of these tags.
    pub tags: Vec<String>,
    /// Translation set.
    pub translation_set: Option<String>,
}

/// `WHERE` clauses (on alias `a`) for a filter within a reader's scope.
pub(crate) fn filter_clauses(
    params: &mut Params,
    filter: &ArticleFilter,
    scope: Scope,
) -> Vec<String> {
    let mut clauses = Vec::new();
    match scope {
        Scope::Staff => {}
        Scope::PublishedAll => clauses.push(format!(
            "a.state = {}",
            params.bind(pb::ArticleState::Published as i64)
        )),
        Scope::PublishedPublic => {
            clauses.push(format!(
                "a.state = {}",
                params.bind(pb::ArticleState::Published as i64)
            ));
            clauses.push(format!(
                "a.visibility = {}",
                params.bind(pb::Visibility::Public as i64)
            ));
        }
    }
    if let Some(category) = &filter.category_id {
        clauses.push(format!("a.category_id = {}", params.bind(category.clone())));
    }
    if let Some(locale) = &filter.locale {
        clauses.push(format!("a.locale = {}", params.bind(locale.clone())));
    }
    if let Some(state) = filter.state {
        clauses.push(format!("a.state = {}", params.bind(i64::from(state))));
    }
    if let Some(visibility) = filter.visibility {
        clauses.push(format!(
            "a.visibility = {}",
            params.bind(i64::from(visibility))
        ));
    }
    for tag in &filter.tags {
        clauses.push(format!(
            "a.id IN (SELECT article_id FROM article_tags WHERE tag = {})",
            params.bind(tag.clone())
        ));
    }
    if let Some(set) = &filter.translation_set {
        clauses.push(format!("a.translation_set = {}", params.bind(set.clone())));
    }
    clauses
}
