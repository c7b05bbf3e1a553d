//! Merging a duplicate customer into the one that stays, and taking it back out.

use kefu_db::idempotency::Replay;
use kefu_proto::customers::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::records::load;

use super::{Customers, EventDraft, check_etag, refused};
use crate::domain::customer::{self, CustomerRecord, customer_name};
use crate::store;

impl Customers {
    /// Merges `source_id` into `target_id`; returns the merged-away source.
    pub async fn merge<A: prost::Message + Default>(
        &self,
        actor: &str,
        source_id: &str,
        target_id: &str,
        source_etag: &str,
        replay: &Replay<CustomerRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &format!("customers/{source_id}"), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        // Both rows: a concurrent merge of the target elsewhere must not make a chain.
        tx.lock_in_order("customers", [source_id, target_id])
            .await?;
        let source = load::<CustomerRecord>(&mut tx, source_id).await?;
        let target = load::<CustomerRecord>(&mut tx, target_id).await?;
        check_etag(&source.name(), source.version, source_etag)?;
        let has_children = store::has_merged_children(&mut tx, source_id).await?;
        customer::check_merge(&source, &target, has_children).map_err(refused)?;
        let now = self.ctx.now();
        if !store::set_merged_into(&mut tx, source_id, Some(target_id), now, source.version).await?
        {
            return Err(ServiceError::Conflict(source.name()));
        }
        let (source_name, target_name) = (source.name(), target.name());
        let mut draft = EventDraft::new(
            pb::EventType::CustomerMerged,
            &source_name,
            Some(&source_name),
        );
        draft.changed_fields = vec!["merged_into".to_owned()];
        draft.related = Some(&target_name);
        draft.emit(&mut tx, actor, now).await?;
        let merged = load::<CustomerRecord>(&mut tx, source_id).await?;
        let answer = replay.answer(&mut tx, &merged).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// Restores a merged-away customer.
    pub async fn unmerge<A: prost::Message + Default>(
        &self,
        actor: &str,
        id: &str,
        replay: &Replay<CustomerRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &format!("customers/{id}"), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        let current = load::<CustomerRecord>(&mut tx, id).await?;
        customer::check_unmerge(&current).map_err(refused)?;
        let former_target = current.merged_into.as_deref().map(customer_name);
        let now = self.ctx.now();
        if !store::set_merged_into(&mut tx, id, None, now, current.version).await? {
            return Err(ServiceError::Conflict(current.name()));
        }
        let name = current.name();
        let mut draft = EventDraft::new(pb::EventType::CustomerUnmerged, &name, Some(&name));
        draft.changed_fields = vec!["merged_into".to_owned()];
        draft.related = former_target.as_deref();
        draft.emit(&mut tx, actor, now).await?;
        let restored = load::<CustomerRecord>(&mut tx, id).await?;
        let answer = replay.answer(&mut tx, &restored).await?;
        tx.commit().await?;
        Ok(answer)
    }
}
