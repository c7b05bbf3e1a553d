//! All SQL of the knowledge service, one query text for SQLite and PostgreSQL; no rules here.

mod articles;
mod categories;
mod search;

pub use articles::*;
pub use categories::*;
pub use search::*;

pub use kefu_db::row::{delete_versioned, find, find_all};

use kefu_db::Params;

use crate::domain::access::Scope;
use crate::domain::kinds::{ArticleState, Visibility};

/// Filters shared by listing, search and the FAQ page.
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    /// Category id.
    pub category_id: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// State.
    pub state: Option<ArticleState>,
    /// Visibility.
    pub visibility: Option<Visibility>,
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
            params.bind(i64::from(ArticleState::Published.number()))
        )),
        Scope::PublishedPublic => {
            clauses.push(format!(
                "a.state = {}",
                params.bind(i64::from(ArticleState::Published.number()))
            ));
            clauses.push(format!(
                "a.visibility = {}",
                params.bind(i64::from(Visibility::Public.number()))
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
        clauses.push(format!(
            "a.state = {}",
            params.bind(i64::from(state.number()))
        ));
    }
    if let Some(visibility) = filter.visibility {
        clauses.push(format!(
            "a.visibility = {}",
            params.bind(i64::from(visibility.number()))
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
