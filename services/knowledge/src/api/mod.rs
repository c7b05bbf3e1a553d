//! The gRPC surface: authorize, validate, call `ops`, convert back.

mod convert;

use kefu_principal::Principal;
use kefu_proto::knowledge::v1 as pb;
use kefu_server::{Violations, events, mask, paging, principal_of, validate};
use pb::knowledge_service_server::KnowledgeService;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::domain::access::{Action, Scope, authorize};
use crate::domain::article::{self, Content, Settings};
use crate::domain::category::{self, CategoryFields};
use crate::domain::search;
use crate::error::KnowledgeError;
use crate::ops::{Knowledge, decode_event};
use crate::store::ArticleFilter;

/// Longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;
/// Longest text for suggestions, in characters.
pub const MAX_SUGGEST_CHARS: usize = 20_000;

/// The `kefu.knowledge.v1.KnowledgeService` implementation.
#[derive(Clone, Debug)]
pub struct KnowledgeApi {
    ops: Knowledge,
    shutdown: CancellationToken,
}

impl KnowledgeApi {
    /// Serves `ops`; open event streams end when `shutdown` fires.
    pub fn new(ops: Knowledge, shutdown: CancellationToken) -> Self {
        Self { ops, shutdown }
    }
}

type ApiResult<T> = Result<Response<T>, Status>;

fn allow(principal: &Principal, action: Action) -> Result<(), KnowledgeError> {
    authorize(principal, action).map_err(KnowledgeError::PermissionDenied)
}

fn check(violations: Violations) -> Result<(), KnowledgeError> {
    violations.into_result().map_err(KnowledgeError::Invalid)
}

fn id_of(name: &str, collection: &str, field: &str) -> Result<String, KnowledgeError> {
    let mut v = Violations::new();
    let id = validate::resource_id(name, collection, field, &mut v);
    check(v)?;
    Ok(id)
}

/// `(article id, revision id)` from `articles/{a}/revisions/{r}`.
fn revision_ids(name: &str, field: &str) -> Result<(String, String), KnowledgeError> {
    let mut v = Violations::new();
    let parsed = name.split_once("/revisions/").map(|(article, revision)| {
        (
            validate::resource_id(article, "articles", field, &mut v),
            revision.to_owned(),
        )
    });
    match parsed {
        Some((article, revision))
            if !revision.is_empty() && !revision.contains('/') && revision.len() <= 64 =>
        {
            check(v)?;
            Ok((article, revision))
        }
        _ => {
            let mut v = Violations::new();
            v.add(
                field,
                "must be a revision name like articles/{article}/revisions/{revision}",
            );
            Err(KnowledgeError::Invalid(v))
        }
    }
}

/// Validates an article state filter: readers may only ask for PUBLISHED.
fn state_filter(state: i32, scope: Scope, v: &mut Violations) -> Option<i32> {
    let known = pb::ArticleState::try_from(state).is_ok();
    validate::enum_value(state, known, false, "state", v);
    if scope != Scope::Staff && state != 0 && state != pb::ArticleState::Published as i32 {
        v.add("state", "readers can only see PUBLISHED articles");
    }
    (state != 0).then_some(state)
}

fn optional_locale(value: &str, field: &str, v: &mut Violations) -> Option<String> {
    let locale = validate::locale(value, field, v);
    (!locale.is_empty()).then_some(locale)
}

#[tonic::async_trait]
impl KnowledgeService for KnowledgeApi {
    #[tracing::instrument(skip_all)]
    async fn create_category(
        &self,
        request: Request<pb::CreateCategoryRequest>,
    ) -> ApiResult<pb::Category> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Write)?;
        let mut v = Violations::new();
        let mut fields = CategoryFields::default();
        match &request.get_ref().category {
            Some(input) => {
                category::apply_input(input, category::UPDATABLE_FIELDS, &mut fields, &mut v)
            }
            None => v.add("category", "is required"),
        }
        check(v)?;
        let record = self.ops.create_category(&principal.id, fields).await?;
        Ok(Response::new(convert::category(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_category(
        &self,
        request: Request<pb::GetCategoryRequest>,
    ) -> ApiResult<pb::Category> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Read)?;
        let id = id_of(&request.get_ref().name, "categories", "name")?;
        Ok(Response::new(convert::category(
            &self.ops.get_category(&id).await?,
        )))
    }

    #[tracing::instrument(skip_all)]
    async fn list_categories(
        &self,
        request: Request<pb::ListCategoriesRequest>,
    ) -> ApiResult<pb::ListCategoriesResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Read)?;
        let r = request.into_inner();
        let mut v = Violations::new();
        let parent = validate::optional_resource_id(&r.parent, "categories", "parent", &mut v);
        let locale = optional_locale(&r.locale, "locale", &mut v);
        let limit = paging::page_size(r.page_size, "page_size", &mut v);
        let fingerprint = paging::fingerprint(&[&r.parent, &r.locale]);
        let after: Option<(i64, String)> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut records = self
            .ops
            .list_categories(
                parent.as_deref(),
                locale.as_deref(),
                after.as_ref(),
                limit + 1,
            )
            .await?;
        let next_page_token = paging::next_page_token(
            &mut records,
            limit,
            |c| (c.fields.position, c.id.clone()),
            &fingerprint,
        );
        Ok(Response::new(pb::ListCategoriesResponse {
            categories: records.iter().map(convert::category).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_category(
        &self,
        request: Request<pb::UpdateCategoryRequest>,
    ) -> ApiResult<pb::Category> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Write)?;
        let r = request.into_inner();
        let input = r.category.unwrap_or_default();
        let id = id_of(&input.name, "categories", "category.name")?;
        let mut v = Violations::new();
        let paths = mask::resolve(
            r.update_mask.as_ref(),
            category::UPDATABLE_FIELDS,
            true,
            "update_mask",
            &mut v,
        );
        let mut fields = CategoryFields::default();
        category::apply_input(&input, &paths, &mut fields, &mut v);
        check(v)?;
        let record = self
            .ops
            .update_category(&principal.id, &id, &fields, &paths, &r.etag)
            .await?;
        Ok(Response::new(convert::category(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_category(
        &self,
        request: Request<pb::DeleteCategoryRequest>,
    ) -> ApiResult<pb::DeleteCategoryResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Write)?;
        let id = id_of(&request.get_ref().name, "categories", "name")?;
        self.ops
            .delete_category(&principal.id, &id, &request.get_ref().etag)
            .await?;
        Ok(Response::new(pb::DeleteCategoryResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn create_article(
        &self,
        request: Request<pb::CreateArticleRequest>,
    ) -> ApiResult<pb::Article> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Write)?;
        let r = request.into_inner();
        let mut v = Violations::new();
        let mut content = Content::default();
        let mut settings = Settings::default();
        match &r.article {
            Some(input) => article::apply_input(
                input,
                article::UPDATABLE_FIELDS,
                &mut content,
                &mut settings,
                &mut v,
            ),
            None => v.add("article", "is required"),
        }
        let translation_of =
            validate::optional_resource_id(&r.translation_of, "articles", "translation_of", &mut v);
        let request_id = validate::request_id(&r.request_id, "request_id", &mut v);
        check(v)?;
        let view = self
            .ops
            .create_article(
                &principal.id,
                content,
                settings,
                translation_of.as_deref(),
                request_id.as_deref(),
            )
            .await?;
        Ok(Response::new(convert::article(&view)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_article(&self, request: Request<pb::GetArticleRequest>) -> ApiResult<pb::Article> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Read)?;
        let r = request.get_ref();
        let id = id_of(&r.name, "articles", "name")?;
        let latest = match pb::ArticleView::try_from(r.view) {
            Ok(pb::ArticleView::Latest) => {
                allow(&principal, Action::ReadDrafts)?;
                true
            }
            Ok(pb::ArticleView::Unspecified) => false,
            Err(_) => {
                let mut v = Violations::new();
                v.add("view", format!("unknown value {}", r.view));
                return Err(KnowledgeError::Invalid(v).into());
            }
        };
        let view = self
            .ops
            .get_article(Scope::of(&principal), &id, latest)
            .await?;
        Ok(Response::new(convert::article(&view)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_articles(
        &self,
        request: Request<pb::ListArticlesRequest>,
    ) -> ApiResult<pb::ListArticlesResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Read)?;
        let scope = Scope::of(&principal);
        let r = request.into_inner();
        let mut v = Violations::new();
        let limit = paging::page_size(r.page_size, "page_size", &mut v);
        let visibility_known = pb::Visibility::try_from(r.visibility).is_ok();
        validate::enum_value(r.visibility, visibility_known, false, "visibility", &mut v);
        let tag = if r.tag.is_empty() {
            Vec::new()
        } else {
            validate::tags(std::slice::from_ref(&r.tag), 1, "tag", &mut v)
        };
        let filter = ArticleFilter {
            category_id: validate::optional_resource_id(
                &r.category,
                "categories",
                "category",
                &mut v,
            ),
            locale: optional_locale(&r.locale, "locale", &mut v),
            state: state_filter(r.state, scope, &mut v),
            visibility: (r.visibility != 0).then_some(r.visibility),
            tags: tag,
            translation_set: (!r.translation_set.is_empty()).then(|| r.translation_set.clone()),
        };
        let fingerprint = paging::fingerprint(&[&format!("{filter:?}")]);
        let after: Option<String> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut views = self
            .ops
            .list_articles(scope, &filter, after.as_deref(), limit + 1)
            .await?;
        let next_page_token =
            paging::next_page_token(&mut views, limit, |a| a.article.id.clone(), &fingerprint);
        Ok(Response::new(pb::ListArticlesResponse {
            articles: views.iter().map(convert::article).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_article(
        &self,
        request: Request<pb::UpdateArticleRequest>,
    ) -> ApiResult<pb::Article> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Write)?;
        let r = request.into_inner();
        let input = r.article.unwrap_or_default();
        let id = id_of(&input.name, "articles", "article.name")?;
        let mut v = Violations::new();
        let paths = mask::resolve(
            r.update_mask.as_ref(),
            article::UPDATABLE_FIELDS,
            true,
            "update_mask",
            &mut v,
        );
        let mut content = Content::default();
        let mut settings = Settings::default();
        article::apply_input(&input, &paths, &mut content, &mut settings, &mut v);
        check(v)?;
        let view = self
            .ops
            .update_article(&principal.id, &id, &content, &settings, &paths, &r.etag)
            .await?;
        Ok(Response::new(convert::article(&view)))
    }

    #[tracing::instrument(skip_all)]
    async fn publish_article(
        &self,
        request: Request<pb::PublishArticleRequest>,
    ) -> ApiResult<pb::Article> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Write)?;
        let r = request.get_ref();
        let id = id_of(&r.name, "articles", "name")?;
        let revision = if r.revision.is_empty() {
            None
        } else {
            let (article_id, revision_id) = revision_ids(&r.revision, "revision")?;
            if article_id != id {
                let mut v = Violations::new();
                v.add("revision", "belongs to another article");
                return Err(KnowledgeError::Invalid(v).into());
            }
            Some(revision_id)
        };
        let view = self
            .ops
            .publish(&principal.id, &id, revision.as_deref(), &r.etag)
            .await?;
        Ok(Response::new(convert::article(&view)))
    }

    #[tracing::instrument(skip_all)]
    async fn archive_article(
        &self,
        request: Request<pb::ArchiveArticleRequest>,
    ) -> ApiResult<pb::Article> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Write)?;
        let id = id_of(&request.get_ref().name, "articles", "name")?;
        let view = self
            .ops
            .archive(&principal.id, &id, &request.get_ref().etag)
            .await?;
        Ok(Response::new(convert::article(&view)))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_article(
        &self,
        request: Request<pb::DeleteArticleRequest>,
    ) -> ApiResult<pb::DeleteArticleResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Write)?;
        let id = id_of(&request.get_ref().name, "articles", "name")?;
        self.ops
            .delete_article(&principal.id, &id, &request.get_ref().etag)
            .await?;
        Ok(Response::new(pb::DeleteArticleResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn list_article_revisions(
        &self,
        request: Request<pb::ListArticleRevisionsRequest>,
    ) -> ApiResult<pb::ListArticleRevisionsResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadDrafts)?;
        let r = request.into_inner();
        let id = id_of(&r.parent, "articles", "parent")?;
        let mut v = Violations::new();
        let limit = paging::page_size(r.page_size, "page_size", &mut v);
        let fingerprint = paging::fingerprint(&[&id]);
        let before: Option<i64> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut revisions = self.ops.list_revisions(&id, before, limit + 1).await?;
        let next_page_token =
            paging::next_page_token(&mut revisions, limit, |rev| rev.number, &fingerprint);
        Ok(Response::new(pb::ListArticleRevisionsResponse {
            revisions: revisions.iter().map(convert::revision).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_article_revision(
        &self,
        request: Request<pb::GetArticleRevisionRequest>,
    ) -> ApiResult<pb::Revision> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadDrafts)?;
        let (article_id, revision_id) = revision_ids(&request.get_ref().name, "name")?;
        Ok(Response::new(convert::revision(
            &self.ops.get_revision(&article_id, &revision_id).await?,
        )))
    }

    #[tracing::instrument(skip_all)]
    async fn restore_article_revision(
        &self,
        request: Request<pb::RestoreArticleRevisionRequest>,
    ) -> ApiResult<pb::Article> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Write)?;
        let (article_id, revision_id) = revision_ids(&request.get_ref().name, "name")?;
        let view = self
            .ops
            .restore(
                &principal.id,
                &article_id,
                &revision_id,
                &request.get_ref().etag,
            )
            .await?;
        Ok(Response::new(convert::article(&view)))
    }

    #[tracing::instrument(skip_all)]
    async fn search_articles(
        &self,
        request: Request<pb::SearchArticlesRequest>,
    ) -> ApiResult<pb::SearchArticlesResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Read)?;
        let scope = Scope::of(&principal);
        let r = request.into_inner();
        let mut v = Violations::new();
        let chars = r.query.chars().count();
        if r.query.trim().is_empty() {
            v.add("query", "is required");
        } else if chars > MAX_QUERY_CHARS {
            v.add(
                "query",
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            );
        }
        if r.tags.len() > 10 {
            v.add("tags", "at most 10 tags");
        }
        let filter = ArticleFilter {
            category_id: validate::optional_resource_id(
                &r.category,
                "categories",
                "category",
                &mut v,
            ),
            locale: optional_locale(&r.locale, "locale", &mut v),
            state: state_filter(r.state, scope, &mut v),
            visibility: None,
            tags: validate::tags(&r.tags, 10, "tags", &mut v),
            translation_set: None,
        };
        let page_size = match r.page_size {
            0 => 20,
            n if n < 0 => {
                v.add("page_size", "must not be negative");
                20
            }
            n => usize::try_from(n).unwrap_or(100).min(100),
        };
        let terms = search::query_terms(&r.query);
        let fingerprint = paging::fingerprint(&[&terms.join(" "), &format!("{filter:?}")]);
        let after: Option<(i64, String)> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut hits = self
            .ops
            .search(scope, &terms, &filter, after.as_ref(), page_size + 1)
            .await?;
        let next_page_token = paging::next_page_token(
            &mut hits,
            page_size,
            |h| (h.score, h.view.article.id.clone()),
            &fingerprint,
        );
        Ok(Response::new(pb::SearchArticlesResponse {
            results: hits.iter().map(convert::hit).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn suggest_articles(
        &self,
        request: Request<pb::SuggestArticlesRequest>,
    ) -> ApiResult<pb::SuggestArticlesResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Read)?;
        let r = request.into_inner();
        let mut v = Violations::new();
        if r.text.trim().is_empty() {
            v.add("text", "is required");
        } else if r.text.chars().count() > MAX_SUGGEST_CHARS {
            v.add(
                "text",
                format!("must be at most {MAX_SUGGEST_CHARS} characters"),
            );
        }
        let locale = optional_locale(&r.locale, "locale", &mut v);
        let limit = match r.limit {
            0 => 5,
            1..=10 => usize::try_from(r.limit).unwrap_or(5),
            _ => {
                v.add("limit", "must be 1 to 10");
                5
            }
        };
        check(v)?;
        let hits = self
            .ops
            .suggest(Scope::of(&principal), &r.text, locale, limit)
            .await?;
        Ok(Response::new(pb::SuggestArticlesResponse {
            results: hits.iter().map(convert::hit).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn vote_article(
        &self,
        request: Request<pb::VoteArticleRequest>,
    ) -> ApiResult<pb::Article> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Feedback)?;
        let id = id_of(&request.get_ref().name, "articles", "name")?;
        let view = self
            .ops
            .vote(
                Scope::of(&principal),
                &principal.id,
                &id,
                request.get_ref().helpful,
            )
            .await?;
        Ok(Response::new(convert::article(&view)))
    }

    #[tracing::instrument(skip_all)]
    async fn record_article_view(
        &self,
        request: Request<pb::RecordArticleViewRequest>,
    ) -> ApiResult<pb::RecordArticleViewResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Feedback)?;
        let id = id_of(&request.get_ref().name, "articles", "name")?;
        let view_count = self.ops.record_view(Scope::of(&principal), &id).await?;
        Ok(Response::new(pb::RecordArticleViewResponse { view_count }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_popular_articles(
        &self,
        request: Request<pb::ListPopularArticlesRequest>,
    ) -> ApiResult<pb::ListPopularArticlesResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Read)?;
        let r = request.into_inner();
        let mut v = Violations::new();
        let filter = ArticleFilter {
            category_id: validate::optional_resource_id(
                &r.category,
                "categories",
                "category",
                &mut v,
            ),
            locale: optional_locale(&r.locale, "locale", &mut v),
            ..Default::default()
        };
        let by_helpful = match pb::PopularityOrder::try_from(r.order) {
            Ok(pb::PopularityOrder::MostHelpful) => true,
            Ok(_) => false,
            Err(_) => {
                v.add("order", format!("unknown value {}", r.order));
                false
            }
        };
        let limit = match r.limit {
            0 => 10,
            1..=50 => usize::try_from(r.limit).unwrap_or(10),
            _ => {
                v.add("limit", "must be 1 to 50");
                10
            }
        };
        check(v)?;
        let views = self
            .ops
            .popular(Scope::of(&principal), filter, by_helpful, limit)
            .await?;
        Ok(Response::new(pb::ListPopularArticlesResponse {
            articles: views.iter().map(convert::article).collect(),
        }))
    }

    type WatchEventsStream = events::EventStream<pb::WatchEventsResponse>;

    #[tracing::instrument(skip_all)]
    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> ApiResult<Self::WatchEventsStream> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::WatchEvents)?;
        let after = events::parse_cursor(&request.get_ref().after_cursor)
            .map_err(KnowledgeError::Invalid)?;
        Ok(Response::new(events::watch(
            self.ops.db.clone(),
            after,
            &self.ops.signal,
            self.shutdown.clone(),
            |stored| {
                decode_event(stored).map(|event| pb::WatchEventsResponse { event: Some(event) })
            },
            |error| Status::from(KnowledgeError::from(error)),
        )))
    }
}
