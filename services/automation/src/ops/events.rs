//! The tickets event stream: each event moves the ticket's clock (for time-based rules) and is
//! evaluated once against the active triggers; every trigger that fires gets a firing with its
//! actions planned, in the transaction that stores the cursor after the event. Applying them is
//! the worker's job ([`super::apply`]).

use kefu_proto::tickets::v1 as tickets_pb;
use kefu_server::ServiceError;
use kefu_server::consumer::{Delivery, Handled};

use super::{Automation, Cause, SERVICE_ACTOR, record_firing};
use crate::domain::evaluate::{ActorKind, EventFacts, eligible, firing_triggers};
use crate::domain::trigger::{EventKind, Field, RuleKind, TriggerRecord, trigger_of_actor};
use crate::store;

/// The trigger events a tickets event can be (a comment's author decides which comment kind).
fn kinds_of(event: &tickets_pb::Event) -> Vec<EventKind> {
    use tickets_pb::EventType as T;
    match T::try_from(event.r#type).unwrap_or_default() {
        T::TicketCreated => vec![EventKind::TicketCreated],
        T::TicketUpdated | T::TicketAssigned => vec![EventKind::TicketUpdated],
        T::TicketStatusChanged => vec![EventKind::StatusChanged, EventKind::TicketUpdated],
        T::TicketCommented => vec![EventKind::CommentedByRequester, EventKind::CommentedByAgent],
        T::SlaEscalated if event.escalation_percent < 100 => vec![EventKind::SlaWarning],
        T::SlaBreached => vec![EventKind::SlaBreached],
        _ => Vec::new(),
    }
}

/// The field paths a tickets event changed, as conditions name them.
fn changed_paths(event: &tickets_pb::Event) -> Vec<String> {
    use tickets_pb::EventType as T;
    let mut changed = event.changed_fields.clone();
    let implied: &[&str] = match T::try_from(event.r#type).unwrap_or_default() {
        T::TicketAssigned => &["assignee", "group"],
        T::TicketStatusChanged => &["status"],
        _ => &[],
    };
    for path in implied {
        if !changed.iter().any(|c| c == path) {
            changed.push((*path).to_owned());
        }
    }
    changed
}

impl Automation {
    /// One event of the tickets stream.
    pub async fn ticket_event(
        &self,
        delivery: Delivery<tickets_pb::Event>,
    ) -> Result<Handled, ServiceError> {
        let event = &delivery.event;
        let mut kinds = kinds_of(event);
        let Some(ticket_id) = event.resource.strip_prefix("tickets/") else {
            return Ok(Handled::Ignored);
        };
        self.advance_clock(ticket_id, event).await?;
        // The service's own notes (the depth limit) never fire anything.
        if kinds.is_empty() || event.actor == SERVICE_ACTOR {
            return Ok(Handled::Ignored);
        }
        let event_time = event
            .event_time
            .as_ref()
            .and_then(kefu_server::time::micros_of)
            .unwrap_or_default();
        let cause = trigger_of_actor(&event.actor);
        let triggers = {
            let mut conn = self.ctx.db.read().await?;
            store::active_triggers(&mut conn, RuleKind::Trigger).await?
        };
        let candidates: Vec<TriggerRecord> = triggers
            .into_iter()
            .filter(|t| {
                eligible(t, event_time, cause) && t.events.iter().any(|k| kinds.contains(k))
            })
            .collect();
        if candidates.is_empty() {
            return Ok(Handled::Ignored);
        }
        let Some(ticket) = self.tickets.ticket(ticket_id).await? else {
            return Ok(Handled::Ignored);
        };
        let ticket = self.facts_for(&ticket, candidates.iter()).await?;
        let mut comment = String::new();
        let actor = if cause.is_some() {
            ActorKind::Automation
        } else if event.actor == ticket.requester {
            ActorKind::Requester
        } else if candidates.iter().any(uses_actor) && !self.tickets.is_agent(&event.actor).await? {
            ActorKind::Integration
        } else {
            ActorKind::Agent
        };
        if kinds.contains(&EventKind::CommentedByAgent) {
            let found = self.tickets.comment(ticket_id, &event.comment).await?;
            let Some(found) = found else {
                return Ok(Handled::Ignored);
            };
            kinds = match tickets_pb::AuthorKind::try_from(found.author_kind).unwrap_or_default() {
                tickets_pb::AuthorKind::Agent => vec![EventKind::CommentedByAgent],
                tickets_pb::AuthorKind::Customer => vec![EventKind::CommentedByRequester],
                _ => return Ok(Handled::Ignored),
            };
            comment = found.body;
        }
        let facts_of_event = EventFacts {
            kinds,
            changed: changed_paths(event),
            actor,
            comment,
            time: event_time,
        };
        let source = format!("{}:{}", delivery.source, delivery.cursor);
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let mut queued = false;
        if store::claim_evaluation(&mut tx, &source, now).await? {
            let depth = match cause {
                Some(trigger_id) => store::latest_depth(&mut tx, trigger_id, ticket_id)
                    .await?
                    .map_or(1, |d| d + 1),
                None => 0,
            };
            let fired = firing_triggers(&candidates, &ticket, &facts_of_event, |_| true);
            for (rank, trigger) in fired.into_iter().enumerate() {
                let cause = Cause {
                    source: source.clone(),
                    event: trigger
                        .events
                        .iter()
                        .copied()
                        .find(|k| facts_of_event.kinds.contains(k)),
                    rank: i32::try_from(rank).unwrap_or(i32::MAX),
                    depth,
                };
                queued |= record_firing(&mut tx, trigger, &ticket, cause, now).await?;
            }
        }
        delivery.ack(&mut tx, now).await?;
        tx.commit().await?;
        if queued {
            self.firing_queued.notify_one();
        }
        Ok(Handled::Acked)
    }
}

/// Whether a trigger tests who made the change (which costs a call to tell agents apart).
fn uses_actor(trigger: &TriggerRecord) -> bool {
    trigger
        .all_conditions
        .iter()
        .chain(&trigger.any_conditions)
        .any(|c| c.field == Field::Actor)
}
