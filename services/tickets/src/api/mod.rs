//! The gRPC surface: authorize, validate, call `ops`, convert back.

mod convert;

use kefu_principal::Principal;
use kefu_proto::tickets::v1 as pb;
use kefu_server::{Violations, events, mask, paging, principal_of, validate};
use pb::ticket_service_server::TicketService;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::customers::Customers;
use crate::domain::access::{Action, authorize, own_customer};
use crate::domain::lifecycle::Move;
use crate::domain::sla::{PolicyRecord, ScheduleRecord};
use crate::domain::ticket::{self, AgentRecord, TicketFields, UPDATABLE};
use crate::error::TicketsError;
use crate::ops::{Actor, FieldUpdate, NewComment, NewTicket, Tickets, decode_event};
use crate::store::{Dimension, TicketFilter, TicketOrder};

/// Most names in one BatchGetTickets.
pub const MAX_BATCH: usize = 100;
/// Longest SLA target, in minutes (a year).
pub const MAX_TARGET_MINUTES: i32 = 525_600;

/// The `kefu.tickets.v1.TicketService` implementation.
#[derive(Clone, Debug)]
pub struct TicketsApi {
    ops: Tickets,
    customers: Customers,
    shutdown: CancellationToken,
}

impl TicketsApi {
    /// Serves `ops`, looking requesters up in `customers`; open event streams end on `shutdown`.
    pub fn new(ops: Tickets, customers: Customers, shutdown: CancellationToken) -> Self {
        Self {
            ops,
            customers,
            shutdown,
        }
    }
}

type ApiResult<T> = Result<Response<T>, Status>;

fn allow(principal: &Principal, action: Action) -> Result<(), TicketsError> {
    authorize(principal, action).map_err(TicketsError::PermissionDenied)
}

fn check(violations: Violations) -> Result<(), TicketsError> {
    violations.into_result().map_err(TicketsError::Invalid)
}

fn id_of(name: &str, collection: &str, field: &str) -> Result<String, TicketsError> {
    let mut v = Violations::new();
    let id = validate::resource_id(name, collection, field, &mut v);
    check(v)?;
    Ok(id)
}

fn optional_id(name: &str, collection: &str, field: &str, v: &mut Violations) -> Option<String> {
    validate::optional_resource_id(name, collection, field, v)
}

fn limit(page_size: i32, v: &mut Violations) -> usize {
    paging::page_size(page_size, "page_size", v)
}

fn micros(t: Option<&prost_types::Timestamp>) -> Option<i64> {
    t.map(|t| t.seconds.saturating_mul(1_000_000) + i64::from(t.nanos / 1000))
}

fn channel(value: i32, required: bool, field: &str, v: &mut Violations) -> i32 {
    let known = pb::Channel::try_from(value).is_ok();
    validate::enum_value(value, known, required, field, v)
}

fn request_hash<M: prost::Message>(message: &M) -> String {
    let digest = Sha256::digest(message.encode_to_vec());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[tonic::async_trait]
impl TicketService for TicketsApi {
    #[tracing::instrument(skip_all)]
    async fn create_ticket(
        &self,
        request: Request<pb::CreateTicketRequest>,
    ) -> ApiResult<pb::Ticket> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::CreateTicket)?;
        let body = request.get_ref();
        let input = body.ticket.clone().unwrap_or_default();
        let mut v = Violations::new();
        let request_id = validate::request_id(&body.request_id, "request_id", &mut v);
        let mut fields = TicketFields::default();
        let all: Vec<String> = UPDATABLE.iter().map(|p| (*p).to_owned()).collect();
        fields.read(&input, &all, &mut v);
        fields.check_after_sales(&mut v);
        let requester =
            validate::resource_id(&input.requester, "customers", "ticket.requester", &mut v);
        let channel = channel(input.channel, true, "ticket.channel", &mut v);
        let group_id = optional_id(&input.group, "groups", "ticket.group", &mut v);
        let follow_up_of = optional_id(
            &input.follow_up_of,
            "tickets",
            "ticket.follow_up_of",
            &mut v,
        );
        if let Some(own) = own_customer(&principal) {
            if !requester.is_empty() && requester != own {
                return Err(TicketsError::PermissionDenied(
                    "a customer can only open tickets as its own requester".to_owned(),
                )
                .into());
            }
            if group_id.is_some() {
                v.add("ticket.group", "customers cannot choose a group");
            }
        }
        check(v)?;
        let actor = Actor::of(&principal, "CreateTicket");
        let hash = request_hash(body);
        // A retry of a create that already happened is answered from the database alone.
        if let Some(request_id) = &request_id
            && let Some(existing) = self.ops.replay_create(&actor, request_id, &hash).await?
        {
            return Ok(Response::new(convert::ticket(&existing)));
        }
        // The requester is checked before anything is written: no ticket without a known requester.
        let looked_up = self.customers.lookup(&request, &requester).await?;
        let record = self
            .ops
            .create_ticket(
                &actor,
                NewTicket {
                    fields,
                    channel,
                    group_id,
                    follow_up_of,
                },
                looked_up,
                request_id.as_deref().map(|id| (id, hash.as_str())),
            )
            .await?;
        Ok(Response::new(convert::ticket(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_ticket(&self, request: Request<pb::GetTicketRequest>) -> ApiResult<pb::Ticket> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadTickets)?;
        let id = id_of(&request.get_ref().name, "tickets", "name")?;
        let record = self
            .ops
            .get_ticket(&Actor::of(&principal, "GetTicket"), &id)
            .await?;
        Ok(Response::new(convert::ticket(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn batch_get_tickets(
        &self,
        request: Request<pb::BatchGetTicketsRequest>,
    ) -> ApiResult<pb::BatchGetTicketsResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadTickets)?;
        let names = &request.get_ref().names;
        let mut v = Violations::new();
        if names.is_empty() || names.len() > MAX_BATCH {
            v.add("names", format!("must hold 1 to {MAX_BATCH} names"));
        }
        let ids: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| validate::resource_id(n, "tickets", &format!("names[{i}]"), &mut v))
            .collect();
        check(v)?;
        let records = self
            .ops
            .batch_get(&Actor::of(&principal, "BatchGetTickets"), &ids)
            .await?;
        Ok(Response::new(pb::BatchGetTicketsResponse {
            tickets: records.iter().map(convert::ticket).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_tickets(
        &self,
        request: Request<pb::ListTicketsRequest>,
    ) -> ApiResult<pb::ListTicketsResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadTickets)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let mut filter = TicketFilter::default();
        for (i, status) in r.statuses.iter().enumerate() {
            let known = pb::TicketStatus::try_from(*status).is_ok();
            let status =
                validate::enum_value(*status, known, true, &format!("statuses[{i}]"), &mut v);
            if !filter.statuses.contains(&status) {
                filter.statuses.push(status);
            }
        }
        filter.statuses.sort_unstable();
        let priority_known = pb::TicketPriority::try_from(r.priority).is_ok();
        filter.priority = Some(validate::enum_value(
            r.priority,
            priority_known,
            false,
            "priority",
            &mut v,
        ))
        .filter(|p| *p != 0);
        let type_known = pb::TicketType::try_from(r.r#type).is_ok();
        filter.ticket_type = Some(validate::enum_value(
            r.r#type, type_known, false, "type", &mut v,
        ))
        .filter(|t| *t != 0);
        filter.channel = Some(channel(r.channel, false, "channel", &mut v)).filter(|c| *c != 0);
        filter.category = Some(r.category.trim().to_owned()).filter(|c| !c.is_empty());
        filter.assignee = match r.assignee.as_str() {
            "" => None,
            "agents/-" => Some(None),
            name => Some(Some(validate::resource_id(
                name, "agents", "assignee", &mut v,
            ))),
        };
        filter.group_id = optional_id(&r.group, "groups", "group", &mut v);
        filter.requester_id = optional_id(&r.requester, "customers", "requester", &mut v);
        filter.organization_id =
            optional_id(&r.organization, "organizations", "organization", &mut v);
        filter.tag = if r.tag.is_empty() {
            None
        } else {
            let tags = validate::tags(std::slice::from_ref(&r.tag), 1, "tag", &mut v);
            tags.into_iter().next()
        };
        filter.sla_breached = r.sla_breached;
        filter.create_from = micros(r.create_time_from.as_ref());
        filter.create_to = micros(r.create_time_to.as_ref());
        filter.update_from = micros(r.update_time_from.as_ref());
        filter.update_to = micros(r.update_time_to.as_ref());
        filter.text = validate::query(&r.text, "text", &mut v);
        let order = TicketOrder::parse(&r.order_by).unwrap_or_else(|| {
            v.add(
                "order_by",
                "must be one of create_time, create_time desc, update_time, update_time desc, priority desc, due_time",
            );
            TicketOrder::CreateTime
        });
        let limit = limit(r.page_size, &mut v);
        // A customer's list is narrowed to their own tickets in `ops`.
        let actor = Actor::of(&principal, "ListTickets");
        let fingerprint = paging::fingerprint(&[&format!("{filter:?}"), &format!("{order:?}")]);
        let after: Option<(i64, String)> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut records = self
            .ops
            .list_tickets(&actor, filter, order, after.as_ref(), limit + 1)
            .await?;
        let next_page_token = paging::next_page_token(
            &mut records,
            limit,
            |t| (order.value(t), t.id.clone()),
            &fingerprint,
        );
        Ok(Response::new(pb::ListTicketsResponse {
            tickets: records.iter().map(convert::ticket).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_ticket(
        &self,
        request: Request<pb::UpdateTicketRequest>,
    ) -> ApiResult<pb::Ticket> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::WorkTickets)?;
        let mut v = Violations::new();
        let update = field_update(request.get_ref(), "", &mut v);
        check(v)?;
        let record = self
            .ops
            .update_ticket(&Actor::of(&principal, "UpdateTicket"), &update)
            .await?;
        Ok(Response::new(convert::ticket(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn batch_update_tickets(
        &self,
        request: Request<pb::BatchUpdateTicketsRequest>,
    ) -> ApiResult<pb::BatchUpdateTicketsResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::WorkTickets)?;
        let requests = &request.get_ref().requests;
        let mut v = Violations::new();
        if requests.is_empty() || requests.len() > MAX_BATCH {
            v.add("requests", format!("must hold 1 to {MAX_BATCH} updates"));
        }
        let mut updates: Vec<FieldUpdate> = Vec::with_capacity(requests.len());
        for (i, r) in requests.iter().enumerate() {
            let update = field_update(r, &format!("requests[{i}]."), &mut v);
            if !update.id.is_empty() && updates.iter().any(|u| u.id == update.id) {
                v.add(
                    format!("requests[{i}].ticket.name"),
                    "names a ticket already updated in this batch: merge the two updates",
                );
            }
            updates.push(update);
        }
        check(v)?;
        let records = self
            .ops
            .batch_update(&Actor::of(&principal, "BatchUpdateTickets"), &updates)
            .await?;
        Ok(Response::new(pb::BatchUpdateTicketsResponse {
            tickets: records.iter().map(convert::ticket).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn assign_ticket(
        &self,
        request: Request<pb::AssignTicketRequest>,
    ) -> ApiResult<pb::Ticket> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::WorkTickets)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let id = validate::resource_id(&r.name, "tickets", "name", &mut v);
        let assignee = optional_id(&r.assignee, "agents", "assignee", &mut v);
        let group = optional_id(&r.group, "groups", "group", &mut v);
        if r.assignee.is_empty() && r.group.is_empty() {
            v.add("assignee", "give an assignee, a group, or both");
        }
        check(v)?;
        let record = self
            .ops
            .assign(
                &Actor::of(&principal, "AssignTicket"),
                &id,
                assignee,
                group,
                &r.etag,
            )
            .await?;
        Ok(Response::new(convert::ticket(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn set_ticket_pending(
        &self,
        request: Request<pb::SetTicketPendingRequest>,
    ) -> ApiResult<pb::Ticket> {
        let r = request.get_ref();
        self.transition(&request, &r.name, &r.etag, Move::Pend, "SetTicketPending")
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn set_ticket_on_hold(
        &self,
        request: Request<pb::SetTicketOnHoldRequest>,
    ) -> ApiResult<pb::Ticket> {
        let r = request.get_ref();
        self.transition(&request, &r.name, &r.etag, Move::Hold, "SetTicketOnHold")
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn solve_ticket(
        &self,
        request: Request<pb::SolveTicketRequest>,
    ) -> ApiResult<pb::Ticket> {
        let r = request.get_ref();
        self.transition(&request, &r.name, &r.etag, Move::Solve, "SolveTicket")
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn reopen_ticket(
        &self,
        request: Request<pb::ReopenTicketRequest>,
    ) -> ApiResult<pb::Ticket> {
        let r = request.get_ref();
        self.transition(&request, &r.name, &r.etag, Move::Reopen, "ReopenTicket")
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn close_ticket(
        &self,
        request: Request<pb::CloseTicketRequest>,
    ) -> ApiResult<pb::Ticket> {
        let r = request.get_ref();
        self.transition(&request, &r.name, &r.etag, Move::Close, "CloseTicket")
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn merge_ticket(
        &self,
        request: Request<pb::MergeTicketRequest>,
    ) -> ApiResult<pb::Ticket> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::WorkTickets)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let source = validate::resource_id(&r.name, "tickets", "name", &mut v);
        let target = validate::resource_id(&r.target, "tickets", "target", &mut v);
        check(v)?;
        let record = self
            .ops
            .merge(
                &Actor::of(&principal, "MergeTicket"),
                &source,
                &target,
                &r.etag,
            )
            .await?;
        Ok(Response::new(convert::ticket(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn unmerge_ticket(
        &self,
        request: Request<pb::UnmergeTicketRequest>,
    ) -> ApiResult<pb::Ticket> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::WorkTickets)?;
        let id = id_of(&request.get_ref().name, "tickets", "name")?;
        let record = self
            .ops
            .unmerge(&Actor::of(&principal, "UnmergeTicket"), &id)
            .await?;
        Ok(Response::new(convert::ticket(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn link_tickets(
        &self,
        request: Request<pb::LinkTicketsRequest>,
    ) -> ApiResult<pb::TicketLink> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::WorkTickets)?;
        let link = request.get_ref().link.clone().unwrap_or_default();
        let mut v = Violations::new();
        let ticket = validate::resource_id(&link.ticket, "tickets", "link.ticket", &mut v);
        let other = validate::resource_id(&link.other, "tickets", "link.other", &mut v);
        let kind = match pb::LinkKind::try_from(link.kind) {
            Ok(kind @ (pb::LinkKind::Related | pb::LinkKind::Child)) => kind,
            _ => {
                v.add("link.kind", "must be LINK_KIND_RELATED or LINK_KIND_CHILD");
                pb::LinkKind::Unspecified
            }
        };
        check(v)?;
        let record = self
            .ops
            .link(&Actor::of(&principal, "LinkTickets"), &ticket, &other, kind)
            .await?;
        Ok(Response::new(convert::link(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn unlink_tickets(
        &self,
        request: Request<pb::UnlinkTicketsRequest>,
    ) -> ApiResult<pb::UnlinkTicketsResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::WorkTickets)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let ticket = validate::resource_id(&r.ticket, "tickets", "ticket", &mut v);
        let other = validate::resource_id(&r.other, "tickets", "other", &mut v);
        check(v)?;
        self.ops
            .unlink(&Actor::of(&principal, "UnlinkTickets"), &ticket, &other)
            .await?;
        Ok(Response::new(pb::UnlinkTicketsResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn list_ticket_links(
        &self,
        request: Request<pb::ListTicketLinksRequest>,
    ) -> ApiResult<pb::ListTicketLinksResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadTickets)?;
        let id = id_of(&request.get_ref().parent, "tickets", "parent")?;
        let records = self
            .ops
            .list_links(&Actor::of(&principal, "ListTicketLinks"), &id)
            .await?;
        Ok(Response::new(pb::ListTicketLinksResponse {
            links: records.iter().map(convert::link).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_comment(
        &self,
        request: Request<pb::CreateCommentRequest>,
    ) -> ApiResult<pb::Comment> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Comment)?;
        let r = request.get_ref();
        let input = r.comment.clone().unwrap_or_default();
        let mut v = Violations::new();
        let ticket_id = validate::resource_id(&r.parent, "tickets", "parent", &mut v);
        let body = ticket::text(&input.body, true, "comment.body", &mut v);
        let channel = match channel(input.channel, false, "comment.channel", &mut v) {
            0 => pb::Channel::Api as i32,
            c => c,
        };
        let attachments = ticket::attachments(&input.attachments, "comment.attachments", &mut v);
        if own_customer(&principal).is_some() && !input.public {
            v.add("comment.public", "customers can only write public replies");
        }
        check(v)?;
        let (comment, _) = self
            .ops
            .add_comment(
                &Actor::of(&principal, "CreateComment"),
                &ticket_id,
                NewComment {
                    body,
                    public: input.public,
                    channel,
                    attachments,
                },
            )
            .await?;
        Ok(Response::new(convert::comment(&comment)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_comments(
        &self,
        request: Request<pb::ListCommentsRequest>,
    ) -> ApiResult<pb::ListCommentsResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadTickets)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let ticket_id = validate::resource_id(&r.parent, "tickets", "parent", &mut v);
        let limit = limit(r.page_size, &mut v);
        let fingerprint = paging::fingerprint(&[&ticket_id, principal.role.as_str()]);
        let after: Option<String> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut records = self
            .ops
            .list_comments(
                &Actor::of(&principal, "ListComments"),
                &ticket_id,
                after.as_deref(),
                limit + 1,
            )
            .await?;
        let next_page_token =
            paging::next_page_token(&mut records, limit, |c| c.id.clone(), &fingerprint);
        Ok(Response::new(pb::ListCommentsResponse {
            comments: records.iter().map(convert::comment).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_ticket_audits(
        &self,
        request: Request<pb::ListTicketAuditsRequest>,
    ) -> ApiResult<pb::ListTicketAuditsResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadTeam)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let ticket_id = validate::resource_id(&r.parent, "tickets", "parent", &mut v);
        let limit = limit(r.page_size, &mut v);
        let fingerprint = paging::fingerprint(&[&ticket_id]);
        let after: Option<String> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut records = self
            .ops
            .list_audits(&ticket_id, after.as_deref(), limit + 1)
            .await?;
        let next_page_token =
            paging::next_page_token(&mut records, limit, |a| a.id.clone(), &fingerprint);
        Ok(Response::new(pb::ListTicketAuditsResponse {
            audits: records.iter().map(convert::audit).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_ticket_stats(
        &self,
        request: Request<pb::GetTicketStatsRequest>,
    ) -> ApiResult<pb::GetTicketStatsResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadTeam)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let period = validate::period(r.start_time.as_ref(), r.end_time.as_ref(), &mut v);
        let dimension = match pb::StatsDimension::try_from(r.group_by) {
            Ok(pb::StatsDimension::Unspecified) => Dimension::None,
            Ok(pb::StatsDimension::Agent) => Dimension::Agent,
            Ok(pb::StatsDimension::Group) => Dimension::Group,
            Ok(pb::StatsDimension::Channel) => Dimension::Channel,
            Ok(pb::StatsDimension::Priority) => Dimension::Priority,
            Ok(pb::StatsDimension::Type) => Dimension::Type,
            Err(_) => {
                v.add("group_by", format!("unknown value {}", r.group_by));
                Dimension::None
            }
        };
        check(v)?;
        // A missing period was reported as a violation above.
        let (start, end) = period.unwrap_or_default();
        let figures = self.ops.stats(dimension, start, end).await?;
        Ok(Response::new(pb::GetTicketStatsResponse {
            rows: figures
                .into_iter()
                .map(|(key, row)| convert::stats_row(dimension, &key, &row))
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_group(&self, request: Request<pb::CreateGroupRequest>) -> ApiResult<pb::Group> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Configure)?;
        let input = request.get_ref().group.clone().unwrap_or_default();
        let mut v = Violations::new();
        let display_name =
            validate::display_name(&input.display_name, "group.display_name", &mut v);
        let description = ticket::text(&input.description, false, "group.description", &mut v);
        if description.chars().count() > 2000 {
            v.add("group.description", "must be at most 2000 characters");
        }
        check(v)?;
        let group = self.ops.create_group(display_name, description).await?;
        Ok(Response::new(convert::group(&group)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_groups(
        &self,
        request: Request<pb::ListGroupsRequest>,
    ) -> ApiResult<pb::ListGroupsResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadTeam)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let limit = limit(r.page_size, &mut v);
        let fingerprint = paging::fingerprint(&["groups"]);
        let after: Option<(String, String)> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut records = self.ops.list_groups(after.as_ref(), limit + 1).await?;
        let next_page_token = paging::next_page_token(
            &mut records,
            limit,
            |g| (g.display_name.clone(), g.id.clone()),
            &fingerprint,
        );
        Ok(Response::new(pb::ListGroupsResponse {
            groups: records.iter().map(convert::group).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_agent(&self, request: Request<pb::CreateAgentRequest>) -> ApiResult<pb::Agent> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Configure)?;
        let r = request.get_ref();
        let input = r.agent.clone().unwrap_or_default();
        let mut v = Violations::new();
        let record = AgentRecord {
            id: ticket::agent_id(&r.agent_id, "agent_id", &mut v),
            display_name: validate::display_name(&input.display_name, "agent.display_name", &mut v),
            email: ticket::email(&input.email, "agent.email", &mut v),
            skills: validate::tags(&input.skills, ticket::MAX_TAGS, "agent.skills", &mut v),
            capacity: capacity(input.capacity, &mut v),
            active: input.active,
            groups: Vec::new(),
            create_time: kefu_db::time::now_micros(),
            version: 1,
        };
        check(v)?;
        let agent = self.ops.create_agent(record).await?;
        Ok(Response::new(convert::agent(&agent)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_agent(&self, request: Request<pb::GetAgentRequest>) -> ApiResult<pb::Agent> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadTeam)?;
        let id = id_of(&request.get_ref().name, "agents", "name")?;
        let agent = self.ops.get_agent(&id).await?;
        Ok(Response::new(convert::agent(&agent)))
    }

    #[tracing::instrument(skip_all)]
    async fn update_agent(&self, request: Request<pb::UpdateAgentRequest>) -> ApiResult<pb::Agent> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Configure)?;
        let r = request.get_ref();
        let input = r.agent.clone().unwrap_or_default();
        let id = id_of(&input.name, "agents", "agent.name")?;
        let mut v = Violations::new();
        let paths = mask::resolve(
            r.update_mask.as_ref(),
            &["display_name", "email", "skills", "capacity", "active"],
            true,
            "update_mask",
            &mut v,
        );
        let display_name = paths
            .contains(&"display_name")
            .then(|| validate::display_name(&input.display_name, "agent.display_name", &mut v));
        let email = paths
            .contains(&"email")
            .then(|| ticket::email(&input.email, "agent.email", &mut v));
        let skills = paths
            .contains(&"skills")
            .then(|| validate::tags(&input.skills, ticket::MAX_TAGS, "agent.skills", &mut v));
        let capacity = paths
            .contains(&"capacity")
            .then(|| capacity(input.capacity, &mut v));
        let active = paths.contains(&"active").then_some(input.active);
        check(v)?;
        let agent = self
            .ops
            .update_agent(&id, &r.etag, |a| {
                if let Some(x) = display_name {
                    a.display_name = x;
                }
                if let Some(x) = email {
                    a.email = x;
                }
                if let Some(x) = skills {
                    a.skills = x;
                }
                if let Some(x) = capacity {
                    a.capacity = x;
                }
                if let Some(x) = active {
                    a.active = x;
                }
            })
            .await?;
        Ok(Response::new(convert::agent(&agent)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_agents(
        &self,
        request: Request<pb::ListAgentsRequest>,
    ) -> ApiResult<pb::ListAgentsResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadTeam)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let group_id = optional_id(&r.group, "groups", "group", &mut v);
        let limit = limit(r.page_size, &mut v);
        let fingerprint = paging::fingerprint(&[group_id.as_deref().unwrap_or_default()]);
        let after: Option<String> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut records = self
            .ops
            .list_agents(group_id.as_deref(), after.as_deref(), limit + 1)
            .await?;
        let next_page_token =
            paging::next_page_token(&mut records, limit, |a| a.id.clone(), &fingerprint);
        Ok(Response::new(pb::ListAgentsResponse {
            agents: records.iter().map(convert::agent).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn add_group_member(
        &self,
        request: Request<pb::AddGroupMemberRequest>,
    ) -> ApiResult<pb::Agent> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Configure)?;
        let (group_id, agent_id) = membership(&request.get_ref().group, &request.get_ref().agent)?;
        let agent = self.ops.set_membership(&group_id, &agent_id, true).await?;
        Ok(Response::new(convert::agent(&agent)))
    }

    #[tracing::instrument(skip_all)]
    async fn remove_group_member(
        &self,
        request: Request<pb::RemoveGroupMemberRequest>,
    ) -> ApiResult<pb::Agent> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Configure)?;
        let (group_id, agent_id) = membership(&request.get_ref().group, &request.get_ref().agent)?;
        let agent = self.ops.set_membership(&group_id, &agent_id, false).await?;
        Ok(Response::new(convert::agent(&agent)))
    }

    #[tracing::instrument(skip_all)]
    async fn create_business_schedule(
        &self,
        request: Request<pb::CreateBusinessScheduleRequest>,
    ) -> ApiResult<pb::BusinessSchedule> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Configure)?;
        let input = request
            .get_ref()
            .business_schedule
            .clone()
            .unwrap_or_default();
        let mut v = Violations::new();
        let display_name = validate::display_name(
            &input.display_name,
            "business_schedule.display_name",
            &mut v,
        );
        if input.intervals.is_empty() || input.intervals.len() > 50 {
            v.add("business_schedule.intervals", "must hold 1 to 50 intervals");
        }
        if input.holidays.len() > 500 {
            v.add("business_schedule.holidays", "at most 500 holidays");
        }
        let mut intervals = Vec::new();
        for (i, interval) in input.intervals.iter().enumerate() {
            let f = |name: &str| format!("business_schedule.intervals[{i}].{name}");
            let day = u8::try_from(interval.day_of_week)
                .ok()
                .filter(|d| (1..=7).contains(d));
            let start = u16::try_from(interval.start_minute)
                .ok()
                .filter(|m| *m < 1440);
            let end = u16::try_from(interval.end_minute)
                .ok()
                .filter(|m| *m <= 1440);
            if day.is_none() {
                v.add(f("day_of_week"), "must be 1 (Monday) to 7 (Sunday)");
            }
            if start.is_none() {
                v.add(f("start_minute"), "must be 0 to 1439");
            }
            if end.is_none() {
                v.add(f("end_minute"), "must be 1 to 1440");
            }
            if let (Some(day), Some(start), Some(end)) = (day, start, end) {
                intervals.push((day, start, end));
            }
        }
        let record = ScheduleRecord {
            id: crate::ops::new_id(),
            display_name,
            time_zone: input.time_zone.trim().to_owned(),
            intervals,
            holidays: input.holidays.iter().map(|h| h.trim().to_owned()).collect(),
            create_time: kefu_db::time::now_micros(),
        };
        if v.is_empty() {
            // The calendar's own checks: zone, overlaps, empty week, holiday dates.
            if let Err(error) = record.clock() {
                v.add("business_schedule", error.to_string());
            }
        }
        check(v)?;
        let schedule = self.ops.create_schedule(record).await?;
        Ok(Response::new(convert::schedule(&schedule)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_business_schedules(
        &self,
        request: Request<pb::ListBusinessSchedulesRequest>,
    ) -> ApiResult<pb::ListBusinessSchedulesResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadTeam)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let limit = limit(r.page_size, &mut v);
        let fingerprint = paging::fingerprint(&["schedules"]);
        let after: Option<String> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut records = self.ops.list_schedules(after.as_deref(), limit + 1).await?;
        let next_page_token =
            paging::next_page_token(&mut records, limit, |s| s.id.clone(), &fingerprint);
        Ok(Response::new(pb::ListBusinessSchedulesResponse {
            business_schedules: records.iter().map(convert::schedule).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_sla_policy(
        &self,
        request: Request<pb::CreateSlaPolicyRequest>,
    ) -> ApiResult<pb::SlaPolicy> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Configure)?;
        let input = request.get_ref().sla_policy.clone().unwrap_or_default();
        let mut v = Violations::new();
        let f = |name: &str| format!("sla_policy.{name}");
        let display_name = validate::display_name(&input.display_name, &f("display_name"), &mut v);
        if !(0..=1_000_000).contains(&input.position) {
            v.add(f("position"), "must be 0 to 1,000,000");
        }
        let enum_list =
            |values: &[i32], known: fn(i32) -> bool, field: &str, v: &mut Violations| {
                let mut out: Vec<i32> = Vec::new();
                for (i, value) in values.iter().enumerate() {
                    validate::enum_value(*value, known(*value), true, &format!("{field}[{i}]"), v);
                    if !out.contains(value) {
                        out.push(*value);
                    }
                }
                out
            };
        let priorities = enum_list(
            &input.priorities,
            |x| pb::TicketPriority::try_from(x).is_ok(),
            &f("priorities"),
            &mut v,
        );
        let types = enum_list(
            &input.types,
            |x| pb::TicketType::try_from(x).is_ok(),
            &f("types"),
            &mut v,
        );
        let channels = enum_list(
            &input.channels,
            |x| pb::Channel::try_from(x).is_ok(),
            &f("channels"),
            &mut v,
        );
        let mut tiers = Vec::new();
        for (i, tier) in input.requester_tiers.iter().enumerate() {
            let tier = tier.trim().to_uppercase();
            if !["STANDARD", "SILVER", "GOLD", "VIP"].contains(&tier.as_str()) {
                v.add(
                    format!("{}[{i}]", f("requester_tiers")),
                    "must be STANDARD, SILVER, GOLD or VIP",
                );
            } else if !tiers.contains(&tier) {
                tiers.push(tier);
            }
        }
        let groups: Vec<String> = input
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                validate::resource_id(g, "groups", &format!("{}[{i}]", f("groups")), &mut v)
            })
            .collect();
        let targets = [
            ("first_response_minutes", input.first_response_minutes),
            ("next_response_minutes", input.next_response_minutes),
            ("resolution_minutes", input.resolution_minutes),
        ];
        for (field, minutes) in targets {
            if !(0..=MAX_TARGET_MINUTES).contains(&minutes) {
                v.add(
                    f(field),
                    format!("must be 0 to {MAX_TARGET_MINUTES} minutes"),
                );
            }
        }
        if targets.iter().all(|(_, m)| *m == 0) {
            v.add(
                f("first_response_minutes"),
                "a policy needs at least one target",
            );
        }
        let schedule_id = optional_id(
            &input.business_schedule,
            "businessSchedules",
            &f("business_schedule"),
            &mut v,
        );
        check(v)?;
        let record = PolicyRecord {
            id: crate::ops::new_id(),
            display_name,
            position: input.position,
            priorities,
            tiers,
            types,
            channels,
            groups,
            first_response_minutes: input.first_response_minutes,
            next_response_minutes: input.next_response_minutes,
            resolution_minutes: input.resolution_minutes,
            schedule_id,
            create_time: kefu_db::time::now_micros(),
        };
        let policy = self.ops.create_policy(record).await?;
        Ok(Response::new(convert::policy(&policy)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_sla_policies(
        &self,
        request: Request<pb::ListSlaPoliciesRequest>,
    ) -> ApiResult<pb::ListSlaPoliciesResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ReadTeam)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let limit = limit(r.page_size, &mut v);
        let fingerprint = paging::fingerprint(&["policies"]);
        let after: Option<(i64, i64, String)> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut records = self.ops.list_policies(after.as_ref(), limit + 1).await?;
        let next_page_token = paging::next_page_token(
            &mut records,
            limit,
            |p| (i64::from(p.position), p.create_time, p.id.clone()),
            &fingerprint,
        );
        Ok(Response::new(pb::ListSlaPoliciesResponse {
            sla_policies: records.iter().map(convert::policy).collect(),
            next_page_token,
        }))
    }

    type WatchEventsStream = events::EventStream<pb::WatchEventsResponse>;

    #[tracing::instrument(skip_all)]
    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> ApiResult<Self::WatchEventsStream> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::WatchEvents)?;
        let after =
            events::parse_cursor(&request.get_ref().after_cursor).map_err(TicketsError::Invalid)?;
        Ok(Response::new(events::watch(
            self.ops.db.clone(),
            after,
            &self.ops.signal,
            self.shutdown.clone(),
            |stored| {
                decode_event(stored).map(|event| pb::WatchEventsResponse { event: Some(event) })
            },
            |error| Status::from(TicketsError::from(error)),
        )))
    }
}

impl TicketsApi {
    async fn transition<T>(
        &self,
        request: &Request<T>,
        name: &str,
        etag: &str,
        action: Move,
        via: &'static str,
    ) -> ApiResult<pb::Ticket> {
        let principal = principal_of(request)?;
        allow(&principal, Action::WorkTickets)?;
        let id = id_of(name, "tickets", "name")?;
        let record = self
            .ops
            .transition(&Actor::of(&principal, via), &id, action, etag)
            .await?;
        Ok(Response::new(convert::ticket(&record)))
    }
}

/// Checks an UpdateTicketRequest on its own (field syntax, mask); `prefix` names its place in a
/// batch. Cross-field rules run against the stored ticket in `ops`.
fn field_update(r: &pb::UpdateTicketRequest, prefix: &str, v: &mut Violations) -> FieldUpdate {
    let input = r.ticket.clone().unwrap_or_default();
    let mut own = Violations::new();
    let id = validate::resource_id(&input.name, "tickets", "ticket.name", &mut own);
    let paths: Vec<String> = mask::resolve(
        r.update_mask.as_ref(),
        UPDATABLE,
        true,
        "update_mask",
        &mut own,
    )
    .into_iter()
    .map(str::to_owned)
    .collect();
    TicketFields::default().read(&input, &paths, &mut own);
    for (field, description) in own.iter() {
        v.add(format!("{prefix}{field}"), description);
    }
    FieldUpdate {
        id,
        input,
        paths,
        etag: r.etag.clone(),
    }
}

fn capacity(value: i32, v: &mut Violations) -> i32 {
    if !(0..=10_000).contains(&value) {
        v.add("agent.capacity", "must be 0 to 10,000");
    }
    value
}

fn membership(group: &str, agent: &str) -> Result<(String, String), TicketsError> {
    let mut v = Violations::new();
    let group_id = validate::resource_id(group, "groups", "group", &mut v);
    let agent_id = validate::resource_id(agent, "agents", "agent", &mut v);
    check(v)?;
    Ok((group_id, agent_id))
}
