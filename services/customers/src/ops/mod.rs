//! Use cases, one file each: every orchestrator takes a validated command, answers a retried
//! request id from what the first request made, mints ids and reads the clock, and writes the
//! change and its outbox event in one transaction — they commit together or not at all.

mod activity;
mod customers;
mod merges;
mod organizations;
mod privacy;
mod upsert;

pub use activity::{NewInteractionCommand, NewPurchaseCommand};
pub use customers::{CustomerUpdate, NewCustomer};
pub use organizations::{NewOrganization, OrganizationUpdate};
pub use privacy::Export;

use kefu_db::Write;
use kefu_proto::customers::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::events;
use kefu_server::kit::Context;

/// The service's use cases over its database and clock. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Customers {
    pub(crate) ctx: Context,
}

/// A new, time-sortable id.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// What an event says, before it gets its cursor.
struct EventDraft<'a> {
    kind: pb::EventType,
    resource: &'a str,
    customer: Option<&'a str>,
    changed_fields: Vec<String>,
    related: Option<&'a str>,
}

impl<'a> EventDraft<'a> {
    /// An event about `resource`, concerning `customer` when it is about one.
    fn new(kind: pb::EventType, resource: &'a str, customer: Option<&'a str>) -> Self {
        Self {
            kind,
            resource,
            customer,
            changed_fields: Vec::new(),
            related: None,
        }
    }
}

impl Customers {
    /// The use cases over the service's database and clock.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }
}

use kefu_server::etag::check as check_etag;

/// A rule of the domain refused the change: FAILED_PRECONDITION.
fn refused(precondition: crate::domain::customer::Precondition) -> ServiceError {
    ServiceError::FailedPrecondition(precondition.0)
}

impl EventDraft<'_> {
    /// Appends the event to the outbox in `tx`, as done by `actor` at `now`.
    async fn emit(self, tx: &mut Write, actor: &str, now: i64) -> Result<(), ServiceError> {
        let event = pb::Event {
            customer: self.customer.unwrap_or_default().to_owned(),
            related: self.related.unwrap_or_default().to_owned(),
            changed_fields: self.changed_fields,
            r#type: self.kind as i32,
            resource: self.resource.to_owned(),
            actor: actor.to_owned(),
            event_time: Some(kefu_server::time::timestamp(now)),
            cursor: String::new(),
        };
        events::append(tx, &event, self.customer, now).await
    }
}
