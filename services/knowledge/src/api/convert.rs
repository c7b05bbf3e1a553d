//! Wire ↔ domain: the client's messages validated into domain values (each bad field a
//! violation), and records back into messages.

use kefu_proto::knowledge::v1 as pb;
use kefu_server::etag::etag;
use kefu_server::time::timestamp;
use kefu_server::{Violations, validate};

use crate::domain::article::{
    self, Content, MAX_TAGS, RevisionRecord, Settings, article_name, revision_name,
};
use crate::domain::category::{
    self, CategoryFields, CategoryRecord, category_name, locale_or_default,
};
use crate::domain::kinds::Visibility;
use crate::ops::{ArticleView, Hit};

/// The fields of `input` named in `paths` (every field on create), validated.
pub(crate) fn category_fields(
    input: &pb::Category,
    paths: &[&str],
    v: &mut Violations,
) -> CategoryFields {
    let mut fields = CategoryFields::default();
    for path in paths {
        match *path {
            "parent" => {
                fields.parent_id = validate::optional_resource_id(
                    &input.parent,
                    "categories",
                    "category.parent",
                    v,
                )
            }
            "position" => fields.position = category::position(input.position, v),
            "display_name" => {
                fields.display_name =
                    validate::display_name(&input.display_name, "category.display_name", v)
            }
            "description" => fields.description = category::description(&input.description, v),
            "locale" => fields.locale = locale_or_default(&input.locale, "category.locale", v),
            other => v.add(format!("category.{other}"), "cannot be set"),
        }
    }
    fields
}

/// The text and settings of `input` named in `paths` (every field on create), validated; an unset
/// visibility is PUBLIC.
pub(crate) fn article_fields(
    input: &pb::Article,
    paths: &[&str],
    v: &mut Violations,
) -> (Content, Settings) {
    let mut content = Content::default();
    let mut settings = Settings::default();
    for path in paths {
        match *path {
            "title" => content.title = article::title(&input.title, v),
            "body" => content.body = article::body(&input.body, v),
            "summary" => content.summary = article::summary(&input.summary, v),
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
                settings.visibility = validate::optional_enum(
                    input.visibility,
                    Visibility::from_number,
                    "article.visibility",
                    v,
                )
                .unwrap_or(Visibility::Public)
            }
            "promoted" => settings.promoted = input.promoted,
            other => v.add(format!("article.{other}"), "cannot be set"),
        }
    }
    (content, settings)
}

pub(crate) fn category(record: &CategoryRecord) -> pb::Category {
    let name = category_name(&record.id);
    pb::Category {
        etag: etag(&name, record.version),
        name,
        parent: record
            .fields
            .parent_id
            .as_deref()
            .map(category_name)
            .unwrap_or_default(),
        position: i32::try_from(record.fields.position).unwrap_or(i32::MAX),
        display_name: record.fields.display_name.clone(),
        description: record.fields.description.clone(),
        locale: record.fields.locale.clone(),
        create_time: Some(timestamp(record.create_time)),
        update_time: Some(timestamp(record.update_time)),
    }
}

pub(crate) fn article(view: &ArticleView) -> pb::Article {
    let a = &view.article;
    let name = article_name(&a.id);
    pb::Article {
        etag: etag(&name, a.version),
        name,
        title: view.revision.content.title.clone(),
        body: view.revision.content.body.clone(),
        summary: view.revision.content.summary.clone(),
        locale: a.settings.locale.clone(),
        category: a
            .settings
            .category_id
            .as_deref()
            .map(category_name)
            .unwrap_or_default(),
        tags: a.settings.tags.clone(),
        visibility: a.settings.visibility.number(),
        state: a.state.number(),
        author: a.author.clone(),
        promoted: a.settings.promoted,
        translation_set: a.translation_set.clone(),
        latest_revision: revision_name(&a.id, &a.latest_revision_id),
        published_revision: a
            .published_revision_id
            .as_deref()
            .map(|r| revision_name(&a.id, r))
            .unwrap_or_default(),
        revision: revision_name(&a.id, &view.revision.id),
        create_time: Some(timestamp(a.create_time)),
        update_time: Some(timestamp(a.update_time)),
        publish_time: a.publish_time.map(timestamp),
        view_count: a.view_count,
        helpful_count: a.helpful_count,
        not_helpful_count: a.not_helpful_count,
    }
}

pub(crate) fn revision(record: &RevisionRecord) -> pb::Revision {
    pb::Revision {
        name: revision_name(&record.article_id, &record.id),
        number: record.number,
        title: record.content.title.clone(),
        body: record.content.body.clone(),
        summary: record.content.summary.clone(),
        author: record.author.clone(),
        create_time: Some(timestamp(record.create_time)),
        restored_from: record.restored_from.clone(),
    }
}

pub(crate) fn hit(hit: &Hit) -> pb::SearchResult {
    pb::SearchResult {
        article: Some(article(&hit.view)),
        snippet: hit.snippet.clone(),
        score: hit.score,
    }
}

#[cfg(test)]
mod tests {
    use kefu_server::numbered::assert_matches_contract;
    use kefu_server::numbered_pairs;

    use super::*;
    use crate::domain::kinds::ArticleState;

    #[test]
    fn domain_enums_match_the_contract() {
        let name = |n| pb::ArticleState::try_from(n).ok().map(|e| e.as_str_name());
        assert_matches_contract(&numbered_pairs!(ArticleState), name);
        let name = |n| pb::Visibility::try_from(n).ok().map(|e| e.as_str_name());
        assert_matches_contract(&numbered_pairs!(Visibility), name);
    }
}
