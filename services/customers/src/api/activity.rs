//! A customer's history: purchases and the interaction timeline.

use kefu_db::idempotency::RequestKey;
use kefu_proto::customers::v1 as pb;
use kefu_server::common::Channel;
use kefu_server::paging::Page;
use kefu_server::time::optional_micros;
use kefu_server::{Violations, principal_of, validate as common_validate};
use tonic::{Request, Response};

use super::{CustomerApi, Rpc, allow, convert, customer_id};
use crate::domain::{Action, validate};
use crate::ops::{NewInteractionCommand, NewPurchaseCommand};
use crate::store;

pub(super) async fn record_purchase(
    api: &CustomerApi,
    request: Request<pb::RecordPurchaseRequest>,
) -> Rpc<pb::Purchase> {
    let principal = principal_of(&request)?;
    let r = request.into_inner();
    let customer = customer_id(&r.parent, "parent")?;
    allow(&principal, Action::RecordPurchase, Some(&customer))?;
    let mut v = Violations::new();
    let purchase = match &r.purchase {
        Some(input) => Some(convert::new_purchase(input, api.ops.ctx.now(), &mut v)),
        None => {
            v.add("purchase", "is required");
            None
        }
    };
    let request_id = validate::request_id(&r.request_id, "request_id", &mut v);
    v.into_result()?;
    let Some(purchase) = purchase else {
        return Err(Violations::required("purchase").into());
    };
    let command = NewPurchaseCommand {
        customer_id: customer,
        purchase,
        request: RequestKey::new(request_id, "RecordPurchase", &r),
    };
    let record = api.ops.record_purchase(&principal.id, command).await?;
    Ok(Response::new(convert::purchase(&record)))
}

pub(super) async fn list_purchases(
    api: &CustomerApi,
    request: Request<pb::ListPurchasesRequest>,
) -> Rpc<pb::ListPurchasesResponse> {
    let principal = principal_of(&request)?;
    let r = request.into_inner();
    let customer = customer_id(&r.parent, "parent")?;
    allow(&principal, Action::ListPurchases, Some(&customer))?;
    let mut v = Violations::new();
    let page: Page<(i64, String)> = Page::read(r.page_size, &r.page_token, &[&customer], &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_purchases(&customer, page.after.as_ref(), page.fetch())
        .await?;
    let (records, next_page_token) = page.finish(rows, |p| (p.purchase_time, p.id.clone()));
    Ok(Response::new(pb::ListPurchasesResponse {
        purchases: records.iter().map(convert::purchase).collect(),
        next_page_token,
    }))
}

pub(super) async fn log_interaction(
    api: &CustomerApi,
    request: Request<pb::LogInteractionRequest>,
) -> Rpc<pb::Interaction> {
    let principal = principal_of(&request)?;
    let r = request.into_inner();
    let customer = customer_id(&r.parent, "parent")?;
    allow(&principal, Action::LogInteraction, Some(&customer))?;
    let mut v = Violations::new();
    let interaction = match &r.interaction {
        Some(input) => convert::new_interaction(input, api.ops.ctx.now(), &mut v),
        None => {
            v.add("interaction", "is required");
            None
        }
    };
    let request_id = validate::request_id(&r.request_id, "request_id", &mut v);
    v.into_result()?;
    let Some(interaction) = interaction else {
        return Err(Violations::required("interaction").into());
    };
    let command = NewInteractionCommand {
        customer_id: customer,
        interaction,
        request: RequestKey::new(request_id, "LogInteraction", &r),
    };
    let record = api.ops.log_interaction(&principal.id, command).await?;
    Ok(Response::new(convert::interaction(&record)))
}

pub(super) async fn list_interactions(
    api: &CustomerApi,
    request: Request<pb::ListInteractionsRequest>,
) -> Rpc<pb::ListInteractionsResponse> {
    let principal = principal_of(&request)?;
    let r = request.into_inner();
    let customer = customer_id(&r.parent, "parent")?;
    allow(&principal, Action::ListInteractions, Some(&customer))?;
    let mut v = Violations::new();
    let filter = store::InteractionFilter {
        channel: common_validate::optional_enum(r.channel, Channel::from_number, "channel", &mut v),
        start_time: optional_micros(r.start_time.as_ref(), "start_time", &mut v),
        end_time: optional_micros(r.end_time.as_ref(), "end_time", &mut v),
    };
    if let (Some(start), Some(end)) = (filter.start_time, filter.end_time)
        && start >= end
    {
        v.add("end_time", "must be after start_time");
    }
    let page: Page<(i64, String)> = Page::read(
        r.page_size,
        &r.page_token,
        &[&customer, &format!("{filter:?}")],
        &mut v,
    );
    v.into_result()?;
    let rows = api
        .ops
        .list_interactions(&customer, &filter, page.after.as_ref(), page.fetch())
        .await?;
    let (records, next_page_token) = page.finish(rows, |i| (i.interaction_time, i.id.clone()));
    Ok(Response::new(pb::ListInteractionsResponse {
        interactions: records.iter().map(convert::interaction).collect(),
        next_page_token,
    }))
}
