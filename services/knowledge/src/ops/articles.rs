//! Articles: create (with the first revision), read as a reader's scope allows, list, edit (text
//! as a new revision), delete.

use kefu_db::idempotency::RequestKey;
use kefu_proto::knowledge::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::records::{self, Target, load, not_found};
use sqlx::AnyConnection;

use super::{
    ArticleView, EventDraft, Knowledge, check_etag, load_revision, new_id, precondition, reindex,
};
use crate::domain::access::Scope;
use crate::domain::article::{
    self, ArticleRecord, CONTENT_FIELDS, Content, RevisionRecord, Settings, article_name,
    revision_name,
};
use crate::domain::category::CategoryRecord;
use crate::domain::kinds::ArticleState;
use crate::store::{self, ArticleFilter};

impl Knowledge {
    async fn check_category(
        &self,
        tx: &mut AnyConnection,
        settings: &Settings,
    ) -> Result<(), ServiceError> {
        if let Some(category_id) = &settings.category_id {
            load::<CategoryRecord>(tx, category_id).await?;
        }
        Ok(())
    }

    /// Creates a DRAFT article with its first revision; idempotent by `request_id`.
    pub async fn create_article(
        &self,
        actor: &str,
        content: Content,
        settings: Settings,
        translation_of: Option<&str>,
        request: Option<&RequestKey>,
    ) -> Result<ArticleView, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let id = new_id();
        if let Some(request) = request
            && let Some(existing) = request
                .claim(&mut tx, &article_name(&id), self.ctx.now())
                .await?
        {
            drop(tx);
            let existing_id = existing.trim_start_matches("articles/").to_owned();
            return self.get_article(Scope::Staff, &existing_id, false).await;
        }
        self.check_category(&mut tx, &settings).await?;
        let translation_set = match translation_of {
            Some(original_id) => {
                let original = load::<ArticleRecord>(&mut tx, original_id).await?;
                if let Some(existing) =
                    store::find_translation(&mut tx, &original.translation_set, &settings.locale)
                        .await?
                {
                    return Err(ServiceError::AlreadyExists {
                        reason: "TRANSLATION_EXISTS",
                        message: format!(
                            "{} is already the {} translation",
                            existing.name(),
                            settings.locale
                        ),
                    });
                }
                original.translation_set
            }
            None => id.clone(),
        };
        let now = self.ctx.now();
        let revision = RevisionRecord {
            id: new_id(),
            article_id: id.clone(),
            number: 1,
            content,
            author: actor.to_owned(),
            restored_from: String::new(),
            create_time: now,
        };
        let record = ArticleRecord {
            id,
            settings,
            state: ArticleState::Draft,
            author: actor.to_owned(),
            translation_set,
            latest_revision_id: revision.id.clone(),
            published_revision_id: None,
            create_time: now,
            update_time: now,
            publish_time: None,
            version: 1,
            view_count: 0,
            helpful_count: 0,
            not_helpful_count: 0,
        };
        store::insert_article(&mut tx, &record).await?;
        store::insert_revision(&mut tx, &revision).await?;
        reindex(&mut tx, &record, &revision).await?;
        let name = record.name();
        let rev_name = revision_name(&record.id, &revision.id);
        EventDraft {
            kind: pb::EventType::ArticleCreated,
            resource: &name,
            revision: Some(&rev_name),
            changed_fields: Vec::new(),
        }
        .emit(&mut tx, actor, now)
        .await?;
        tx.commit().await?;
        Ok(ArticleView {
            article: record,
            revision,
        })
    }

    /// An article as `scope` sees it; `latest` asks for the newest revision (staff).
    pub async fn get_article(
        &self,
        scope: Scope,
        id: &str,
        latest: bool,
    ) -> Result<ArticleView, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        view_in(&mut conn, scope, id, latest).await
    }

    pub(super) async fn with_revisions(
        &self,
        conn: &mut AnyConnection,
        articles: Vec<ArticleRecord>,
    ) -> Result<Vec<ArticleView>, ServiceError> {
        let ids: Vec<String> = articles
            .iter()
            .map(|a| a.searchable_revision_id().to_owned())
            .collect();
        let mut revisions = store::get_revisions(conn, &ids).await?;
        articles
            .into_iter()
            .map(|article| {
                let revision = revisions
                    .remove(article.searchable_revision_id())
                    .ok_or_else(|| {
                        ServiceError::NotFound(revision_name(
                            &article.id,
                            article.searchable_revision_id(),
                        ))
                    })?;
                Ok(ArticleView { article, revision })
            })
            .collect()
    }

    /// A page of articles.
    pub async fn list_articles(
        &self,
        scope: Scope,
        filter: &ArticleFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ArticleView>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let articles = store::list_articles(&mut conn, filter, scope, after, limit).await?;
        self.with_revisions(&mut conn, articles).await
    }

    /// Applies validated changes: settings in place, text as a new revision.
    pub async fn update_article(
        &self,
        actor: &str,
        id: &str,
        content_input: &Content,
        settings_input: &Settings,
        paths: &[&str],
        etag: &str,
    ) -> Result<ArticleView, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let current = load::<ArticleRecord>(&mut tx, id).await?;
        check_etag(&current.name(), current.version, etag)?;
        let latest = load_revision(&mut tx, id, &current.latest_revision_id).await?;
        let mut next = current.clone();
        let mut content = latest.content.clone();
        let changed = article::overlay(
            (&mut content, &mut next.settings),
            (content_input, settings_input),
            paths,
        );
        if changed.is_empty() {
            drop(tx);
            return self.get_article(Scope::Staff, id, false).await;
        }
        if changed.iter().any(|p| p == "category") {
            self.check_category(&mut tx, &next.settings).await?;
        }
        if changed.iter().any(|p| p == "locale")
            && let Some(other) =
                store::find_translation(&mut tx, &next.translation_set, &next.settings.locale)
                    .await?
            && other.id != id
        {
            return Err(ServiceError::AlreadyExists {
                reason: "TRANSLATION_EXISTS",
                message: format!(
                    "{} is already the {} translation",
                    other.name(),
                    next.settings.locale
                ),
            });
        }
        let now = self.ctx.now();
        let mut new_revision = None;
        if changed.iter().any(|p| CONTENT_FIELDS.contains(&p.as_str())) {
            let revision = RevisionRecord {
                id: new_id(),
                article_id: id.to_owned(),
                number: store::next_revision_number(&mut tx, id).await?,
                content,
                author: actor.to_owned(),
                restored_from: String::new(),
                create_time: now,
            };
            store::insert_revision(&mut tx, &revision).await?;
            next.latest_revision_id = revision.id.clone();
            new_revision = Some(revision);
        }
        next.version += 1;
        next.update_time = now;
        if !store::update_article(&mut tx, &next, current.version).await? {
            return Err(ServiceError::Conflict(current.name()));
        }
        // Until the article is published, search sees the latest draft; afterwards the published text.
        if let Some(revision) = &new_revision
            && next.published_revision_id.is_none()
        {
            reindex(&mut tx, &next, revision).await?;
        }
        let rev_name = new_revision.as_ref().map(|r| revision_name(id, &r.id));
        EventDraft {
            kind: pb::EventType::ArticleRevised,
            resource: &next.name(),
            revision: rev_name.as_deref(),
            changed_fields: changed,
        }
        .emit(&mut tx, actor, now)
        .await?;
        tx.commit().await?;
        self.get_article(Scope::Staff, id, false).await
    }

    /// Deletes a DRAFT or ARCHIVED article.
    pub async fn delete_article(&self, actor: &str, target: &Target) -> Result<(), ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let current: ArticleRecord = records::load_target(&mut tx, target).await?;
        article::check_delete(&current).map_err(precondition)?;
        records::delete(&mut tx, &current).await?;
        EventDraft {
            kind: pb::EventType::ArticleDeleted,
            resource: &current.name(),
            revision: None,
            changed_fields: Vec::new(),
        }
        .emit(&mut tx, actor, self.ctx.now())
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// An article as `scope` sees it, read on `conn` (a writing transaction reads its own change).
pub(super) async fn view_in(
    conn: &mut AnyConnection,
    scope: Scope,
    id: &str,
    latest: bool,
) -> Result<ArticleView, ServiceError> {
    let article = load::<ArticleRecord>(conn, id).await?;
    if !scope.sees(article.state, article.settings.visibility) {
        return Err(not_found::<ArticleRecord>(id));
    }
    let revision_id = if latest {
        article.latest_revision_id.clone()
    } else {
        article.searchable_revision_id().to_owned()
    };
    let revision = load_revision(conn, id, &revision_id).await?;
    Ok(ArticleView { article, revision })
}
