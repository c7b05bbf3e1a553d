//! What other services' events do here: a solved ticket makes its CSAT survey, a complaint's
//! ticket moving moves the complaint, an erased customer's words are removed. Each event is
//! handled in the transaction that stores the cursor after it, and handling it twice changes
//! nothing more.

use kefu_db::Write;
use kefu_db::outbox::Position;
use kefu_proto::feedback::v1 as pb;
use kefu_proto::tickets::v1 as tickets_pb;
use kefu_server::ServiceError;
use kefu_server::common::Channel;
use kefu_server::consumer::{Delivery, Handled};
use kefu_server::customers::FollowsCustomers;

use super::{EventDraft, Feedback, SERVICE_ACTOR};
use crate::domain::follow_up::complaint_state;
use crate::domain::kinds::{FeedbackState, SurveyKind};
use crate::store;

impl Feedback {
    /// One event of the tickets stream: a solve creates the CSAT survey (once per solve event,
    /// even if the event is delivered again), and a complaint's ticket being solved, closed or
    /// reopened moves the complaint.
    pub async fn ticket_event(
        &self,
        delivery: Delivery<tickets_pb::Event>,
    ) -> Result<Handled, ServiceError> {
        let event = &delivery.event;
        let kind = tickets_pb::EventType::try_from(event.r#type).ok();
        let solved = kind == Some(tickets_pb::EventType::TicketSolved);
        let moved = matches!(
            kind,
            Some(
                tickets_pb::EventType::TicketSolved
                    | tickets_pb::EventType::TicketClosed
                    | tickets_pb::EventType::TicketStatusChanged
            )
        );
        if !moved {
            return Ok(Handled::Ignored);
        }
        let facts = event.ticket.clone().unwrap_or_default();
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        if solved
            && let (Some(ticket_id), Some(customer_id)) = (
                event.resource.strip_prefix("tickets/"),
                facts.requester.strip_prefix("customers/"),
            )
        {
            let origin = format!("{}:{}", delivery.source, delivery.cursor);
            let mut survey = self.new_survey(SurveyKind::Csat, origin, customer_id, now);
            survey.ticket_id = Some(ticket_id.to_owned());
            survey.assignee = facts.assignee.clone();
            survey.group_name = facts.group.clone();
            survey.channel = Channel::from_number(facts.channel);
            survey.ticket_type = facts.r#type.clone();
            self.create_survey(&mut tx, &survey, now).await?;
        }
        // The follower only delivers cursors the stream gave, so this parses.
        let position = Position::parse(&delivery.cursor)
            .map(|p| p.order_key())
            .unwrap_or_default();
        self.complaint_ticket_moved(&mut tx, &event.resource, &facts.status, &position, now)
            .await?;
        delivery.ack(&mut tx, now).await?;
        tx.commit().await?;
        Ok(Handled::Acked)
    }

    async fn complaint_ticket_moved(
        &self,
        tx: &mut kefu_db::Write,
        ticket: &str,
        status: &str,
        position: &str,
        now: i64,
    ) -> Result<(), ServiceError> {
        let Some(entry) = store::feedback_by_ticket(tx, ticket).await? else {
            return Ok(());
        };
        let state = complaint_state(status);
        if state == entry.state {
            return Ok(());
        }
        let (resolve_time, kind) = match state {
            FeedbackState::Resolved => (Some(now), pb::EventType::FeedbackResolved),
            _ => (None, pb::EventType::FeedbackReopened),
        };
        if !store::set_feedback_state(tx, &entry.id, state, resolve_time, position, now).await? {
            return Ok(());
        }
        let resource = format!("feedback/{}", entry.id);
        let mut draft = EventDraft::new(kind, resource, &entry.customer_id, entry.kind.name());
        draft.ticket = Some(ticket.to_owned());
        draft.emit(tx, SERVICE_ACTOR, now).await?;
        Ok(())
    }
}

impl FollowsCustomers for Feedback {
    /// Removes an erased customer's comments and feedback text (scores stay, for statistics),
    /// including the text queued for tickets not yet opened.
    async fn erase(&self, tx: &mut Write, customer: &str, now: i64) -> Result<(), ServiceError> {
        let mut changed = store::anonymize_surveys(tx, customer).await?;
        changed += store::anonymize_feedback(tx, customer, now).await?;
        for mut f in store::follow_ups_of_customer(tx, customer).await? {
            // A complaint's ticket carries the complaint's words: a ticket not yet opened must
            // not open with them.
            if f.source.starts_with("feedback/") && !f.request.description.is_empty() {
                f.request.description = String::new();
                f.request.subject = "Complaint (text removed: the customer was erased)".to_owned();
                store::set_follow_up_request(tx, &f.id, &f.request, now).await?;
            }
        }
        if changed > 0 {
            let resource = format!("customers/{customer}");
            let draft = EventDraft::new(pb::EventType::CustomerAnonymized, resource, customer, "");
            draft.emit(tx, SERVICE_ACTOR, now).await?;
        }
        Ok(())
    }
}
