//! Articles and their life cycle.

use kefu_server::Violations;

use super::kinds::{ArticleState, Visibility};

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Locale.
    pub locale: String,
    /// Category id.
    pub category_id: Option<String>,
    /// Sorted tags.
    pub tags: Vec<String>,
    /// Who may read it once published.
    pub visibility: Visibility,
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
    /// Where it is in its life.
    pub state: ArticleState,
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

impl Default for Settings {
    fn default() -> Self {
        Self {
            locale: "en".to_owned(),
            category_id: None,
            tags: Vec::new(),
            visibility: Visibility::Public,
            promoted: false,
        }
    }
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

/// Checks and normalizes a title: required, at most 300 characters.
pub fn title(value: &str, v: &mut Violations) -> String {
    let title = value.trim();
    if title.is_empty() {
        v.add("article.title", "is required");
    } else if title.chars().count() > 300 {
        v.add("article.title", "must be at most 300 characters");
    }
    title.to_owned()
}

/// Checks a Markdown body: at most [`MAX_BODY_CHARS`] characters.
pub fn body(value: &str, v: &mut Violations) -> String {
    if value.chars().count() > MAX_BODY_CHARS {
        v.add(
            "article.body",
            format!("must be at most {MAX_BODY_CHARS} characters"),
        );
    }
    value.to_owned()
}

/// Checks and normalizes a summary: at most 1,000 characters.
pub fn summary(value: &str, v: &mut Violations) -> String {
    if value.chars().count() > 1000 {
        v.add("article.summary", "must be at most 1,000 characters");
    }
    value.trim().to_owned()
}

/// Lays `input`'s fields named in `paths` over `content` and `settings`; returns the paths whose
/// value changed.
pub fn overlay(
    (content, settings): (&mut Content, &mut Settings),
    (new_content, new_settings): (&Content, &Settings),
    paths: &[&str],
) -> Vec<String> {
    let mut changed = Vec::new();
    for path in paths {
        let differs = match *path {
            "title" => replace(&mut content.title, &new_content.title),
            "body" => replace(&mut content.body, &new_content.body),
            "summary" => replace(&mut content.summary, &new_content.summary),
            "locale" => replace(&mut settings.locale, &new_settings.locale),
            "category" => replace(&mut settings.category_id, &new_settings.category_id),
            "tags" => replace(&mut settings.tags, &new_settings.tags),
            "visibility" => replace(&mut settings.visibility, &new_settings.visibility),
            "promoted" => replace(&mut settings.promoted, &new_settings.promoted),
            _ => false,
        };
        if differs {
            changed.push((*path).to_owned());
        }
    }
    changed
}

/// Sets `slot` to `value`; true when that changed it.
pub(crate) fn replace<T: Clone + PartialEq>(slot: &mut T, value: &T) -> bool {
    let differs = slot != value;
    slot.clone_from(value);
    differs
}

/// Why a life-cycle step is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition(pub String);

/// Archiving needs a DRAFT or PUBLISHED article.
pub fn check_archive(article: &ArticleRecord) -> Result<(), Precondition> {
    if article.state == ArticleState::Archived {
        return Err(Precondition(format!(
            "{} is already {}",
            article.name(),
            article.state.name()
        )));
    }
    Ok(())
}

/// Deleting needs a DRAFT or ARCHIVED article: readers must not lose a live page by accident.
pub fn check_delete(article: &ArticleRecord) -> Result<(), Precondition> {
    if article.state == ArticleState::Published {
        return Err(Precondition(format!(
            "{} is {}: archive it first",
            article.name(),
            article.state.name()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(state: ArticleState) -> ArticleRecord {
        ArticleRecord {
            id: "a".into(),
            settings: Settings::default(),
            state,
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
        assert!(check_archive(&article(ArticleState::Draft)).is_ok());
        assert!(check_archive(&article(ArticleState::Published)).is_ok());
        assert!(check_archive(&article(ArticleState::Archived)).is_err());
        assert!(check_delete(&article(ArticleState::Published)).is_err());
        assert!(check_delete(&article(ArticleState::Archived)).is_ok());
    }

    #[test]
    fn overlay_changes_only_masked_paths_and_names_real_changes() {
        let mut content = Content {
            title: "Refunds".into(),
            ..Content::default()
        };
        let mut settings = Settings::default();
        let new_content = Content {
            title: "Refunds".into(),
            body: "Open your order.".into(),
            summary: "ignored".into(),
        };
        let new_settings = Settings {
            promoted: true,
            ..Settings::default()
        };
        let changed = overlay(
            (&mut content, &mut settings),
            (&new_content, &new_settings),
            &["title", "body", "promoted"],
        );
        assert_eq!(changed, ["body", "promoted"]);
        assert_eq!(content.summary, "");
        assert!(settings.promoted);
    }

    #[test]
    fn readers_see_the_published_revision_until_a_new_one_is_published() {
        let mut a = article(ArticleState::Published);
        assert_eq!(a.searchable_revision_id(), "r2");
        a.published_revision_id = Some("r1".into());
        assert_eq!(a.searchable_revision_id(), "r1");
    }
}
