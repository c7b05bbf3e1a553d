//! Complaints, suggestions and praise: received, read back; a complaint queues its ticket.

use kefu_db::idempotency::RequestKey;
use kefu_proto::feedback::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::common::Channel;
use kefu_server::outgoing::Caller;

use super::{Actor, EventDraft, Feedback, new_id};
use crate::domain::access::may_send_for;
use crate::domain::follow_up;
use crate::domain::kinds::{FeedbackKind, FeedbackState, FollowUpState};
use crate::domain::records::{FeedbackRecord, FollowUpRecord};
use crate::store::{self, FeedbackFilter};

/// SubmitFeedback, validated.
#[derive(Debug, Clone)]
pub struct NewFeedback {
    /// What kind.
    pub kind: FeedbackKind,
    /// Customer id.
    pub customer_id: String,
    /// Text.
    pub body: String,
    /// Where it was sent.
    pub channel: Channel,
    /// Ticket id it is about.
    pub ticket_id: Option<String>,
    /// The request id, if the caller sent one.
    pub request: Option<RequestKey>,
    /// Who asked, for the checks made on their behalf.
    pub caller: Caller,
}

impl Feedback {
    /// Stores feedback; a complaint also queues its COMPLAINT ticket, in the same transaction.
    /// Nothing is written for a customer or ticket the caller cannot show exists; a retry is
    /// answered from this database alone.
    pub async fn submit_feedback(
        &self,
        actor: &Actor,
        new: NewFeedback,
    ) -> Result<FeedbackRecord, ServiceError> {
        if !may_send_for(actor.customer_id.as_deref(), &new.customer_id) {
            return Err(ServiceError::PermissionDenied(
                "a customer can only send feedback as itself".to_owned(),
            ));
        }
        if let Some(request) = &new.request {
            let mut conn = self.ctx.db.read().await?;
            if let Some(existing) = request.replay(&mut conn).await? {
                return load_feedback(&mut conn, actor, existing.trim_start_matches("feedback/"))
                    .await;
            }
        }
        self.customers
            .reachable(&new.caller, &new.customer_id)
            .await?;
        let (ticket_assignee, ticket_group) = match &new.ticket_id {
            Some(ticket_id) => {
                self.tickets
                    .check_ticket(&new.caller, ticket_id, &new.customer_id)
                    .await?
            }
            None => Default::default(),
        };
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let id = new_id();
        let name = format!("feedback/{id}");
        if let Some(request) = &new.request
            && let Some(existing) = request.claim(&mut tx, &name, now).await?
        {
            return load_feedback(&mut tx, actor, existing.trim_start_matches("feedback/")).await;
        }
        let complaint = new.kind == FeedbackKind::Complaint;
        let mut entry = FeedbackRecord {
            id: id.clone(),
            kind: new.kind,
            customer_id: new.customer_id,
            body: new.body,
            channel: new.channel,
            ticket_id: new.ticket_id,
            ticket_assignee,
            ticket_group,
            state: if complaint {
                FeedbackState::InProgress
            } else {
                FeedbackState::Received
            },
            resolve_time: None,
            anonymized: false,
            follow_up: None,
            create_time: now,
            update_time: now,
        };
        if complaint {
            let f = FollowUpRecord {
                id: new_id(),
                source: name.clone(),
                request: follow_up::for_complaint(&entry),
                state: FollowUpState::Pending,
                ticket: None,
                failure: String::new(),
                attempts: 0,
                next_attempt_time: now,
            };
            store::insert_follow_up(&mut tx, &f, now).await?;
            entry.follow_up = Some(f);
        }
        store::insert_feedback(&mut tx, &entry).await?;
        let mut draft = EventDraft::new(
            pb::EventType::FeedbackReceived,
            name,
            &entry.customer_id,
            entry.kind.name(),
        );
        draft.ticket = entry.ticket_id.as_ref().map(|t| format!("tickets/{t}"));
        draft.emit(&mut tx, &actor.id, now).await?;
        tx.commit().await?;
        if complaint {
            self.follow_up_queued.notify_one();
        }
        Ok(entry)
    }

    /// An entry the actor may see.
    pub async fn get_feedback(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<FeedbackRecord, ServiceError> {
        let scope = self.scope(actor).await?;
        let mut conn = self.ctx.db.read().await?;
        let entry = load_feedback(&mut conn, actor, id).await?;
        if !scope.sees(entry.ticket_seen()) {
            return Err(ServiceError::NotFound(format!("feedback/{id}")));
        }
        Ok(entry)
    }

    /// A page of entries (a customer's own only, for a customer; those about no ticket or a
    /// ticket in scope, for an agent).
    pub async fn list_feedback(
        &self,
        actor: &Actor,
        mut filter: FeedbackFilter,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<FeedbackRecord>, ServiceError> {
        if let Some(own) = &actor.customer_id {
            filter.customer_id = Some(own.clone());
        }
        filter.scope = self.scope(actor).await?;
        let mut conn = self.ctx.db.read().await?;
        Ok(store::list_feedback(&mut conn, &filter, after, limit).await?)
    }
}

async fn load_feedback(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    id: &str,
) -> Result<FeedbackRecord, ServiceError> {
    store::get_feedback(conn, id)
        .await?
        .filter(|e| actor.sees(&e.customer_id))
        .ok_or_else(|| ServiceError::NotFound(format!("feedback/{id}")))
}
