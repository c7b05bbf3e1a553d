//! UpsertCustomerByExternalId, and each row of ImportCustomers: the CRM's record becomes a kefu
//! customer, created the first time and updated after, matched by its external id.

use kefu_proto::customers::v1 as pb;
use kefu_server::ServiceError;

use super::{Customers, EventDraft, new_id};
use crate::domain::customer::{CustomerFields, CustomerRecord};
use crate::store;

impl Customers {
    /// Creates or updates the customer with `fields.external_id`; true when created.
    pub async fn upsert_by_external_id(
        &self,
        actor: &str,
        fields: CustomerFields,
        paths: &[&str],
    ) -> Result<(CustomerRecord, bool), ServiceError> {
        let external_id = fields.external_id.clone().unwrap_or_default();
        let mut tx = self.ctx.db.begin_write().await?;
        let result = match store::find_by_external_id(&mut tx, &external_id).await? {
            Some(current) => {
                let updated = self
                    .update_in(&mut tx, actor, current, &fields, paths)
                    .await?;
                (updated, false)
            }
            None => {
                let now = self.ctx.now();
                let record = self
                    .insert_customer_in(&mut tx, new_id(), fields, now)
                    .await?;
                let name = record.name();
                let draft = EventDraft::new(pb::EventType::CustomerCreated, &name, Some(&name));
                draft.emit(&mut tx, actor, now).await?;
                (record, true)
            }
        };
        tx.commit().await?;
        Ok(result)
    }
}
