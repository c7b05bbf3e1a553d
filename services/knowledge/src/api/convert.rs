//! Records to proto messages.

use kefu_proto::knowledge::v1 as pb;
use kefu_server::etag::etag;

use crate::domain::article::{RevisionRecord, article_name, revision_name};
use crate::domain::category::{CategoryRecord, category_name};
use crate::ops::{ArticleView, Hit, timestamp};

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
        visibility: a.settings.visibility,
        state: a.state,
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
