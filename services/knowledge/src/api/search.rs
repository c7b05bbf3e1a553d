//! Search and suggestions.

use kefu_proto::knowledge::v1 as pb;
use tonic::{Request, Response};

use kefu_server::paging;
use kefu_server::{Violations, principal_of, validate};

use super::{KnowledgeApi, Rpc, allow, convert, optional_locale, state_filter};
use crate::domain::access::{Action, Scope};
use crate::domain::search;
use crate::store::ArticleFilter;

/// Longest search query, in characters.
const MAX_QUERY_CHARS: usize = 1000;
/// Longest text for suggestions, in characters.
const MAX_SUGGEST_CHARS: usize = 20_000;

pub(super) async fn search(
    api: &KnowledgeApi,
    request: Request<pb::SearchArticlesRequest>,
) -> Rpc<pb::SearchArticlesResponse> {
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
        category_id: validate::optional_resource_id(&r.category, "categories", "category", &mut v),
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
    v.into_result()?;
    let mut hits = api
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

pub(super) async fn suggest(
    api: &KnowledgeApi,
    request: Request<pb::SuggestArticlesRequest>,
) -> Rpc<pb::SuggestArticlesResponse> {
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
    v.into_result()?;
    let hits = api
        .ops
        .suggest(Scope::of(&principal), &r.text, locale, limit)
        .await?;
    Ok(Response::new(pb::SuggestArticlesResponse {
        results: hits.iter().map(convert::hit).collect(),
    }))
}
