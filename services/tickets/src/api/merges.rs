//! Merging a duplicate ticket into another, and taking it back out.

use kefu_proto::tickets::v1 as pb;
use kefu_server::{Violations, principal_of, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow, convert};
use crate::domain::access::Action;
use crate::ops::Actor;

pub(super) async fn merge(
    api: &TicketsApi,
    request: Request<pb::MergeTicketRequest>,
) -> Rpc<pb::Ticket> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::WorkTickets)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let source = validate::resource_id(&r.name, "tickets", "name", &mut v);
    let target = validate::resource_id(&r.target, "tickets", "target", &mut v);
    if !source.is_empty() && source == target {
        v.add(
            "target",
            "must differ from name: a ticket cannot be merged into itself",
        );
    }
    let replay = validate::replay(
        &principal,
        &r.request_id,
        "MergeTicket",
        r,
        convert::ticket,
        &mut v,
    );
    v.into_result()?;
    let actor = Actor::of(&principal, "MergeTicket");
    let target = api
        .ops
        .merge(&actor, &source, &target, &r.etag, &replay)
        .await?;
    Ok(Response::new(target))
}

pub(super) async fn unmerge(
    api: &TicketsApi,
    request: Request<pb::UnmergeTicketRequest>,
) -> Rpc<pb::Ticket> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::WorkTickets)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let id = validate::resource_id(&r.name, "tickets", "name", &mut v);
    let replay = validate::replay(
        &principal,
        &r.request_id,
        "UnmergeTicket",
        r,
        convert::ticket,
        &mut v,
    );
    v.into_result()?;
    let actor = Actor::of(&principal, "UnmergeTicket");
    let ticket = api.ops.unmerge(&actor, &id, &replay).await?;
    Ok(Response::new(ticket))
}
