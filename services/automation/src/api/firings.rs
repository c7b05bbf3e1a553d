//! Firings: the history of every rule, per rule and per ticket.

use kefu_proto::automation::v1 as pb;
use kefu_server::paging::Page;
use kefu_server::{Violations, principal_of, validate};
use tonic::{Request, Response};

use super::{AutomationApi, Rpc, allow, convert};
use crate::domain::access::Action;
use crate::domain::firing::FiringState;
use crate::domain::trigger::RuleKind;
use crate::store::FiringFilter;

pub(super) async fn list(
    api: &AutomationApi,
    request: Request<pb::ListFiringsRequest>,
) -> Rpc<pb::ListFiringsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let rule = if r.parent.starts_with("automations/") {
        RuleKind::Automation
    } else {
        RuleKind::Trigger
    };
    let collection = rule.collection();
    let trigger_id = if r.parent == format!("{collection}/-") {
        None
    } else {
        Some(validate::resource_id(
            &r.parent, collection, "parent", &mut v,
        ))
    };
    let ticket_id = validate::optional_resource_id(&r.ticket, "tickets", "ticket", &mut v);
    let state = match r.state {
        0 => None,
        number => {
            let state = FiringState::from_number(number);
            if state.is_none() {
                v.add("state", format!("unknown state {number}"));
            }
            state
        }
    };
    let filter = FiringFilter {
        rule: Some(rule),
        trigger_id,
        ticket_id,
        state,
    };
    let page: Page<(i64, String)> = Page::filtered(r.page_size, &r.page_token, &filter, &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_firings(&filter, page.after.as_ref(), page.fetch())
        .await?;
    let (rows, next_page_token) = page.finish(rows, |f| (f.create_time, f.id.clone()));
    Ok(Response::new(pb::ListFiringsResponse {
        firings: rows.iter().map(convert::firing_out).collect(),
        next_page_token,
    }))
}
