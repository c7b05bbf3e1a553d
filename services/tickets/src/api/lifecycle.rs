//! A ticket's life: assignment and the lifecycle moves.

use kefu_proto::tickets::v1 as pb;
use kefu_server::{Violations, principal_of, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow, convert};
use crate::domain::access::Action;
use crate::domain::lifecycle::Move;
use crate::ops::Actor;

pub(super) async fn assign(
    api: &TicketsApi,
    request: Request<pb::AssignTicketRequest>,
) -> Rpc<pb::Ticket> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::WorkTickets)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let id = validate::resource_id(&r.name, "tickets", "name", &mut v);
    let assignee = validate::optional_resource_id(&r.assignee, "agents", "assignee", &mut v);
    let group = validate::optional_resource_id(&r.group, "groups", "group", &mut v);
    if r.assignee.is_empty() && r.group.is_empty() {
        v.add("assignee", "give an assignee, a group, or both");
    }
    let replay = validate::replay(
        &principal,
        &r.request_id,
        "AssignTicket",
        r,
        convert::ticket,
        &mut v,
    );
    v.into_result()?;
    let actor = Actor::of(&principal, "AssignTicket");
    let ticket = api
        .ops
        .assign(&actor, &id, assignee, group, &r.etag, &replay)
        .await?;
    Ok(Response::new(ticket))
}

/// A lifecycle move named by `via`, on the ticket `name` at `etag`, retried safely by
/// `request_id`.
async fn transition<T: prost::Message>(
    api: &TicketsApi,
    request: &Request<T>,
    (name, etag, request_id): (&str, &str, &str),
    action: Move,
    via: &'static str,
) -> Rpc<pb::Ticket> {
    let principal = principal_of(request)?;
    allow(&principal, Action::WorkTickets)?;
    let mut v = Violations::new();
    let id = validate::resource_id(name, "tickets", "name", &mut v);
    let replay = validate::replay(
        &principal,
        request_id,
        via,
        request.get_ref(),
        convert::ticket,
        &mut v,
    );
    v.into_result()?;
    let actor = Actor::of(&principal, via);
    let ticket = api
        .ops
        .transition(&actor, &id, action, etag, &replay)
        .await?;
    Ok(Response::new(ticket))
}

pub(super) async fn set_pending(
    api: &TicketsApi,
    r: Request<pb::SetTicketPendingRequest>,
) -> Rpc<pb::Ticket> {
    let b = r.get_ref();
    let key = (b.name.as_str(), b.etag.as_str(), b.request_id.as_str());
    transition(api, &r, key, Move::Pend, "SetTicketPending").await
}

pub(super) async fn set_on_hold(
    api: &TicketsApi,
    r: Request<pb::SetTicketOnHoldRequest>,
) -> Rpc<pb::Ticket> {
    let b = r.get_ref();
    let key = (b.name.as_str(), b.etag.as_str(), b.request_id.as_str());
    transition(api, &r, key, Move::Hold, "SetTicketOnHold").await
}

pub(super) async fn solve(api: &TicketsApi, r: Request<pb::SolveTicketRequest>) -> Rpc<pb::Ticket> {
    let b = r.get_ref();
    let key = (b.name.as_str(), b.etag.as_str(), b.request_id.as_str());
    transition(api, &r, key, Move::Solve, "SolveTicket").await
}

pub(super) async fn reopen(
    api: &TicketsApi,
    r: Request<pb::ReopenTicketRequest>,
) -> Rpc<pb::Ticket> {
    let b = r.get_ref();
    let key = (b.name.as_str(), b.etag.as_str(), b.request_id.as_str());
    transition(api, &r, key, Move::Reopen, "ReopenTicket").await
}

pub(super) async fn close(api: &TicketsApi, r: Request<pb::CloseTicketRequest>) -> Rpc<pb::Ticket> {
    let b = r.get_ref();
    let key = (b.name.as_str(), b.etag.as_str(), b.request_id.as_str());
    transition(api, &r, key, Move::Close, "CloseTicket").await
}
