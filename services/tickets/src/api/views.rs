//! Saved views: the three built in, those agents save, and running one.

use kefu_proto::tickets::v1 as pb;
use kefu_server::etag::etag;
use kefu_server::paging::Page;
use kefu_server::time::timestamp;
use kefu_server::{Violations, mask, principal_of, validate};
use prost::Message;
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow, convert, tickets};
use crate::domain::access::Action;
use crate::domain::views::{ViewRecord, Viewer};
use crate::ops::Actor;
use crate::store::{TicketFilter, TicketOrder};

/// The viewer, in a filter's assignee or follower.
const ME: &str = "agents/me";
/// Any of the viewer's groups, in a filter's group.
const MINE: &str = "groups/mine";
/// Longest "due within", in minutes (a week).
const MAX_DUE_WITHIN_MINUTES: i32 = 7 * 24 * 60;

/// The statuses of work not yet done.
fn unsolved() -> Vec<i32> {
    [
        pb::TicketStatus::New,
        pb::TicketStatus::Open,
        pb::TicketStatus::Pending,
        pb::TicketStatus::OnHold,
    ]
    .map(|s| s as i32)
    .to_vec()
}

/// The views every agent has.
fn built_in() -> Vec<pb::View> {
    let view = |id: &str, display_name: &str, filter: pb::ViewFilter| pb::View {
        name: format!("views/{id}"),
        display_name: display_name.to_owned(),
        filter: Some(filter),
        order_by: "due_time".to_owned(),
        built_in: true,
        ..Default::default()
    };
    vec![
        view(
            "my-open-tickets",
            "My open tickets",
            pb::ViewFilter {
                assignee: ME.to_owned(),
                statuses: unsolved(),
                ..Default::default()
            },
        ),
        view(
            "unassigned-in-my-groups",
            "Unassigned in my groups",
            pb::ViewFilter {
                assignee: "agents/-".to_owned(),
                group: MINE.to_owned(),
                statuses: vec![pb::TicketStatus::New as i32, pb::TicketStatus::Open as i32],
                ..Default::default()
            },
        ),
        view(
            "breaching-soon",
            "Breaching soon",
            pb::ViewFilter {
                due_within_minutes: 60,
                statuses: unsolved(),
                ..Default::default()
            },
        ),
    ]
}

fn view_out(v: &ViewRecord) -> pb::View {
    let name = format!("views/{}", v.id);
    pb::View {
        etag: etag(&name, v.version),
        name,
        display_name: v.display_name.clone(),
        owner: v
            .owner_id
            .as_ref()
            .map(|o| format!("agents/{o}"))
            .unwrap_or_default(),
        group: v
            .group_id
            .as_ref()
            .map(|g| format!("groups/{g}"))
            .unwrap_or_default(),
        filter: pb::ViewFilter::decode(v.filter.as_slice()).ok(),
        order_by: v.order_by.clone(),
        built_in: false,
        create_time: Some(timestamp(v.create_time)),
    }
}

/// The ticket filter a view's filter means for `viewer` at `now`, each violation on
/// `<prefix>.<field>`.
fn resolve(
    f: &pb::ViewFilter,
    viewer: &Viewer,
    now: i64,
    prefix: &str,
    v: &mut Violations,
) -> TicketFilter {
    let me = format!("agents/{}", viewer.id);
    let swap_me = |value: &str| {
        if value == ME {
            me.clone()
        } else {
            value.to_owned()
        }
    };
    let request = pb::ListTicketsRequest {
        statuses: f.statuses.clone(),
        priority: f.priority,
        r#type: f.r#type,
        channel: f.channel,
        category: f.category.clone(),
        assignee: swap_me(&f.assignee),
        group: if f.group == MINE {
            String::new()
        } else {
            f.group.clone()
        },
        tag: f.tag.clone(),
        custom_field: f.custom_field.clone(),
        follower: swap_me(&f.follower),
        sla_breached: f.sla_breached,
        ..Default::default()
    };
    let mut inner = Violations::new();
    let mut filter = tickets::filter(&request, &mut inner);
    for (field, why) in inner.iter() {
        v.add(format!("{prefix}.{field}"), why);
    }
    if f.group == MINE {
        filter.group_ids = Some(viewer.groups.clone());
    }
    if !(0..=MAX_DUE_WITHIN_MINUTES).contains(&f.due_within_minutes) {
        v.add(
            format!("{prefix}.due_within_minutes"),
            format!("must be 0 to {MAX_DUE_WITHIN_MINUTES}"),
        );
    } else if f.due_within_minutes > 0 {
        filter.due_before = Some(now + i64::from(f.due_within_minutes) * 60_000_000);
    }
    filter
}

/// A view's order, or INVALID_ARGUMENT on `<field>`.
fn order(order_by: &str, field: &str, v: &mut Violations) -> TicketOrder {
    TicketOrder::parse(order_by).unwrap_or_else(|| {
        v.add(field, "must be an order ListTickets accepts");
        TicketOrder::CreateTime
    })
}

/// A view from the wire, checked (its filter as a sample viewer would run it).
fn view_record(input: &pb::View, viewer: &Viewer, v: &mut Violations) -> ViewRecord {
    let display_name = validate::display_name(&input.display_name, "view.display_name", v);
    let filter = input.filter.clone().unwrap_or_default();
    resolve(&filter, viewer, 0, "view.filter", v);
    order(&input.order_by, "view.order_by", v);
    ViewRecord {
        id: String::new(),
        display_name,
        owner_id: None,
        group_id: validate::optional_resource_id(&input.group, "groups", "view.group", v),
        filter: filter.encode_to_vec(),
        order_by: input.order_by.trim().to_owned(),
        create_time: 0,
        version: 1,
    }
}

/// The caller as a viewer.
async fn viewer_of<T>(
    api: &TicketsApi,
    request: &Request<T>,
    via: &'static str,
) -> Result<(Actor, Viewer), tonic::Status> {
    let principal = principal_of(request)?;
    allow(&principal, Action::UseViews)?;
    let actor = Actor::of(&principal, via);
    let viewer = api.ops.viewer(&actor).await?;
    Ok((actor, viewer))
}

pub(super) async fn create(
    api: &TicketsApi,
    request: Request<pb::CreateViewRequest>,
) -> Rpc<pb::View> {
    let (_, viewer) = viewer_of(api, &request, "CreateView").await?;
    let principal = principal_of(&request)?;
    let body = request.get_ref();
    let mut v = Violations::new();
    let replay = validate::replay(
        &principal,
        &body.request_id,
        "CreateView",
        body,
        view_out,
        &mut v,
    );
    let record = view_record(&body.view.clone().unwrap_or_default(), &viewer, &mut v);
    v.into_result()?;
    Ok(Response::new(
        api.ops.create_view(&viewer, record, &replay).await?,
    ))
}

pub(super) async fn list(
    api: &TicketsApi,
    request: Request<pb::ListViewsRequest>,
) -> Rpc<pb::ListViewsResponse> {
    let (_, viewer) = viewer_of(api, &request, "ListViews").await?;
    let mut views = built_in();
    views.extend(api.ops.list_views(&viewer).await?.iter().map(view_out));
    Ok(Response::new(pb::ListViewsResponse { views }))
}

/// The id of a stored view; FAILED_PRECONDITION for a built-in one.
fn stored_id(name: &str, field: &str) -> Result<String, tonic::Status> {
    if built_in().iter().any(|b| b.name == name) {
        return Err(tonic::Status::failed_precondition(format!(
            "{name} is built in and cannot change"
        )));
    }
    Ok(validate::required_id(name, "views", field)?)
}

pub(super) async fn update(
    api: &TicketsApi,
    request: Request<pb::UpdateViewRequest>,
) -> Rpc<pb::View> {
    let (_, viewer) = viewer_of(api, &request, "UpdateView").await?;
    let r = request.get_ref();
    let input = r.view.clone().unwrap_or_default();
    let id = stored_id(&input.name, "view.name")?;
    let mut v = Violations::new();
    let paths = mask::update_mask(
        r.update_mask.as_ref(),
        &["display_name", "filter", "order_by"],
        &mut v,
    );
    v.into_result()?;
    let current = api.ops.get_view(&viewer, &id).await?;
    let mut merged = view_out(&current);
    for path in &paths {
        match *path {
            "display_name" => merged.display_name = input.display_name.clone(),
            "filter" => merged.filter = input.filter.clone(),
            _ => merged.order_by = input.order_by.clone(),
        }
    }
    let mut v = Violations::new();
    let mut after = view_record(&merged, &viewer, &mut v);
    v.into_result()?;
    after.id = current.id;
    after.owner_id = current.owner_id;
    after.group_id = current.group_id;
    after.create_time = current.create_time;
    after.version = current.version;
    let view = api.ops.update_view(&viewer, &r.etag, after).await?;
    Ok(Response::new(view_out(&view)))
}

pub(super) async fn delete(
    api: &TicketsApi,
    request: Request<pb::DeleteViewRequest>,
) -> Rpc<pb::DeleteViewResponse> {
    let (_, viewer) = viewer_of(api, &request, "DeleteView").await?;
    let r = request.get_ref();
    let id = stored_id(&r.name, "name")?;
    api.ops.delete_view(&viewer, &id, &r.etag).await?;
    Ok(Response::new(pb::DeleteViewResponse {}))
}

pub(super) async fn run(
    api: &TicketsApi,
    request: Request<pb::ListViewTicketsRequest>,
) -> Rpc<pb::ListViewTicketsResponse> {
    let (actor, viewer) = viewer_of(api, &request, "ListViewTickets").await?;
    let r = request.get_ref();
    let view = match built_in().into_iter().find(|b| b.name == r.name) {
        Some(view) => view,
        None => {
            let id = validate::required_id(&r.name, "views", "name")?;
            view_out(&api.ops.get_view(&viewer, &id).await?)
        }
    };
    let mut v = Violations::new();
    let filter = resolve(
        &view.filter.clone().unwrap_or_default(),
        &viewer,
        api.ops.now(),
        "view.filter",
        &mut v,
    );
    let order = order(&view.order_by, "view.order_by", &mut v);
    // The token is bound to the view, not to the moment: "due within" moves with the clock.
    let page: Page<(i64, String)> =
        Page::read(r.page_size, &r.page_token, &["views", &view.name], &mut v);
    v.into_result()?;
    let total_size = api.ops.count_tickets(&actor, filter.clone()).await?;
    let rows = api
        .ops
        .list_tickets(&actor, filter, order, page.after.as_ref(), page.fetch())
        .await?;
    let (records, next_page_token) = page.finish(rows, |t| (order.value(t), t.id.clone()));
    Ok(Response::new(pb::ListViewTicketsResponse {
        tickets: records.iter().map(convert::ticket).collect(),
        next_page_token,
        total_size,
    }))
}
