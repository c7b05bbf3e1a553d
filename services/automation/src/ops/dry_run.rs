//! The dry run: a trigger or an automation evaluated against a ticket as it is now, writing
//! nothing.

use kefu_server::ServiceError;
use kefu_server::outgoing::Caller;

use super::Automation;
use crate::domain::evaluate::{ActorKind, ConditionOutcome, EventFacts, evaluate, evaluate_at};
use crate::domain::trigger::{Action, EventKind, TriggerRecord};
use crate::store;

/// What a trigger would do.
#[derive(Debug, Clone)]
pub struct DryRun {
    /// Whether it would fire.
    pub matched: bool,
    /// Each condition's outcome.
    pub conditions: Vec<ConditionOutcome>,
    /// The actions it would apply, rendered.
    pub actions: Vec<Action>,
    /// For an automation: when its time comes (or came) for the ticket, if its clock runs.
    pub due_time: Option<i64>,
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
        let ticket = self.tickets.ticket_as(caller, ticket_id).await?;
        let ticket = self.facts_for(&ticket, std::iter::once(trigger)).await?;
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
        let actions = self.plan_now(trigger, &ticket).await?.map_err(|why| {
            ServiceError::FailedPrecondition(format!(
                "the trigger cannot act on this ticket: {why}"
            ))
        })?;
        Ok(DryRun {
            matched: evaluation.fires(),
            conditions: evaluation.conditions,
            actions,
            due_time: None,
        })
    }

    /// Evaluates automation `rule` against ticket `ticket_id` now, read as `caller`: whether its
    /// time has come on the ticket's clock and its conditions hold; renders its actions.
    pub async fn dry_run_automation(
        &self,
        caller: &Caller,
        rule: &TriggerRecord,
        ticket_id: &str,
    ) -> Result<DryRun, ServiceError> {
        let ticket = self.tickets.ticket_as(caller, ticket_id).await?;
        let ticket = self.facts_for(&ticket, std::iter::once(rule)).await?;
        let clock = {
            let mut conn = self.ctx.db.read().await?;
            store::clock(&mut conn, ticket_id).await?
        };
        let now = self.ctx.now();
        let due_time = rule
            .schedule
            .as_ref()
            .zip(clock.as_ref())
            .and_then(|(schedule, clock)| schedule.due_time(clock));
        let evaluation = evaluate_at(rule, &ticket, now);
        let actions = self.plan_now(rule, &ticket).await?.map_err(|why| {
            ServiceError::FailedPrecondition(format!(
                "the automation cannot act on this ticket: {why}"
            ))
        })?;
        Ok(DryRun {
            matched: evaluation.fires() && due_time.is_some_and(|due| due <= now),
            conditions: evaluation.conditions,
            actions,
            due_time,
        })
    }
}
