//! Tickets: create, read, list, update.

use kefu_db::idempotency::RequestKey;
use kefu_proto::tickets::v1 as pb;
use kefu_server::outgoing::Caller;
use kefu_server::paging::Page;
use kefu_server::time::optional_micros;
use kefu_server::{Violations, mask, principal_of, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow, convert};
use crate::domain::access::{Action, own_customer};
use crate::domain::kinds::{Priority, TicketStatus, TicketType};
use crate::domain::scope::Visibility;
use crate::domain::ticket::UPDATABLE;
use crate::ops::{Actor, FieldUpdate, NewTicket};
use crate::store::{TicketFilter, TicketOrder};

/// Most names in one BatchGetTickets, updates in one BatchUpdateTickets.
pub(super) const MAX_BATCH: usize = 100;

pub(super) async fn create(
    api: &TicketsApi,
    request: Request<pb::CreateTicketRequest>,
) -> Rpc<pb::Ticket> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::CreateTicket)?;
    let caller = Caller::of(&request);
    let body = request.into_inner();
    let input = body.ticket.clone().unwrap_or_default();
    let mut v = Violations::new();
    let request_id = validate::request_id(&body.request_id, "request_id", &mut v);
    let fields = convert::ticket_fields(&input, UPDATABLE, &mut v);
    fields.check_after_sales(&mut v);
    let requester_id =
        validate::resource_id(&input.requester, "customers", "ticket.requester", &mut v);
    let channel = convert::channel(input.channel, None, "ticket.channel", &mut v);
    let group_id = validate::optional_resource_id(&input.group, "groups", "ticket.group", &mut v);
    let follow_up_of = validate::optional_resource_id(
        &input.follow_up_of,
        "tickets",
        "ticket.follow_up_of",
        &mut v,
    );
    if own_customer(&principal).is_some() && group_id.is_some() {
        v.add("ticket.group", "customers cannot choose a group");
    }
    v.into_result()?;
    let Some(channel) = channel else {
        return Err(Violations::required("ticket.channel").into());
    };
    let command = NewTicket {
        fields,
        requester_id,
        channel,
        group_id,
        follow_up_of,
        request: RequestKey::new(request_id, "CreateTicket", &body),
        caller,
    };
    let actor = Actor::of(&principal, "CreateTicket");
    let record = api.ops.create_ticket(&actor, command).await?;
    Ok(Response::new(convert::ticket(&record)))
}

pub(super) async fn get(
    api: &TicketsApi,
    request: Request<pb::GetTicketRequest>,
) -> Rpc<pb::Ticket> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTickets)?;
    let id = validate::required_id(&request.get_ref().name, "tickets", "name")?;
    let actor = Actor::of(&principal, "GetTicket");
    let record = api.ops.get_ticket(&actor, &id).await?;
    Ok(Response::new(convert::ticket(&record)))
}

pub(super) async fn batch_get(
    api: &TicketsApi,
    request: Request<pb::BatchGetTicketsRequest>,
) -> Rpc<pb::BatchGetTicketsResponse> {
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
    v.into_result()?;
    let actor = Actor::of(&principal, "BatchGetTickets");
    let records = api.ops.batch_get(&actor, &ids).await?;
    Ok(Response::new(pb::BatchGetTicketsResponse {
        tickets: records.iter().map(convert::ticket).collect(),
    }))
}

/// ListTickets' filters, checked.
pub(super) fn filter(r: &pb::ListTicketsRequest, v: &mut Violations) -> TicketFilter {
    let mut filter = TicketFilter {
        statuses: validate::enum_list(&r.statuses, TicketStatus::from_number, "statuses", v),
        priority: validate::optional_enum(r.priority, Priority::from_number, "priority", v),
        ticket_type: validate::optional_enum(r.r#type, TicketType::from_number, "type", v),
        channel: validate::optional_enum(
            r.channel,
            kefu_server::common::Channel::from_number,
            "channel",
            v,
        ),
        category: Some(r.category.trim().to_owned()).filter(|c| !c.is_empty()),
        assignee: match r.assignee.as_str() {
            "" => None,
            "agents/-" => Some(None),
            name => Some(Some(validate::resource_id(name, "agents", "assignee", v))),
        },
        group_id: validate::optional_resource_id(&r.group, "groups", "group", v),
        requester_id: validate::optional_resource_id(&r.requester, "customers", "requester", v),
        organization_id: validate::optional_resource_id(
            &r.organization,
            "organizations",
            "organization",
            v,
        ),
        tag: None,
        group_ids: None,
        due_before: None,
        custom_field: custom_field_filter(&r.custom_field, v),
        follower: validate::optional_resource_id(&r.follower, "agents", "follower", v),
        sla_breached: r.sla_breached,
        create_from: optional_micros(r.create_time_from.as_ref(), "create_time_from", v),
        create_to: optional_micros(r.create_time_to.as_ref(), "create_time_to", v),
        update_from: optional_micros(r.update_time_from.as_ref(), "update_time_from", v),
        update_to: optional_micros(r.update_time_to.as_ref(), "update_time_to", v),
        text: validate::query(&r.text, "text", v),
        visible: Visibility::Everything,
    };
    filter.statuses.sort_unstable();
    if !r.tag.is_empty() {
        filter.tag = validate::tags(std::slice::from_ref(&r.tag), 1, "tag", v)
            .into_iter()
            .next();
    }
    filter
}

pub(super) async fn list(
    api: &TicketsApi,
    request: Request<pb::ListTicketsRequest>,
) -> Rpc<pb::ListTicketsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTickets)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let filter = filter(r, &mut v);
    let order = TicketOrder::parse(&r.order_by).unwrap_or_else(|| {
        v.add(
            "order_by",
            "must be one of create_time, create_time desc, update_time, update_time desc, priority desc, due_time",
        );
        TicketOrder::CreateTime
    });
    let page: Page<(i64, String)> =
        Page::filtered(r.page_size, &r.page_token, &(&filter, order), &mut v);
    v.into_result()?;
    // A customer's list is narrowed to their own tickets in `ops`.
    let actor = Actor::of(&principal, "ListTickets");
    let rows = api
        .ops
        .list_tickets(&actor, filter, order, page.after.as_ref(), page.fetch())
        .await?;
    let (records, next_page_token) = page.finish(rows, |t| (order.value(t), t.id.clone()));
    Ok(Response::new(pb::ListTicketsResponse {
        tickets: records.iter().map(convert::ticket).collect(),
        next_page_token,
    }))
}

/// Checks an UpdateTicketRequest on its own (field syntax, mask); `prefix` names its place in a
/// batch. Cross-field rules run against the stored ticket in `ops`.
fn field_update(r: &pb::UpdateTicketRequest, prefix: &str, v: &mut Violations) -> FieldUpdate {
    let input = r.ticket.clone().unwrap_or_default();
    let mut own = Violations::new();
    let id = validate::resource_id(&input.name, "tickets", "ticket.name", &mut own);
    let paths = mask::update_mask(r.update_mask.as_ref(), UPDATABLE, &mut own);
    let fields = convert::ticket_fields(&input, &paths, &mut own);
    for (field, description) in own.iter() {
        v.add(format!("{prefix}{field}"), description);
    }
    FieldUpdate {
        id,
        fields,
        paths,
        etag: r.etag.clone(),
    }
}

pub(super) async fn update(
    api: &TicketsApi,
    request: Request<pb::UpdateTicketRequest>,
) -> Rpc<pb::Ticket> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::WorkTickets)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let update = field_update(r, "", &mut v);
    let replay = validate::replay(
        &principal,
        &r.request_id,
        "UpdateTicket",
        r,
        convert::ticket,
        &mut v,
    );
    v.into_result()?;
    let actor = Actor::of(&principal, "UpdateTicket");
    let ticket = api.ops.update_ticket(&actor, &update, &replay).await?;
    Ok(Response::new(ticket))
}

pub(super) async fn batch_update(
    api: &TicketsApi,
    request: Request<pb::BatchUpdateTicketsRequest>,
) -> Rpc<pb::BatchUpdateTicketsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::WorkTickets)?;
    let body = request.get_ref();
    let requests = &body.requests;
    let mut v = Violations::new();
    let replay = validate::replay(
        &principal,
        &body.request_id,
        "BatchUpdateTickets",
        body,
        |tickets: &Vec<_>| pb::BatchUpdateTicketsResponse {
            tickets: tickets.iter().map(convert::ticket).collect(),
        },
        &mut v,
    );
    if requests.is_empty() || requests.len() > MAX_BATCH {
        v.add("requests", format!("must hold 1 to {MAX_BATCH} updates"));
    }
    let mut updates: Vec<FieldUpdate> = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        let update = field_update(r, &format!("requests[{i}]."), &mut v);
        if !r.request_id.is_empty() {
            v.add(
                format!("requests[{i}].request_id"),
                "must be empty: a batch is retried as a whole, by the batch's request_id",
            );
        }
        if !update.id.is_empty() && updates.iter().any(|u| u.id == update.id) {
            v.add(
                format!("requests[{i}].ticket.name"),
                "names a ticket already updated in this batch: merge the two updates",
            );
        }
        updates.push(update);
    }
    v.into_result()?;
    let actor = Actor::of(&principal, "BatchUpdateTickets");
    let answer = api.ops.batch_update(&actor, &updates, &replay).await?;
    Ok(Response::new(answer))
}

/// ListTickets' `custom_field` filter, `key=value`.
fn custom_field_filter(text: &str, v: &mut Violations) -> Option<(String, String)> {
    if text.is_empty() {
        return None;
    }
    match text.split_once('=') {
        Some((key, value)) if !value.trim().is_empty() => {
            let key = crate::domain::fields::field_id(key.trim(), "custom_field", v);
            Some((key, value.trim().to_owned()))
        }
        _ => {
            v.add("custom_field", "must be key=value");
            None
        }
    }
}
