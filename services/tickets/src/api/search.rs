//! SearchTickets.

use kefu_proto::tickets::v1 as pb;
use kefu_server::paging::Page;
use kefu_server::{Violations, principal_of, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow, convert};
use crate::domain::access::Action;
use crate::ops::Actor;

pub(super) async fn search(
    api: &TicketsApi,
    request: Request<pb::SearchTicketsRequest>,
) -> Rpc<pb::SearchTicketsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::SearchTickets)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let query = validate::query(&r.query, "query", &mut v).unwrap_or_default();
    if query.is_empty() {
        v.add("query", "is required");
    }
    let page: Page<(i64, String)> =
        Page::read(r.page_size, &r.page_token, &["search", &query], &mut v);
    v.into_result()?;
    let terms = kefu_text::query_terms(&query);
    let actor = Actor::of(&principal, "SearchTickets");
    let hits = api
        .ops
        .search_tickets(&actor, &terms, page.after.as_ref(), page.fetch())
        .await?;
    let (hits, next_page_token) = page.finish(hits, |(t, score)| (*score, t.id.clone()));
    let results = hits
        .iter()
        .map(|(t, score)| {
            let snippet = kefu_text::snippet(&t.fields.subject, &t.fields.description, &terms);
            pb::TicketSearchResult {
                ticket: Some(convert::ticket(t)),
                snippet: if snippet_matched(&snippet) {
                    snippet
                } else {
                    String::new()
                },
                score: *score,
            }
        })
        .collect();
    Ok(Response::new(pb::SearchTicketsResponse {
        results,
        next_page_token,
    }))
}

/// Whether a snippet shows a match (one without is only the text's start).
fn snippet_matched(snippet: &str) -> bool {
    snippet.contains("<mark>")
}
