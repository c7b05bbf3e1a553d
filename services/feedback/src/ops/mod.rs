//! Use cases, one file each. Every orchestrator takes a validated command, answers a retried
//! request id from what the first request made, checks what it needs with other services, mints
//! ids and reads the injected clock, and writes the change and its outbox events in one
//! transaction; an event consumed from another service commits with the cursor after it.

mod campaigns;
mod events;
mod feedback;
mod follow_ups;
mod summary;
mod surveys;

pub use campaigns::NewCampaign;
pub use feedback::NewFeedback;
pub use surveys::NewAnswer;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kefu_db::Write;
use kefu_principal::InternalKey;
use kefu_proto::feedback::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::events::append as append_event;
use kefu_server::kit::Context;
use kefu_server::outgoing::Caller;
use rand::RngCore;
use tokio::sync::Notify;

use crate::domain::access::TicketScope;
use crate::domain::kinds::SurveyKind;
use crate::domain::records::SurveyRecord;
use kefu_server::customers::Customers;

use crate::remote::tickets::Tickets;
use crate::store;

/// The principal id the service's own background work acts as.
pub const SERVICE_ACTOR: &str = "feedback";

/// The service's use cases over its database, its clock and the services it calls.
#[derive(Clone, Debug)]
pub struct Feedback {
    pub(crate) ctx: Context,
    customers: Customers,
    tickets: Tickets,
    key: InternalKey,
    follow_up_queued: Arc<Notify>,
    survey_ttl_micros: i64,
    follow_up_type: &'static str,
}

/// What the use cases need beside the database and the clock.
#[derive(Debug, Clone)]
pub struct Services {
    /// The customers service.
    pub customers: Customers,
    /// The tickets service.
    pub tickets: Tickets,
    /// Signs the service's own requests (the follow-up tickets it opens).
    pub key: InternalKey,
    /// How long a survey can be answered.
    pub survey_ttl: Duration,
    /// The tickets type label of a low score's follow-up (`TASK` or `COMPLAINT`).
    pub follow_up_type: &'static str,
}

/// A new, time-sortable id.
fn new_id() -> String {
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
    /// For an agent reading: their call, to ask the tickets service for their ticket scope.
    pub agent: Option<Caller>,
}

impl Actor {
    /// Whether the actor may see a record of `customer_id`.
    fn sees(&self, customer_id: &str) -> bool {
        self.customer_id
            .as_deref()
            .is_none_or(|own| own == customer_id)
    }
}

/// What an event says, before it gets its cursor.
struct EventDraft<'a> {
    kind: pb::EventType,
    resource: String,
    customer_id: &'a str,
    ticket: Option<String>,
    score: i32,
    follow_up_ticket: Option<String>,
    kind_name: &'a str,
}

impl<'a> EventDraft<'a> {
    fn new(
        kind: pb::EventType,
        resource: String,
        customer_id: &'a str,
        kind_name: &'a str,
    ) -> Self {
        Self {
            kind,
            resource,
            customer_id,
            ticket: None,
            score: 0,
            follow_up_ticket: None,
            kind_name,
        }
    }
}

impl Feedback {
    /// The use cases over the service's database and clock, calling other services as
    /// `services` say.
    pub fn new(ctx: Context, services: Services) -> Self {
        Self {
            ctx,
            customers: services.customers,
            tickets: services.tickets,
            key: services.key,
            follow_up_queued: Arc::default(),
            survey_ttl_micros: i64::try_from(services.survey_ttl.as_micros()).unwrap_or(i64::MAX),
            follow_up_type: services.follow_up_type,
        }
    }

    /// The ticket scope narrowing what `actor` reads: an agent's own, everything for others.
    async fn scope(&self, actor: &Actor) -> Result<TicketScope, ServiceError> {
        match &actor.agent {
            Some(caller) => self.tickets.scope_of(caller, &actor.id).await,
            None => Ok(TicketScope::All),
        }
    }

    fn new_survey(
        &self,
        kind: SurveyKind,
        origin: String,
        customer_id: &str,
        now: i64,
    ) -> SurveyRecord {
        SurveyRecord {
            id: new_id(),
            kind,
            origin,
            customer_id: customer_id.to_owned(),
            ticket_id: None,
            assignee: String::new(),
            group_name: String::new(),
            channel: None,
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
        tx: &mut Write,
        survey: &SurveyRecord,
        now: i64,
    ) -> Result<bool, ServiceError> {
        if !store::insert_survey(tx, survey).await? {
            return Ok(false);
        }
        let resource = format!("surveys/{}", survey.id);
        let mut draft = EventDraft::new(
            pb::EventType::SurveyCreated,
            resource,
            &survey.customer_id,
            survey.kind.name(),
        );
        draft.ticket = survey.ticket_id.as_ref().map(|t| format!("tickets/{t}"));
        draft.emit(tx, SERVICE_ACTOR, now).await?;
        Ok(true)
    }
}

impl EventDraft<'_> {
    /// Appends the event to the outbox in `tx`, as done by `actor` at `now`.
    async fn emit(self, tx: &mut Write, actor: &str, now: i64) -> Result<(), ServiceError> {
        let customer = format!("customers/{}", self.customer_id);
        let event = pb::Event {
            cursor: String::new(),
            r#type: self.kind as i32,
            resource: self.resource.clone(),
            customer: customer.clone(),
            ticket: self.ticket.unwrap_or_default(),
            score: self.score,
            follow_up_ticket: self.follow_up_ticket.unwrap_or_default(),
            kind: self.kind_name.to_owned(),
            actor: actor.to_owned(),
            event_time: Some(kefu_server::time::timestamp(now)),
        };
        append_event(tx, &event, Some(&customer), now).await
    }
}
