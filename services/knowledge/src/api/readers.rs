//! What readers do: vote, view, read the FAQ.

use kefu_proto::knowledge::v1 as pb;
use tonic::{Request, Response};

use kefu_server::{Violations, principal_of, validate};

use super::{KnowledgeApi, Rpc, allow, convert, optional_locale};
use crate::domain::access::{Action, Scope};
use crate::store::ArticleFilter;

pub(super) async fn vote(
    api: &KnowledgeApi,
    request: Request<pb::VoteArticleRequest>,
) -> Rpc<pb::Article> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Feedback)?;
    let r = request.get_ref();
    let id = validate::required_id(&r.name, "articles", "name")?;
    let replay = validate::replay_alone(
        &principal,
        &r.request_id,
        "VoteArticle",
        r,
        convert::article,
    )?;
    let article = api
        .ops
        .vote(
            Scope::of(&principal),
            &principal.id,
            &id,
            r.helpful,
            &replay,
        )
        .await?;
    Ok(Response::new(article))
}

pub(super) async fn record_view(
    api: &KnowledgeApi,
    request: Request<pb::RecordArticleViewRequest>,
) -> Rpc<pb::RecordArticleViewResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Feedback)?;
    let r = request.get_ref();
    let id = validate::required_id(&r.name, "articles", "name")?;
    let replay =
        validate::replay_alone(&principal, &r.request_id, "RecordArticleView", r, |count| {
            pb::RecordArticleViewResponse { view_count: *count }
        })?;
    let answer = api
        .ops
        .record_view(Scope::of(&principal), &id, &replay)
        .await?;
    Ok(Response::new(answer))
}

pub(super) async fn popular(
    api: &KnowledgeApi,
    request: Request<pb::ListPopularArticlesRequest>,
) -> Rpc<pb::ListPopularArticlesResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let r = request.into_inner();
    let mut v = Violations::new();
    let filter = ArticleFilter {
        category_id: validate::optional_resource_id(&r.category, "categories", "category", &mut v),
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
    v.into_result()?;
    let views = api
        .ops
        .popular(Scope::of(&principal), filter, by_helpful, limit)
        .await?;
    Ok(Response::new(pb::ListPopularArticlesResponse {
        articles: views.iter().map(convert::article).collect(),
    }))
}
