//! Use cases: one transaction each; the change, its audit entry and its outbox events commit
//! together. Inputs arrive validated from `api`.

use kefu_db::outbox::{self, NewEvent, OutboxSignal};
use kefu_db::{Database, WriteTx, time::now_micros};
use kefu_principal::Principal;
use kefu_proto::tickets::v1 as pb;
use prost::Message;
use sqlx::AnyConnection;

use crate::domain::access::own_customer;
use crate::domain::calendar::Clock;
use crate::domain::lifecycle::{self, Move, Replier, pauses_clock, status_label};
use crate::domain::links::{self, LinkFacts};
use crate::domain::sla::{self, PolicyRecord, ScheduleRecord, SlaRecord};
use crate::domain::ticket::{
    AgentRecord, Change, CommentRecord, GroupRecord, TicketFields, TicketRecord, diff, ticket_name,
};
use crate::error::TicketsError;
use crate::store::{self, AuditRecord, TicketFilter, TicketOrder};

/// The principal id the service's own background work acts as.
pub const SERVICE_ACTOR: &str = "tickets";

/// The service's state.
#[derive(Clone, Debug)]
pub struct Tickets {
    /// The database.
    pub db: Database,
    /// Wakes `WatchEvents` streams after a commit.
    pub signal: OutboxSignal,
}

/// A new, time-sortable id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Who is acting and through what.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Principal id.
    pub id: String,
    /// Role name.
    pub role: String,
    /// The RPC or job.
    pub via: &'static str,
    /// For customers: their customer id.
    pub customer_id: Option<String>,
}

impl Actor {
    /// The caller of an RPC.
    pub fn of(principal: &Principal, via: &'static str) -> Self {
        Self {
            id: principal.id.clone(),
            role: principal.role.as_str().to_owned(),
            via,
            customer_id: own_customer(principal).map(str::to_owned),
        }
    }

    /// The service itself, for background jobs.
    pub fn service(via: &'static str) -> Self {
        Self {
            id: SERVICE_ACTOR.to_owned(),
            role: "INTEGRATION".to_owned(),
            via,
            customer_id: None,
        }
    }
}

/// The requester as the customers service reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    /// Customer id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Tier name (STANDARD, SILVER, GOLD, VIP).
    pub tier: String,
    /// Organization id.
    pub organization_id: Option<String>,
}

/// What CreateTicket asks for, validated.
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// Editable fields.
    pub fields: TicketFields,
    /// Channel.
    pub channel: i32,
    /// Group id.
    pub group_id: Option<String>,
    /// A CLOSED ticket this follows up.
    pub follow_up_of: Option<String>,
}

/// UpdateTicket, validated: which ticket, the client's values, the mask, the etag.
#[derive(Debug, Clone)]
pub struct FieldUpdate {
    /// Ticket id.
    pub id: String,
    /// The values (only the masked paths are read).
    pub input: pb::Ticket,
    /// Mask paths, from [`crate::domain::ticket::UPDATABLE`].
    pub paths: Vec<String>,
    /// Current etag, or empty.
    pub etag: String,
}

/// An error of the `index`-th update of a batch, saying which.
fn in_batch(index: usize, error: TicketsError) -> TicketsError {
    match error {
        TicketsError::Invalid(violations) => {
            let mut prefixed = kefu_server::Violations::new();
            for (field, description) in violations.iter() {
                prefixed.add(format!("requests[{index}].{field}"), description);
            }
            TicketsError::Invalid(prefixed)
        }
        TicketsError::NotFound(what) => {
            TicketsError::NotFound(format!("requests[{index}]: {what}"))
        }
        TicketsError::StaleEtag(what) => {
            TicketsError::StaleEtag(format!("requests[{index}]: {what}"))
        }
        TicketsError::FailedPrecondition(why) => {
            TicketsError::FailedPrecondition(format!("requests[{index}]: {why}"))
        }
        other => other,
    }
}

/// How a comment changes its ticket.
#[derive(Debug, Clone)]
pub struct NewComment {
    /// Text.
    pub body: String,
    /// Visible to the requester.
    pub public: bool,
    /// Channel.
    pub channel: i32,
    /// Attachments.
    pub attachments: Vec<crate::domain::ticket::AttachmentRecord>,
}

fn check_etag(name: &str, version: i64, etag: &str) -> Result<(), TicketsError> {
    if etag.is_empty() || kefu_server::etag::is_current(etag, name, version) {
        Ok(())
    } else {
        Err(TicketsError::StaleEtag(name.to_owned()))
    }
}

fn illegal(error: lifecycle::Illegal) -> TicketsError {
    TicketsError::FailedPrecondition(error.0)
}

fn status_of(value: i32) -> pb::TicketStatus {
    pb::TicketStatus::try_from(value).unwrap_or(pb::TicketStatus::Unspecified)
}

/// Moves `t` to `to` at `now`: pauses or resumes the SLA clock, meets or reopens targets, and
/// keeps the solve/close times and counters in step.
fn set_status(t: &mut TicketRecord, to: pb::TicketStatus, now: i64, clock: &Clock) {
    let from = status_of(t.status);
    if from == to {
        return;
    }
    t.status = to as i32;
    if to == pb::TicketStatus::Solved {
        t.sla.solved(now, clock);
        t.solve_time = Some(now);
        t.resolution_seconds = Some(t.sla.counted(clock, t.create_time, now));
    }
    if to == pb::TicketStatus::Closed {
        t.close_time = Some(now);
    }
    t.sla.set_paused(pauses_clock(to), now, clock);
    if from == pb::TicketStatus::Solved && to == pb::TicketStatus::Open {
        t.reopen_count += 1;
        t.solve_time = None;
        t.sla.reopened(clock);
    }
}

struct EventDraft<'a> {
    kind: pb::EventType,
    resource: &'a str,
    ticket: Option<&'a TicketRecord>,
    old_status: Option<i32>,
    changed_fields: Vec<String>,
    comment: Option<String>,
    sla_target: Option<&'static str>,
    related: Option<String>,
}

impl<'a> EventDraft<'a> {
    fn ticket(kind: pb::EventType, t: &'a TicketRecord, name: &'a str) -> Self {
        Self {
            kind,
            resource: name,
            ticket: Some(t),
            old_status: None,
            changed_fields: Vec::new(),
            comment: None,
            sla_target: None,
            related: None,
        }
    }
}

fn status_name(value: i32) -> String {
    status_of(value).as_str_name().to_owned()
}

fn facts(t: &TicketRecord) -> pb::TicketFacts {
    pb::TicketFacts {
        requester: format!("customers/{}", t.requester_id),
        assignee: t
            .assignee_id
            .as_ref()
            .map(|a| format!("agents/{a}"))
            .unwrap_or_default(),
        group: t
            .group_id
            .as_ref()
            .map(|g| format!("groups/{g}"))
            .unwrap_or_default(),
        channel: pb::Channel::try_from(t.channel)
            .map(|c| c.as_str_name())
            .unwrap_or_default()
            .to_owned(),
        r#type: pb::TicketType::try_from(t.fields.ticket_type)
            .map(|c| c.as_str_name())
            .unwrap_or_default()
            .to_owned(),
        status: status_name(t.status),
    }
}

impl Tickets {
    async fn emit(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        now: i64,
        draft: EventDraft<'_>,
    ) -> Result<(), TicketsError> {
        let event = pb::Event {
            cursor: String::new(),
            r#type: draft.kind as i32,
            resource: draft.resource.to_owned(),
            old_status: draft.old_status.map(status_name).unwrap_or_default(),
            new_status: match (draft.old_status, draft.ticket) {
                (Some(_), Some(t)) => status_name(t.status),
                _ => String::new(),
            },
            changed_fields: draft.changed_fields,
            comment: draft.comment.unwrap_or_default(),
            sla_target: draft.sla_target.unwrap_or_default().to_owned(),
            actor: actor.id.clone(),
            event_time: Some(timestamp(now)),
            ticket: draft.ticket.map(facts),
            related: draft.related.unwrap_or_default(),
        };
        outbox::append(
            tx,
            self.db.dialect(),
            NewEvent {
                event_type: draft.kind.as_str_name(),
                resource: draft.resource,
                subject: Some(draft.resource),
                payload: event.encode_to_vec(),
                event_time: now,
            },
        )
        .await?;
        Ok(())
    }

    async fn audit(
        &self,
        tx: &mut AnyConnection,
        actor: &Actor,
        ticket_id: &str,
        changes: Vec<Change>,
        now: i64,
    ) -> Result<(), TicketsError> {
        if changes.is_empty() {
            return Ok(());
        }
        store::insert_audit(
            tx,
            &AuditRecord {
                id: new_id(),
                ticket_id: ticket_id.to_owned(),
                actor: actor.id.clone(),
                actor_role: actor.role.clone(),
                via: actor.via.to_owned(),
                changes,
                create_time: now,
            },
        )
        .await?;
        Ok(())
    }

    async fn commit(&self, tx: WriteTx) -> Result<(), TicketsError> {
        tx.commit().await?;
        self.signal.notify();
        Ok(())
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, TicketsError> {
        Ok(self.db.pool().acquire().await?)
    }

    /// The clock of a policy: its schedule's business hours, or calendar time.
    async fn clock_for(
        &self,
        conn: &mut AnyConnection,
        policy: Option<&PolicyRecord>,
    ) -> Result<Clock, TicketsError> {
        let Some(schedule_id) = policy.and_then(|p| p.schedule_id.as_deref()) else {
            return Ok(Clock::Calendar);
        };
        let Some(schedule) = store::get_schedule(conn, schedule_id).await? else {
            return Ok(Clock::Calendar);
        };
        schedule.clock().map_err(|error| {
            TicketsError::FailedPrecondition(format!(
                "business schedule {schedule_id} cannot be used: {error}"
            ))
        })
    }

    async fn policy(
        &self,
        conn: &mut AnyConnection,
        id: Option<&str>,
    ) -> Result<Option<PolicyRecord>, TicketsError> {
        let Some(id) = id else { return Ok(None) };
        Ok(store::get_policy(conn, id).await?)
    }

    async fn ticket_clock(
        &self,
        conn: &mut AnyConnection,
        t: &TicketRecord,
    ) -> Result<Clock, TicketsError> {
        let policy = self.policy(conn, t.sla.policy_id.as_deref()).await?;
        self.clock_for(conn, policy.as_ref()).await
    }

    /// Chooses the policy for `t` and restarts its targets' lengths under it.
    async fn apply_policy(
        &self,
        conn: &mut AnyConnection,
        t: &mut TicketRecord,
    ) -> Result<(), TicketsError> {
        let policies = store::list_policies(conn, None, i64::MAX).await?;
        let chosen = sla::select(
            &policies,
            &sla::Facts {
                priority: t.fields.priority,
                tier: &t.requester_tier,
                ticket_type: t.fields.ticket_type,
                channel: t.channel,
                group: t.group_id.as_deref(),
            },
        );
        let clock = self.clock_for(conn, chosen).await?;
        t.sla.apply_policy(chosen, &clock);
        Ok(())
    }

    async fn load(&self, conn: &mut AnyConnection, id: &str) -> Result<TicketRecord, TicketsError> {
        store::get_ticket(conn, id)
            .await?
            .ok_or_else(|| TicketsError::NotFound(ticket_name(id)))
    }

    /// Loads a ticket the actor may see: customers only their own (others are NOT_FOUND).
    async fn load_visible(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        id: &str,
    ) -> Result<TicketRecord, TicketsError> {
        let t = self.load(conn, id).await?;
        match &actor.customer_id {
            Some(own) if *own != t.requester_id => Err(TicketsError::NotFound(ticket_name(id))),
            _ => Ok(t),
        }
    }

    /// Writes a changed ticket (version bumped), its audit entry, and returns the changes.
    async fn save(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        before: &TicketRecord,
        after: &mut TicketRecord,
        now: i64,
    ) -> Result<Vec<Change>, TicketsError> {
        let changes = diff(Some(before), after);
        after.version = before.version + 1;
        after.update_time = now;
        if !store::update_ticket(tx, after).await? {
            return Err(TicketsError::Conflict(ticket_name(&after.id)));
        }
        self.audit(tx, actor, &after.id, changes.clone(), now)
            .await?;
        Ok(changes)
    }

    /// Emits STATUS_CHANGED (and SOLVED / CLOSED) when the status moved.
    async fn emit_status(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        t: &TicketRecord,
        old_status: i32,
        now: i64,
    ) -> Result<(), TicketsError> {
        if old_status == t.status {
            return Ok(());
        }
        store::insert_status_change(tx, &new_id(), t, old_status, now).await?;
        let name = ticket_name(&t.id);
        let mut draft = EventDraft::ticket(pb::EventType::TicketStatusChanged, t, &name);
        draft.old_status = Some(old_status);
        self.emit(tx, actor, now, draft).await?;
        let extra = match status_of(t.status) {
            pb::TicketStatus::Solved => Some(pb::EventType::TicketSolved),
            pb::TicketStatus::Closed => Some(pb::EventType::TicketClosed),
            _ => None,
        };
        if let Some(kind) = extra {
            let mut draft = EventDraft::ticket(kind, t, &name);
            draft.old_status = Some(old_status);
            self.emit(tx, actor, now, draft).await?;
        }
        Ok(())
    }

    // ----- tickets ---------------------------------------------------------------------------

    /// Creates a ticket for a checked requester. Idempotent by `request_id`.
    pub async fn create_ticket(
        &self,
        actor: &Actor,
        new: NewTicket,
        requester: Requester,
        request: Option<(&str, &str)>,
    ) -> Result<TicketRecord, TicketsError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let id = new_id();
        if let Some((request_id, hash)) = request
            && let Some(existing) = kefu_db::idempotency::claim(
                &mut tx,
                request_id,
                "CreateTicket",
                hash,
                &ticket_name(&id),
                now,
            )
            .await?
        {
            drop(tx);
            let existing_id = existing.trim_start_matches("tickets/").to_owned();
            let mut conn = self.conn().await?;
            return self.load(&mut conn, &existing_id).await;
        }
        if let Some(group_id) = &new.group_id
            && store::get_group(&mut tx, group_id).await?.is_none()
        {
            return Err(TicketsError::NotFound(format!("groups/{group_id}")));
        }
        if let Some(original) = &new.follow_up_of {
            let original_ticket = self.load(&mut tx, original).await?;
            if original_ticket.requester_id != requester.id {
                return Err(TicketsError::FailedPrecondition(format!(
                    "{} has another requester",
                    ticket_name(original)
                )));
            }
        }
        let mut t = TicketRecord {
            id: id.clone(),
            fields: new.fields,
            requester_id: requester.id,
            requester_name: requester.display_name,
            requester_tier: requester.tier,
            requester_erased: false,
            organization_id: requester.organization_id,
            assignee_id: None,
            group_id: new.group_id,
            status: pb::TicketStatus::New as i32,
            channel: new.channel,
            sla: SlaRecord::default(),
            first_response_seconds: None,
            resolution_seconds: None,
            reopen_count: 0,
            agent_replies: 0,
            create_time: now,
            update_time: now,
            solve_time: None,
            close_time: None,
            version: 1,
            follow_up_of: new.follow_up_of,
            merged_into: None,
        };
        t.sla = SlaRecord::start(None, now, &Clock::Calendar);
        self.apply_policy(&mut tx, &mut t).await?;
        store::insert_ticket(&mut tx, &t).await?;
        self.audit(&mut tx, actor, &id, diff(None, &t), now).await?;
        let name = ticket_name(&id);
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft::ticket(pb::EventType::TicketCreated, &t, &name),
        )
        .await?;
        self.commit(tx).await?;
        Ok(t)
    }

    /// The ticket an earlier CreateTicket with this request id created, if the request is the
    /// same; lets a retry succeed even while the customers service is down.
    pub async fn replay_create(
        &self,
        actor: &Actor,
        request_id: &str,
        hash: &str,
    ) -> Result<Option<TicketRecord>, TicketsError> {
        let mut conn = self.conn().await?;
        let claim =
            kefu_db::idempotency::lookup_request_id(&mut conn, request_id, "CreateTicket").await?;
        match claim.replay(request_id, hash)? {
            Some(resource) => {
                let id = resource.trim_start_matches("tickets/");
                self.load_visible(&mut conn, actor, id).await.map(Some)
            }
            None => Ok(None),
        }
    }

    /// A ticket the actor may see.
    pub async fn get_ticket(&self, actor: &Actor, id: &str) -> Result<TicketRecord, TicketsError> {
        let mut conn = self.conn().await?;
        self.load_visible(&mut conn, actor, id).await
    }

    /// Tickets in the order asked; any missing (or not visible) one fails the call.
    pub async fn batch_get(
        &self,
        actor: &Actor,
        ids: &[String],
    ) -> Result<Vec<TicketRecord>, TicketsError> {
        let mut conn = self.conn().await?;
        let found = store::get_tickets(&mut conn, ids).await?;
        ids.iter()
            .map(|id| {
                found
                    .iter()
                    .find(|t| {
                        t.id == *id
                            && actor
                                .customer_id
                                .as_ref()
                                .is_none_or(|own| *own == t.requester_id)
                    })
                    .cloned()
                    .ok_or_else(|| TicketsError::NotFound(ticket_name(id)))
            })
            .collect()
    }

    /// A page of tickets (customers: their own only).
    pub async fn list_tickets(
        &self,
        actor: &Actor,
        mut filter: TicketFilter,
        order: TicketOrder,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<TicketRecord>, TicketsError> {
        if let Some(own) = &actor.customer_id {
            filter.requester_id = Some(own.clone());
        }
        let mut conn = self.conn().await?;
        Ok(store::list_tickets(&mut conn, &filter, order, after, limit).await?)
    }

    /// Applies one field update inside `tx`: the masked fields are merged into the current
    /// ones here, so the cross-field rules see what will be stored.
    async fn update_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        update: &FieldUpdate,
        now: i64,
    ) -> Result<TicketRecord, TicketsError> {
        let before = self.load(tx, &update.id).await?;
        let name = ticket_name(&update.id);
        check_etag(&name, before.version, &update.etag)?;
        if before.status == pb::TicketStatus::Closed as i32 {
            return Err(TicketsError::FailedPrecondition(format!(
                "{name} is CLOSED and cannot change"
            )));
        }
        let mut after = before.clone();
        let mut v = kefu_server::Violations::new();
        after.fields.read(&update.input, &update.paths, &mut v);
        after.fields.check_after_sales(&mut v);
        v.into_result().map_err(TicketsError::Invalid)?;
        let matching_changed = after.fields.priority != before.fields.priority
            || after.fields.ticket_type != before.fields.ticket_type;
        if matching_changed {
            self.apply_policy(tx, &mut after).await?;
        }
        let changes = self.save(tx, actor, &before, &mut after, now).await?;
        if !changes.is_empty() {
            let mut draft = EventDraft::ticket(pb::EventType::TicketUpdated, &after, &name);
            draft.changed_fields = changes.into_iter().map(|c| c.field).collect();
            self.emit(tx, actor, now, draft).await?;
        }
        Ok(after)
    }

    /// Updates the fields a mask names.
    pub async fn update_ticket(
        &self,
        actor: &Actor,
        update: &FieldUpdate,
    ) -> Result<TicketRecord, TicketsError> {
        let mut tx = self.db.begin_write().await?;
        let after = self.update_in(&mut tx, actor, update, now_micros()).await?;
        self.commit(tx).await?;
        Ok(after)
    }

    /// Applies every update in one transaction: all are written or none. A failure names the
    /// position of the update that failed.
    pub async fn batch_update(
        &self,
        actor: &Actor,
        updates: &[FieldUpdate],
    ) -> Result<Vec<TicketRecord>, TicketsError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let mut out = Vec::with_capacity(updates.len());
        for (i, update) in updates.iter().enumerate() {
            let after = self
                .update_in(&mut tx, actor, update, now)
                .await
                .map_err(|error| in_batch(i, error))?;
            out.push(after);
        }
        self.commit(tx).await?;
        Ok(out)
    }

    /// Assigns an agent and/or a group.
    pub async fn assign(
        &self,
        actor: &Actor,
        id: &str,
        assignee: Option<String>,
        group: Option<String>,
        etag: &str,
    ) -> Result<TicketRecord, TicketsError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let before = self.load(&mut tx, id).await?;
        let name = ticket_name(id);
        check_etag(&name, before.version, etag)?;
        let mut after = before.clone();
        if let Some(group_id) = &group {
            if store::get_group(&mut tx, group_id).await?.is_none() {
                return Err(TicketsError::NotFound(format!("groups/{group_id}")));
            }
            after.group_id = Some(group_id.clone());
        }
        match assignee {
            Some(agent_id) => {
                let agent = store::get_agent(&mut tx, &agent_id)
                    .await?
                    .ok_or_else(|| TicketsError::NotFound(format!("agents/{agent_id}")))?;
                if !agent.active {
                    return Err(TicketsError::FailedPrecondition(format!(
                        "agents/{agent_id} is inactive and cannot be assigned"
                    )));
                }
                if let Some(group_id) = &after.group_id
                    && !agent.groups.contains(group_id)
                {
                    return Err(TicketsError::FailedPrecondition(format!(
                        "agents/{agent_id} is not a member of groups/{group_id}"
                    )));
                }
                after.assignee_id = Some(agent_id);
            }
            None => {
                // A new group keeps the current assignee only if they are in it.
                if let (Some(current), Some(group_id)) = (&before.assignee_id, &after.group_id) {
                    let member = store::get_agent(&mut tx, current)
                        .await?
                        .is_some_and(|a| a.groups.contains(group_id));
                    if !member {
                        after.assignee_id = None;
                    }
                }
            }
        }
        let next = lifecycle::apply(
            status_of(before.status),
            Move::Assign,
            after.assignee_id.is_some(),
        )
        .map_err(illegal)?;
        let clock = self.ticket_clock(&mut tx, &before).await?;
        set_status(&mut after, next, now, &clock);
        if after.group_id != before.group_id {
            self.apply_policy(&mut tx, &mut after).await?;
        }
        self.save(&mut tx, actor, &before, &mut after, now).await?;
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft::ticket(pb::EventType::TicketAssigned, &after, &name),
        )
        .await?;
        self.emit_status(&mut tx, actor, &after, before.status, now)
            .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    /// SetPending, SetOnHold, Solve, Reopen, Close.
    pub async fn transition(
        &self,
        actor: &Actor,
        id: &str,
        action: Move,
        etag: &str,
    ) -> Result<TicketRecord, TicketsError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let before = self.load(&mut tx, id).await?;
        let name = ticket_name(id);
        check_etag(&name, before.version, etag)?;
        let next = lifecycle::apply(
            status_of(before.status),
            action,
            before.assignee_id.is_some(),
        )
        .map_err(illegal)?;
        let mut after = before.clone();
        let clock = self.ticket_clock(&mut tx, &before).await?;
        set_status(&mut after, next, now, &clock);
        self.save(&mut tx, actor, &before, &mut after, now).await?;
        self.emit_status(&mut tx, actor, &after, before.status, now)
            .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    // ----- merge and links -------------------------------------------------------------------

    /// Writes an internal note on `t` (by `actor`) and bumps its version, with an audit entry.
    async fn note(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        t: &TicketRecord,
        body: String,
        change: Change,
        now: i64,
    ) -> Result<TicketRecord, TicketsError> {
        let comment = CommentRecord {
            id: new_id(),
            ticket_id: t.id.clone(),
            body,
            public: false,
            author: actor.id.clone(),
            author_kind: pb::AuthorKind::System as i32,
            channel: pb::Channel::Api as i32,
            attachments: Vec::new(),
            create_time: now,
        };
        store::insert_comment(tx, &comment).await?;
        let mut after = t.clone();
        after.version = t.version + 1;
        after.update_time = now;
        if !store::update_ticket(tx, &after).await? {
            return Err(TicketsError::Conflict(ticket_name(&t.id)));
        }
        self.audit(tx, actor, &t.id, vec![change], now).await?;
        Ok(after)
    }

    /// Merges `source_id` into `target_id`; returns the target.
    pub async fn merge(
        &self,
        actor: &Actor,
        source_id: &str,
        target_id: &str,
        etag: &str,
    ) -> Result<TicketRecord, TicketsError> {
        if source_id == target_id {
            return Err(TicketsError::FailedPrecondition(
                "a ticket cannot be merged into itself".to_owned(),
            ));
        }
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let source = self.load(&mut tx, source_id).await?;
        let target = self.load(&mut tx, target_id).await?;
        let source_name = ticket_name(source_id);
        let target_name = ticket_name(target_id);
        check_etag(&source_name, source.version, etag)?;
        for t in [&source, &target] {
            if t.status == pb::TicketStatus::Closed as i32 {
                return Err(TicketsError::FailedPrecondition(format!(
                    "{} is CLOSED and cannot take part in a merge",
                    ticket_name(&t.id)
                )));
            }
        }
        if source.requester_id != target.requester_id {
            return Err(TicketsError::FailedPrecondition(format!(
                "{source_name} and {target_name} have different requesters: only a requester's own tickets merge"
            )));
        }
        let moved = store::comment_ids(&mut tx, source_id).await?;
        store::move_comments(&mut tx, &moved, target_id).await?;
        store::insert_merge(
            &mut tx,
            &store::MergeRecord {
                source_id: source_id.to_owned(),
                target_id: target_id.to_owned(),
                moved_comments: moved,
                source_status: source.status,
                source_solve_time: source.solve_time,
                create_time: now,
            },
        )
        .await?;
        let mut after = source.clone();
        let clock = self.ticket_clock(&mut tx, &source).await?;
        set_status(&mut after, pb::TicketStatus::Closed, now, &clock);
        after.merged_into = Some(target_id.to_owned());
        self.save(&mut tx, actor, &source, &mut after, now).await?;
        let mut draft = EventDraft::ticket(pb::EventType::TicketMerged, &after, &source_name);
        draft.related = Some(target_name.clone());
        self.emit(&mut tx, actor, now, draft).await?;
        self.emit_status(&mut tx, actor, &after, source.status, now)
            .await?;
        let target_after = self
            .note(
                &mut tx,
                actor,
                &target,
                format!(
                    "Merged {source_name} into this ticket: \"{}\"",
                    source.fields.subject
                ),
                Change {
                    field: "merged_from".to_owned(),
                    old: String::new(),
                    new: source_name,
                },
                now,
            )
            .await?;
        self.commit(tx).await?;
        Ok(target_after)
    }

    /// Takes a merged ticket back out; returns it.
    pub async fn unmerge(
        &self,
        actor: &Actor,
        source_id: &str,
    ) -> Result<TicketRecord, TicketsError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let source = self.load(&mut tx, source_id).await?;
        let source_name = ticket_name(source_id);
        let merge = store::get_merge(&mut tx, source_id).await?.ok_or_else(|| {
            TicketsError::FailedPrecondition(format!("{source_name} is not merged"))
        })?;
        let target = self.load(&mut tx, &merge.target_id).await?;
        let target_name = ticket_name(&merge.target_id);
        if target.status == pb::TicketStatus::Closed as i32 {
            return Err(TicketsError::FailedPrecondition(format!(
                "{target_name} is CLOSED: its comments can no longer move"
            )));
        }
        store::move_comments(&mut tx, &merge.moved_comments, source_id).await?;
        store::delete_merge(&mut tx, source_id).await?;
        let mut after = source.clone();
        let clock = self.ticket_clock(&mut tx, &source).await?;
        let restored = status_of(merge.source_status);
        // Back to where it was, not through the lifecycle: a merge's CLOSED is the one reversible close.
        after.status = restored as i32;
        after.close_time = None;
        after.solve_time = merge.source_solve_time;
        after.merged_into = None;
        after.sla.set_paused(pauses_clock(restored), now, &clock);
        self.save(&mut tx, actor, &source, &mut after, now).await?;
        let mut draft = EventDraft::ticket(pb::EventType::TicketUnmerged, &after, &source_name);
        draft.related = Some(target_name);
        self.emit(&mut tx, actor, now, draft).await?;
        // A restored status is not a new solve: no SOLVED event (no second survey), no stats row.
        let mut draft =
            EventDraft::ticket(pb::EventType::TicketStatusChanged, &after, &source_name);
        draft.old_status = Some(source.status);
        self.emit(&mut tx, actor, now, draft).await?;
        self.note(
            &mut tx,
            actor,
            &target,
            format!("Unmerged {source_name} from this ticket"),
            Change {
                field: "merged_from".to_owned(),
                old: source_name.clone(),
                new: String::new(),
            },
            now,
        )
        .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    async fn ancestors(
        &self,
        conn: &mut AnyConnection,
        id: &str,
    ) -> Result<Vec<String>, TicketsError> {
        let mut chain = Vec::new();
        let mut current = id.to_owned();
        while chain.len() <= links::MAX_DEPTH {
            let parent = store::list_links(conn, &current)
                .await?
                .into_iter()
                .find(|l| l.kind == pb::LinkKind::Parent as i32)
                .map(|l| l.other_id);
            match parent {
                Some(parent) if !chain.contains(&parent) => {
                    chain.push(parent.clone());
                    current = parent;
                }
                _ => break,
            }
        }
        Ok(chain)
    }

    /// Links two tickets.
    pub async fn link(
        &self,
        actor: &Actor,
        ticket_id: &str,
        other_id: &str,
        kind: pb::LinkKind,
    ) -> Result<store::LinkRecord, TicketsError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let ticket = self.load(&mut tx, ticket_id).await?;
        let other = self.load(&mut tx, other_id).await?;
        let ticket_links = store::list_links(&mut tx, ticket_id).await?;
        let other_links = store::list_links(&mut tx, other_id).await?;
        let ancestors = self.ancestors(&mut tx, ticket_id).await?;
        let parent_of_other = other_links
            .iter()
            .find(|l| l.kind == pb::LinkKind::Parent as i32)
            .map(|l| l.other_id.clone());
        links::check_link(
            kind,
            ticket_id,
            other_id,
            &LinkFacts {
                ancestors_of_ticket: &ancestors,
                parent_of_other: parent_of_other.as_deref(),
                already_linked: ticket_links.iter().any(|l| l.other_id == other_id),
                link_counts: (ticket_links.len(), other_links.len()),
            },
        )
        .map_err(TicketsError::FailedPrecondition)?;
        let back = match kind {
            pb::LinkKind::Child => pb::LinkKind::Parent,
            other => other,
        };
        let forward = store::LinkRecord {
            ticket_id: ticket_id.to_owned(),
            other_id: other_id.to_owned(),
            kind: kind as i32,
            create_time: now,
        };
        store::insert_link(&mut tx, &forward).await?;
        store::insert_link(
            &mut tx,
            &store::LinkRecord {
                ticket_id: other_id.to_owned(),
                other_id: ticket_id.to_owned(),
                kind: back as i32,
                create_time: now,
            },
        )
        .await?;
        for (t, to, link_kind) in [(&ticket, other_id, kind), (&other, ticket_id, back)] {
            let change = Change {
                field: format!(
                    "links.{}",
                    link_kind
                        .as_str_name()
                        .trim_start_matches("LINK_KIND_")
                        .to_lowercase()
                ),
                old: String::new(),
                new: ticket_name(to),
            };
            self.audit(&mut tx, actor, &t.id, vec![change], now).await?;
            let name = ticket_name(&t.id);
            let mut draft = EventDraft::ticket(pb::EventType::TicketLinked, t, &name);
            draft.related = Some(ticket_name(to));
            draft.changed_fields = vec!["links".to_owned()];
            self.emit(&mut tx, actor, now, draft).await?;
        }
        self.commit(tx).await?;
        Ok(forward)
    }

    /// Removes the link between two tickets.
    pub async fn unlink(
        &self,
        actor: &Actor,
        ticket_id: &str,
        other_id: &str,
    ) -> Result<(), TicketsError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let ticket = self.load(&mut tx, ticket_id).await?;
        let other = self.load(&mut tx, other_id).await?;
        if store::delete_link(&mut tx, ticket_id, other_id).await? == 0 {
            return Err(TicketsError::NotFound(format!(
                "a link between {} and {}",
                ticket_name(ticket_id),
                ticket_name(other_id)
            )));
        }
        for (t, to) in [(&ticket, other_id), (&other, ticket_id)] {
            let change = Change {
                field: "links".to_owned(),
                old: ticket_name(to),
                new: String::new(),
            };
            self.audit(&mut tx, actor, &t.id, vec![change], now).await?;
            let name = ticket_name(&t.id);
            let mut draft = EventDraft::ticket(pb::EventType::TicketLinked, t, &name);
            draft.related = Some(ticket_name(to));
            draft.changed_fields = vec!["links".to_owned()];
            self.emit(&mut tx, actor, now, draft).await?;
        }
        self.commit(tx).await?;
        Ok(())
    }

    /// A ticket's links the actor may see (customers: links to their own tickets only).
    pub async fn list_links(
        &self,
        actor: &Actor,
        ticket_id: &str,
    ) -> Result<Vec<store::LinkRecord>, TicketsError> {
        let mut conn = self.conn().await?;
        self.load_visible(&mut conn, actor, ticket_id).await?;
        let all = store::list_links(&mut conn, ticket_id).await?;
        let Some(own) = &actor.customer_id else {
            return Ok(all);
        };
        let others: Vec<String> = all.iter().map(|l| l.other_id.clone()).collect();
        let visible: Vec<String> = store::get_tickets(&mut conn, &others)
            .await?
            .into_iter()
            .filter(|t| t.requester_id == *own)
            .map(|t| t.id)
            .collect();
        Ok(all
            .into_iter()
            .filter(|l| visible.contains(&l.other_id))
            .collect())
    }

    // ----- comments --------------------------------------------------------------------------

    /// Adds a comment, with the status and SLA effects of a reply.
    pub async fn add_comment(
        &self,
        actor: &Actor,
        ticket_id: &str,
        new: NewComment,
    ) -> Result<(CommentRecord, TicketRecord), TicketsError> {
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let before = self.load_visible(&mut tx, actor, ticket_id).await?;
        let replier = if actor.customer_id.is_some() {
            Replier::Requester
        } else {
            Replier::Agent
        };
        let next = lifecycle::after_comment(status_of(before.status), new.public, replier)
            .map_err(illegal)?;
        let clock = self.ticket_clock(&mut tx, &before).await?;
        let mut after = before.clone();
        set_status(&mut after, next, now, &clock);
        let author_kind = match (replier, actor.role.as_str()) {
            (Replier::Requester, _) => pb::AuthorKind::Customer,
            (Replier::Agent, "INTEGRATION") => pb::AuthorKind::System,
            (Replier::Agent, _) => pb::AuthorKind::Agent,
        };
        if new.public {
            match replier {
                Replier::Agent => {
                    if after.first_response_seconds.is_none() {
                        after.first_response_seconds =
                            Some(after.sla.counted(&clock, after.create_time, now));
                    }
                    after.agent_replies += 1;
                    after.sla.agent_replied(now, &clock);
                }
                Replier::Requester => after.sla.requester_replied(now, &clock),
            }
        }
        let comment = CommentRecord {
            id: new_id(),
            ticket_id: ticket_id.to_owned(),
            body: new.body,
            public: new.public,
            author: actor.id.clone(),
            author_kind: author_kind as i32,
            channel: new.channel,
            attachments: new.attachments,
            create_time: now,
        };
        store::insert_comment(&mut tx, &comment).await?;
        let comment_name = format!("tickets/{ticket_id}/comments/{}", comment.id);
        let mut changes = diff(Some(&before), &after);
        changes.push(Change {
            field: if comment.public {
                "comment.public"
            } else {
                "comment.internal"
            }
            .to_owned(),
            old: String::new(),
            new: comment_name.clone(),
        });
        after.version = before.version + 1;
        after.update_time = now;
        if !store::update_ticket(&mut tx, &after).await? {
            return Err(TicketsError::Conflict(ticket_name(ticket_id)));
        }
        self.audit(&mut tx, actor, ticket_id, changes, now).await?;
        let name = ticket_name(ticket_id);
        let mut draft = EventDraft::ticket(pb::EventType::TicketCommented, &after, &name);
        draft.comment = Some(comment_name);
        self.emit(&mut tx, actor, now, draft).await?;
        self.emit_status(&mut tx, actor, &after, before.status, now)
            .await?;
        self.commit(tx).await?;
        Ok((comment, after))
    }

    /// A page of comments (customers: public ones on their own tickets).
    pub async fn list_comments(
        &self,
        actor: &Actor,
        ticket_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<CommentRecord>, TicketsError> {
        let mut conn = self.conn().await?;
        self.load_visible(&mut conn, actor, ticket_id).await?;
        Ok(store::list_comments(
            &mut conn,
            ticket_id,
            actor.customer_id.is_some(),
            after,
            i64::try_from(limit).unwrap_or(i64::MAX),
        )
        .await?)
    }

    /// A page of audit entries.
    pub async fn list_audits(
        &self,
        ticket_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, TicketsError> {
        let mut conn = self.conn().await?;
        self.load(&mut conn, ticket_id).await?;
        Ok(store::list_audits(
            &mut conn,
            ticket_id,
            after,
            i64::try_from(limit).unwrap_or(i64::MAX),
        )
        .await?)
    }

    /// GetTicketStats figures for `[start, end)` split by `dimension`.
    pub async fn stats(
        &self,
        dimension: store::Dimension,
        start: i64,
        end: i64,
    ) -> Result<std::collections::BTreeMap<String, store::StatsRow>, TicketsError> {
        let mut conn = self.conn().await?;
        Ok(store::ticket_stats(&mut conn, dimension, start, end).await?)
    }

    // ----- background work -------------------------------------------------------------------

    /// Marks every target due at or before `now` as breached: one audit entry and one event per
    /// breach. Returns how many tickets changed.
    pub async fn sweep_breaches(&self, now: i64) -> Result<usize, TicketsError> {
        let actor = Actor::service("sla-sweeper");
        let ids = {
            let mut conn = self.conn().await?;
            store::due_tickets(&mut conn, now, 200).await?
        };
        let mut changed = 0;
        for id in ids {
            let mut tx = self.db.begin_write().await?;
            let Some(before) = store::get_ticket(&mut tx, &id).await? else {
                continue;
            };
            let mut after = before.clone();
            let breached = after.sla.sweep(now);
            if breached.is_empty() {
                continue;
            }
            match self.save(&mut tx, &actor, &before, &mut after, now).await {
                // Another replica's sweeper (or a client) changed it first; the next round sees it.
                Err(TicketsError::Conflict(_)) => continue,
                other => other?,
            };
            let name = ticket_name(&id);
            for target in breached {
                let mut draft = EventDraft::ticket(pb::EventType::SlaBreached, &after, &name);
                draft.sla_target = Some(target.as_str());
                self.emit(&mut tx, &actor, now, draft).await?;
            }
            self.commit(tx).await?;
            changed += 1;
        }
        Ok(changed)
    }

    /// Closes tickets SOLVED at or before `solved_before`. Returns how many closed.
    pub async fn auto_close(&self, now: i64, solved_before: i64) -> Result<usize, TicketsError> {
        let actor = Actor::service("auto-close");
        let ids = {
            let mut conn = self.conn().await?;
            store::solved_before(
                &mut conn,
                pb::TicketStatus::Solved as i32,
                solved_before,
                200,
            )
            .await?
        };
        let mut closed = 0;
        for id in ids {
            let mut tx = self.db.begin_write().await?;
            let Some(before) = store::get_ticket(&mut tx, &id).await? else {
                continue;
            };
            if before.status != pb::TicketStatus::Solved as i32 {
                continue;
            }
            let mut after = before.clone();
            let clock = self.ticket_clock(&mut tx, &before).await?;
            set_status(&mut after, pb::TicketStatus::Closed, now, &clock);
            match self.save(&mut tx, &actor, &before, &mut after, now).await {
                Err(TicketsError::Conflict(_)) => continue,
                other => other?,
            };
            self.emit_status(&mut tx, &actor, &after, before.status, now)
                .await?;
            self.commit(tx).await?;
            closed += 1;
        }
        Ok(closed)
    }

    /// Anonymizes the requester snapshot of every ticket of an erased customer, and records that
    /// the consumer of `source` got to `cursor`, in one transaction. Idempotent.
    pub async fn requester_erased(
        &self,
        customer_id: Option<&str>,
        source: &str,
        cursor: &str,
    ) -> Result<usize, TicketsError> {
        let actor = Actor::service("customer-erased");
        let mut tx = self.db.begin_write().await?;
        let now = now_micros();
        let mut changed = 0;
        if let Some(customer_id) = customer_id {
            for before in store::tickets_of_requester(&mut tx, customer_id).await? {
                if before.requester_erased {
                    continue;
                }
                let mut after = before.clone();
                after.requester_name = String::new();
                after.requester_erased = true;
                self.save(&mut tx, &actor, &before, &mut after, now).await?;
                let name = ticket_name(&after.id);
                self.emit(
                    &mut tx,
                    &actor,
                    now,
                    EventDraft::ticket(pb::EventType::RequesterAnonymized, &after, &name),
                )
                .await?;
                changed += 1;
            }
        }
        kefu_db::cursors::set(&mut tx, source, cursor, now).await?;
        self.commit(tx).await?;
        Ok(changed)
    }

    /// Where the consumer of `source` got to.
    pub async fn cursor(&self, source: &str) -> Result<Option<String>, TicketsError> {
        let mut conn = self.conn().await?;
        Ok(kefu_db::cursors::get(&mut conn, source).await?)
    }

    // ----- teams -----------------------------------------------------------------------------

    /// Creates a group with a unique name.
    pub async fn create_group(
        &self,
        display_name: String,
        description: String,
    ) -> Result<GroupRecord, TicketsError> {
        let mut tx = self.db.begin_write().await?;
        if store::group_name_taken(&mut tx, &display_name).await? {
            return Err(TicketsError::AlreadyExists {
                reason: "GROUP_NAME_TAKEN",
                message: format!("a group named {display_name:?} exists"),
            });
        }
        let now = now_micros();
        let group = GroupRecord {
            id: new_id(),
            display_name,
            description,
            create_time: now,
            version: 1,
        };
        store::insert_group(&mut tx, &group).await?;
        self.commit(tx).await?;
        Ok(group)
    }

    /// A page of groups by name.
    pub async fn list_groups(
        &self,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> Result<Vec<GroupRecord>, TicketsError> {
        let mut conn = self.conn().await?;
        Ok(store::list_groups(&mut conn, after, i64::try_from(limit).unwrap_or(i64::MAX)).await?)
    }

    /// Creates an agent.
    pub async fn create_agent(&self, agent: AgentRecord) -> Result<AgentRecord, TicketsError> {
        let mut tx = self.db.begin_write().await?;
        if store::get_agent(&mut tx, &agent.id).await?.is_some() {
            return Err(TicketsError::AlreadyExists {
                reason: "AGENT_EXISTS",
                message: format!("agents/{} exists", agent.id),
            });
        }
        if store::agent_with_email(&mut tx, &agent.email)
            .await?
            .is_some()
        {
            return Err(TicketsError::AlreadyExists {
                reason: "EMAIL_TAKEN",
                message: "another agent has this email".to_owned(),
            });
        }
        store::insert_agent(&mut tx, &agent).await?;
        self.commit(tx).await?;
        Ok(agent)
    }

    /// One agent.
    pub async fn get_agent(&self, id: &str) -> Result<AgentRecord, TicketsError> {
        let mut conn = self.conn().await?;
        store::get_agent(&mut conn, id)
            .await?
            .ok_or_else(|| TicketsError::NotFound(format!("agents/{id}")))
    }

    /// Applies `change` to an agent.
    pub async fn update_agent(
        &self,
        id: &str,
        etag: &str,
        change: impl FnOnce(&mut AgentRecord),
    ) -> Result<AgentRecord, TicketsError> {
        let mut tx = self.db.begin_write().await?;
        let before = store::get_agent(&mut tx, id)
            .await?
            .ok_or_else(|| TicketsError::NotFound(format!("agents/{id}")))?;
        let name = format!("agents/{id}");
        check_etag(&name, before.version, etag)?;
        let mut after = before.clone();
        change(&mut after);
        after.version = before.version + 1;
        if after.email != before.email
            && store::agent_with_email(&mut tx, &after.email)
                .await?
                .is_some()
        {
            return Err(TicketsError::AlreadyExists {
                reason: "EMAIL_TAKEN",
                message: "another agent has this email".to_owned(),
            });
        }
        if !store::update_agent(&mut tx, &after, now_micros()).await? {
            return Err(TicketsError::Conflict(name));
        }
        self.commit(tx).await?;
        Ok(after)
    }

    /// A page of agents.
    pub async fn list_agents(
        &self,
        group_id: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AgentRecord>, TicketsError> {
        let mut conn = self.conn().await?;
        if let Some(group_id) = group_id
            && store::get_group(&mut conn, group_id).await?.is_none()
        {
            return Err(TicketsError::NotFound(format!("groups/{group_id}")));
        }
        Ok(store::list_agents(
            &mut conn,
            group_id,
            after,
            i64::try_from(limit).unwrap_or(i64::MAX),
        )
        .await?)
    }

    /// Adds or removes a membership; returns the agent.
    pub async fn set_membership(
        &self,
        group_id: &str,
        agent_id: &str,
        member: bool,
    ) -> Result<AgentRecord, TicketsError> {
        let mut tx = self.db.begin_write().await?;
        if store::get_group(&mut tx, group_id).await?.is_none() {
            return Err(TicketsError::NotFound(format!("groups/{group_id}")));
        }
        if store::get_agent(&mut tx, agent_id).await?.is_none() {
            return Err(TicketsError::NotFound(format!("agents/{agent_id}")));
        }
        if member {
            store::add_member(&mut tx, group_id, agent_id).await?;
        } else {
            store::remove_member(&mut tx, group_id, agent_id).await?;
        }
        let agent = store::get_agent(&mut tx, agent_id)
            .await?
            .ok_or_else(|| TicketsError::NotFound(format!("agents/{agent_id}")))?;
        self.commit(tx).await?;
        Ok(agent)
    }

    // ----- SLA configuration -----------------------------------------------------------------

    /// Creates a business schedule (already checked).
    pub async fn create_schedule(
        &self,
        schedule: ScheduleRecord,
    ) -> Result<ScheduleRecord, TicketsError> {
        let mut tx = self.db.begin_write().await?;
        store::insert_schedule(&mut tx, &schedule).await?;
        self.commit(tx).await?;
        Ok(schedule)
    }

    /// A page of schedules.
    pub async fn list_schedules(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ScheduleRecord>, TicketsError> {
        let mut conn = self.conn().await?;
        Ok(
            store::list_schedules(&mut conn, after, i64::try_from(limit).unwrap_or(i64::MAX))
                .await?,
        )
    }

    /// Creates an SLA policy whose schedule and groups exist.
    pub async fn create_policy(&self, policy: PolicyRecord) -> Result<PolicyRecord, TicketsError> {
        let mut tx = self.db.begin_write().await?;
        if let Some(schedule_id) = &policy.schedule_id
            && store::get_schedule(&mut tx, schedule_id).await?.is_none()
        {
            return Err(TicketsError::NotFound(format!(
                "businessSchedules/{schedule_id}"
            )));
        }
        for group_id in &policy.groups {
            if store::get_group(&mut tx, group_id).await?.is_none() {
                return Err(TicketsError::NotFound(format!("groups/{group_id}")));
            }
        }
        store::insert_policy(&mut tx, &policy).await?;
        self.commit(tx).await?;
        Ok(policy)
    }

    /// A page of policies in the order they are tried.
    pub async fn list_policies(
        &self,
        after: Option<&(i64, i64, String)>,
        limit: usize,
    ) -> Result<Vec<PolicyRecord>, TicketsError> {
        let mut conn = self.conn().await?;
        Ok(
            store::list_policies(&mut conn, after, i64::try_from(limit).unwrap_or(i64::MAX))
                .await?,
        )
    }
}

/// A stored event as the proto message, with its cursor.
pub fn decode_event(stored: &outbox::StoredEvent) -> Option<pb::Event> {
    let mut event: pb::Event = kefu_server::events::decode(stored)?;
    event.cursor = stored.seq.to_string();
    Some(event)
}

pub use kefu_server::events::timestamp;

/// The short status label, for messages.
pub fn label(status: i32) -> &'static str {
    status_label(status_of(status))
}
