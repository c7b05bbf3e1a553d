//! Purchases and interactions: recording a customer's history and reading it back.

use kefu_db::idempotency::RequestKey;
use kefu_proto::customers::v1 as pb;
use kefu_server::records::load;
use kefu_server::{ServiceError, Violations};
use sqlx::AnyConnection;

use super::{Customers, EventDraft, new_id, refused};
use crate::domain::activity::{
    self, InteractionRecord, NewInteraction, NewPurchase, PurchaseRecord,
};
use crate::domain::customer::{self, CustomerRecord};
use crate::store;

/// RecordPurchase, validated.
#[derive(Debug, Clone)]
pub struct NewPurchaseCommand {
    /// The customer's id.
    pub customer_id: String,
    /// What was bought.
    pub purchase: NewPurchase,
    /// The request id, if the client sent one.
    pub request: Option<RequestKey>,
}

/// LogInteraction, validated.
#[derive(Debug, Clone)]
pub struct NewInteractionCommand {
    /// The customer's id.
    pub customer_id: String,
    /// What happened.
    pub interaction: NewInteraction,
    /// The request id, if the client sent one.
    pub request: Option<RequestKey>,
}

impl Customers {
    /// Records a purchase, idempotently by request id.
    pub async fn record_purchase(
        &self,
        actor: &str,
        command: NewPurchaseCommand,
    ) -> Result<PurchaseRecord, ServiceError> {
        let now = self.ctx.now();
        let purchase_time = history_time(
            command.purchase.purchase_time,
            now,
            "purchase.purchase_time",
        )?;
        let mut tx = self.ctx.db.begin_write().await?;
        let customer = writable_customer(&mut tx, &command.customer_id).await?;
        let record = PurchaseRecord {
            id: new_id(),
            customer_id: command.customer_id,
            purchase: command.purchase,
            purchase_time,
            create_time: now,
        };
        let name = format!("{}/purchases/{}", customer.name(), record.id);
        if let Some(request) = &command.request
            && let Some(existing) = request.claim(&mut tx, &name, now).await?
        {
            let existing_id = existing.rsplit('/').next().unwrap_or_default();
            return store::purchases_of(&mut tx, &record.customer_id)
                .await?
                .into_iter()
                .find(|p| p.id == existing_id)
                .ok_or(ServiceError::NotFound(existing));
        }
        store::insert_purchase(&mut tx, &record).await?;
        let customer_name = customer.name();
        let draft = EventDraft::new(pb::EventType::PurchaseRecorded, &name, Some(&customer_name));
        draft.emit(&mut tx, actor, now).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Logs an interaction, idempotently by request id.
    pub async fn log_interaction(
        &self,
        actor: &str,
        command: NewInteractionCommand,
    ) -> Result<InteractionRecord, ServiceError> {
        let now = self.ctx.now();
        let interaction_time = history_time(
            command.interaction.interaction_time,
            now,
            "interaction.interaction_time",
        )?;
        let mut tx = self.ctx.db.begin_write().await?;
        let customer = writable_customer(&mut tx, &command.customer_id).await?;
        let record = InteractionRecord {
            id: new_id(),
            customer_id: command.customer_id,
            interaction: command.interaction,
            interaction_time,
            logged_by: actor.to_owned(),
            create_time: now,
        };
        let name = format!("{}/interactions/{}", customer.name(), record.id);
        if let Some(request) = &command.request
            && let Some(existing) = request.claim(&mut tx, &name, now).await?
        {
            let existing_id = existing.rsplit('/').next().unwrap_or_default();
            return store::interactions_of(&mut tx, &record.customer_id)
                .await?
                .into_iter()
                .find(|i| i.id == existing_id)
                .ok_or(ServiceError::NotFound(existing));
        }
        store::insert_interaction(&mut tx, &record).await?;
        let customer_name = customer.name();
        let draft = EventDraft::new(
            pb::EventType::InteractionLogged,
            &name,
            Some(&customer_name),
        );
        draft.emit(&mut tx, actor, now).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// A page of purchases of a customer and those merged into it.
    pub async fn list_purchases(
        &self,
        customer_id: &str,
        before: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<PurchaseRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        load::<CustomerRecord>(&mut conn, customer_id).await?;
        Ok(store::list_purchases(&mut conn, customer_id, before, limit).await?)
    }

    /// A page of the timeline of a customer and those merged into it.
    pub async fn list_interactions(
        &self,
        customer_id: &str,
        filter: &store::InteractionFilter,
        before: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<InteractionRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        load::<CustomerRecord>(&mut conn, customer_id).await?;
        Ok(store::list_interactions(&mut conn, customer_id, filter, before, limit).await?)
    }
}

/// When a history entry happened, or INVALID_ARGUMENT on `field`.
fn history_time(given: Option<i64>, now: i64, field: &str) -> Result<i64, ServiceError> {
    activity::event_time(given, now).map_err(|why| {
        let mut v = Violations::new();
        v.add(field, why);
        ServiceError::Invalid(v)
    })
}

/// A customer whose history may still grow: not merged away, not erased.
async fn writable_customer(
    tx: &mut AnyConnection,
    id: &str,
) -> Result<CustomerRecord, ServiceError> {
    let record = load::<CustomerRecord>(tx, id).await?;
    customer::check_editable(&record).map_err(refused)?;
    Ok(record)
}
