//! The work the service does by itself: running the SLA sweeper (see `escalation`), handing
//! out queues as business hours begin, closing long-solved tickets, anonymizing the tickets of erased customers, and choosing the SLA of a
//! requester's open tickets again when their tier changes.

use std::time::Duration;

use kefu_db::Write;
use kefu_proto::tickets::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::customers::FollowsCustomers;
use tokio_util::sync::CancellationToken;

use kefu_server::common::Tier;

use super::{Actor, EventDraft, Tickets, load};
use crate::domain::kinds::TicketStatus;
use crate::domain::lifecycle;
use crate::domain::policy::ScheduleRecord;
use crate::domain::team::UNSOLVED;
use crate::domain::ticket::TicketRecord;
use crate::store;

/// Tickets handled per round of a job: a round is short, the next one picks up the rest.
const ROUND: i64 = 200;

impl Tickets {
    /// Hands out the queues of routed groups whose business hours are on at `now`: what waited
    /// overnight goes out as the day begins. Returns how many queues were handed out.
    pub async fn route_in_hours(&self, now: i64) -> Result<usize, ServiceError> {
        let waiting = {
            let mut conn = self.ctx.db.read().await?;
            let mut waiting = Vec::new();
            for group in store::scheduled_groups(&mut conn).await? {
                let Some(schedule_id) = &group.schedule_id else {
                    continue;
                };
                let open = store::find::<ScheduleRecord>(&mut conn, schedule_id)
                    .await?
                    .is_some_and(|s| s.clock().is_ok_and(|clock| clock.is_working(now)));
                if open && !store::queue(&mut conn, &group.id, 1).await?.is_empty() {
                    waiting.push(group.id);
                }
            }
            waiting
        };
        for group_id in &waiting {
            let mut tx = self.ctx.db.begin_write().await?;
            self.hand_out(&mut tx, std::slice::from_ref(group_id), now)
                .await?;
            tx.commit().await?;
        }
        Ok(waiting.len())
    }

    /// Closes tickets SOLVED at or before `solved_before`. Returns how many closed.
    pub async fn auto_close(&self, now: i64, solved_before: i64) -> Result<usize, ServiceError> {
        let actor = Actor::service("auto-close");
        let ids = {
            let mut conn = self.ctx.db.read().await?;
            store::solved_before(&mut conn, solved_before, ROUND).await?
        };
        let mut closed = 0;
        for id in ids {
            let mut tx = self.ctx.db.begin_write().await?;
            let Some(before) = store::find::<TicketRecord>(&mut tx, &id).await? else {
                continue;
            };
            if before.status != TicketStatus::Solved {
                continue;
            }
            let mut after = before.clone();
            let clock = self.ticket_clock(&mut tx, &before).await?;
            lifecycle::move_to(&mut after, TicketStatus::Closed, now, &clock);
            match self.save(&mut tx, &actor, &before, &mut after, now).await {
                Err(ServiceError::Conflict(_)) => continue,
                other => other?,
            };
            self.emit_status(&mut tx, &actor, &after, before.status, now)
                .await?;
            tx.commit().await?;
            closed += 1;
        }
        Ok(closed)
    }

    /// Runs the SLA sweeper and auto-close every `interval` until `stop`: tickets SOLVED for
    /// `auto_close_after` close.
    pub async fn run_timers(
        self,
        interval: Duration,
        auto_close_after: Duration,
        stop: CancellationToken,
    ) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let after = i64::try_from(auto_close_after.as_micros()).unwrap_or(i64::MAX);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let now = self.ctx.now();
            if let Err(error) = self.sweep_breaches(now).await {
                tracing::warn!(%error, "SLA sweep failed; retrying next round");
            }
            if let Err(error) = self.index_backlog().await {
                tracing::warn!(%error, "indexing tickets for search failed; retrying next round");
            }
            if let Err(error) = self.route_in_hours(now).await {
                tracing::warn!(%error, "routing in business hours failed; retrying next round");
            }
            if let Err(error) = self.auto_close(now, now.saturating_sub(after)).await {
                tracing::warn!(%error, "auto-close failed; retrying next round");
            }
        }
    }
}

impl FollowsCustomers for Tickets {
    const FOLLOWS_TIERS: bool = true;

    /// Anonymizes the requester snapshot of every ticket of an erased customer. Idempotent: a
    /// ticket already anonymized is left alone.
    async fn erase(&self, tx: &mut Write, customer: &str, now: i64) -> Result<(), ServiceError> {
        let actor = Actor::service("customer-erased");
        for before in store::tickets_of_requester(tx, customer).await? {
            if before.requester_erased {
                continue;
            }
            let mut after = before.clone();
            after.requester_name = String::new();
            after.requester_locale = String::new();
            after.requester_erased = true;
            self.save(tx, &actor, &before, &mut after, now).await?;
            let draft = EventDraft::new(pb::EventType::RequesterAnonymized, &after);
            draft.emit(tx, &actor, now).await?;
        }
        Ok(())
    }

    /// Gives a requester's unsolved tickets their new tier and chooses each one's SLA policy
    /// again, as a priority change does (same start times, new target lengths). Idempotent: a
    /// ticket already at the tier is left alone.
    async fn tier_changed(
        &self,
        tx: &mut Write,
        customer: &str,
        tier: Tier,
        now: i64,
    ) -> Result<(), ServiceError> {
        let actor = Actor::service("customer-tier-changed");
        for stale in store::tickets_of_requester(tx, customer).await? {
            if stale.requester_tier == tier || !UNSOLVED.contains(&stale.status) {
                continue;
            }
            tx.lock_in_order("tickets", [stale.id.as_str()]).await?;
            let before = load(tx, &stale.id).await?;
            if before.requester_tier == tier || !UNSOLVED.contains(&before.status) {
                continue;
            }
            let mut after = before.clone();
            after.requester_tier = tier;
            self.apply_policy(tx, &mut after).await?;
            let changes = self.save(tx, &actor, &before, &mut after, now).await?;
            let mut draft = EventDraft::new(pb::EventType::TicketUpdated, &after);
            draft.changed_fields = changes.into_iter().map(|c| c.field).collect();
            draft.emit(tx, &actor, now).await?;
        }
        Ok(())
    }
}
