//! Use cases: one transaction each; the change and its outbox events commit together, and an
//! event consumed from another service commits with the cursor that follows it. Inputs arrive
//! validated from `api`.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kefu_db::outbox::{self, NewEvent, OutboxSignal};
use kefu_db::{Database, WriteTx, cursors, time::now_micros};
use kefu_proto::feedback::v1 as pb;
use kefu_proto::tickets::v1 as tickets_pb;
use prost::Message;
use rand::RngCore;
use sqlx::AnyConnection;
use tokio::sync::Notify;

use crate::domain::follow_up::{self, complaint_state, retry_delay_micros};
use crate::domain::records::{
    Answer, CSAT, CampaignRecord, FeedbackRecord, FollowUpRecord, NPS, SegmentRecord, SurveyRecord,
};
use crate::domain::survey::{needs_follow_up, refuse_answer};
use crate::error::FeedbackError;
use crate::store::{self, FeedbackFilter, SummaryKey, SummaryRow, SurveyFilter};

/// The principal id the service's own background work acts as.
pub const SERVICE_ACTOR: &str = "feedback";
/// Follow-ups opened per round of the worker.
const FOLLOW_UP_BATCH: i64 = 50;

/// The service's state.
#[derive(Clone, Debug)]
pub struct Feedback {
    /// The database.
    pub db: Database,
    /// Wakes `WatchEvents` streams after a commit.
    pub signal: OutboxSignal,
    /// Wakes the follow-up worker when a follow-up is queued.
    pub follow_up_queued: Arc<Notify>,
    /// How long a survey can be answered, in microseconds.
    pub survey_ttl_micros: i64,
    /// Tickets `TicketType` number of follow-up tickets for low scores.
    pub follow_up_type: i32,
}

/// A new, time-sortable id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A survey token: 256 random bits, URL-safe.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Who is acting.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Principal id.
    pub id: String,
    /// For customers: their customer id; they see and touch only their own records.
    pub customer_id: Option<String>,
}

/// A survey answer as the caller sent it, validated except against the survey's kind.
#[derive(Debug, Clone)]
pub struct NewAnswer {
    /// Score.
    pub score: i32,
    /// Reason codes.
    pub reason_codes: Vec<String>,
    /// Comment.
    pub comment: String,
}

/// A validated feedback entry to store.
#[derive(Debug, Clone)]
pub struct NewFeedback {
    /// `FeedbackKind` number.
    pub kind: i32,
    /// Customer id.
    pub customer_id: String,
    /// Text.
    pub body: String,
    /// Tickets channel enum name.
    pub channel: String,
    /// Ticket id it is about.
    pub ticket_id: Option<String>,
}

struct EventDraft<'a> {
    kind: pb::EventType,
    resource: String,
    customer_id: &'a str,
    ticket: Option<String>,
    score: i32,
    follow_up_ticket: Option<String>,
    kind_name: &'a str,
}

fn survey_kind_name(kind: i32) -> &'static str {
    pb::SurveyKind::try_from(kind)
        .unwrap_or(pb::SurveyKind::Unspecified)
        .as_str_name()
}

fn feedback_kind_name(kind: i32) -> &'static str {
    pb::FeedbackKind::try_from(kind)
        .unwrap_or(pb::FeedbackKind::Unspecified)
        .as_str_name()
}

impl Feedback {
    async fn emit(
        &self,
        tx: &mut WriteTx,
        actor: &str,
        now: i64,
        draft: EventDraft<'_>,
    ) -> Result<(), FeedbackError> {
        let customer = format!("customers/{}", draft.customer_id);
        let event = pb::Event {
            cursor: String::new(),
            r#type: draft.kind as i32,
            resource: draft.resource.clone(),
            customer: customer.clone(),
            ticket: draft.ticket.unwrap_or_default(),
            score: draft.score,
            follow_up_ticket: draft.follow_up_ticket.unwrap_or_default(),
            kind: draft.kind_name.to_owned(),
            actor: actor.to_owned(),
            event_time: Some(timestamp(now)),
        };
        outbox::append(
            tx,
            self.db.dialect(),
            NewEvent {
                event_type: draft.kind.as_str_name(),
                resource: &draft.resource,
                subject: Some(&customer),
                payload: event.encode_to_vec(),
                event_time: now,
            },
        )
        .await?;
        Ok(())
    }

    async fn commit(&self, tx: WriteTx) -> Result<(), FeedbackError> {
        tx.commit().await?;
        self.signal.notify();
        Ok(())
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, FeedbackError> {
        Ok(self.db.pool().acquire().await?)
    }

    fn new_survey(&self, kind: i32, origin: String, customer_id: &str, now: i64) -> SurveyRecord {
        SurveyRecord {
            id: new_id(),
            kind,
            origin,
            customer_id: customer_id.to_owned(),
            ticket_id: None,
            assignee: String::new(),
            group_name: String::new(),
            channel: String::new(),
            ticket_type: String::new(),
            campaign_id: None,
            token: new_token(),
            create_time: now,
            expire_time: now.saturating_add(self.survey_ttl_micros),
            answer: None,
            anonymized: false,
            follow_up: None,
        }
    }

    /// Inserts a survey unless its origin already made one; emits SURVEY_CREATED when inserted.
    async fn create_survey(
        &self,
        tx: &mut WriteTx,
        survey: &SurveyRecord,
        now: i64,
    ) -> Result<bool, FeedbackError> {
        if !store::insert_survey(tx, survey).await? {
            return Ok(false);
        }
        self.emit(
            tx,
            SERVICE_ACTOR,
            now,
            EventDraft {
                kind: pb::EventType::SurveyCreated,
                resource: format!("surveys/{}", survey.id),
                customer_id: &survey.customer_id,
                ticket: survey.ticket_id.as_ref().map(|t| format!("tickets/{t}")),
                score: 0,
                follow_up_ticket: None,
                kind_name: survey_kind_name(survey.kind),
            },
        )
        .await?;
        Ok(true)
    }

    // ----- the tickets event stream ---------------------------------------------------------

    /// Handles one event of the tickets service and stores `cursor` with its effects, in one
    /// transaction: a solve creates the CSAT survey (once per solve event, even if the event is
    /// delivered again), and a complaint's ticket being solved, closed or reopened moves the
    /// complaint. Returns whether a survey was created.
    pub async fn ticket_event(
        &self,
        event: &tickets_pb::Event,
        source: &str,
        cursor: &str,
    ) -> Result<bool, FeedbackError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let kind = tickets_pb::EventType::try_from(event.r#type).ok();
        let facts = event.ticket.clone().unwrap_or_default();
        let mut created = false;
        if kind == Some(tickets_pb::EventType::TicketSolved)
            && let (Some(ticket_id), Some(customer_id)) = (
                event.resource.strip_prefix("tickets/"),
                facts.requester.strip_prefix("customers/"),
            )
        {
            let mut survey = self.new_survey(CSAT, format!("{source}:{cursor}"), customer_id, now);
            survey.ticket_id = Some(ticket_id.to_owned());
            survey.assignee = facts.assignee.clone();
            survey.group_name = facts.group.clone();
            survey.channel = facts.channel.clone();
            survey.ticket_type = facts.r#type.clone();
            created = self.create_survey(&mut tx, &survey, now).await?;
        }
        if matches!(
            kind,
            Some(
                tickets_pb::EventType::TicketSolved
                    | tickets_pb::EventType::TicketClosed
                    | tickets_pb::EventType::TicketStatusChanged
            )
        ) {
            let seq = cursor.parse::<i64>().unwrap_or(0);
            self.complaint_ticket_moved(&mut tx, &event.resource, &facts.status, seq, now)
                .await?;
        }
        cursors::set(&mut tx, source, cursor, now).await?;
        self.commit(tx).await?;
        Ok(created)
    }

    async fn complaint_ticket_moved(
        &self,
        tx: &mut WriteTx,
        ticket: &str,
        status: &str,
        seq: i64,
        now: i64,
    ) -> Result<(), FeedbackError> {
        let Some(entry) = store::feedback_by_ticket(tx, ticket).await? else {
            return Ok(());
        };
        let state = complaint_state(status);
        if state as i32 == entry.state {
            return Ok(());
        }
        let (resolve_time, event) = match state {
            pb::FeedbackState::Resolved => (Some(now), pb::EventType::FeedbackResolved),
            _ => (None, pb::EventType::FeedbackReopened),
        };
        if !store::set_feedback_state(tx, &entry.id, state as i32, resolve_time, seq, now).await? {
            return Ok(());
        }
        self.emit(
            tx,
            SERVICE_ACTOR,
            now,
            EventDraft {
                kind: event,
                resource: format!("feedback/{}", entry.id),
                customer_id: &entry.customer_id,
                ticket: Some(ticket.to_owned()),
                score: 0,
                follow_up_ticket: None,
                kind_name: feedback_kind_name(entry.kind),
            },
        )
        .await?;
        Ok(())
    }

    /// Where the consumer of `source` got to.
    pub async fn cursor(&self, source: &str) -> Result<Option<String>, FeedbackError> {
        let mut conn = self.conn().await?;
        Ok(cursors::get(&mut conn, source).await?)
    }

    // ----- surveys --------------------------------------------------------------------------

    /// Answers the survey holding `token`: once, before it expires, within its kind's range. A
    /// low score queues a follow-up ticket in the same transaction.
    pub async fn submit_response(
        &self,
        actor: &Actor,
        token: &str,
        answer: NewAnswer,
    ) -> Result<SurveyRecord, FeedbackError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let survey = store::survey_by_token(&mut tx, token)
            .await?
            .filter(|s| visible(actor, &s.customer_id))
            .ok_or_else(|| FeedbackError::NotFound("a survey with this token".to_owned()))?;
        let range = crate::domain::survey::score_range(survey.kind);
        if !range.contains(&answer.score) {
            let mut v = kefu_server::Violations::new();
            v.add(
                "response.score",
                format!(
                    "must be {} to {} for a {} survey",
                    range.start(),
                    range.end(),
                    if survey.kind == NPS { "NPS" } else { "CSAT" }
                ),
            );
            return Err(FeedbackError::Invalid(v));
        }
        if let Some(reason) = refuse_answer(&survey, now) {
            return Err(FeedbackError::FailedPrecondition(reason));
        }
        let answer = Answer {
            score: answer.score,
            reason_codes: answer.reason_codes,
            comment: answer.comment,
            submit_time: now,
        };
        let follow_up = needs_follow_up(survey.kind, answer.score).then(|| FollowUpRecord {
            id: new_id(),
            source: format!("surveys/{}", survey.id),
            request: follow_up::for_low_score(&survey, &answer, self.follow_up_type),
            state: pb::FollowUpState::Pending as i32,
            ticket: None,
            failure: String::new(),
            attempts: 0,
            next_attempt_time: now,
        });
        if let Some(f) = &follow_up {
            store::insert_follow_up(&mut tx, f, now).await?;
        }
        if !store::record_answer(
            &mut tx,
            &survey.id,
            &answer,
            follow_up.as_ref().map(|f| f.id.as_str()),
        )
        .await?
        {
            return Err(FeedbackError::FailedPrecondition(format!(
                "surveys/{} was already answered; a survey takes one answer",
                survey.id
            )));
        }
        self.emit(
            &mut tx,
            &actor.id,
            now,
            EventDraft {
                kind: pb::EventType::SurveyResponded,
                resource: format!("surveys/{}", survey.id),
                customer_id: &survey.customer_id,
                ticket: survey.ticket_id.as_ref().map(|t| format!("tickets/{t}")),
                score: answer.score,
                follow_up_ticket: None,
                kind_name: survey_kind_name(survey.kind),
            },
        )
        .await?;
        let updated = store::get_survey(&mut tx, &survey.id)
            .await?
            .ok_or_else(|| FeedbackError::NotFound(format!("surveys/{}", survey.id)))?;
        self.commit(tx).await?;
        if follow_up.is_some() {
            self.follow_up_queued.notify_one();
        }
        Ok(updated)
    }

    /// A survey the actor may see.
    pub async fn get_survey(&self, actor: &Actor, id: &str) -> Result<SurveyRecord, FeedbackError> {
        let mut conn = self.conn().await?;
        store::get_survey(&mut conn, id)
            .await?
            .filter(|s| visible(actor, &s.customer_id))
            .ok_or_else(|| FeedbackError::NotFound(format!("surveys/{id}")))
    }

    /// A page of surveys (a customer's own only, for a customer).
    pub async fn list_surveys(
        &self,
        actor: &Actor,
        mut filter: SurveyFilter,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<SurveyRecord>, FeedbackError> {
        if let Some(own) = &actor.customer_id {
            filter.customer_id = Some(own.clone());
        }
        let mut conn = self.conn().await?;
        Ok(store::list_surveys(&mut conn, &filter, after, limit).await?)
    }

    // ----- NPS campaigns --------------------------------------------------------------------

    /// The campaign an earlier CreateNpsCampaign with this request id created, if the request is
    /// the same; lets a retry succeed without asking the customers service again.
    pub async fn replay(
        &self,
        request_id: &str,
        operation: &str,
        hash: &str,
    ) -> Result<Option<String>, FeedbackError> {
        let mut conn = self.conn().await?;
        let claim =
            kefu_db::idempotency::lookup_request_id(&mut conn, request_id, operation).await?;
        Ok(claim.replay(request_id, hash)?)
    }

    /// Creates a campaign and one NPS survey per customer, in one transaction.
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        display_name: String,
        segment: SegmentRecord,
        customer_ids: &[String],
        request: Option<(&str, &str)>,
    ) -> Result<CampaignRecord, FeedbackError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let id = new_id();
        if let Some((request_id, hash)) = request
            && let Some(existing) = kefu_db::idempotency::claim(
                &mut tx,
                request_id,
                "CreateNpsCampaign",
                hash,
                &format!("npsCampaigns/{id}"),
                now,
            )
            .await?
        {
            drop(tx);
            return self
                .get_campaign(existing.trim_start_matches("npsCampaigns/"))
                .await;
        }
        let mut campaign = CampaignRecord {
            id: id.clone(),
            display_name,
            segment,
            survey_count: 0,
            creator: actor.id.clone(),
            create_time: now,
        };
        store::insert_campaign(&mut tx, &campaign).await?;
        for customer_id in customer_ids {
            let mut survey = self.new_survey(
                NPS,
                format!("npsCampaigns/{id}/customers/{customer_id}"),
                customer_id,
                now,
            );
            survey.campaign_id = Some(id.clone());
            if self.create_survey(&mut tx, &survey, now).await? {
                campaign.survey_count += 1;
            }
        }
        store::set_survey_count(&mut tx, &id, campaign.survey_count).await?;
        self.commit(tx).await?;
        Ok(campaign)
    }

    /// A campaign by id.
    pub async fn get_campaign(&self, id: &str) -> Result<CampaignRecord, FeedbackError> {
        let mut conn = self.conn().await?;
        store::get_campaign(&mut conn, id)
            .await?
            .ok_or_else(|| FeedbackError::NotFound(format!("npsCampaigns/{id}")))
    }

    // ----- feedback -------------------------------------------------------------------------

    /// Stores feedback; a complaint also queues its COMPLAINT ticket, in the same transaction.
    pub async fn submit_feedback(
        &self,
        actor: &Actor,
        new: NewFeedback,
        request: Option<(&str, &str)>,
    ) -> Result<FeedbackRecord, FeedbackError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let id = new_id();
        if let Some((request_id, hash)) = request
            && let Some(existing) = kefu_db::idempotency::claim(
                &mut tx,
                request_id,
                "SubmitFeedback",
                hash,
                &format!("feedback/{id}"),
                now,
            )
            .await?
        {
            drop(tx);
            return self
                .get_feedback(actor, existing.trim_start_matches("feedback/"))
                .await;
        }
        let complaint = new.kind == pb::FeedbackKind::Complaint as i32;
        let mut entry = FeedbackRecord {
            id: id.clone(),
            kind: new.kind,
            customer_id: new.customer_id,
            body: new.body,
            channel: new.channel,
            ticket_id: new.ticket_id,
            state: if complaint {
                pb::FeedbackState::InProgress as i32
            } else {
                pb::FeedbackState::Received as i32
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
                source: format!("feedback/{id}"),
                request: follow_up::for_complaint(&entry),
                state: pb::FollowUpState::Pending as i32,
                ticket: None,
                failure: String::new(),
                attempts: 0,
                next_attempt_time: now,
            };
            store::insert_follow_up(&mut tx, &f, now).await?;
            entry.follow_up = Some(f);
        }
        store::insert_feedback(&mut tx, &entry).await?;
        self.emit(
            &mut tx,
            &actor.id,
            now,
            EventDraft {
                kind: pb::EventType::FeedbackReceived,
                resource: format!("feedback/{id}"),
                customer_id: &entry.customer_id,
                ticket: entry.ticket_id.as_ref().map(|t| format!("tickets/{t}")),
                score: 0,
                follow_up_ticket: None,
                kind_name: feedback_kind_name(entry.kind),
            },
        )
        .await?;
        self.commit(tx).await?;
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
    ) -> Result<FeedbackRecord, FeedbackError> {
        let mut conn = self.conn().await?;
        store::get_feedback(&mut conn, id)
            .await?
            .filter(|e| visible(actor, &e.customer_id))
            .ok_or_else(|| FeedbackError::NotFound(format!("feedback/{id}")))
    }

    /// A page of entries (a customer's own only, for a customer).
    pub async fn list_feedback(
        &self,
        actor: &Actor,
        mut filter: FeedbackFilter,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<FeedbackRecord>, FeedbackError> {
        if let Some(own) = &actor.customer_id {
            filter.customer_id = Some(own.clone());
        }
        let mut conn = self.conn().await?;
        Ok(store::list_feedback(&mut conn, &filter, after, limit).await?)
    }

    // ----- follow-ups -----------------------------------------------------------------------

    /// Follow-ups due now.
    pub async fn due_follow_ups(&self, now: i64) -> Result<Vec<FollowUpRecord>, FeedbackError> {
        let mut conn = self.conn().await?;
        Ok(store::due_follow_ups(
            &mut conn,
            pb::FollowUpState::Pending as i32,
            now,
            FOLLOW_UP_BATCH,
        )
        .await?)
    }

    /// When the next queued follow-up is due.
    pub async fn next_follow_up_time(&self) -> Result<Option<i64>, FeedbackError> {
        let mut conn = self.conn().await?;
        Ok(store::next_due_time(&mut conn, pb::FollowUpState::Pending as i32).await?)
    }

    /// Records the ticket a follow-up opened and emits FOLLOW_UP_OPENED, once. `status` is the
    /// ticket's status as the tickets service answered: when the answer comes late (the request
    /// was retried after an outage) the complaint's ticket may already be solved, and the events
    /// saying so were read before this service knew the ticket was the complaint's.
    pub async fn follow_up_opened(
        &self,
        follow_up: &FollowUpRecord,
        ticket: &str,
        status: &str,
    ) -> Result<(), FeedbackError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let finished = store::finish_follow_up(
            &mut tx,
            &follow_up.id,
            pb::FollowUpState::Pending as i32,
            pb::FollowUpState::Opened as i32,
            Some(ticket),
            "",
            now,
        )
        .await?;
        if !finished {
            return Ok(());
        }
        let (kind_name, original) = self.source_facts(&mut tx, &follow_up.source).await?;
        if let Some(entry_id) = follow_up.source.strip_prefix("feedback/")
            && complaint_state(status) == pb::FeedbackState::Resolved
            && store::resolve_unmoved_feedback(&mut tx, entry_id, now).await?
        {
            self.emit(
                &mut tx,
                SERVICE_ACTOR,
                now,
                EventDraft {
                    kind: pb::EventType::FeedbackResolved,
                    resource: follow_up.source.clone(),
                    customer_id: &follow_up.request.requester,
                    ticket: Some(ticket.to_owned()),
                    score: 0,
                    follow_up_ticket: None,
                    kind_name,
                },
            )
            .await?;
        }
        self.emit(
            &mut tx,
            SERVICE_ACTOR,
            now,
            EventDraft {
                kind: pb::EventType::FollowUpOpened,
                resource: follow_up.source.clone(),
                customer_id: &follow_up.request.requester,
                ticket: original,
                score: 0,
                follow_up_ticket: Some(ticket.to_owned()),
                kind_name,
            },
        )
        .await?;
        self.commit(tx).await
    }

    /// The kind name and ticket of a follow-up's survey or feedback entry.
    async fn source_facts(
        &self,
        conn: &mut AnyConnection,
        source: &str,
    ) -> Result<(&'static str, Option<String>), FeedbackError> {
        let facts = if let Some(id) = source.strip_prefix("surveys/") {
            store::get_survey(conn, id)
                .await?
                .map(|s| (survey_kind_name(s.kind), s.ticket_id))
        } else if let Some(id) = source.strip_prefix("feedback/") {
            store::get_feedback(conn, id)
                .await?
                .map(|e| (feedback_kind_name(e.kind), e.ticket_id))
        } else {
            None
        };
        Ok(facts
            .map(|(kind, ticket)| (kind, ticket.map(|t| format!("tickets/{t}"))))
            .unwrap_or(("", None)))
    }

    /// Marks a follow-up the tickets service refused for good.
    pub async fn follow_up_failed(
        &self,
        follow_up: &FollowUpRecord,
        failure: &str,
    ) -> Result<(), FeedbackError> {
        let mut conn = self.conn().await?;
        store::finish_follow_up(
            &mut conn,
            &follow_up.id,
            pb::FollowUpState::Pending as i32,
            pb::FollowUpState::Failed as i32,
            None,
            failure,
            now_micros(),
        )
        .await?;
        Ok(())
    }

    /// Schedules another try of a follow-up the tickets service could not take now.
    pub async fn follow_up_retry(
        &self,
        follow_up: &FollowUpRecord,
        failure: &str,
    ) -> Result<(), FeedbackError> {
        let mut conn = self.conn().await?;
        let now = now_micros();
        store::retry_follow_up(
            &mut conn,
            &follow_up.id,
            now + retry_delay_micros(follow_up.attempts),
            failure,
            now,
        )
        .await?;
        Ok(())
    }

    // ----- privacy --------------------------------------------------------------------------

    /// Removes an erased customer's comments and feedback text (scores stay, for statistics),
    /// including the text queued for tickets not yet opened, and records that the consumer of
    /// `source` got to `cursor`, in one transaction. Idempotent.
    pub async fn customer_erased(
        &self,
        customer_id: Option<&str>,
        source: &str,
        cursor: &str,
    ) -> Result<u64, FeedbackError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let mut changed = 0;
        if let Some(customer_id) = customer_id {
            changed += store::anonymize_surveys(&mut tx, customer_id).await?;
            changed += store::anonymize_feedback(&mut tx, customer_id, now).await?;
            for mut f in store::follow_ups_of_customer(&mut tx, customer_id).await? {
                // A complaint's ticket carries the complaint's words: a ticket not yet opened
                // must not open with them.
                if f.source.starts_with("feedback/") && !f.request.description.is_empty() {
                    f.request.description = String::new();
                    f.request.subject =
                        "Complaint (text removed: the customer was erased)".to_owned();
                    store::set_follow_up_request(&mut tx, &f.id, &f.request, now).await?;
                }
            }
            if changed > 0 {
                self.emit(
                    &mut tx,
                    SERVICE_ACTOR,
                    now,
                    EventDraft {
                        kind: pb::EventType::CustomerAnonymized,
                        resource: format!("customers/{customer_id}"),
                        customer_id,
                        ticket: None,
                        score: 0,
                        follow_up_ticket: None,
                        kind_name: "",
                    },
                )
                .await?;
            }
        }
        cursors::set(&mut tx, source, cursor, now).await?;
        self.commit(tx).await?;
        Ok(changed)
    }

    // ----- summaries ------------------------------------------------------------------------

    /// Figures for surveys created in `[from, to)`.
    pub async fn summary(
        &self,
        key: SummaryKey,
        from: i64,
        to: i64,
    ) -> Result<Vec<SummaryRow>, FeedbackError> {
        let mut conn = self.conn().await?;
        Ok(store::summary(&mut conn, key, from, to).await?)
    }
}

/// Whether the actor may see a record of `customer_id`.
fn visible(actor: &Actor, customer_id: &str) -> bool {
    actor
        .customer_id
        .as_deref()
        .is_none_or(|own| own == customer_id)
}

/// A stored event as the `WatchEvents` message, with its cursor.
pub fn decode_event(stored: &outbox::StoredEvent) -> Option<pb::Event> {
    let mut event: pb::Event = kefu_server::events::decode(stored)?;
    event.cursor = stored.seq.to_string();
    Some(event)
}

pub use kefu_server::events::timestamp;
