//! Use cases, one file each: triggers kept by admins, the tickets events that make firings, the
//! worker that applies them, and the dry run. Every change commits with its outbox events; an
//! event consumed from the tickets service commits with the cursor after it.

mod apply;
mod dry_run;
mod events;
mod triggers;

pub use dry_run::DryRun;
pub use triggers::{TriggerView, trigger_etag};

use std::sync::Arc;

use kefu_db::Write;
use kefu_proto::automation::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::events::append as append_event;
use kefu_server::kit::Context;
use tokio::sync::Notify;

use crate::remote::tickets::Tickets;

/// The principal id of the service's own work (reading tickets, depth-limit notes).
pub const SERVICE_ACTOR: &str = "automation";

/// The service's use cases over its database, its clock and the tickets service.
#[derive(Clone, Debug)]
pub struct Automation {
    pub(crate) ctx: Context,
    tickets: Tickets,
    firing_queued: Arc<Notify>,
}

/// A new, time-sortable id.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Automation {
    /// The use cases over the service's database and clock, acting on `tickets`.
    pub fn new(ctx: Context, tickets: Tickets) -> Self {
        Self {
            ctx,
            tickets,
            firing_queued: Arc::default(),
        }
    }
}

/// A firing's resource name.
fn firing_name(firing: &crate::domain::firing::FiringRecord) -> String {
    format!("triggers/{}/firings/{}", firing.trigger_id, firing.id)
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
