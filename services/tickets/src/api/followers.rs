//! FollowTicket and UnfollowTicket.

use kefu_principal::{Principal, Role};
use kefu_proto::tickets::v1 as pb;
use kefu_server::{Violations, principal_of, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow, convert};
use crate::domain::access::Action;
use crate::ops::Actor;

/// The ticket and agent ids of a follow request: the agent named, or the calling agent.
fn target(principal: &Principal, name: &str, agent: &str) -> Result<(String, String), Violations> {
    let mut v = Violations::new();
    let ticket_id = validate::resource_id(name, "tickets", "name", &mut v);
    let agent_id = match (agent.is_empty(), principal.role) {
        (false, _) => validate::resource_id(agent, "agents", "agent", &mut v),
        (true, Role::Agent) => principal.id.clone(),
        (true, _) => {
            v.add("agent", "required unless the caller is an agent");
            String::new()
        }
    };
    v.into_result().map(|()| (ticket_id, agent_id))
}

/// Follows or unfollows, as `follow` says.
async fn set_following(
    api: &TicketsApi,
    principal: &Principal,
    name: &str,
    agent: &str,
    follow: bool,
    via: &'static str,
) -> Rpc<pb::Ticket> {
    allow(principal, Action::FollowTickets)?;
    let (ticket_id, agent_id) = target(principal, name, agent)?;
    let actor = Actor::of(principal, via);
    let ticket = api
        .ops
        .set_following(&actor, &ticket_id, &agent_id, follow)
        .await?;
    Ok(Response::new(convert::ticket(&ticket)))
}

pub(super) async fn follow(
    api: &TicketsApi,
    request: Request<pb::FollowTicketRequest>,
) -> Rpc<pb::Ticket> {
    let principal = principal_of(&request)?;
    let r = request.get_ref();
    set_following(api, &principal, &r.name, &r.agent, true, "FollowTicket").await
}

pub(super) async fn unfollow(
    api: &TicketsApi,
    request: Request<pb::UnfollowTicketRequest>,
) -> Rpc<pb::Ticket> {
    let principal = principal_of(&request)?;
    let r = request.get_ref();
    set_following(api, &principal, &r.name, &r.agent, false, "UnfollowTicket").await
}
