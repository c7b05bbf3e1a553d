//! Data protection: exporting everything held about a customer, and erasing it on request.

use kefu_db::outbox;
use kefu_proto::customers::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::records::load;

use super::{Customers, EventDraft, check_etag};
use crate::domain::activity::{InteractionRecord, PurchaseRecord};
use crate::domain::customer::{self, CustomerRecord, customer_name};
use crate::domain::organization::OrganizationRecord;
use crate::store;

/// Everything `ExportCustomer` returns.
#[derive(Debug)]
pub struct Export {
    /// The profile.
    pub customer: CustomerRecord,
    /// Its organization.
    pub organization: Option<OrganizationRecord>,
    /// Purchases on this record.
    pub purchases: Vec<PurchaseRecord>,
    /// Interactions on this record.
    pub interactions: Vec<InteractionRecord>,
    /// The audit trail.
    pub events: Vec<pb::Event>,
    /// When the export was made, UTC microseconds.
    pub export_time: i64,
}

impl Customers {
    /// Everything held about one customer record; the export itself is audited.
    pub async fn export(&self, actor: &str, id: &str) -> Result<Export, ServiceError> {
        let (customer, organization, purchases, interactions) = {
            let mut conn = self.ctx.db.read().await?;
            let customer = load::<CustomerRecord>(&mut conn, id).await?;
            let organization = match &customer.fields.organization_id {
                Some(org_id) => store::find::<OrganizationRecord>(&mut conn, org_id).await?,
                None => None,
            };
            let purchases = store::purchases_of(&mut conn, id).await?;
            let interactions = store::interactions_of(&mut conn, id).await?;
            (customer, organization, purchases, interactions)
        };
        let now = self.ctx.now();
        let name = customer.name();
        let mut tx = self.ctx.db.begin_write().await?;
        let draft = EventDraft::new(pb::EventType::CustomerExported, &name, Some(&name));
        draft.emit(&mut tx, actor, now).await?;
        tx.commit().await?;
        let events = outbox::read_subject(&self.ctx.db, &name)
            .await?
            .iter()
            .filter_map(kefu_server::events::decode::<pb::WatchEventsResponse>)
            .collect();
        Ok(Export {
            customer,
            organization,
            purchases,
            interactions,
            events,
            export_time: now,
        })
    }

    /// Anonymizes a customer and every record merged into it (they are the same person).
    pub async fn erase(
        &self,
        actor: &str,
        id: &str,
        etag: &str,
    ) -> Result<CustomerRecord, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let current = load::<CustomerRecord>(&mut tx, id).await?;
        check_etag(&current.name(), current.version, etag)?;
        let now = self.ctx.now();
        let merged_children = store::merged_children(&mut tx, id).await?;
        let mut erased_target = None;
        for record in std::iter::once(current).chain(merged_children) {
            if record.erase_time.is_some() {
                if record.id == id {
                    erased_target = Some(record);
                }
                continue;
            }
            let mut erased = customer::erase(&record, now);
            erased.version = record.version + 1;
            erased.update_time = now;
            if !store::update_customer(&mut tx, &erased, record.version).await? {
                return Err(ServiceError::Conflict(record.name()));
            }
            store::erase_interactions(&mut tx, &record.id, customer::ERASED_SUMMARY).await?;
            let name = record.name();
            let draft = EventDraft::new(pb::EventType::CustomerErased, &name, Some(&name));
            draft.emit(&mut tx, actor, now).await?;
            if record.id == id {
                erased_target = Some(erased);
            }
        }
        tx.commit().await?;
        erased_target.ok_or_else(|| ServiceError::NotFound(customer_name(id)))
    }
}
