//! Automations (time-based rules): their rule message, and their dry run.

use kefu_proto::automation::v1 as pb;
use kefu_server::Violations;
use tonic::{Request, Response};

use super::rules;
use super::{AutomationApi, Rpc, convert};
use crate::domain::trigger::RuleKind;

rules::rule_message!(
    pb::Automation,
    RuleKind::Automation,
    "automation",
    convert::automation_in,
    convert::automation_out,
    copied [active, position],
    cloned [display_name, description, time, all_conditions, any_conditions, actions]
);

/// TestAutomation: the automation evaluated against a ticket now, with when it comes due.
pub(super) async fn test(
    api: &AutomationApi,
    request: Request<pb::TestAutomationRequest>,
) -> Rpc<pb::TestAutomationResponse> {
    let r = request.get_ref();
    let target = (&*r.name, r.automation.as_ref(), &*r.ticket);
    let dry = rules::dry_run(api, &request, target, Violations::new()).await?;
    let run = api
        .ops
        .dry_run_automation(&dry.caller, &dry.rule, &dry.ticket_id)
        .await?;
    Ok(Response::new(pb::TestAutomationResponse {
        matched: run.matched,
        due_time: run.due_time.map(kefu_server::time::timestamp),
        conditions: run.conditions.iter().map(convert::outcome_out).collect(),
        actions: run.actions.iter().map(convert::action_out).collect(),
    }))
}
