//! The follow-up queue: the tickets low scores and complaints ask for, opened in the tickets
//! service by a worker that retries with a backoff while it is unavailable, until each ticket is
//! opened or refused for good.

use std::time::Duration;

use kefu_proto::feedback::v1 as pb;
use kefu_server::ServiceError;
use tokio_util::sync::CancellationToken;

use super::{EventDraft, Feedback, SERVICE_ACTOR};
use crate::domain::follow_up::{complaint_state, retry_delay_micros};
use crate::domain::kinds::{FeedbackState, FollowUpState};
use crate::domain::records::FollowUpRecord;
use crate::remote::tickets::OpenError;
use crate::store;

/// Follow-ups opened per round of the worker.
const FOLLOW_UP_BATCH: i64 = 50;
/// Longest the worker sleeps without looking at the queue (other replicas queue work too).
const IDLE_POLL: Duration = Duration::from_secs(5);

impl Feedback {
    /// Works the queue until `stop`.
    pub async fn run_follow_ups(self, stop: CancellationToken) {
        loop {
            let wait = match self.open_due_follow_ups().await {
                Ok(wait) => wait,
                Err(error) => {
                    tracing::warn!(%error, "follow-up queue unreadable; retrying");
                    IDLE_POLL
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.follow_up_queued.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Opens every follow-up due now; returns how long to wait for the next one.
    pub async fn open_due_follow_ups(&self) -> Result<Duration, ServiceError> {
        loop {
            let due = {
                let mut conn = self.ctx.db.read().await?;
                store::due_follow_ups(
                    &mut conn,
                    FollowUpState::Pending,
                    self.ctx.now(),
                    FOLLOW_UP_BATCH,
                )
                .await?
            };
            if due.is_empty() {
                break;
            }
            let mut progressed = false;
            for follow_up in &due {
                match self.tickets.open(&self.key, follow_up).await {
                    Ok(ticket) => {
                        self.follow_up_opened(follow_up, &ticket.name, &ticket.status)
                            .await?;
                        tracing::info!(source = %follow_up.source, ticket = %ticket.name, "follow-up ticket opened");
                        progressed = true;
                    }
                    Err(OpenError::Refused(reason)) => {
                        tracing::warn!(source = %follow_up.source, %reason, "tickets refused the follow-up");
                        self.follow_up_failed(follow_up, &reason).await?;
                        progressed = true;
                    }
                    Err(OpenError::Unavailable(reason)) => {
                        tracing::debug!(source = %follow_up.source, %reason, "tickets unavailable; follow-up retried later");
                        self.follow_up_retry(follow_up, &reason).await?;
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        let next = {
            let mut conn = self.ctx.db.read().await?;
            store::next_due_time(&mut conn, FollowUpState::Pending).await?
        };
        Ok(next.map_or(IDLE_POLL, |due| {
            let micros = u64::try_from(due.saturating_sub(self.ctx.now())).unwrap_or(0);
            Duration::from_micros(micros).min(IDLE_POLL)
        }))
    }

    /// Records the ticket a follow-up opened and emits FOLLOW_UP_OPENED, once. `status` is the
    /// ticket's status as the tickets service answered: when the answer comes late (the request
    /// was retried after an outage) the complaint's ticket may already be solved, and the events
    /// saying so were read before this service knew the ticket was the complaint's.
    async fn follow_up_opened(
        &self,
        follow_up: &FollowUpRecord,
        ticket: &str,
        status: &str,
    ) -> Result<(), ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let finished = store::finish_follow_up(
            &mut tx,
            &follow_up.id,
            FollowUpState::Pending,
            FollowUpState::Opened,
            Some(ticket),
            "",
            now,
        )
        .await?;
        if !finished {
            return Ok(());
        }
        let (kind_name, original) = source_facts(&mut tx, &follow_up.source).await?;
        let customer = &follow_up.request.requester;
        if let Some(entry_id) = follow_up.source.strip_prefix("feedback/")
            && complaint_state(status) == FeedbackState::Resolved
            && store::resolve_unmoved_feedback(&mut tx, entry_id, now).await?
        {
            let resource = follow_up.source.clone();
            let mut draft = EventDraft::new(
                pb::EventType::FeedbackResolved,
                resource,
                customer,
                kind_name,
            );
            draft.ticket = Some(ticket.to_owned());
            draft.emit(&mut tx, SERVICE_ACTOR, now).await?;
        }
        let resource = follow_up.source.clone();
        let mut draft =
            EventDraft::new(pb::EventType::FollowUpOpened, resource, customer, kind_name);
        draft.ticket = original;
        draft.follow_up_ticket = Some(ticket.to_owned());
        draft.emit(&mut tx, SERVICE_ACTOR, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks a follow-up the tickets service refused for good.
    async fn follow_up_failed(
        &self,
        follow_up: &FollowUpRecord,
        failure: &str,
    ) -> Result<(), ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        store::finish_follow_up(
            &mut conn,
            &follow_up.id,
            FollowUpState::Pending,
            FollowUpState::Failed,
            None,
            failure,
            self.ctx.now(),
        )
        .await?;
        Ok(())
    }

    /// Schedules another try of a follow-up the tickets service could not take now.
    async fn follow_up_retry(
        &self,
        follow_up: &FollowUpRecord,
        failure: &str,
    ) -> Result<(), ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let now = self.ctx.now();
        let next = now + retry_delay_micros(follow_up.attempts);
        store::retry_follow_up(&mut conn, &follow_up.id, next, failure, now).await?;
        Ok(())
    }
}

/// The kind name and ticket of a follow-up's survey or feedback entry.
async fn source_facts(
    conn: &mut sqlx::AnyConnection,
    source: &str,
) -> Result<(&'static str, Option<String>), ServiceError> {
    let facts = if let Some(id) = source.strip_prefix("surveys/") {
        store::get_survey(conn, id)
            .await?
            .map(|s| (s.kind.name(), s.ticket_id))
    } else if let Some(id) = source.strip_prefix("feedback/") {
        store::get_feedback(conn, id)
            .await?
            .map(|e| (e.kind.name(), e.ticket_id))
    } else {
        None
    };
    Ok(facts
        .map(|(kind, ticket)| (kind, ticket.map(|t| format!("tickets/{t}"))))
        .unwrap_or(("", None)))
}
