//! Articles: create, read, list, edit, delete.

use kefu_proto::knowledge::v1 as pb;
use tonic::{Request, Response};

use kefu_db::idempotency::RequestKey;
use kefu_server::paging::Page;
use kefu_server::{Violations, mask, principal_of, validate};

use super::{KnowledgeApi, Rpc, allow, convert, optional_locale, state_filter};
use crate::domain::access::{Action, Scope};
use crate::domain::article::UPDATABLE_FIELDS;
use crate::domain::kinds::Visibility;
use crate::store::ArticleFilter;

pub(super) async fn create(
    api: &KnowledgeApi,
    request: Request<pb::CreateArticleRequest>,
) -> Rpc<pb::Article> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Write)?;
    let r = request.into_inner();
    let mut v = Violations::new();
    let (content, settings) = match &r.article {
        Some(input) => convert::article_fields(input, UPDATABLE_FIELDS, &mut v),
        None => {
            v.add("article", "is required");
            Default::default()
        }
    };
    let translation_of =
        validate::optional_resource_id(&r.translation_of, "articles", "translation_of", &mut v);
    let request_id = validate::request_id(&r.request_id, "request_id", &mut v);
    v.into_result()?;
    let view = api
        .ops
        .create_article(
            &principal.id,
            content,
            settings,
            translation_of.as_deref(),
            RequestKey::new(request_id, "CreateArticle", &r).as_ref(),
        )
        .await?;
    Ok(Response::new(convert::article(&view)))
}

pub(super) async fn get(
    api: &KnowledgeApi,
    request: Request<pb::GetArticleRequest>,
) -> Rpc<pb::Article> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let r = request.get_ref();
    let id = validate::required_id(&r.name, "articles", "name")?;
    let latest = match pb::ArticleView::try_from(r.view) {
        Ok(pb::ArticleView::Latest) => {
            allow(&principal, Action::ReadDrafts)?;
            true
        }
        Ok(pb::ArticleView::Unspecified) => false,
        Err(_) => {
            let mut v = Violations::new();
            v.add("view", format!("unknown value {}", r.view));
            return Err(v.into());
        }
    };
    let view = api
        .ops
        .get_article(Scope::of(&principal), &id, latest)
        .await?;
    Ok(Response::new(convert::article(&view)))
}

pub(super) async fn list(
    api: &KnowledgeApi,
    request: Request<pb::ListArticlesRequest>,
) -> Rpc<pb::ListArticlesResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let scope = Scope::of(&principal);
    let r = request.into_inner();
    let mut v = Violations::new();

    let tag = if r.tag.is_empty() {
        Vec::new()
    } else {
        validate::tags(std::slice::from_ref(&r.tag), 1, "tag", &mut v)
    };
    let filter = ArticleFilter {
        category_id: validate::optional_resource_id(&r.category, "categories", "category", &mut v),
        locale: optional_locale(&r.locale, "locale", &mut v),
        state: state_filter(r.state, scope, &mut v),
        visibility: validate::optional_enum(
            r.visibility,
            Visibility::from_number,
            "visibility",
            &mut v,
        ),
        tags: tag,
        translation_set: (!r.translation_set.is_empty()).then(|| r.translation_set.clone()),
    };
    let page: Page<String> = Page::filtered(r.page_size, &r.page_token, &filter, &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_articles(scope, &filter, page.after.as_deref(), page.fetch())
        .await?;
    let (views, next_page_token) = page.finish(rows, |a| a.article.id.clone());
    Ok(Response::new(pb::ListArticlesResponse {
        articles: views.iter().map(convert::article).collect(),
        next_page_token,
    }))
}

pub(super) async fn update(
    api: &KnowledgeApi,
    request: Request<pb::UpdateArticleRequest>,
) -> Rpc<pb::Article> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Write)?;
    let r = request.into_inner();
    let input = r.article.unwrap_or_default();
    let id = validate::required_id(&input.name, "articles", "article.name")?;
    let mut v = Violations::new();
    let paths = mask::update_mask(r.update_mask.as_ref(), UPDATABLE_FIELDS, &mut v);
    let (content, settings) = convert::article_fields(&input, &paths, &mut v);
    v.into_result()?;
    let view = api
        .ops
        .update_article(&principal.id, &id, &content, &settings, &paths, &r.etag)
        .await?;
    Ok(Response::new(convert::article(&view)))
}

pub(super) async fn delete(
    api: &KnowledgeApi,
    request: Request<pb::DeleteArticleRequest>,
) -> Rpc<pb::DeleteArticleResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Write)?;
    let r = request.get_ref();
    let target = validate::target(&r.name, "articles", &r.etag)?;
    api.ops.delete_article(&principal.id, &target).await?;
    Ok(Response::new(pb::DeleteArticleResponse {}))
}
