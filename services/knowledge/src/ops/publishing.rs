//! Publishing: which revision readers see, archiving, the revision history and restoring from it.

use kefu_db::idempotency::Replay;
use kefu_proto::knowledge::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::records::load;

use super::articles::view_in;
use super::{
    ArticleView, EventDraft, Knowledge, check_etag, load_revision, new_id, precondition, reindex,
};
use crate::domain::access::Scope;
use crate::domain::article::ArticleRecord;
use crate::domain::article::{self, RevisionRecord, revision_name};
use crate::domain::kinds::ArticleState;
use crate::store;

impl Knowledge {
    /// Publishes a revision (the latest when `revision_id` is none).
    pub async fn publish<A: prost::Message + Default>(
        &self,
        actor: &str,
        id: &str,
        revision_id: Option<&str>,
        etag: &str,
        replay: &Replay<ArticleView, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &format!("articles/{id}"), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        let current = load::<ArticleRecord>(&mut tx, id).await?;
        check_etag(&current.name(), current.version, etag)?;
        let revision_id = revision_id
            .unwrap_or(&current.latest_revision_id)
            .to_owned();
        let revision = load_revision(&mut tx, id, &revision_id).await?;
        let now = self.ctx.now();
        let mut next = current.clone();
        next.state = ArticleState::Published;
        next.published_revision_id = Some(revision.id.clone());
        next.publish_time = Some(now);
        next.version += 1;
        next.update_time = now;
        if !store::update_article(&mut tx, &next, current.version).await? {
            return Err(ServiceError::Conflict(current.name()));
        }
        reindex(&mut tx, &next, &revision).await?;
        let rev_name = revision_name(id, &revision.id);
        EventDraft {
            kind: pb::EventType::ArticlePublished,
            resource: &next.name(),
            revision: Some(&rev_name),
            changed_fields: vec!["state".into(), "published_revision".into()],
        }
        .emit(&mut tx, actor, now)
        .await?;
        let view = ArticleView {
            article: next,
            revision,
        };
        let answer = replay.answer(&mut tx, &view).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// Withdraws an article from readers.
    pub async fn archive<A: prost::Message + Default>(
        &self,
        actor: &str,
        id: &str,
        etag: &str,
        replay: &Replay<ArticleView, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &format!("articles/{id}"), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        let current = load::<ArticleRecord>(&mut tx, id).await?;
        check_etag(&current.name(), current.version, etag)?;
        article::check_archive(&current).map_err(precondition)?;
        let now = self.ctx.now();
        let mut next = current.clone();
        next.state = ArticleState::Archived;
        next.version += 1;
        next.update_time = now;
        if !store::update_article(&mut tx, &next, current.version).await? {
            return Err(ServiceError::Conflict(current.name()));
        }
        EventDraft {
            kind: pb::EventType::ArticleArchived,
            resource: &next.name(),
            revision: None,
            changed_fields: vec!["state".into()],
        }
        .emit(&mut tx, actor, now)
        .await?;
        let view = view_in(&mut tx, Scope::Staff, id, false).await?;
        let answer = replay.answer(&mut tx, &view).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// A page of revisions, newest first.
    pub async fn list_revisions(
        &self,
        id: &str,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<RevisionRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        load::<ArticleRecord>(&mut conn, id).await?;
        Ok(store::list_revisions(&mut conn, id, before, limit).await?)
    }

    /// One revision.
    pub async fn get_revision(
        &self,
        article_id: &str,
        revision_id: &str,
    ) -> Result<RevisionRecord, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        load::<ArticleRecord>(&mut conn, article_id).await?;
        load_revision(&mut conn, article_id, revision_id).await
    }

    /// Writes a new revision copying an old one.
    pub async fn restore<A: prost::Message + Default>(
        &self,
        actor: &str,
        article_id: &str,
        revision_id: &str,
        etag: &str,
        replay: &Replay<ArticleView, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &format!("articles/{article_id}"), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        let current = load::<ArticleRecord>(&mut tx, article_id).await?;
        check_etag(&current.name(), current.version, etag)?;
        let old = load_revision(&mut tx, article_id, revision_id).await?;
        let now = self.ctx.now();
        let revision = RevisionRecord {
            id: new_id(),
            article_id: article_id.to_owned(),
            number: store::next_revision_number(&mut tx, article_id).await?,
            content: old.content.clone(),
            author: actor.to_owned(),
            restored_from: revision_name(article_id, &old.id),
            create_time: now,
        };
        store::insert_revision(&mut tx, &revision).await?;
        let mut next = current.clone();
        next.latest_revision_id = revision.id.clone();
        next.version += 1;
        next.update_time = now;
        if !store::update_article(&mut tx, &next, current.version).await? {
            return Err(ServiceError::Conflict(current.name()));
        }
        if next.published_revision_id.is_none() {
            reindex(&mut tx, &next, &revision).await?;
        }
        let rev_name = revision_name(article_id, &revision.id);
        EventDraft {
            kind: pb::EventType::ArticleRevised,
            resource: &next.name(),
            revision: Some(&rev_name),
            changed_fields: vec!["title".into(), "body".into(), "summary".into()],
        }
        .emit(&mut tx, actor, now)
        .await?;
        let view = view_in(&mut tx, Scope::Staff, article_id, false).await?;
        let answer = replay.answer(&mut tx, &view).await?;
        tx.commit().await?;
        Ok(answer)
    }
}
