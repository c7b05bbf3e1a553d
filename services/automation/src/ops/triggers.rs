//! Rules (triggers and automations), kept by admins: created (idempotent by request id), read
//! with their counts, changed and deleted under their etag.

use kefu_db::idempotency::Replay;
use kefu_proto::automation::v1 as pb;
use kefu_server::records::{self, Target};
use kefu_server::{ServiceError, etag};
use sqlx::AnyConnection;

use super::rule_macros::check_applied_macros;
use super::{Automation, emit, new_id};
use crate::domain::trigger::{RuleKind, TriggerRecord};
use crate::store::{self, StoredAutomation, TriggerStats};

/// The rule of `kind` with this id, or NOT_FOUND under its kind's name.
async fn load_rule(
    conn: &mut AnyConnection,
    kind: RuleKind,
    id: &str,
) -> Result<TriggerRecord, ServiceError> {
    match kind {
        RuleKind::Trigger => records::load(conn, id).await,
        RuleKind::Automation => records::load::<StoredAutomation>(conn, id)
            .await
            .map(|a| a.0),
    }
}

/// The rule of `kind` a change is aimed at (NOT_FOUND, or ABORTED for a stale etag).
async fn load_rule_target(
    conn: &mut AnyConnection,
    kind: RuleKind,
    target: &Target,
) -> Result<TriggerRecord, ServiceError> {
    match kind {
        RuleKind::Trigger => records::load_target(conn, target).await,
        RuleKind::Automation => records::load_target::<StoredAutomation>(conn, target)
            .await
            .map(|a| a.0),
    }
}

/// The event types of a rule's kind: created, updated, deleted.
fn change_events(kind: RuleKind) -> [pb::EventType; 3] {
    match kind {
        RuleKind::Trigger => [
            pb::EventType::TriggerCreated,
            pb::EventType::TriggerUpdated,
            pb::EventType::TriggerDeleted,
        ],
        RuleKind::Automation => [
            pb::EventType::AutomationCreated,
            pb::EventType::AutomationUpdated,
            pb::EventType::AutomationDeleted,
        ],
    }
}

/// A rule with its counts.
#[derive(Debug, Clone)]
pub struct TriggerView {
    /// The rule.
    pub trigger: TriggerRecord,
    /// Its counts.
    pub stats: TriggerStats,
    /// For an automation: how far it has been checked (None: not yet).
    pub checked_until: Option<i64>,
}

impl Automation {
    /// Stores a new rule (a trigger or an automation) made by `actor`.
    pub async fn create_trigger<A: prost::Message + Default>(
        &self,
        actor: &str,
        mut trigger: TriggerRecord,
        replay: &Replay<TriggerView, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        if let Some(answer) = replay
            .earlier(&mut tx, trigger.kind().collection(), now)
            .await?
        {
            return Ok(answer);
        }
        check_applied_macros(&mut tx, &trigger).await?;
        trigger.id = new_id();
        trigger.create_time = now;
        trigger.update_time = now;
        trigger.version = 1;
        store::insert_trigger(&mut tx, &trigger).await?;
        let [created, _, _] = change_events(trigger.kind());
        emit(&mut tx, created, trigger.name(), "", "", actor, now).await?;
        let view = TriggerView {
            trigger,
            stats: TriggerStats::default(),
            checked_until: None,
        };
        let answer = replay.answer(&mut tx, &view).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// A rule of `kind` with its counts, or NOT_FOUND.
    pub async fn get_trigger(&self, kind: RuleKind, id: &str) -> Result<TriggerView, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let trigger = load_rule(&mut conn, kind, id).await?;
        let stats = store::trigger_stats(&mut conn, &[id]).await?;
        Ok(TriggerView {
            checked_until: store::swept_until(&mut conn, id).await?,
            trigger,
            stats: stats.into_iter().next().map(|(_, s)| s).unwrap_or_default(),
        })
    }

    /// A page of rules of `kind` in evaluation order, with their counts.
    pub async fn list_triggers(
        &self,
        kind: RuleKind,
        after: Option<&(i32, String)>,
        active_only: bool,
        limit: usize,
    ) -> Result<Vec<TriggerView>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let triggers = store::list_triggers(&mut conn, kind, after, active_only, limit).await?;
        let ids: Vec<&str> = triggers.iter().map(|t| t.id.as_str()).collect();
        let mut stats = store::trigger_stats(&mut conn, &ids).await?;
        let mut views = Vec::with_capacity(triggers.len());
        for trigger in triggers {
            let found = stats.iter().position(|(id, _)| *id == trigger.id);
            let stats = found.map(|i| stats.swap_remove(i).1).unwrap_or_default();
            let checked_until = match kind {
                RuleKind::Automation => store::swept_until(&mut conn, &trigger.id).await?,
                RuleKind::Trigger => None,
            };
            views.push(TriggerView {
                trigger,
                stats,
                checked_until,
            });
        }
        Ok(views)
    }

    /// Writes `after`, the rule as changed from the version `target.etag` names.
    pub async fn update_trigger(
        &self,
        actor: &str,
        target: &Target,
        mut after: TriggerRecord,
    ) -> Result<TriggerView, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let kind = after.kind();
        let before = load_rule_target(&mut tx, kind, target).await?;
        let name = before.name();
        after.id.clone_from(&before.id);
        after.create_time = before.create_time;
        after.update_time = before.update_time;
        after.version = before.version;
        if after != before {
            check_applied_macros(&mut tx, &after).await?;
            after.update_time = now;
            after.version = before.version + 1;
            if !store::update_trigger(&mut tx, &after).await? {
                return Err(ServiceError::Conflict(name));
            }
            let [_, updated, _] = change_events(kind);
            emit(&mut tx, updated, name, "", "", actor, now).await?;
        }
        let stats = store::trigger_stats(&mut tx, &[after.id.as_str()]).await?;
        let checked_until = store::swept_until(&mut tx, &after.id).await?;
        tx.commit().await?;
        Ok(TriggerView {
            checked_until,
            trigger: after,
            stats: stats.into_iter().next().map(|(_, s)| s).unwrap_or_default(),
        })
    }

    /// Deletes a rule of `kind`; its firings stay listable and pending ones are still applied.
    pub async fn delete_trigger(
        &self,
        actor: &str,
        kind: RuleKind,
        target: &Target,
    ) -> Result<(), ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let current = load_rule_target(&mut tx, kind, target).await?;
        match kind {
            RuleKind::Trigger => records::delete(&mut tx, &current).await?,
            RuleKind::Automation => {
                records::delete(&mut tx, &StoredAutomation(current.clone())).await?;
            }
        }
        let [_, _, deleted] = change_events(kind);
        emit(&mut tx, deleted, current.name(), "", "", actor, now).await?;
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

/// The etag of a rule at its version.
pub fn trigger_etag(trigger: &TriggerRecord) -> String {
    etag::etag(&trigger.name(), trigger.version)
}
