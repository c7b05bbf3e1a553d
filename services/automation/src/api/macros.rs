//! Macros: kept by admins (shared) and agents (personal), previewed and applied by whoever sees
//! them. Wire ↔ domain for macros lives here too.

use kefu_proto::automation::v1 as pb;
use kefu_server::outgoing::Caller;
use kefu_server::paging::Page;
use kefu_server::records::Target;
use kefu_server::time::timestamp;
use kefu_server::{Violations, mask, principal_of, validate};
use tonic::{Request, Response};

use super::{AutomationApi, Rpc, allow, convert};
use crate::domain::access::Action;
use crate::domain::macros::{Change, MacroRecord, Visibility, scope_of};
use crate::domain::trigger::Action as RuleAction;
use crate::ops::{TicketOutcome, macro_etag};
use crate::store::MacroFilter;

/// The paths UpdateMacro changes.
const UPDATABLE: &[&str] = &["display_name", "description", "active", "actions"];
/// Most tickets one ApplyMacro call acts on.
const MAX_TICKETS: usize = 100;

/// A macro's actions: those of a rule that change the ticket (a macro is applied through the
/// tickets service, as the agent, one ticket at a time).
fn ticket_actions_in(input: &[pb::Action], v: &mut Violations) -> Vec<RuleAction> {
    let actions = convert::actions_in(input, "macro", v);
    for (i, action) in input.iter().enumerate() {
        match action.action {
            Some(pb::action::Action::UpdateRequester(_)) => v.add(
                format!("macro.actions[{i}].update_requester"),
                "is for triggers and time-based rules: a macro changes tickets",
            ),
            Some(pb::action::Action::ApplyMacro(_)) => v.add(
                format!("macro.actions[{i}].apply_macro"),
                "is for triggers and time-based rules: macros do not apply macros",
            ),
            _ => {}
        }
    }
    actions
}

/// A macro from the wire, checked; output-only fields are ignored.
fn macro_in(input: &pb::Macro, v: &mut Violations) -> MacroRecord {
    let visibility = Visibility::from_number(input.visibility).unwrap_or_else(|| {
        v.add("macro.visibility", "is required: SHARED or PERSONAL");
        Visibility::Personal
    });
    MacroRecord {
        id: String::new(),
        display_name: validate::display_name(&input.display_name, "macro.display_name", v),
        description: convert::description_in(&input.description, "macro", v),
        active: input.active,
        visibility,
        owner: String::new(),
        actions: ticket_actions_in(&input.actions, v),
        usage_count: 0,
        last_used_time: None,
        create_time: 0,
        update_time: 0,
        version: 0,
    }
}

/// A macro onto the wire.
fn macro_out(m: &MacroRecord) -> pb::Macro {
    pb::Macro {
        name: m.name(),
        display_name: m.display_name.clone(),
        description: m.description.clone(),
        active: m.active,
        visibility: m.visibility.number(),
        owner: m.owner.clone(),
        actions: m.actions.iter().map(convert::action_out).collect(),
        usage_count: m.usage_count,
        last_used_time: m.last_used_time.map(timestamp),
        create_time: Some(timestamp(m.create_time)),
        update_time: Some(timestamp(m.update_time)),
        etag: macro_etag(m),
    }
}

fn change_out(c: &Change) -> pb::MacroChange {
    pb::MacroChange {
        field: c.field.clone(),
        before: c.before.clone(),
        after: c.after.clone(),
    }
}

fn result_out(o: &TicketOutcome) -> pb::MacroResult {
    pb::MacroResult {
        ticket: format!("tickets/{}", o.ticket_id),
        applied: o.applied,
        error: o.error.clone(),
        retryable: o.retryable,
    }
}

pub(super) async fn create(
    api: &AutomationApi,
    request: Request<pb::CreateMacroRequest>,
) -> Rpc<pb::Macro> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::UseMacros)?;
    let body = request.get_ref();
    let mut v = Violations::new();
    let replay = validate::replay(
        &principal,
        &body.request_id,
        "CreateMacro",
        body,
        macro_out,
        &mut v,
    );
    let record = macro_in(&body.r#macro.clone().unwrap_or_default(), &mut v);
    v.into_result()?;
    Ok(Response::new(
        api.ops.create_macro(&principal, record, &replay).await?,
    ))
}

pub(super) async fn get(
    api: &AutomationApi,
    request: Request<pb::GetMacroRequest>,
) -> Rpc<pb::Macro> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::UseMacros)?;
    let id = validate::required_id(&request.get_ref().name, "macros", "name")?;
    Ok(Response::new(macro_out(
        &api.ops.get_macro(&principal, &id).await?,
    )))
}

pub(super) async fn list(
    api: &AutomationApi,
    request: Request<pb::ListMacrosRequest>,
) -> Rpc<pb::ListMacrosResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::UseMacros)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let visibility = match r.visibility {
        0 => None,
        number => {
            let visibility = Visibility::from_number(number);
            if visibility.is_none() {
                v.add("visibility", format!("unknown visibility {number}"));
            }
            visibility
        }
    };
    let filter = MacroFilter {
        scope: scope_of(&principal),
        active_only: r.active_only,
        visibility,
    };
    let page: Page<(String, String)> = Page::filtered(r.page_size, &r.page_token, &filter, &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_macros(&filter, page.after.as_ref(), page.fetch())
        .await?;
    let (rows, next_page_token) = page.finish(rows, |m| (m.display_name.clone(), m.id.clone()));
    Ok(Response::new(pb::ListMacrosResponse {
        macros: rows.iter().map(macro_out).collect(),
        next_page_token,
    }))
}

pub(super) async fn update(
    api: &AutomationApi,
    request: Request<pb::UpdateMacroRequest>,
) -> Rpc<pb::Macro> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::UseMacros)?;
    let r = request.get_ref();
    let input = r.r#macro.clone().unwrap_or_default();
    let target = Target {
        id: validate::required_id(&input.name, "macros", "macro.name")?,
        etag: r.etag.clone(),
    };
    let mut v = Violations::new();
    let paths = mask::update_mask(r.update_mask.as_ref(), UPDATABLE, &mut v);
    v.into_result()?;
    let mut merged = macro_out(&api.ops.get_macro(&principal, &target.id).await?);
    for path in &paths {
        match *path {
            "display_name" => merged.display_name.clone_from(&input.display_name),
            "description" => merged.description.clone_from(&input.description),
            "active" => merged.active = input.active,
            _ => merged.actions.clone_from(&input.actions),
        }
    }
    let mut v = Violations::new();
    let record = macro_in(&merged, &mut v);
    v.into_result()?;
    let updated = api.ops.update_macro(&principal, &target, record).await?;
    Ok(Response::new(macro_out(&updated)))
}

pub(super) async fn delete(
    api: &AutomationApi,
    request: Request<pb::DeleteMacroRequest>,
) -> Rpc<pb::DeleteMacroResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::UseMacros)?;
    let r = request.get_ref();
    let target = validate::target(&r.name, "macros", &r.etag)?;
    api.ops.delete_macro(&principal, &target).await?;
    Ok(Response::new(pb::DeleteMacroResponse {}))
}

pub(super) async fn preview(
    api: &AutomationApi,
    request: Request<pb::PreviewMacroRequest>,
) -> Rpc<pb::PreviewMacroResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::UseMacros)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let ticket_id = validate::resource_id(&r.ticket, "tickets", "ticket", &mut v);
    let inline = match (r.name.is_empty(), &r.r#macro) {
        (true, Some(m)) => Some(macro_in(m, &mut v)),
        (false, None) => None,
        _ => {
            v.add(
                "name",
                "give either the name of a stored macro or a macro, not both",
            );
            None
        }
    };
    v.into_result()?;
    let m = match inline {
        Some(m) => m,
        None => {
            let id = validate::required_id(&r.name, "macros", "name")?;
            api.ops.get_macro(&principal, &id).await?
        }
    };
    let preview = api
        .ops
        .preview_macro(&Caller::of(&request), &m, &ticket_id)
        .await?;
    Ok(Response::new(pb::PreviewMacroResponse {
        actions: preview.actions.iter().map(convert::action_out).collect(),
        changes: preview.changes.iter().map(change_out).collect(),
    }))
}

pub(super) async fn apply(
    api: &AutomationApi,
    request: Request<pb::ApplyMacroRequest>,
) -> Rpc<pb::ApplyMacroResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::UseMacros)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let id = validate::resource_id(&r.name, "macros", "name", &mut v);
    let request_id = if r.request_id.is_empty() {
        v.add(
            "request_id",
            "is required: a retry must not apply the macro twice",
        );
        String::new()
    } else {
        validate::request_id(&r.request_id, "request_id", &mut v).unwrap_or_default()
    };
    if r.tickets.is_empty() || r.tickets.len() > MAX_TICKETS {
        v.add("tickets", format!("must hold 1 to {MAX_TICKETS} tickets"));
    }
    let mut ticket_ids: Vec<String> = Vec::with_capacity(r.tickets.len());
    for (i, name) in r.tickets.iter().enumerate() {
        let id = validate::resource_id(name, "tickets", &format!("tickets[{i}]"), &mut v);
        if !id.is_empty() && ticket_ids.contains(&id) {
            v.add(
                format!("tickets[{i}]"),
                "names a ticket already in the list",
            );
        }
        ticket_ids.push(id);
    }
    v.into_result()?;
    let outcomes = api
        .ops
        .apply_macro(
            &Caller::of(&request),
            &principal,
            &id,
            &ticket_ids,
            &request_id,
        )
        .await?;
    Ok(Response::new(pb::ApplyMacroResponse {
        results: outcomes.iter().map(result_out).collect(),
    }))
}
