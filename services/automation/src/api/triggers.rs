//! Triggers: kept by admins, read and dry-run by staff and integrations.

use kefu_proto::automation::v1 as pb;
use kefu_server::outgoing::Caller;
use kefu_server::paging::Page;
use kefu_server::records::Target;
use kefu_server::{Violations, mask, principal_of, validate};
use tonic::{Request, Response};

use super::{AutomationApi, Rpc, allow, convert};
use crate::domain::access::Action;
use crate::domain::trigger::{EventKind, RuleKind};

/// The paths UpdateTrigger changes.
const UPDATABLE: &[&str] = &[
    "display_name",
    "description",
    "active",
    "position",
    "events",
    "all_conditions",
    "any_conditions",
    "actions",
    "stop_processing",
];

pub(super) async fn create(
    api: &AutomationApi,
    request: Request<pb::CreateTriggerRequest>,
) -> Rpc<pb::Trigger> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let body = request.get_ref();
    let mut v = Violations::new();
    let replay = validate::replay(
        &principal,
        &body.request_id,
        "CreateTrigger",
        body,
        convert::trigger_out,
        &mut v,
    );
    let record = convert::trigger_in(&body.trigger.clone().unwrap_or_default(), &mut v);
    v.into_result()?;
    Ok(Response::new(
        api.ops
            .create_trigger(&principal.id, record, &replay)
            .await?,
    ))
}

pub(super) async fn get(
    api: &AutomationApi,
    request: Request<pb::GetTriggerRequest>,
) -> Rpc<pb::Trigger> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let id = validate::required_id(&request.get_ref().name, "triggers", "name")?;
    let view = api.ops.get_trigger(RuleKind::Trigger, &id).await?;
    Ok(Response::new(convert::trigger_out(&view)))
}

pub(super) async fn list(
    api: &AutomationApi,
    request: Request<pb::ListTriggersRequest>,
) -> Rpc<pb::ListTriggersResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let page: Page<(i32, String)> = Page::read(
        r.page_size,
        &r.page_token,
        &[&r.active_only.to_string()],
        &mut v,
    );
    v.into_result()?;
    let rows = api
        .ops
        .list_triggers(
            RuleKind::Trigger,
            page.after.as_ref(),
            r.active_only,
            page.fetch(),
        )
        .await?;
    let (rows, next_page_token) = page.finish(rows, |t| (t.trigger.position, t.trigger.id.clone()));
    Ok(Response::new(pb::ListTriggersResponse {
        triggers: rows.iter().map(convert::trigger_out).collect(),
        next_page_token,
    }))
}

pub(super) async fn update(
    api: &AutomationApi,
    request: Request<pb::UpdateTriggerRequest>,
) -> Rpc<pb::Trigger> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let input = r.trigger.clone().unwrap_or_default();
    let target = Target {
        id: validate::required_id(&input.name, "triggers", "trigger.name")?,
        etag: r.etag.clone(),
    };
    let mut v = Violations::new();
    let paths = mask::update_mask(r.update_mask.as_ref(), UPDATABLE, &mut v);
    v.into_result()?;
    let current = api.ops.get_trigger(RuleKind::Trigger, &target.id).await?;
    let mut merged = convert::trigger_out(&current);
    for path in &paths {
        match *path {
            "display_name" => merged.display_name.clone_from(&input.display_name),
            "description" => merged.description.clone_from(&input.description),
            "active" => merged.active = input.active,
            "position" => merged.position = input.position,
            "events" => merged.events.clone_from(&input.events),
            "all_conditions" => merged.all_conditions.clone_from(&input.all_conditions),
            "any_conditions" => merged.any_conditions.clone_from(&input.any_conditions),
            "actions" => merged.actions.clone_from(&input.actions),
            _ => merged.stop_processing = input.stop_processing,
        }
    }
    let mut v = Violations::new();
    let record = convert::trigger_in(&merged, &mut v);
    v.into_result()?;
    let view = api
        .ops
        .update_trigger(&principal.id, &target, record)
        .await?;
    Ok(Response::new(convert::trigger_out(&view)))
}

pub(super) async fn delete(
    api: &AutomationApi,
    request: Request<pb::DeleteTriggerRequest>,
) -> Rpc<pb::DeleteTriggerResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let target = validate::target(&r.name, "triggers", &r.etag)?;
    api.ops
        .delete_trigger(&principal.id, RuleKind::Trigger, &target)
        .await?;
    Ok(Response::new(pb::DeleteTriggerResponse {}))
}

pub(super) async fn test(
    api: &AutomationApi,
    request: Request<pb::TestTriggerRequest>,
) -> Rpc<pb::TestTriggerResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let caller = Caller::of(&request);
    let r = request.get_ref();
    let mut v = Violations::new();
    let ticket_id = validate::resource_id(&r.ticket, "tickets", "ticket", &mut v);
    let event = match r.event {
        0 => None,
        number => {
            let kind = EventKind::from_number(number);
            if kind.is_none() {
                v.add("event", format!("unknown event {number}"));
            }
            kind
        }
    };
    let inline = match (r.name.is_empty(), &r.trigger) {
        (true, Some(trigger)) => Some(convert::trigger_in(trigger, &mut v)),
        (false, None) => None,
        _ => {
            v.add(
                "name",
                "give either the name of a stored trigger or a trigger, not both",
            );
            None
        }
    };
    v.into_result()?;
    let trigger = match inline {
        Some(trigger) => trigger,
        None => {
            let id = validate::required_id(&r.name, "triggers", "name")?;
            api.ops.get_trigger(RuleKind::Trigger, &id).await?.trigger
        }
    };
    let run = api
        .ops
        .dry_run(&caller, &trigger, &ticket_id, event)
        .await?;
    Ok(Response::new(pb::TestTriggerResponse {
        matched: run.matched,
        conditions: run.conditions.iter().map(convert::outcome_out).collect(),
        actions: run.actions.iter().map(convert::action_out).collect(),
    }))
}
