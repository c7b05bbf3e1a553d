//! Automations (time-based rules): kept by admins, read and dry-run by staff and integrations.

use kefu_proto::automation::v1 as pb;
use kefu_server::outgoing::Caller;
use kefu_server::paging::Page;
use kefu_server::records::Target;
use kefu_server::{Violations, mask, principal_of, validate};
use tonic::{Request, Response};

use super::{AutomationApi, Rpc, allow, convert};
use crate::domain::access::Action;
use crate::domain::trigger::RuleKind;

const KIND: RuleKind = RuleKind::Automation;

/// The paths UpdateAutomation changes.
const UPDATABLE: &[&str] = &[
    "display_name",
    "description",
    "active",
    "position",
    "time",
    "all_conditions",
    "any_conditions",
    "actions",
];

pub(super) async fn create(
    api: &AutomationApi,
    request: Request<pb::CreateAutomationRequest>,
) -> Rpc<pb::Automation> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let body = request.get_ref();
    let mut v = Violations::new();
    let replay = validate::replay(
        &principal,
        &body.request_id,
        "CreateAutomation",
        body,
        convert::automation_out,
        &mut v,
    );
    let record = convert::automation_in(&body.automation.clone().unwrap_or_default(), &mut v);
    v.into_result()?;
    Ok(Response::new(
        api.ops
            .create_trigger(&principal.id, record, &replay)
            .await?,
    ))
}

pub(super) async fn get(
    api: &AutomationApi,
    request: Request<pb::GetAutomationRequest>,
) -> Rpc<pb::Automation> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let id = validate::required_id(&request.get_ref().name, KIND.collection(), "name")?;
    let view = api.ops.get_trigger(KIND, &id).await?;
    Ok(Response::new(convert::automation_out(&view)))
}

pub(super) async fn list(
    api: &AutomationApi,
    request: Request<pb::ListAutomationsRequest>,
) -> Rpc<pb::ListAutomationsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let filter = [r.active_only.to_string()];
    let page: Page<(i32, String)> = Page::read(r.page_size, &r.page_token, &[&filter[0]], &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_triggers(KIND, page.after.as_ref(), r.active_only, page.fetch())
        .await?;
    let (rows, next_page_token) = page.finish(rows, |t| (t.trigger.position, t.trigger.id.clone()));
    Ok(Response::new(pb::ListAutomationsResponse {
        automations: rows.iter().map(convert::automation_out).collect(),
        next_page_token,
    }))
}

pub(super) async fn update(
    api: &AutomationApi,
    request: Request<pb::UpdateAutomationRequest>,
) -> Rpc<pb::Automation> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let input = r.automation.clone().unwrap_or_default();
    let target = Target {
        id: validate::required_id(&input.name, KIND.collection(), "automation.name")?,
        etag: r.etag.clone(),
    };
    let mut v = Violations::new();
    let paths = mask::update_mask(r.update_mask.as_ref(), UPDATABLE, &mut v);
    v.into_result()?;
    let current = api.ops.get_trigger(KIND, &target.id).await?;
    let mut merged = convert::automation_out(&current);
    for path in &paths {
        match *path {
            "display_name" => merged.display_name.clone_from(&input.display_name),
            "description" => merged.description.clone_from(&input.description),
            "active" => merged.active = input.active,
            "position" => merged.position = input.position,
            "time" => merged.time.clone_from(&input.time),
            "all_conditions" => merged.all_conditions.clone_from(&input.all_conditions),
            "any_conditions" => merged.any_conditions.clone_from(&input.any_conditions),
            _ => merged.actions.clone_from(&input.actions),
        }
    }
    let mut v = Violations::new();
    let record = convert::automation_in(&merged, &mut v);
    v.into_result()?;
    let view = api
        .ops
        .update_trigger(&principal.id, &target, record)
        .await?;
    Ok(Response::new(convert::automation_out(&view)))
}

pub(super) async fn delete(
    api: &AutomationApi,
    request: Request<pb::DeleteAutomationRequest>,
) -> Rpc<pb::DeleteAutomationResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let target = validate::target(&r.name, KIND.collection(), &r.etag)?;
    api.ops.delete_trigger(&principal.id, KIND, &target).await?;
    Ok(Response::new(pb::DeleteAutomationResponse {}))
}

pub(super) async fn test(
    api: &AutomationApi,
    request: Request<pb::TestAutomationRequest>,
) -> Rpc<pb::TestAutomationResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let caller = Caller::of(&request);
    let r = request.get_ref();
    let mut v = Violations::new();
    let ticket_id = validate::resource_id(&r.ticket, "tickets", "ticket", &mut v);
    let inline = match (r.name.is_empty(), &r.automation) {
        (true, Some(automation)) => Some(convert::automation_in(automation, &mut v)),
        (false, None) => None,
        _ => {
            v.add(
                "name",
                "give either the name of a stored automation or an automation, not both",
            );
            None
        }
    };
    v.into_result()?;
    let rule = match inline {
        Some(rule) => rule,
        None => {
            let id = validate::required_id(&r.name, KIND.collection(), "name")?;
            api.ops.get_trigger(KIND, &id).await?.trigger
        }
    };
    let run = api
        .ops
        .dry_run_automation(&caller, &rule, &ticket_id)
        .await?;
    Ok(Response::new(pb::TestAutomationResponse {
        matched: run.matched,
        due_time: run.due_time.map(kefu_server::time::timestamp),
        conditions: run.conditions.iter().map(convert::outcome_out).collect(),
        actions: run.actions.iter().map(convert::action_out).collect(),
    }))
}
