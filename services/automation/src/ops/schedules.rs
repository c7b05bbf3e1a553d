//! Time-based rules. Every ticket event moves the ticket's clock; every check (once a minute by
//! default) looks, for each active automation, at the tickets whose time came since its last
//! check and those whose facts changed, and fires the rule once per entry into its condition
//! ([`decide`]). The entry is replaced under a compare-and-set and the firing's source names the
//! entry, so two replicas checking at once fire it once.

use std::time::Duration;

use kefu_proto::tickets::v1 as tickets_pb;
use kefu_server::ServiceError;
use tokio_util::sync::CancellationToken;

use super::{Automation, Cause, record_firing};
use crate::domain::evaluate::evaluate_at;
use crate::domain::schedule::{ClockEvent, Decision, Schedule, TicketClock, decide};
use crate::domain::trigger::{RuleKind, TriggerRecord};
use crate::store;

/// Status names on the tickets stream carry the enum's prefix.
const STATUS_PREFIX: &str = "TICKET_STATUS_";

/// How a tickets event moves its ticket's clock.
fn clock_event(event: &tickets_pb::Event) -> ClockEvent {
    use tickets_pb::EventType as T;
    let facts = event.ticket.clone().unwrap_or_default();
    let bare = |status: &str| status.trim_start_matches(STATUS_PREFIX).to_owned();
    match T::try_from(event.r#type).unwrap_or_default() {
        T::TicketCreated => ClockEvent::Created {
            status: if facts.status.is_empty() {
                "NEW".to_owned()
            } else {
                bare(&facts.status)
            },
        },
        T::TicketStatusChanged if !event.new_status.is_empty() => ClockEvent::StatusChanged {
            status: bare(&event.new_status),
        },
        T::TicketCommented
            if facts.requester.strip_prefix("customers/") == Some(event.actor.as_str()) =>
        {
            ClockEvent::RequesterCommented
        }
        _ => ClockEvent::Other,
    }
}

impl Automation {
    /// Moves the clock of ticket `ticket_id` by `event` (idempotent: a redelivery leaves it as
    /// it is) and marks the ticket changed for the next check.
    pub(super) async fn advance_clock(
        &self,
        ticket_id: &str,
        event: &tickets_pb::Event,
    ) -> Result<(), ServiceError> {
        let micros = |t: Option<&prost_types::Timestamp>| {
            t.and_then(kefu_server::time::micros_of).unwrap_or_default()
        };
        let time = micros(event.event_time.as_ref());
        let mut tx = self.ctx.db.begin_write().await?;
        let clock = store::clock(&mut tx, ticket_id)
            .await?
            .unwrap_or_else(|| TicketClock {
                ticket_id: ticket_id.to_owned(),
                ..TicketClock::default()
            })
            .after(&clock_event(event), time);
        // Only ticket events carry facts; the others leave the SLA due time as it was.
        let clock = match &event.ticket {
            Some(facts) => clock.with_sla_due(micros(facts.sla_due_time.as_ref())),
            None => clock,
        };
        store::put_clock(&mut tx, &clock, self.ctx.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks the automations every `every` until `stop`.
    pub async fn run_schedules(self, every: Duration, stop: CancellationToken) {
        loop {
            if let Err(error) = self.check_automations().await {
                tracing::warn!(%error, "automations not checked; retrying at the next check");
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Checks every active automation once; answers how many firings it queued.
    pub async fn check_automations(&self) -> Result<usize, ServiceError> {
        let rules = {
            let mut conn = self.ctx.db.read().await?;
            store::active_triggers(&mut conn, RuleKind::Automation).await?
        };
        let mut queued = 0;
        for rule in &rules {
            if let Some(schedule) = &rule.schedule {
                queued += self.check_automation(rule, schedule).await?;
            }
        }
        if queued > 0 {
            self.firing_queued.notify_one();
        }
        Ok(queued)
    }

    /// One automation's check: the tickets whose time came since its last check, and those
    /// changed since. The mark moves only once every ticket is decided, so a fault (the tickets
    /// service down) leaves the window to the next check.
    async fn check_automation(
        &self,
        rule: &TriggerRecord,
        schedule: &Schedule,
    ) -> Result<usize, ServiceError> {
        let now = self.ctx.now();
        let clocks = {
            let mut conn = self.ctx.db.read().await?;
            let last = store::swept_until(&mut conn, &rule.id)
                .await?
                .unwrap_or(rule.create_time);
            let anchors = schedule.anchors_due_between(last, now);
            store::clocks_to_check(&mut conn, &schedule.since, anchors, last).await?
        };
        let mut queued = 0;
        for clock in &clocks {
            if self.check_ticket(rule, schedule, clock, now).await? {
                queued += 1;
            }
        }
        let mut conn = self.ctx.db.read().await?;
        store::set_swept_until(&mut conn, &rule.id, now).await?;
        Ok(queued)
    }

    /// Decides one automation on one ticket; true when it queued a firing.
    async fn check_ticket(
        &self,
        rule: &TriggerRecord,
        schedule: &Schedule,
        clock: &TicketClock,
        now: i64,
    ) -> Result<bool, ServiceError> {
        let anchor = clock.anchor(&schedule.since);
        let due = schedule.due_time(clock);
        let last = {
            let mut conn = self.ctx.db.read().await?;
            store::entry(&mut conn, &rule.id, &clock.ticket_id).await?
        };
        let time_holds = due.is_some_and(|due| due <= now && due >= rule.create_time);
        // Only a ticket whose time has come is read: the conditions decide nothing otherwise.
        let ticket = match time_holds {
            true => match self.tickets.ticket(&clock.ticket_id).await? {
                Some(t) => Some(self.facts_for(&t, std::iter::once(rule)).await?),
                None => None,
            },
            false => None,
        };
        let holds = ticket
            .as_ref()
            .is_some_and(|t| evaluate_at(rule, t, now).fires());
        let decision = decide(last.as_ref(), anchor, due, holds, rule.create_time, now);
        let mut tx = self.ctx.db.begin_write().await?;
        let queued = match (decision, ticket) {
            (Decision::Fire(next), Some(ticket)) => {
                if !store::replace_entry(&mut tx, &rule.id, &ticket.id, last.as_ref(), &next)
                    .await?
                {
                    return Ok(false);
                }
                let cause = Cause {
                    source: format!("tickets/{}@{}#{}", ticket.id, next.anchor, next.entries),
                    event: None,
                    rank: 0,
                    depth: 0,
                };
                record_firing(&mut tx, rule, &ticket, cause, now).await?
            }
            (Decision::Release(next), _) => {
                store::replace_entry(&mut tx, &rule.id, &clock.ticket_id, last.as_ref(), &next)
                    .await?;
                false
            }
            _ => return Ok(false),
        };
        tx.commit().await?;
        Ok(queued)
    }
}
