//! Bulk loads: many published articles in one transaction, then fresh planner statistics.

use kefu_proto::knowledge::v1 as pb;
use kefu_server::ServiceError;

use super::{EventDraft, Knowledge, new_id, reindex};
use crate::domain::article::{ArticleRecord, Content, RevisionRecord, Settings, revision_name};
use crate::domain::kinds::ArticleState;
use crate::store;

impl Knowledge {
    /// Creates and publishes many articles in one transaction: the same rows, index entries and
    /// events as CreateArticle + PublishArticle, for bulk loads (the benchmark's data set).
    pub async fn import_published(
        &self,
        actor: &str,
        articles: Vec<(Content, Settings)>,
    ) -> Result<usize, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let count = articles.len();
        for (content, settings) in articles {
            let now = self.ctx.now();
            let id = new_id();
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
                translation_set: id.clone(),
                id,
                settings,
                state: ArticleState::Published,
                author: actor.to_owned(),
                latest_revision_id: revision.id.clone(),
                published_revision_id: Some(revision.id.clone()),
                create_time: now,
                update_time: now,
                publish_time: Some(now),
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
                kind: pb::EventType::ArticlePublished,
                resource: &name,
                revision: Some(&rev_name),
                changed_fields: Vec::new(),
            }
            .emit(&mut tx, actor, now)
            .await?;
        }
        tx.commit().await?;
        Ok(count)
    }

    /// Refreshes the planner's statistics after a bulk load, so search plans are chosen from
    /// real table sizes.
    pub async fn refresh_statistics(&self) -> Result<(), ServiceError> {
        self.ctx.db.analyze().await?;
        Ok(())
    }
}
