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
    v.into_result()?;
    let actor = Actor::of(&principal, "MergeTicket");
    let record = api.ops.merge(&actor, &source, &target, &r.etag).await?;
    Ok(Response::new(convert::ticket(&record)))
}

pub(super) async fn unmerge(
    api: &TicketsApi,
    request: Request<pb::UnmergeTicketRequest>,
) -> Rpc<pb::Ticket> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::WorkTickets)?;
    let id = validate::required_id(&request.get_ref().name, "tickets", "name")?;
    let actor = Actor::of(&principal, "UnmergeTicket");
    let record = api.ops.unmerge(&actor, &id).await?;
    Ok(Response::new(convert::ticket(&record)))
}
