//! The firing worker: applies each pending firing's actions in order through the tickets
//! service (a change to the requester through the customers service), under a lease so two
//! replicas never work the same firing at once, retrying with a backoff while a service is
//! unavailable, until every action is applied or one is refused for good.

use std::time::Duration;

use kefu_proto::automation::v1 as pb;
use kefu_server::ServiceError;
use tokio_util::sync::CancellationToken;

use super::{Automation, SERVICE_ACTOR, emit};
use crate::domain::firing::{FiringRecord, FiringState, retry_delay_micros};
use crate::domain::trigger::{Action, principal_of_rule, steps};
use crate::remote::tickets::{Acting, ApplyError};
use crate::store;

/// Firings worked per round.
const BATCH: i64 = 50;
/// Longest the worker sleeps without looking at the queue (other replicas queue work too).
const IDLE_POLL: Duration = Duration::from_secs(2);
/// How long a worker holds a firing; one that crashed mid-firing frees it after this.
const LEASE_MICROS: i64 = 60_000_000;

impl Automation {
    /// Works the firing queue until `stop`.
    pub async fn run_firings(self, stop: CancellationToken) {
        loop {
            let wait = match self.apply_due_firings(&stop).await {
                Ok(wait) => wait,
                Err(error) => {
                    tracing::warn!(%error, "firing queue unreadable; retrying");
                    IDLE_POLL
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.firing_queued.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Applies every firing due now, leasing none once `stop` is cancelled (so a shutdown waits
    /// for one firing at most); answers how long to wait for the next one.
    pub async fn apply_due_firings(
        &self,
        stop: &CancellationToken,
    ) -> Result<Duration, ServiceError> {
        loop {
            let due = {
                let mut conn = self.ctx.db.read().await?;
                store::due_firings(&mut conn, self.ctx.now(), BATCH).await?
            };
            let mut progressed = false;
            for firing in &due {
                if stop.is_cancelled() {
                    return Ok(Duration::ZERO);
                }
                let now = self.ctx.now();
                let leased = {
                    let mut conn = self.ctx.db.read().await?;
                    store::lease_firing(&mut conn, &firing.id, now, now + LEASE_MICROS).await?
                };
                if leased {
                    match self.apply_firing(firing).await {
                        Ok(finished) => progressed |= finished,
                        Err(error) => {
                            self.release(firing).await;
                            return Err(error);
                        }
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        let next = {
            let mut conn = self.ctx.db.read().await?;
            store::next_due_time(&mut conn).await?
        };
        Ok(next.map_or(IDLE_POLL, |due| {
            let micros = u64::try_from(due.saturating_sub(self.ctx.now())).unwrap_or(0);
            Duration::from_micros(micros).min(IDLE_POLL)
        }))
    }

    /// Applies a leased firing's remaining actions; true when it finished (either way).
    async fn apply_firing(&self, firing: &FiringRecord) -> Result<bool, ServiceError> {
        // A depth-limit note is the service's own: it must not look like the trigger's change.
        let principal = if firing.final_state == FiringState::Skipped {
            SERVICE_ACTOR.to_owned()
        } else {
            principal_of_rule(firing.rule, &firing.trigger_id)
        };
        let done = usize::try_from(firing.applied_actions).unwrap_or(0);
        for (start, end) in steps(&firing.actions) {
            if end <= done {
                continue;
            }
            let step = &firing.actions[start..end];
            let outcome = match step {
                [Action::UpdateRequester(change)] => {
                    self.customers.update_requester(&principal, change).await
                }
                _ => {
                    self.tickets
                        .apply(
                            Acting::Signed(&principal),
                            &firing.id,
                            start,
                            &firing.ticket_id,
                            step,
                        )
                        .await
                }
            };
            match outcome {
                Ok(()) => {
                    let mut conn = self.ctx.db.read().await?;
                    let applied = i32::try_from(end).unwrap_or(i32::MAX);
                    store::set_progress(&mut conn, &firing.id, applied, self.ctx.now()).await?;
                }
                Err(ApplyError::Unavailable(reason)) => {
                    tracing::debug!(firing = %firing.id, %reason, "tickets unavailable; firing retried later");
                    let mut conn = self.ctx.db.read().await?;
                    let now = self.ctx.now();
                    let next = now + retry_delay_micros(firing.attempts);
                    store::retry_firing(&mut conn, &firing.id, next, &reason, now).await?;
                    return Ok(false);
                }
                Err(ApplyError::Refused(reason)) => {
                    tracing::info!(firing = %firing.id, %reason, "tickets refused a trigger's action");
                    let applied = i32::try_from(start).unwrap_or(i32::MAX);
                    self.finish(firing, FiringState::Failed, applied, &reason)
                        .await?;
                    return Ok(true);
                }
            }
        }
        let applied = i32::try_from(firing.actions.len()).unwrap_or(i32::MAX);
        self.finish(firing, firing.final_state, applied, "").await?;
        Ok(true)
    }

    /// Hands a firing back to the queue after a fault of this service's own database, so the
    /// next round (of any replica) retries it instead of waiting for the lease to run out. A
    /// failure here only means that wait.
    async fn release(&self, firing: &FiringRecord) {
        let released = async {
            let mut conn = self.ctx.db.read().await?;
            store::release_firing(&mut conn, &firing.id).await?;
            Ok::<(), ServiceError>(())
        };
        if let Err(error) = released.await {
            tracing::warn!(firing = %firing.id, %error, "firing not released; retried when its lease runs out");
        }
    }

    /// Records a firing's outcome, its trigger's counts and its event, once.
    async fn finish(
        &self,
        firing: &FiringRecord,
        state: FiringState,
        applied: i32,
        error: &str,
    ) -> Result<(), ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        if !store::finish_firing(&mut tx, &firing.id, state, applied, error, now).await? {
            return Ok(());
        }
        store::count_outcome(
            &mut tx,
            &firing.trigger_id,
            state,
            firing.create_time,
            error,
        )
        .await?;
        let kind = match state {
            FiringState::Failed => pb::EventType::FiringFailed,
            FiringState::Skipped => pb::EventType::FiringSkipped,
            FiringState::Applied | FiringState::Pending => pb::EventType::FiringApplied,
        };
        let ticket = format!("tickets/{}", firing.ticket_id);
        emit(
            &mut tx,
            kind,
            firing.name(),
            &ticket,
            error,
            SERVICE_ACTOR,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
