//! Articles and their life cycle.

use kefu_proto::knowledge::v1 as pb;
use kefu_server::{Violations, validate};

use super::category::locale_or_default;

/// Paths `update_mask` may name.
pub const UPDATABLE_FIELDS: &[&str] = &[
    "title",
    "body",
    "summary",
    "locale",
    "category",
    "tags",
    "visibility",
    "promoted",
];
/// The paths whose change writes a new revision.
pub const CONTENT_FIELDS: &[&str] = &["title", "body", "summary"];
/// Most tags on an article.
pub const MAX_TAGS: usize = 20;
/// Longest body, in characters.
pub const MAX_BODY_CHARS: usize = 200_000;

/// The revisioned text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Content {
    /// Title.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// Summary.
    pub summary: String,
}

/// The article's own settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// Locale.
    pub locale: String,
    /// Category id.
    pub category_id: Option<String>,
    /// Sorted tags.
    pub tags: Vec<String>,
    /// `pb::Visibility`.
    pub visibility: i32,
    /// Shown first on the FAQ page.
    pub promoted: bool,
}

/// A stored article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleRecord {
    /// Id.
    pub id: String,
    /// Settings.
    pub settings: Settings,
    /// `pb::ArticleState`.
    pub state: i32,
    /// Author's principal id.
    pub author: String,
    /// Translation set id.
    pub translation_set: String,
    /// Newest revision id.
    pub latest_revision_id: String,
    /// Published revision id.
    pub published_revision_id: Option<String>,
    /// Creation, UTC microseconds.
    pub create_time: i64,
    /// Last change, UTC microseconds.
    pub update_time: i64,
    /// Last publish, UTC microseconds.
    pub publish_time: Option<i64>,
    /// Row version.
    pub version: i64,
    /// Views.
    pub view_count: i64,
    /// Helpful votes.
    pub helpful_count: i64,
    /// Not-helpful votes.
    pub not_helpful_count: i64,
}

impl ArticleRecord {
    /// `articles/{id}`.
    pub fn name(&self) -> String {
        article_name(&self.id)
    }

    /// The revision search indexes and readers see: the published one, else the latest.
    pub fn searchable_revision_id(&self) -> &str {
        self.published_revision_id
            .as_deref()
            .unwrap_or(&self.latest_revision_id)
    }
}

/// A stored revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRecord {
    /// Id.
    pub id: String,
    /// Article id.
    pub article_id: String,
    /// 1, 2, 3…
    pub number: i64,
    /// The text.
    pub content: Content,
    /// Author's principal id.
    pub author: String,
    /// Revision copied by a restore, or empty.
    pub restored_from: String,
    /// When written, UTC microseconds.
    pub create_time: i64,
}

/// `articles/{id}`.
pub fn article_name(id: &str) -> String {
    format!("articles/{id}")
}

/// `articles/{article}/revisions/{revision}`.
pub fn revision_name(article_id: &str, revision_id: &str) -> String {
    format!("articles/{article_id}/revisions/{revision_id}")
}

/// Validates the fields of `input` named in `paths`.
pub fn apply_input(
    input: &pb::Article,
    paths: &[&str],
    content: &mut Content,
    settings: &mut Settings,
    v: &mut Violations,
) {
    for path in paths {
        match *path {
            "title" => {
                let title = input.title.trim();
                if title.is_empty() {
                    v.add("article.title", "is required");
                } else if title.chars().count() > 300 {
                    v.add("article.title", "must be at most 300 characters");
                }
                content.title = title.to_owned();
            }
            "body" => {
                if input.body.chars().count() > MAX_BODY_CHARS {
                    v.add(
                        "article.body",
                        format!("must be at most {MAX_BODY_CHARS} characters"),
                    );
                }
                content.body = input.body.clone();
            }
            "summary" => {
                if input.summary.chars().count() > 1000 {
                    v.add("article.summary", "must be at most 1,000 characters");
                }
                content.summary = input.summary.trim().to_owned();
            }
            "locale" => settings.locale = locale_or_default(&input.locale, "article.locale", v),
            "category" => {
                settings.category_id = validate::optional_resource_id(
                    &input.category,
                    "categories",
                    "article.category",
                    v,
                )
            }
            "tags" => settings.tags = validate::tags(&input.tags, MAX_TAGS, "article.tags", v),
            "visibility" => {
                let known = pb::Visibility::try_from(input.visibility).is_ok();
                validate::enum_value(input.visibility, known, false, "article.visibility", v);
                settings.visibility = if input.visibility == 0 {
                    pb::Visibility::Public as i32
                } else {
                    input.visibility
                };
            }
            "promoted" => settings.promoted = input.promoted,
            other => v.add(format!("article.{other}"), "cannot be set"),
        }
    }
}

/// Why a life-cycle step is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition(pub String);

fn state_name(state: i32) -> &'static str {
    pb::ArticleState::try_from(state).map_or("UNKNOWN", |s| s.as_str_name())
}

/// Archiving needs a DRAFT or PUBLISHED article.
pub fn check_archive(article: &ArticleRecord) -> Result<(), Precondition> {
    if article.state == pb::ArticleState::Archived as i32 {
        return Err(Precondition(format!(
            "{} is already {}",
            article.name(),
            state_name(article.state)
        )));
    }
    Ok(())
}

/// Deleting needs a DRAFT or ARCHIVED article: readers must not lose a live page by accident.
pub fn check_delete(article: &ArticleRecord) -> Result<(), Precondition> {
    if article.state == pb::ArticleState::Published as i32 {
        return Err(Precondition(format!(
            "{} is {}: archive it first",
            article.name(),
            state_name(article.state)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(state: pb::ArticleState) -> ArticleRecord {
        ArticleRecord {
            id: "a".into(),
            settings: Settings::default(),
            state: state as i32,
            author: "x".into(),
            translation_set: "a".into(),
            latest_revision_id: "r2".into(),
            published_revision_id: None,
            create_time: 0,
            update_time: 0,
            publish_time: None,
            version: 1,
            view_count: 0,
            helpful_count: 0,
            not_helpful_count: 0,
        }
    }

    #[test]
    fn life_cycle_rules() {
        assert!(check_archive(&article(pb::ArticleState::Draft)).is_ok());
        assert!(check_archive(&article(pb::ArticleState::Published)).is_ok());
        assert!(check_archive(&article(pb::ArticleState::Archived)).is_err());
        assert!(check_delete(&article(pb::ArticleState::Published)).is_err());
        assert!(check_delete(&article(pb::ArticleState::Archived)).is_ok());
    }

    #[test]
    fn readers_see_the_published_revision_until_a_new_one_is_published() {
        let mut a = article(pb::ArticleState::Published);
        assert_eq!(a.searchable_revision_id(), "r2");
        a.published_revision_id = Some("r1".into());
        assert_eq!(a.searchable_revision_id(), "r1");
    }
}
