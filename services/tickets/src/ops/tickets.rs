//! Creating, reading, listing and updating tickets.

use kefu_db::idempotency::Replay;
use kefu_db::idempotency::RequestKey;
use kefu_proto::tickets::v1 as pb;
use kefu_server::common::Channel;
use kefu_server::outgoing::Caller;
use kefu_server::{ServiceError, Violations};

use super::{Actor, EventDraft, Tickets, check_etag, load, load_seen, new_id};
use crate::domain::access::may_request_for;
use crate::domain::calendar::Clock;
use crate::domain::kinds::TicketStatus;
use crate::domain::scope::Visibility;
use crate::domain::sla::SlaRecord;
use crate::domain::ticket::{TicketFields, TicketRecord, diff, ticket_name};
use crate::remote;
use crate::store::{self, TicketFilter, TicketOrder};

/// CreateTicket, validated.
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// Editable fields.
    pub fields: TicketFields,
    /// Customer id of the requester.
    pub requester_id: String,
    /// Where it came in.
    pub channel: Channel,
    /// Group id.
    pub group_id: Option<String>,
    /// A CLOSED ticket this follows up.
    pub follow_up_of: Option<String>,
    /// The request id, if the client sent one.
    pub request: Option<RequestKey>,
    /// Who asked, for the requester lookup made on their behalf.
    pub caller: Caller,
}

/// UpdateTicket, validated: which ticket, the client's values for the masked paths, the etag.
#[derive(Debug, Clone)]
pub struct FieldUpdate {
    /// Ticket id.
    pub id: String,
    /// The values; only the masked paths are read.
    pub fields: TicketFields,
    /// Mask paths, from [`crate::domain::ticket::UPDATABLE`].
    pub paths: Vec<&'static str>,
    /// Current etag, or empty.
    pub etag: String,
}

impl Tickets {
    /// Creates a ticket for a requester the customers service confirms, or returns the ticket an
    /// earlier identical request created — answered from this database alone, so a retry
    /// succeeds even while the customers service is down.
    pub async fn create_ticket(
        &self,
        actor: &Actor,
        command: NewTicket,
    ) -> Result<TicketRecord, ServiceError> {
        if !may_request_for(actor.customer_id.as_deref(), &command.requester_id) {
            return Err(ServiceError::PermissionDenied(
                "a customer can only open tickets as its own requester".to_owned(),
            ));
        }
        if let Some(request) = &command.request {
            let mut conn = self.ctx.db.read().await?;
            if let Some(existing) = request.replay(&mut conn).await? {
                return self
                    .load_visible(&mut conn, actor, existing.trim_start_matches("tickets/"))
                    .await;
            }
        }
        // Checked before anything is written: no ticket without a known requester.
        let requester =
            remote::customers::requester(&self.customers, &command.caller, &command.requester_id)
                .await?;
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let id = new_id();
        if let Some(request) = &command.request
            && let Some(existing) = request.claim(&mut tx, &ticket_name(&id), now).await?
        {
            return load(&mut tx, existing.trim_start_matches("tickets/")).await;
        }
        if let Some(group_id) = &command.group_id
            && store::live_group(&mut tx, group_id).await?.is_none()
        {
            return Err(ServiceError::NotFound(format!("groups/{group_id}")));
        }
        if let Some(original) = &command.follow_up_of
            && load(&mut tx, original).await?.requester_id != requester.id
        {
            return Err(ServiceError::FailedPrecondition(format!(
                "{} has another requester",
                ticket_name(original)
            )));
        }
        let account_owner = requester.account_owner.clone();
        let mut t = TicketRecord::new(id.clone(), command.fields, requester, command.channel, now);
        t.group_id = command.group_id;
        t.follow_up_of = command.follow_up_of;
        t.sla = SlaRecord::start(None, now, &Clock::Calendar);
        self.classify(&mut tx, &mut t.fields).await?;
        self.check_custom_fields(&mut tx, &mut t.fields).await?;
        self.apply_policy(&mut tx, &mut t).await?;
        let routed = self
            .route_new(&mut tx, &mut t, account_owner.as_deref(), now)
            .await?;
        store::insert_ticket(&mut tx, &t).await?;
        self.reindex(&mut tx, &t.id).await?;
        self.audit(&mut tx, actor, &id, diff(None, &t), now).await?;
        EventDraft::new(pb::EventType::TicketCreated, &t)
            .emit(&mut tx, actor, now)
            .await?;
        if let Some(how) = routed {
            self.record_routed(&mut tx, &t, &how, TicketStatus::New, now)
                .await?;
        }
        tx.commit().await?;
        Ok(t)
    }

    /// A ticket the actor may see.
    pub async fn get_ticket(&self, actor: &Actor, id: &str) -> Result<TicketRecord, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        self.load_visible(&mut conn, actor, id).await
    }

    /// Tickets in the order asked; any missing (or not visible) one fails the call.
    pub async fn batch_get(
        &self,
        actor: &Actor,
        ids: &[String],
    ) -> Result<Vec<TicketRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let seen = self.visibility(&mut conn, actor).await?;
        let found = store::find_all::<TicketRecord>(&mut conn, ids).await?;
        ids.iter()
            .map(|id| {
                found
                    .iter()
                    .find(|t| t.id == *id && seen.sees_ticket(t))
                    .cloned()
                    .ok_or_else(|| ServiceError::NotFound(ticket_name(id)))
            })
            .collect()
    }

    /// A page of the tickets the actor may see.
    pub async fn list_tickets(
        &self,
        actor: &Actor,
        mut filter: TicketFilter,
        order: TicketOrder,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<TicketRecord>, ServiceError> {
        // A customer's requester filter is always themselves, whatever they passed.
        if let Some(own) = &actor.customer_id {
            filter.requester_id = Some(own.clone());
        }
        let mut conn = self.ctx.db.read().await?;
        filter.visible = self.visibility(&mut conn, actor).await?;
        Ok(store::list_tickets(&mut conn, &filter, order, after, limit).await?)
    }

    /// Applies one field update inside `tx`: the masked fields are laid over the current ones
    /// here, so the cross-field rules see what will be stored.
    async fn update_in(
        &self,
        tx: &mut kefu_db::Write,
        actor: &Actor,
        seen: &Visibility,
        update: &FieldUpdate,
        now: i64,
    ) -> Result<TicketRecord, ServiceError> {
        let before = load_seen(tx, seen, &update.id).await?;
        let name = ticket_name(&update.id);
        check_etag(&name, before.version, &update.etag)?;
        if before.status == TicketStatus::Closed {
            return Err(ServiceError::FailedPrecondition(format!(
                "{name} is CLOSED and cannot change"
            )));
        }
        let mut after = before.clone();
        after.fields.overlay(&update.fields, &update.paths);
        if update
            .paths
            .iter()
            .any(|p| matches!(*p, "priority" | "urgency" | "impact"))
        {
            self.classify(tx, &mut after.fields).await?;
        }
        let mut v = Violations::new();
        after.fields.check_after_sales(&mut v);
        v.into_result()?;
        if update.paths.contains(&"custom_fields") {
            self.check_custom_fields(tx, &mut after.fields).await?;
        }
        if after.fields.priority != before.fields.priority
            || after.fields.ticket_type != before.fields.ticket_type
        {
            self.apply_policy(tx, &mut after).await?;
        }
        let changes = self.save(tx, actor, &before, &mut after, now).await?;
        if !changes.is_empty() {
            let mut draft = EventDraft::new(pb::EventType::TicketUpdated, &after);
            draft.changed_fields = changes.into_iter().map(|c| c.field).collect();
            draft.emit(tx, actor, now).await?;
        }
        Ok(after)
    }

    /// Updates the fields a mask names.
    pub async fn update_ticket<A: prost::Message + Default>(
        &self,
        actor: &Actor,
        update: &FieldUpdate,
        replay: &Replay<TicketRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &ticket_name(&update.id), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        tx.lock_in_order("tickets", [update.id.as_str()]).await?;
        let seen = self.visibility(&mut tx, actor).await?;
        let after = self
            .update_in(&mut tx, actor, &seen, update, self.ctx.now())
            .await?;
        let answer = replay.answer(&mut tx, &after).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// Applies every update in one transaction: all are written or none. A failure names the
    /// position of the update that failed.
    pub async fn batch_update<A: prost::Message + Default>(
        &self,
        actor: &Actor,
        updates: &[FieldUpdate],
        replay: &Replay<Vec<TicketRecord>, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay.earlier(&mut tx, "tickets", self.ctx.now()).await? {
            return Ok(answer);
        }
        tx.lock_in_order("tickets", updates.iter().map(|u| u.id.as_str()))
            .await?;
        let now = self.ctx.now();
        let seen = self.visibility(&mut tx, actor).await?;
        let mut out = Vec::with_capacity(updates.len());
        for (i, update) in updates.iter().enumerate() {
            let after = self
                .update_in(&mut tx, actor, &seen, update, now)
                .await
                .map_err(|error| in_batch(i, error))?;
            out.push(after);
        }
        let answer = replay.answer(&mut tx, &out).await?;
        tx.commit().await?;
        Ok(answer)
    }
}

/// An error of the `index`-th update of a batch, saying which.
fn in_batch(index: usize, error: ServiceError) -> ServiceError {
    match error {
        ServiceError::Invalid(violations) => {
            let mut prefixed = Violations::new();
            for (field, description) in violations.iter() {
                prefixed.add(format!("requests[{index}].{field}"), description);
            }
            ServiceError::Invalid(prefixed)
        }
        ServiceError::NotFound(what) => {
            ServiceError::NotFound(format!("requests[{index}]: {what}"))
        }
        ServiceError::StaleEtag(what) => {
            ServiceError::StaleEtag(format!("requests[{index}]: {what}"))
        }
        ServiceError::FailedPrecondition(why) => {
            ServiceError::FailedPrecondition(format!("requests[{index}]: {why}"))
        }
        other => other,
    }
}
