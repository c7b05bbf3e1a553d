//! The support team: groups, agents, memberships.

use kefu_proto::tickets::v1 as pb;
use kefu_server::paging::Page;
use kefu_server::{Violations, mask, principal_of, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow, convert, routing};
use crate::domain::access::Action;
use crate::domain::kinds::{Availability, TicketScope};
use crate::domain::team::{self, AgentRecord, GroupRecord};
use crate::domain::ticket::MAX_TAGS;
use crate::ops::{Actor, AgentUpdate};

/// Longest group description, in characters.
pub(super) const MAX_DESCRIPTION_CHARS: usize = 2000;

pub(super) async fn create_group(
    api: &TicketsApi,
    request: Request<pb::CreateGroupRequest>,
) -> Rpc<pb::Group> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let body = request.get_ref();
    let input = body.group.clone().unwrap_or_default();
    let mut v = Violations::new();
    let replay = validate::replay(
        &principal,
        &body.request_id,
        "CreateGroup",
        body,
        convert::group,
        &mut v,
    );
    let display_name = validate::display_name(&input.display_name, "group.display_name", &mut v);
    let description = routing::description(&input.description, "group.description", &mut v);
    let routing = routing::routing(input.routing, "group.routing", &mut v);
    let skill_rules = routing::skill_rules(&input.skill_rules, "group.skill_rules", &mut v);
    let lead_id = validate::optional_resource_id(&input.lead, "agents", "group.lead", &mut v);
    let schedule_id = validate::optional_resource_id(
        &input.business_schedule,
        "businessSchedules",
        "group.business_schedule",
        &mut v,
    );
    v.into_result()?;
    let group = GroupRecord {
        id: String::new(),
        display_name,
        description,
        routing,
        skill_rules,
        reassign_offline: input.reassign_when_offline,
        lead_id,
        schedule_id,
        create_time: 0,
        version: 1,
        delete_time: None,
    };
    let group = api.ops.create_group(group, &replay).await?;
    Ok(Response::new(group))
}

pub(super) async fn list_groups(
    api: &TicketsApi,
    request: Request<pb::ListGroupsRequest>,
) -> Rpc<pb::ListGroupsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTeam)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let page: Page<(String, String)> = Page::read(
        r.page_size,
        &r.page_token,
        &["groups", deleted_scope(r.show_deleted)],
        &mut v,
    );
    v.into_result()?;
    let rows = api
        .ops
        .list_groups(page.after.as_ref(), r.show_deleted, page.fetch())
        .await?;
    let (records, next_page_token) = page.finish(rows, |g| (g.display_name.clone(), g.id.clone()));
    Ok(Response::new(pb::ListGroupsResponse {
        groups: records.iter().map(convert::group).collect(),
        next_page_token,
    }))
}

pub(super) async fn create_agent(
    api: &TicketsApi,
    request: Request<pb::CreateAgentRequest>,
) -> Rpc<pb::Agent> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let input = r.agent.clone().unwrap_or_default();
    let mut v = Violations::new();
    let replay = validate::replay(
        &principal,
        &r.request_id,
        "CreateAgent",
        r,
        convert::agent,
        &mut v,
    );
    let record = AgentRecord {
        id: team::agent_id(&r.agent_id, "agent_id", &mut v),
        display_name: validate::display_name(&input.display_name, "agent.display_name", &mut v),
        email: team::email(&input.email, "agent.email", &mut v),
        skills: validate::tags(&input.skills, MAX_TAGS, "agent.skills", &mut v),
        capacity: team::capacity(input.capacity, "agent.capacity", &mut v),
        active: input.active,
        availability: Availability::Online,
        ticket_scope: ticket_scope(input.ticket_scope, &mut v),
        groups: Vec::new(),
        create_time: 0,
        version: 1,
        delete_time: None,
    };
    v.into_result()?;
    let agent = api.ops.create_agent(record, &replay).await?;
    Ok(Response::new(agent))
}

pub(super) async fn get_agent(
    api: &TicketsApi,
    request: Request<pb::GetAgentRequest>,
) -> Rpc<pb::Agent> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTeam)?;
    let id = validate::required_id(&request.get_ref().name, "agents", "name")?;
    let agent = api.ops.get_agent(&id).await?;
    Ok(Response::new(convert::agent(&agent)))
}

pub(super) async fn update_agent(
    api: &TicketsApi,
    request: Request<pb::UpdateAgentRequest>,
) -> Rpc<pb::Agent> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let input = r.agent.clone().unwrap_or_default();
    let id = validate::required_id(&input.name, "agents", "agent.name")?;
    let mut v = Violations::new();
    let paths = mask::update_mask(
        r.update_mask.as_ref(),
        &[
            "display_name",
            "email",
            "skills",
            "capacity",
            "active",
            "ticket_scope",
        ],
        &mut v,
    );
    let has = |path: &str| paths.contains(&path);
    let update = AgentUpdate {
        display_name: has("display_name")
            .then(|| validate::display_name(&input.display_name, "agent.display_name", &mut v)),
        email: has("email").then(|| team::email(&input.email, "agent.email", &mut v)),
        skills: has("skills")
            .then(|| validate::tags(&input.skills, MAX_TAGS, "agent.skills", &mut v)),
        capacity: has("capacity").then(|| team::capacity(input.capacity, "agent.capacity", &mut v)),
        active: has("active").then_some(input.active),
        ticket_scope: has("ticket_scope").then(|| ticket_scope(input.ticket_scope, &mut v)),
    };
    v.into_result()?;
    let agent = api.ops.update_agent(&id, &r.etag, update).await?;
    Ok(Response::new(convert::agent(&agent)))
}

pub(super) async fn list_agents(
    api: &TicketsApi,
    request: Request<pb::ListAgentsRequest>,
) -> Rpc<pb::ListAgentsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTeam)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let group_id = validate::optional_resource_id(&r.group, "groups", "group", &mut v);
    let page: Page<String> = Page::read(
        r.page_size,
        &r.page_token,
        &[
            group_id.as_deref().unwrap_or_default(),
            deleted_scope(r.show_deleted),
        ],
        &mut v,
    );
    v.into_result()?;
    let rows = api
        .ops
        .list_agents(
            group_id.as_deref(),
            page.after.as_deref(),
            r.show_deleted,
            page.fetch(),
        )
        .await?;
    let (records, next_page_token) = page.finish(rows, |a| a.id.clone());
    Ok(Response::new(pb::ListAgentsResponse {
        agents: records.iter().map(convert::agent).collect(),
        next_page_token,
    }))
}

/// The group and agent ids of a membership request.
fn membership(group: &str, agent: &str) -> Result<(String, String), Violations> {
    let mut v = Violations::new();
    let group_id = validate::resource_id(group, "groups", "group", &mut v);
    let agent_id = validate::resource_id(agent, "agents", "agent", &mut v);
    v.into_result().map(|()| (group_id, agent_id))
}

pub(super) async fn add_member(
    api: &TicketsApi,
    request: Request<pb::AddGroupMemberRequest>,
) -> Rpc<pb::Agent> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let (group_id, agent_id) = membership(&request.get_ref().group, &request.get_ref().agent)?;
    let agent = api.ops.set_membership(&group_id, &agent_id, true).await?;
    Ok(Response::new(convert::agent(&agent)))
}

pub(super) async fn remove_member(
    api: &TicketsApi,
    request: Request<pb::RemoveGroupMemberRequest>,
) -> Rpc<pb::Agent> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let (group_id, agent_id) = membership(&request.get_ref().group, &request.get_ref().agent)?;
    let agent = api.ops.set_membership(&group_id, &agent_id, false).await?;
    Ok(Response::new(convert::agent(&agent)))
}

/// `agent.ticket_scope`: unset means ALL.
fn ticket_scope(number: i32, v: &mut Violations) -> TicketScope {
    validate::optional_enum(number, TicketScope::from_number, "agent.ticket_scope", v)
        .unwrap_or(TicketScope::All)
}

/// What a page token of a list with `show_deleted` is bound to, so a token of one listing is
/// refused by the other.
fn deleted_scope(show_deleted: bool) -> &'static str {
    if show_deleted { "deleted" } else { "live" }
}

pub(super) async fn delete_group(
    api: &TicketsApi,
    request: Request<pb::DeleteGroupRequest>,
) -> Rpc<pb::Group> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let id = validate::required_id(&r.name, "groups", "name")?;
    let group = api.ops.delete_group(&id, &r.etag).await?;
    Ok(Response::new(convert::group(&group)))
}

pub(super) async fn delete_agent(
    api: &TicketsApi,
    request: Request<pb::DeleteAgentRequest>,
) -> Rpc<pb::Agent> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let id = validate::required_id(&r.name, "agents", "name")?;
    let actor = Actor::of(&principal, "DeleteAgent");
    let agent = api.ops.delete_agent(&actor, &id, &r.etag).await?;
    Ok(Response::new(convert::agent(&agent)))
}
