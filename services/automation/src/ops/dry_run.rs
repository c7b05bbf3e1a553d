//! The dry run: a trigger evaluated against a ticket as it is now, writing nothing.

use kefu_server::ServiceError;
use kefu_server::outgoing::Caller;

use super::Automation;
use crate::domain::evaluate::{ActorKind, ConditionOutcome, EventFacts, evaluate};
use crate::domain::firing::plan;
use crate::domain::trigger::{Action, EventKind, TriggerRecord};
use crate::remote::tickets::facts;

/// What a trigger would do.
#[derive(Debug, Clone)]
pub struct DryRun {
    /// Whether it would fire.
    pub matched: bool,
    /// Each condition's outcome.
    pub conditions: Vec<ConditionOutcome>,
    /// The actions it would apply, rendered.
    pub actions: Vec<Action>,
}

impl Automation {
    /// Evaluates `trigger` for an `event` on ticket `ticket_id`, read as `caller`, as if an
    /// agent had made the change; renders its actions, writes nothing.
    pub async fn dry_run(
        &self,
        caller: &Caller,
        trigger: &TriggerRecord,
        ticket_id: &str,
        event: Option<EventKind>,
    ) -> Result<DryRun, ServiceError> {
        let ticket = facts(&self.tickets.ticket_as(caller, ticket_id).await?);
        let kind = event
            .or_else(|| trigger.events.first().copied())
            .unwrap_or(EventKind::TicketUpdated);
        let event = EventFacts {
            kinds: vec![kind],
            changed: Vec::new(),
            actor: ActorKind::Agent,
            comment: String::new(),
            time: self.ctx.now(),
        };
        let evaluation = evaluate(trigger, &ticket, &event);
        let (actions, _, rendered) = plan(trigger, &ticket, 0);
        rendered.map_err(|why| {
            ServiceError::FailedPrecondition(format!("the trigger's {why} for this ticket"))
        })?;
        Ok(DryRun {
            matched: evaluation.fires(),
            conditions: evaluation.conditions,
            actions,
        })
    }
}
