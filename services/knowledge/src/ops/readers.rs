//! What readers do: vote, view, and the FAQ page of popular articles.

use kefu_db::idempotency::Replay;
use kefu_proto::knowledge::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::records::{load, not_found};
use sqlx::AnyConnection;

use super::articles::view_in;
use super::{ArticleView, EventDraft, Knowledge};
use crate::domain::access::Scope;
use crate::domain::article::ArticleRecord;
use crate::domain::kinds::ArticleState;
use crate::store::{self, ArticleFilter};

impl Knowledge {
    async fn published_for(
        &self,
        conn: &mut AnyConnection,
        scope: Scope,
        id: &str,
    ) -> Result<ArticleRecord, ServiceError> {
        let article = load::<ArticleRecord>(conn, id).await?;
        if !scope.sees(article.state, article.settings.visibility) {
            return Err(not_found::<ArticleRecord>(id));
        }
        if article.state != ArticleState::Published {
            return Err(ServiceError::FailedPrecondition(format!(
                "{} is not published: readers cannot see it yet",
                article.name()
            )));
        }
        Ok(article)
    }

    /// Records `voter`'s vote.
    pub async fn vote<A: prost::Message + Default>(
        &self,
        scope: Scope,
        voter: &str,
        id: &str,
        helpful: bool,
        replay: &Replay<ArticleView, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &format!("articles/{id}"), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        let article = self.published_for(&mut tx, scope, id).await?;
        let now = self.ctx.now();
        store::record_vote(&mut tx, id, voter, helpful, now).await?;
        EventDraft {
            kind: pb::EventType::ArticleVoted,
            resource: &article.name(),
            revision: None,
            changed_fields: vec![if helpful {
                "helpful_count".into()
            } else {
                "not_helpful_count".into()
            }],
        }
        .emit(&mut tx, voter, now)
        .await?;
        let view = view_in(&mut tx, scope, id, false).await?;
        let answer = replay.answer(&mut tx, &view).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// Counts a view; returns the new count.
    pub async fn record_view<A: prost::Message + Default>(
        &self,
        scope: Scope,
        id: &str,
        replay: &Replay<i64, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &format!("articles/{id}"), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        self.published_for(&mut tx, scope, id).await?;
        let count = store::add_view(&mut tx, id).await?;
        let answer = replay.answer(&mut tx, &count).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// The FAQ page.
    pub async fn popular(
        &self,
        scope: Scope,
        mut filter: ArticleFilter,
        by_helpful: bool,
        limit: usize,
    ) -> Result<Vec<ArticleView>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        filter.state = Some(ArticleState::Published);
        let articles =
            store::popular_articles(&mut conn, &filter, scope, by_helpful, limit).await?;
        self.with_revisions(&mut conn, articles).await
    }
}
