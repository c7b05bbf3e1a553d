//! The gRPC surface, one file per resource: authorize, validate into domain values, call `ops`,
//! convert back. This file routes each RPC to its handler.

mod articles;
mod categories;
mod convert;
mod readers;
mod revisions;
mod search;

use kefu_principal::Principal;
use kefu_proto::knowledge::v1 as pb;
use kefu_server::api::{Rpc, permission};
use kefu_server::events::{EventFeed, EventStream};
use kefu_server::{Violations, validate};
use pb::knowledge_service_server::KnowledgeService;
use tonic::{Request, Status};

use crate::domain::access::{Action, Scope, authorize};
use crate::domain::kinds::ArticleState;
use crate::ops::Knowledge;

/// The stream `WatchEvents` answers with.
type Events = EventStream<pb::WatchEventsResponse>;

/// The `kefu.knowledge.v1.KnowledgeService` implementation.
#[derive(Clone, Debug)]
pub struct KnowledgeApi {
    ops: Knowledge,
    events: EventFeed,
}

impl KnowledgeApi {
    /// Serves `ops`, and `WatchEvents` from `events`.
    pub fn new(ops: Knowledge, events: EventFeed) -> Self {
        Self { ops, events }
    }
}

/// PERMISSION_DENIED unless `principal` may do `action`.
fn allow(principal: &Principal, action: Action) -> Result<(), Status> {
    permission(authorize(principal, action))
}

/// `(article id, revision id)` from `articles/{a}/revisions/{r}`.
fn revision_ids(name: &str, field: &str) -> Result<(String, String), Violations> {
    let bad = || {
        let mut v = Violations::new();
        v.add(
            field,
            "must be a revision name like articles/{article}/revisions/{revision}",
        );
        v
    };
    let (article, revision) = name.split_once("/revisions/").ok_or_else(bad)?;
    if revision.is_empty() || revision.contains('/') || revision.len() > 64 {
        return Err(bad());
    }
    Ok((
        validate::required_id(article, "articles", field)?,
        revision.to_owned(),
    ))
}

/// An article state filter: readers may only ask for PUBLISHED.
fn state_filter(state: i32, scope: Scope, v: &mut Violations) -> Option<ArticleState> {
    let state = validate::optional_enum(state, ArticleState::from_number, "state", v);
    if scope != Scope::Staff && state.is_some_and(|s| s != ArticleState::Published) {
        v.add("state", "readers can only see PUBLISHED articles");
    }
    state
}

/// An optional BCP 47 locale filter.
fn optional_locale(value: &str, field: &str, v: &mut Violations) -> Option<String> {
    let locale = validate::locale(value, field, v);
    (!locale.is_empty()).then_some(locale)
}

#[tonic::async_trait]
impl KnowledgeService for KnowledgeApi {
    type WatchEventsStream = Events;

    async fn watch_events(&self, r: Request<pb::WatchEventsRequest>) -> Rpc<Events> {
        self.events.serve(&r, |p| allow(p, Action::WatchEvents))
    }

    async fn create_category(&self, r: Request<pb::CreateCategoryRequest>) -> Rpc<pb::Category> {
        categories::create(self, r).await
    }

    async fn get_category(&self, r: Request<pb::GetCategoryRequest>) -> Rpc<pb::Category> {
        categories::get(self, r).await
    }

    async fn list_categories(
        &self,
        r: Request<pb::ListCategoriesRequest>,
    ) -> Rpc<pb::ListCategoriesResponse> {
        categories::list(self, r).await
    }

    async fn update_category(&self, r: Request<pb::UpdateCategoryRequest>) -> Rpc<pb::Category> {
        categories::update(self, r).await
    }

    async fn delete_category(
        &self,
        r: Request<pb::DeleteCategoryRequest>,
    ) -> Rpc<pb::DeleteCategoryResponse> {
        categories::delete(self, r).await
    }

    async fn create_article(&self, r: Request<pb::CreateArticleRequest>) -> Rpc<pb::Article> {
        articles::create(self, r).await
    }

    async fn get_article(&self, r: Request<pb::GetArticleRequest>) -> Rpc<pb::Article> {
        articles::get(self, r).await
    }

    async fn list_articles(
        &self,
        r: Request<pb::ListArticlesRequest>,
    ) -> Rpc<pb::ListArticlesResponse> {
        articles::list(self, r).await
    }

    async fn update_article(&self, r: Request<pb::UpdateArticleRequest>) -> Rpc<pb::Article> {
        articles::update(self, r).await
    }

    async fn delete_article(
        &self,
        r: Request<pb::DeleteArticleRequest>,
    ) -> Rpc<pb::DeleteArticleResponse> {
        articles::delete(self, r).await
    }

    async fn publish_article(&self, r: Request<pb::PublishArticleRequest>) -> Rpc<pb::Article> {
        revisions::publish(self, r).await
    }

    async fn archive_article(&self, r: Request<pb::ArchiveArticleRequest>) -> Rpc<pb::Article> {
        revisions::archive(self, r).await
    }

    async fn list_article_revisions(
        &self,
        r: Request<pb::ListArticleRevisionsRequest>,
    ) -> Rpc<pb::ListArticleRevisionsResponse> {
        revisions::list(self, r).await
    }

    async fn get_article_revision(
        &self,
        r: Request<pb::GetArticleRevisionRequest>,
    ) -> Rpc<pb::Revision> {
        revisions::get(self, r).await
    }

    async fn restore_article_revision(
        &self,
        r: Request<pb::RestoreArticleRevisionRequest>,
    ) -> Rpc<pb::Article> {
        revisions::restore(self, r).await
    }

    async fn search_articles(
        &self,
        r: Request<pb::SearchArticlesRequest>,
    ) -> Rpc<pb::SearchArticlesResponse> {
        search::search(self, r).await
    }

    async fn suggest_articles(
        &self,
        r: Request<pb::SuggestArticlesRequest>,
    ) -> Rpc<pb::SuggestArticlesResponse> {
        search::suggest(self, r).await
    }

    async fn vote_article(&self, r: Request<pb::VoteArticleRequest>) -> Rpc<pb::Article> {
        readers::vote(self, r).await
    }

    async fn record_article_view(
        &self,
        r: Request<pb::RecordArticleViewRequest>,
    ) -> Rpc<pb::RecordArticleViewResponse> {
        readers::record_view(self, r).await
    }

    async fn list_popular_articles(
        &self,
        r: Request<pb::ListPopularArticlesRequest>,
    ) -> Rpc<pb::ListPopularArticlesResponse> {
        readers::popular(self, r).await
    }
}
