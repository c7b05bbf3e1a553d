//! The gRPC surface, one file per resource: authorize, validate into domain values, call `ops`,
//! convert back. This file routes each RPC to its handler.

mod classify;
mod comments;
mod convert;
mod fields;
mod followers;
mod lifecycle;
mod links;
mod merges;
mod reports;
mod routing;
mod search;
mod sla;
mod team;
mod tickets;
mod views;

use kefu_principal::Principal;
use kefu_proto::tickets::v1 as pb;
use kefu_server::api::{Rpc, permission};
use kefu_server::events::{EventFeed, EventStream};
use pb::ticket_service_server::TicketService;
use tonic::{Request, Status};

use crate::domain::access::{Action, authorize};
use crate::ops::Tickets;

/// The stream `WatchEvents` answers with.
type Events = EventStream<pb::WatchEventsResponse>;

/// The `kefu.tickets.v1.TicketService` implementation.
#[derive(Clone, Debug)]
pub struct TicketsApi {
    ops: Tickets,
    events: EventFeed,
}

impl TicketsApi {
    /// Serves `ops`, and `WatchEvents` from `events`.
    pub fn new(ops: Tickets, events: EventFeed) -> Self {
        Self { ops, events }
    }
}

/// PERMISSION_DENIED unless `principal` may do `action`.
fn allow(principal: &Principal, action: Action) -> Result<(), Status> {
    permission(authorize(principal, action))
}

#[tonic::async_trait]
impl TicketService for TicketsApi {
    type WatchEventsStream = Events;

    async fn watch_events(&self, r: Request<pb::WatchEventsRequest>) -> Rpc<Events> {
        self.events.serve(&r, |p| allow(p, Action::WatchEvents))
    }

    async fn create_ticket(&self, r: Request<pb::CreateTicketRequest>) -> Rpc<pb::Ticket> {
        tickets::create(self, r).await
    }

    async fn get_ticket(&self, r: Request<pb::GetTicketRequest>) -> Rpc<pb::Ticket> {
        tickets::get(self, r).await
    }

    async fn batch_get_tickets(
        &self,
        r: Request<pb::BatchGetTicketsRequest>,
    ) -> Rpc<pb::BatchGetTicketsResponse> {
        tickets::batch_get(self, r).await
    }

    async fn list_tickets(
        &self,
        r: Request<pb::ListTicketsRequest>,
    ) -> Rpc<pb::ListTicketsResponse> {
        tickets::list(self, r).await
    }

    async fn update_ticket(&self, r: Request<pb::UpdateTicketRequest>) -> Rpc<pb::Ticket> {
        tickets::update(self, r).await
    }

    async fn batch_update_tickets(
        &self,
        r: Request<pb::BatchUpdateTicketsRequest>,
    ) -> Rpc<pb::BatchUpdateTicketsResponse> {
        tickets::batch_update(self, r).await
    }

    async fn assign_ticket(&self, r: Request<pb::AssignTicketRequest>) -> Rpc<pb::Ticket> {
        lifecycle::assign(self, r).await
    }

    async fn set_ticket_pending(&self, r: Request<pb::SetTicketPendingRequest>) -> Rpc<pb::Ticket> {
        lifecycle::set_pending(self, r).await
    }

    async fn set_ticket_on_hold(&self, r: Request<pb::SetTicketOnHoldRequest>) -> Rpc<pb::Ticket> {
        lifecycle::set_on_hold(self, r).await
    }

    async fn solve_ticket(&self, r: Request<pb::SolveTicketRequest>) -> Rpc<pb::Ticket> {
        lifecycle::solve(self, r).await
    }

    async fn reopen_ticket(&self, r: Request<pb::ReopenTicketRequest>) -> Rpc<pb::Ticket> {
        lifecycle::reopen(self, r).await
    }

    async fn close_ticket(&self, r: Request<pb::CloseTicketRequest>) -> Rpc<pb::Ticket> {
        lifecycle::close(self, r).await
    }

    async fn merge_ticket(&self, r: Request<pb::MergeTicketRequest>) -> Rpc<pb::Ticket> {
        merges::merge(self, r).await
    }

    async fn unmerge_ticket(&self, r: Request<pb::UnmergeTicketRequest>) -> Rpc<pb::Ticket> {
        merges::unmerge(self, r).await
    }

    async fn link_tickets(&self, r: Request<pb::LinkTicketsRequest>) -> Rpc<pb::TicketLink> {
        links::link(self, r).await
    }

    async fn unlink_tickets(
        &self,
        r: Request<pb::UnlinkTicketsRequest>,
    ) -> Rpc<pb::UnlinkTicketsResponse> {
        links::unlink(self, r).await
    }

    async fn list_ticket_links(
        &self,
        r: Request<pb::ListTicketLinksRequest>,
    ) -> Rpc<pb::ListTicketLinksResponse> {
        links::list(self, r).await
    }

    async fn create_comment(&self, r: Request<pb::CreateCommentRequest>) -> Rpc<pb::Comment> {
        comments::create(self, r).await
    }

    async fn list_comments(
        &self,
        r: Request<pb::ListCommentsRequest>,
    ) -> Rpc<pb::ListCommentsResponse> {
        comments::list(self, r).await
    }

    async fn follow_ticket(&self, r: Request<pb::FollowTicketRequest>) -> Rpc<pb::Ticket> {
        followers::follow(self, r).await
    }

    async fn unfollow_ticket(&self, r: Request<pb::UnfollowTicketRequest>) -> Rpc<pb::Ticket> {
        followers::unfollow(self, r).await
    }

    async fn list_ticket_audits(
        &self,
        r: Request<pb::ListTicketAuditsRequest>,
    ) -> Rpc<pb::ListTicketAuditsResponse> {
        reports::audits(self, r).await
    }

    async fn get_ticket_stats(
        &self,
        r: Request<pb::GetTicketStatsRequest>,
    ) -> Rpc<pb::GetTicketStatsResponse> {
        reports::stats(self, r).await
    }

    async fn create_group(&self, r: Request<pb::CreateGroupRequest>) -> Rpc<pb::Group> {
        team::create_group(self, r).await
    }

    async fn list_groups(&self, r: Request<pb::ListGroupsRequest>) -> Rpc<pb::ListGroupsResponse> {
        team::list_groups(self, r).await
    }

    async fn create_agent(&self, r: Request<pb::CreateAgentRequest>) -> Rpc<pb::Agent> {
        team::create_agent(self, r).await
    }

    async fn get_agent(&self, r: Request<pb::GetAgentRequest>) -> Rpc<pb::Agent> {
        team::get_agent(self, r).await
    }

    async fn update_agent(&self, r: Request<pb::UpdateAgentRequest>) -> Rpc<pb::Agent> {
        team::update_agent(self, r).await
    }

    async fn set_agent_availability(
        &self,
        r: Request<pb::SetAgentAvailabilityRequest>,
    ) -> Rpc<pb::Agent> {
        routing::set_availability(self, r).await
    }

    async fn get_priority_matrix(
        &self,
        r: Request<pb::GetPriorityMatrixRequest>,
    ) -> Rpc<pb::PriorityMatrix> {
        classify::get_matrix(self, r).await
    }

    async fn update_priority_matrix(
        &self,
        r: Request<pb::UpdatePriorityMatrixRequest>,
    ) -> Rpc<pb::PriorityMatrix> {
        classify::update_matrix(self, r).await
    }

    async fn update_group(&self, r: Request<pb::UpdateGroupRequest>) -> Rpc<pb::Group> {
        routing::update_group(self, r).await
    }

    async fn list_agents(&self, r: Request<pb::ListAgentsRequest>) -> Rpc<pb::ListAgentsResponse> {
        team::list_agents(self, r).await
    }

    async fn add_group_member(&self, r: Request<pb::AddGroupMemberRequest>) -> Rpc<pb::Agent> {
        team::add_member(self, r).await
    }

    async fn remove_group_member(
        &self,
        r: Request<pb::RemoveGroupMemberRequest>,
    ) -> Rpc<pb::Agent> {
        team::remove_member(self, r).await
    }

    async fn create_business_schedule(
        &self,
        r: Request<pb::CreateBusinessScheduleRequest>,
    ) -> Rpc<pb::BusinessSchedule> {
        sla::create_schedule(self, r).await
    }

    async fn list_business_schedules(
        &self,
        r: Request<pb::ListBusinessSchedulesRequest>,
    ) -> Rpc<pb::ListBusinessSchedulesResponse> {
        sla::list_schedules(self, r).await
    }

    async fn create_sla_policy(
        &self,
        r: Request<pb::CreateSlaPolicyRequest>,
    ) -> Rpc<pb::SlaPolicy> {
        sla::create_policy(self, r).await
    }

    async fn list_sla_policies(
        &self,
        r: Request<pb::ListSlaPoliciesRequest>,
    ) -> Rpc<pb::ListSlaPoliciesResponse> {
        sla::list_policies(self, r).await
    }

    async fn update_sla_policy(
        &self,
        r: Request<pb::UpdateSlaPolicyRequest>,
    ) -> Rpc<pb::SlaPolicy> {
        sla::update_policy(self, r).await
    }

    async fn update_business_schedule(
        &self,
        r: Request<pb::UpdateBusinessScheduleRequest>,
    ) -> Rpc<pb::BusinessSchedule> {
        sla::update_schedule(self, r).await
    }

    async fn delete_business_schedule(
        &self,
        r: Request<pb::DeleteBusinessScheduleRequest>,
    ) -> Rpc<pb::DeleteBusinessScheduleResponse> {
        sla::delete_schedule(self, r).await
    }

    async fn delete_group(&self, r: Request<pb::DeleteGroupRequest>) -> Rpc<pb::Group> {
        team::delete_group(self, r).await
    }

    async fn delete_agent(&self, r: Request<pb::DeleteAgentRequest>) -> Rpc<pb::Agent> {
        team::delete_agent(self, r).await
    }

    async fn create_view(&self, r: Request<pb::CreateViewRequest>) -> Rpc<pb::View> {
        views::create(self, r).await
    }

    async fn list_views(&self, r: Request<pb::ListViewsRequest>) -> Rpc<pb::ListViewsResponse> {
        views::list(self, r).await
    }

    async fn update_view(&self, r: Request<pb::UpdateViewRequest>) -> Rpc<pb::View> {
        views::update(self, r).await
    }

    async fn delete_view(&self, r: Request<pb::DeleteViewRequest>) -> Rpc<pb::DeleteViewResponse> {
        views::delete(self, r).await
    }

    async fn list_view_tickets(
        &self,
        r: Request<pb::ListViewTicketsRequest>,
    ) -> Rpc<pb::ListViewTicketsResponse> {
        views::run(self, r).await
    }

    async fn search_tickets(
        &self,
        r: Request<pb::SearchTicketsRequest>,
    ) -> Rpc<pb::SearchTicketsResponse> {
        search::search(self, r).await
    }

    async fn create_ticket_field(
        &self,
        r: Request<pb::CreateTicketFieldRequest>,
    ) -> Rpc<pb::TicketField> {
        fields::create_field(self, r).await
    }

    async fn list_ticket_fields(
        &self,
        r: Request<pb::ListTicketFieldsRequest>,
    ) -> Rpc<pb::ListTicketFieldsResponse> {
        fields::list_fields(self, r).await
    }

    async fn update_ticket_field(
        &self,
        r: Request<pb::UpdateTicketFieldRequest>,
    ) -> Rpc<pb::TicketField> {
        fields::update_field(self, r).await
    }

    async fn delete_ticket_field(
        &self,
        r: Request<pb::DeleteTicketFieldRequest>,
    ) -> Rpc<pb::DeleteTicketFieldResponse> {
        fields::delete_field(self, r).await
    }

    async fn create_ticket_form(
        &self,
        r: Request<pb::CreateTicketFormRequest>,
    ) -> Rpc<pb::TicketForm> {
        fields::create_form(self, r).await
    }

    async fn list_ticket_forms(
        &self,
        r: Request<pb::ListTicketFormsRequest>,
    ) -> Rpc<pb::ListTicketFormsResponse> {
        fields::list_forms(self, r).await
    }

    async fn update_ticket_form(
        &self,
        r: Request<pb::UpdateTicketFormRequest>,
    ) -> Rpc<pb::TicketForm> {
        fields::update_form(self, r).await
    }

    async fn delete_ticket_form(
        &self,
        r: Request<pb::DeleteTicketFormRequest>,
    ) -> Rpc<pb::DeleteTicketFormResponse> {
        fields::delete_form(self, r).await
    }

    async fn delete_sla_policy(
        &self,
        r: Request<pb::DeleteSlaPolicyRequest>,
    ) -> Rpc<pb::DeleteSlaPolicyResponse> {
        sla::delete_policy(self, r).await
    }
}
