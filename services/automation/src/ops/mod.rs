//! Use cases, one file each: triggers kept by admins, the tickets events that make firings, the
//! worker that applies them, and the dry run. Every change commits with its outbox events; an
//! event consumed from the tickets service commits with the cursor after it.

mod apply;
mod defaults;
mod dry_run;
mod events;
mod macros;
mod rule_macros;
mod schedules;
mod triggers;

pub use dry_run::DryRun;
pub use macros::{Preview, TicketOutcome, macro_etag};
pub use triggers::{TriggerView, trigger_etag};

use std::sync::Arc;

use kefu_db::Write;
use kefu_proto::automation::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::events::append as append_event;
use kefu_server::kit::Context;
use tokio::sync::Notify;

use crate::domain::evaluate::TicketFacts;
use crate::domain::firing::{FiringRecord, FiringState, plan};
use crate::domain::macros::applied_macros;
use crate::domain::trigger::{EventKind, TriggerRecord};
use crate::remote::customers::Customers;
use crate::remote::tickets::Tickets;
use crate::store;

/// The principal id of the service's own work (reading tickets, depth-limit notes).
pub const SERVICE_ACTOR: &str = "automation";

/// The service's use cases over its database, its clock and the tickets service.
#[derive(Clone, Debug)]
pub struct Automation {
    pub(crate) ctx: Context,
    tickets: Tickets,
    customers: Customers,
    firing_queued: Arc<Notify>,
}

/// A new, time-sortable id.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Automation {
    /// The use cases over the service's database and clock, acting on `tickets` and reading
    /// requesters' profiles from `customers`.
    pub fn new(ctx: Context, tickets: Tickets, customers: Customers) -> Self {
        Self {
            ctx,
            tickets,
            customers,
            firing_queued: Arc::default(),
        }
    }
}

/// What made a rule fire.
#[derive(Debug, Clone)]
struct Cause {
    /// The tickets event (`tickets:{cursor}`) or the ticket's entry into an automation's condition.
    source: String,
    /// For a trigger, the event kind it fired on.
    event: Option<EventKind>,
    /// Its order among the firings of the same cause.
    rank: i32,
    /// Automated changes that led to it.
    depth: i32,
}

/// Records `rule`'s firing on `ticket` for `cause` in `tx`, its actions planned, unless the rule
/// already fired for that cause; true when a firing was queued for the worker. A plan that cannot
/// render is recorded as failed, counted and emitted at once.
async fn record_firing(
    tx: &mut Write,
    rule: &TriggerRecord,
    ticket: &TicketFacts,
    cause: Cause,
    now: i64,
) -> Result<bool, ServiceError> {
    let (actions, final_state, planned) = match rule_macros::expanded(tx, rule).await? {
        Ok(expanded) => plan(&expanded, ticket, cause.depth),
        Err(why) => (Vec::new(), FiringState::Applied, Err(why)),
    };
    let firing = FiringRecord {
        id: new_id(),
        rule: rule.kind(),
        trigger_id: rule.id.clone(),
        trigger_name: rule.display_name.clone(),
        ticket_id: ticket.id.clone(),
        source: cause.source,
        event: cause.event,
        rank: cause.rank,
        state: if planned.is_ok() {
            FiringState::Pending
        } else {
            FiringState::Failed
        },
        final_state,
        actions,
        applied_actions: 0,
        depth: cause.depth,
        error: planned.clone().err().unwrap_or_default(),
        attempts: 0,
        next_attempt_time: now,
        create_time: now,
        update_time: now,
    };
    if !store::insert_firing(tx, &firing).await? {
        return Ok(false);
    }
    let Err(error) = &planned else {
        for id in applied_macros(&rule.actions) {
            store::count_use(tx, id, now).await?;
        }
        return Ok(true);
    };
    store::count_outcome(tx, &rule.id, FiringState::Failed, now, error).await?;
    let ticket = format!("tickets/{}", firing.ticket_id);
    let kind = pb::EventType::FiringFailed;
    emit(tx, kind, firing.name(), &ticket, error, SERVICE_ACTOR, now).await?;
    Ok(false)
}

/// Appends an automation event to the outbox in `tx`.
async fn emit(
    tx: &mut Write,
    kind: pb::EventType,
    resource: String,
    ticket: &str,
    error: &str,
    actor: &str,
    now: i64,
) -> Result<(), ServiceError> {
    let event = pb::Event {
        cursor: String::new(),
        r#type: kind as i32,
        resource,
        ticket: ticket.to_owned(),
        error: error.to_owned(),
        actor: actor.to_owned(),
        event_time: Some(kefu_server::time::timestamp(now)),
    };
    append_event(tx, &event, None, now).await
}
