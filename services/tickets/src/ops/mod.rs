//! Use cases, one file each. Every orchestrator takes a validated command, answers a retried
//! request id from what the first request made, looks up what it needs from other services,
//! mints ids and reads the injected clock, and writes the change, its audit entry and its outbox
//! events in one transaction: they commit together or not at all.

mod classify;
mod comments;
mod escalation;
mod fields;
mod followers;
mod jobs;
mod lifecycle;
mod links;
mod merges;
mod reports;
mod retire;
mod routing;
mod search;
mod sla;
mod team;
mod tickets;
mod views;

pub use comments::NewComment;
pub use routing::GroupUpdate;
pub use team::AgentUpdate;
pub use tickets::{FieldUpdate, NewTicket};

use kefu_db::Write;
use kefu_principal::{Principal, Role};
use kefu_proto::tickets::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::events;
use kefu_server::kit::Context;
use sqlx::AnyConnection;

use crate::domain::access::own_customer;
use crate::domain::calendar::Clock;
use crate::domain::kinds::TicketStatus;
use crate::domain::policy::ScheduleRecord;
use crate::domain::policy::{Facts, PolicyRecord, select};
use crate::domain::scope::Visibility;
use crate::domain::ticket::{Change, TicketRecord, diff, ticket_name};
use crate::store::{self, AuditRecord};
use kefu_server::customers::Customers;

/// The principal id the service's own background work acts as.
pub const SERVICE_ACTOR: &str = "tickets";

/// The service's use cases over its database, its clock and the customers service.
#[derive(Clone, Debug)]
pub struct Tickets {
    ctx: Context,
    customers: Customers,
}

/// A new, time-sortable id.
fn new_id() -> String {
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

/// What an event says about a ticket, before it gets its cursor.
struct EventDraft<'a> {
    kind: pb::EventType,
    ticket: &'a TicketRecord,
    old_status: Option<TicketStatus>,
    changed_fields: Vec<String>,
    comment: Option<String>,
    sla_target: Option<&'static str>,
    related: Option<String>,
    escalation_percent: u32,
    notify_agents: Vec<String>,
}

impl<'a> EventDraft<'a> {
    fn new(kind: pb::EventType, ticket: &'a TicketRecord) -> Self {
        Self {
            kind,
            ticket,
            old_status: None,
            changed_fields: Vec::new(),
            comment: None,
            sla_target: None,
            related: None,
            escalation_percent: 0,
            notify_agents: Vec::new(),
        }
    }
}

/// What consumers of ticket events usually need without another call.
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
        channel: t.channel.number(),
        r#type: t.fields.ticket_type.name().to_owned(),
        status: t.status.name().to_owned(),
        sla_due_time: t.sla.next_due().map(kefu_server::time::timestamp),
    }
}

impl Tickets {
    /// The use cases over the service's database and clock, looking requesters up in
    /// `customers`.
    pub fn new(ctx: Context, customers: Customers) -> Self {
        Self { ctx, customers }
    }

    async fn audit(
        &self,
        tx: &mut AnyConnection,
        actor: &Actor,
        ticket_id: &str,
        changes: Vec<Change>,
        now: i64,
    ) -> Result<(), ServiceError> {
        if changes.is_empty() {
            return Ok(());
        }
        let record = AuditRecord {
            id: new_id(),
            ticket_id: ticket_id.to_owned(),
            actor: actor.id.clone(),
            actor_role: actor.role.clone(),
            via: actor.via.to_owned(),
            changes,
            create_time: now,
        };
        store::insert_audit(tx, &record).await?;
        Ok(())
    }

    /// Writes a changed ticket (version bumped) and its audit entry; returns the changes.
    async fn save(
        &self,
        tx: &mut Write,
        actor: &Actor,
        before: &TicketRecord,
        after: &mut TicketRecord,
        now: i64,
    ) -> Result<Vec<Change>, ServiceError> {
        let changes = diff(Some(before), after);
        after.version = before.version + 1;
        after.update_time = now;
        if !store::update_ticket(tx, after).await? {
            return Err(ServiceError::Conflict(ticket_name(&after.id)));
        }
        if after.fields.subject != before.fields.subject
            || after.fields.description != before.fields.description
        {
            self.reindex(tx, &after.id).await?;
        }
        self.audit(tx, actor, &after.id, changes.clone(), now)
            .await?;
        Ok(changes)
    }

    /// Emits STATUS_CHANGED (and SOLVED / CLOSED) when the status moved, and records the move
    /// for the statistics.
    async fn emit_status(
        &self,
        tx: &mut Write,
        actor: &Actor,
        t: &TicketRecord,
        old_status: TicketStatus,
        now: i64,
    ) -> Result<(), ServiceError> {
        if old_status == t.status {
            return Ok(());
        }
        store::insert_status_change(tx, &new_id(), t, old_status, now).await?;
        let mut draft = EventDraft::new(pb::EventType::TicketStatusChanged, t);
        draft.old_status = Some(old_status);
        draft.emit(tx, actor, now).await?;
        let extra = match t.status {
            TicketStatus::Solved => Some(pb::EventType::TicketSolved),
            TicketStatus::Closed => Some(pb::EventType::TicketClosed),
            _ => None,
        };
        if let Some(kind) = extra {
            let mut draft = EventDraft::new(kind, t);
            draft.old_status = Some(old_status);
            draft.emit(tx, actor, now).await?;
        }
        Ok(())
    }

    /// The business-time clock of a policy: its schedule's hours, or calendar time.
    async fn clock_for(
        &self,
        conn: &mut AnyConnection,
        policy: Option<&PolicyRecord>,
    ) -> Result<Clock, ServiceError> {
        let Some(schedule_id) = policy.and_then(|p| p.schedule_id.as_deref()) else {
            return Ok(Clock::Calendar);
        };
        let Some(schedule) = store::find::<ScheduleRecord>(conn, schedule_id).await? else {
            return Ok(Clock::Calendar);
        };
        schedule.clock().map_err(|error| {
            ServiceError::FailedPrecondition(format!(
                "business schedule {schedule_id} cannot be used: {error}"
            ))
        })
    }

    /// The business-time clock of the policy a ticket is under.
    async fn ticket_clock(
        &self,
        conn: &mut AnyConnection,
        t: &TicketRecord,
    ) -> Result<Clock, ServiceError> {
        let policy = match t.sla.policy_id.as_deref() {
            Some(id) => store::get_policy(conn, id).await?,
            None => None,
        };
        self.clock_for(conn, policy.as_ref()).await
    }

    /// Chooses the policy for `t` and restarts its targets' lengths under it.
    async fn apply_policy(
        &self,
        conn: &mut AnyConnection,
        t: &mut TicketRecord,
    ) -> Result<(), ServiceError> {
        let policies = store::list_policies(conn, None, false, i64::MAX).await?;
        let chosen = select(
            &policies,
            &Facts {
                priority: t.fields.priority,
                tier: t.requester_tier,
                ticket_type: t.fields.ticket_type,
                channel: t.channel,
                group: t.group_id.as_deref(),
            },
        );
        let clock = self.clock_for(conn, chosen).await?;
        t.sla.apply_policy(chosen, &clock);
        Ok(())
    }
}

/// The ticket with `id`, or NOT_FOUND.
async fn load(conn: &mut AnyConnection, id: &str) -> Result<TicketRecord, ServiceError> {
    kefu_server::records::load(conn, id).await
}

/// The ticket with `id` if `seen` shows it; NOT_FOUND, as if it did not exist, if not.
async fn load_seen(
    conn: &mut AnyConnection,
    seen: &Visibility,
    id: &str,
) -> Result<TicketRecord, ServiceError> {
    let t = load(conn, id).await?;
    if seen.sees_ticket(&t) {
        Ok(t)
    } else {
        Err(ServiceError::NotFound(ticket_name(id)))
    }
}

impl Tickets {
    /// The tickets `actor` may see: a customer their own, an agent those of their scope
    /// (an agent principal without an agent record, like staff, everything).
    async fn visibility(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
    ) -> Result<Visibility, ServiceError> {
        if let Some(own) = &actor.customer_id {
            return Ok(Visibility::Requester(own.clone()));
        }
        if actor.role != Role::Agent.as_str() {
            return Ok(Visibility::Everything);
        }
        Ok(match store::get_agent(conn, &actor.id).await? {
            Some(agent) if agent.delete_time.is_some() => {
                return Err(ServiceError::PermissionDenied(format!(
                    "agents/{} is deleted",
                    agent.id
                )));
            }
            Some(agent) => Visibility::of_agent(&agent.id, agent.ticket_scope, agent.groups),
            None => Visibility::Everything,
        })
    }

    /// The ticket with `id` if `actor` may see it, else NOT_FOUND.
    async fn load_visible(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        id: &str,
    ) -> Result<TicketRecord, ServiceError> {
        let seen = self.visibility(conn, actor).await?;
        load_seen(conn, &seen, id).await
    }

    /// The ticket with `id` if `actor` may see it, its row locked until `tx` ends, so the read
    /// and the write that follows see no concurrent change (no version collision to retry).
    async fn load_for_write(
        &self,
        tx: &mut Write,
        actor: &Actor,
        id: &str,
    ) -> Result<TicketRecord, ServiceError> {
        tx.lock_in_order("tickets", [id]).await?;
        self.load_visible(tx, actor, id).await
    }
}

use kefu_server::etag::check as check_etag;

/// For a change merged over a record read at version `read`: the client's etag and the read
/// must both still be the stored version `stored` (ABORTED otherwise), so nothing written since
/// is overwritten.
fn still_as_read(name: &str, stored: i64, etag: &str, read: i64) -> Result<(), ServiceError> {
    check_etag(name, stored, etag)?;
    if stored == read {
        Ok(())
    } else {
        Err(ServiceError::Conflict(name.to_owned()))
    }
}

/// FAILED_PRECONDITION for a move the state machine refuses.
fn illegal(error: crate::domain::lifecycle::Illegal) -> ServiceError {
    ServiceError::FailedPrecondition(error.0)
}

impl EventDraft<'_> {
    /// Appends the event to the outbox in `tx`, as done by `actor` at `now`.
    async fn emit(self, tx: &mut Write, actor: &Actor, now: i64) -> Result<(), ServiceError> {
        let name = ticket_name(&self.ticket.id);
        let event = pb::Event {
            cursor: String::new(),
            r#type: self.kind as i32,
            resource: name.clone(),
            old_status: self
                .old_status
                .map(|s| s.name().to_owned())
                .unwrap_or_default(),
            new_status: match self.old_status {
                Some(_) => self.ticket.status.name().to_owned(),
                None => String::new(),
            },
            changed_fields: self.changed_fields,
            comment: self.comment.unwrap_or_default(),
            sla_target: self.sla_target.unwrap_or_default().to_owned(),
            actor: actor.id.clone(),
            event_time: Some(kefu_server::time::timestamp(now)),
            ticket: Some(facts(self.ticket)),
            related: self.related.unwrap_or_default(),
            escalation_percent: i32::try_from(self.escalation_percent).unwrap_or(i32::MAX),
            notify_agents: self
                .notify_agents
                .iter()
                .map(|a| format!("agents/{a}"))
                .collect(),
        };
        events::append(tx, &event, Some(&name), now).await
    }
}
