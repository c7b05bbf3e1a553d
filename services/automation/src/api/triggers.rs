//! Triggers: the rule message of event-driven rules, and their dry run.

use kefu_proto::automation::v1 as pb;
use kefu_server::Violations;
use tonic::{Request, Response};

use super::rules;
use super::{AutomationApi, Rpc, convert};
use crate::domain::trigger::{EventKind, RuleKind};

rules::rule_message!(
    pb::Trigger,
    RuleKind::Trigger,
    "trigger",
    convert::trigger_in,
    convert::trigger_out,
    copied [active, position, stop_processing],
    cloned [display_name, description, events, all_conditions, any_conditions, actions]
);

/// TestTrigger: the trigger evaluated against a ticket as if `event` had happened.
pub(super) async fn test(
    api: &AutomationApi,
    request: Request<pb::TestTriggerRequest>,
) -> Rpc<pb::TestTriggerResponse> {
    let r = request.get_ref();
    let mut v = Violations::new();
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
    let dry = rules::dry_run(api, &request, (&r.name, r.trigger.as_ref(), &r.ticket), v).await?;
    let run = api
        .ops
        .dry_run(&dry.caller, &dry.rule, &dry.ticket_id, event)
        .await?;
    Ok(Response::new(pb::TestTriggerResponse {
        matched: run.matched,
        conditions: run.conditions.iter().map(convert::outcome_out).collect(),
        actions: run.actions.iter().map(convert::action_out).collect(),
    }))
}
