//! Links between tickets.

use kefu_proto::tickets::v1 as pb;
use kefu_server::{Violations, principal_of, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow, convert};
use crate::domain::access::Action;
use crate::domain::kinds::LinkKind;
use crate::ops::Actor;

/// Two ticket ids that must differ, named `first` and `second` in violations.
fn pair(
    (ticket, other): (&str, &str),
    (first, second): (&str, &str),
    v: &mut Violations,
) -> (String, String) {
    let ticket = validate::resource_id(ticket, "tickets", first, v);
    let other = validate::resource_id(other, "tickets", second, v);
    if !ticket.is_empty() && ticket == other {
        v.add(
            second,
            format!("must differ from {first}: a ticket cannot be linked to itself"),
        );
    }
    (ticket, other)
}

pub(super) async fn link(
    api: &TicketsApi,
    request: Request<pb::LinkTicketsRequest>,
) -> Rpc<pb::TicketLink> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::WorkTickets)?;
    let body = request.get_ref();
    let link = body.link.clone().unwrap_or_default();
    let mut v = Violations::new();
    let replay = validate::replay(
        &principal,
        &body.request_id,
        "LinkTickets",
        body,
        convert::link,
        &mut v,
    );
    let (ticket, other) = pair(
        (&link.ticket, &link.other),
        ("link.ticket", "link.other"),
        &mut v,
    );
    let kind = LinkKind::from_number(link.kind).filter(|k| *k != LinkKind::Parent);
    if kind.is_none() {
        v.add("link.kind", "must be LINK_KIND_RELATED or LINK_KIND_CHILD");
    }
    v.into_result()?;
    let Some(kind) = kind else {
        return Err(Violations::required("link.kind").into());
    };
    let actor = Actor::of(&principal, "LinkTickets");
    let link = api.ops.link(&actor, &ticket, &other, kind, &replay).await?;
    Ok(Response::new(link))
}

pub(super) async fn unlink(
    api: &TicketsApi,
    request: Request<pb::UnlinkTicketsRequest>,
) -> Rpc<pb::UnlinkTicketsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::WorkTickets)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let (ticket, other) = pair((&r.ticket, &r.other), ("ticket", "other"), &mut v);
    v.into_result()?;
    let actor = Actor::of(&principal, "UnlinkTickets");
    api.ops.unlink(&actor, &ticket, &other).await?;
    Ok(Response::new(pb::UnlinkTicketsResponse {}))
}

pub(super) async fn list(
    api: &TicketsApi,
    request: Request<pb::ListTicketLinksRequest>,
) -> Rpc<pb::ListTicketLinksResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTickets)?;
    let id = validate::required_id(&request.get_ref().parent, "tickets", "parent")?;
    let actor = Actor::of(&principal, "ListTicketLinks");
    let records = api.ops.list_links(&actor, &id).await?;
    Ok(Response::new(pb::ListTicketLinksResponse {
        links: records.iter().map(convert::link).collect(),
    }))
}
