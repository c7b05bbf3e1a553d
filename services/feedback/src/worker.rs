//! The follow-up worker: opens the tickets queued by low scores and complaints, retrying with a
//! backoff while the tickets service is unavailable, until each is opened or refused for good.

use std::time::Duration;

use kefu_db::time::now_micros;
use kefu_principal::InternalKey;
use tokio_util::sync::CancellationToken;

use crate::ops::Feedback;
use crate::tickets::{OpenError, Tickets};

/// Longest the worker sleeps without looking at the queue (other replicas queue work too).
const IDLE_POLL: Duration = Duration::from_secs(5);

/// Works the queue until `stop`.
pub async fn run(feedback: Feedback, tickets: Tickets, key: InternalKey, stop: CancellationToken) {
    loop {
        let wait = match work_once(&feedback, &tickets, &key).await {
            Ok(wait) => wait,
            Err(error) => {
                tracing::warn!(%error, "follow-up queue unreadable; retrying");
                IDLE_POLL
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = feedback.follow_up_queued.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Opens every follow-up due now; returns how long to wait for the next one.
async fn work_once(
    feedback: &Feedback,
    tickets: &Tickets,
    key: &InternalKey,
) -> Result<Duration, crate::error::FeedbackError> {
    loop {
        let due = feedback.due_follow_ups(now_micros()).await?;
        if due.is_empty() {
            break;
        }
        let mut progressed = false;
        for follow_up in &due {
            match tickets.open(key, follow_up).await {
                Ok(ticket) => {
                    feedback
                        .follow_up_opened(follow_up, &ticket.name, &ticket.status)
                        .await?;
                    tracing::info!(source = %follow_up.source, ticket = %ticket.name, "follow-up ticket opened");
                    progressed = true;
                }
                Err(OpenError::Refused(reason)) => {
                    tracing::warn!(source = %follow_up.source, %reason, "tickets refused the follow-up");
                    feedback.follow_up_failed(follow_up, &reason).await?;
                    progressed = true;
                }
                Err(OpenError::Unavailable(reason)) => {
                    tracing::debug!(source = %follow_up.source, %reason, "tickets unavailable; follow-up retried later");
                    feedback.follow_up_retry(follow_up, &reason).await?;
                }
            }
        }
        if !progressed {
            break;
        }
    }
    let next = feedback.next_follow_up_time().await?;
    let wait = next.map_or(IDLE_POLL, |due| {
        let micros = u64::try_from(due.saturating_sub(now_micros())).unwrap_or(0);
        Duration::from_micros(micros).min(IDLE_POLL)
    });
    Ok(wait)
}
