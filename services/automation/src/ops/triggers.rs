//! Triggers, kept by admins: created (idempotent by request id), read with their counts,
//! changed and deleted under their etag.

use kefu_db::idempotency::Replay;
use kefu_db::row::Stored;
use kefu_proto::automation::v1 as pb;
use kefu_server::records::{self, Target};
use kefu_server::{ServiceError, etag};

use super::{Automation, emit, new_id};
use crate::domain::trigger::TriggerRecord;
use crate::store::{self, TriggerStats};

/// A trigger with its counts.
#[derive(Debug, Clone)]
pub struct TriggerView {
    /// The trigger.
    pub trigger: TriggerRecord,
    /// Its counts.
    pub stats: TriggerStats,
}

impl Automation {
    /// Stores a new trigger made by `actor`.
    pub async fn create_trigger<A: prost::Message + Default>(
        &self,
        actor: &str,
        mut trigger: TriggerRecord,
        replay: &Replay<TriggerView, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        if let Some(answer) = replay
            .earlier(&mut tx, TriggerRecord::COLLECTION, now)
            .await?
        {
            return Ok(answer);
        }
        trigger.id = new_id();
        trigger.create_time = now;
        trigger.update_time = now;
        trigger.version = 1;
        store::insert_trigger(&mut tx, &trigger).await?;
        let name = records::name::<TriggerRecord>(&trigger.id);
        emit(
            &mut tx,
            pb::EventType::TriggerCreated,
            name,
            "",
            "",
            actor,
            now,
        )
        .await?;
        let view = TriggerView {
            trigger,
            stats: TriggerStats::default(),
        };
        let answer = replay.answer(&mut tx, &view).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// A trigger with its counts, or NOT_FOUND.
    pub async fn get_trigger(&self, id: &str) -> Result<TriggerView, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let trigger: TriggerRecord = records::load(&mut conn, id).await?;
        let stats = store::trigger_stats(&mut conn, &[id]).await?;
        Ok(TriggerView {
            trigger,
            stats: stats.into_iter().next().map(|(_, s)| s).unwrap_or_default(),
        })
    }

    /// A page of triggers in evaluation order, with their counts.
    pub async fn list_triggers(
        &self,
        after: Option<&(i32, String)>,
        active_only: bool,
        limit: usize,
    ) -> Result<Vec<TriggerView>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let triggers = store::list_triggers(&mut conn, after, active_only, limit).await?;
        let ids: Vec<&str> = triggers.iter().map(|t| t.id.as_str()).collect();
        let mut stats = store::trigger_stats(&mut conn, &ids).await?;
        Ok(triggers
            .into_iter()
            .map(|trigger| {
                let found = stats.iter().position(|(id, _)| *id == trigger.id);
                let stats = found.map(|i| stats.swap_remove(i).1).unwrap_or_default();
                TriggerView { trigger, stats }
            })
            .collect())
    }

    /// Writes `after`, the trigger as changed from the version `target.etag` names.
    pub async fn update_trigger(
        &self,
        actor: &str,
        target: &Target,
        mut after: TriggerRecord,
    ) -> Result<TriggerView, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let before: TriggerRecord = records::load_target(&mut tx, target).await?;
        let name = records::name::<TriggerRecord>(&before.id);
        after.id.clone_from(&before.id);
        after.create_time = before.create_time;
        after.update_time = before.update_time;
        after.version = before.version;
        if after != before {
            after.update_time = now;
            after.version = before.version + 1;
            if !store::update_trigger(&mut tx, &after).await? {
                return Err(ServiceError::Conflict(name));
            }
            emit(
                &mut tx,
                pb::EventType::TriggerUpdated,
                name,
                "",
                "",
                actor,
                now,
            )
            .await?;
        }
        let stats = store::trigger_stats(&mut tx, &[after.id.as_str()]).await?;
        tx.commit().await?;
        Ok(TriggerView {
            trigger: after,
            stats: stats.into_iter().next().map(|(_, s)| s).unwrap_or_default(),
        })
    }

    /// Deletes a trigger; its firings stay listable and pending ones are still applied.
    pub async fn delete_trigger(&self, actor: &str, target: &Target) -> Result<(), ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let current: TriggerRecord = records::load_target(&mut tx, target).await?;
        records::delete(&mut tx, &current).await?;
        let name = records::name::<TriggerRecord>(&current.id);
        emit(
            &mut tx,
            pb::EventType::TriggerDeleted,
            name,
            "",
            "",
            actor,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A page of firings, newest first.
    pub async fn list_firings(
        &self,
        filter: &store::FiringFilter,
        before: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<crate::domain::firing::FiringRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        Ok(store::list_firings(&mut conn, filter, before, limit).await?)
    }
}

/// The etag of a trigger at its version.
pub fn trigger_etag(trigger: &TriggerRecord) -> String {
    etag::etag(
        &records::name::<TriggerRecord>(&trigger.id),
        trigger.version,
    )
}
