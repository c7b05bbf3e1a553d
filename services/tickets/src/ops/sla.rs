//! SLA configuration: business schedules and the policies tried in order.

use kefu_db::idempotency::Replay;
use kefu_server::ServiceError;

use kefu_db::Write;

use super::{Tickets, check_etag, new_id, still_as_read};
use crate::domain::policy::{PolicyRecord, ScheduleRecord};
use crate::store;

impl Tickets {
    /// Creates a business schedule (already checked), with a new id.
    pub async fn create_schedule<A: prost::Message + Default>(
        &self,
        mut schedule: ScheduleRecord,
        replay: &Replay<ScheduleRecord, A>,
    ) -> Result<A, ServiceError> {
        schedule.id = new_id();
        schedule.create_time = self.ctx.now();
        schedule.version = 1;
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, "businessSchedules", self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        store::insert_schedule(&mut tx, &schedule).await?;
        let answer = replay.answer(&mut tx, &schedule).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// A page of schedules.
    pub async fn list_schedules(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ScheduleRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(store::list_schedules(&mut conn, after, limit).await?)
    }

    /// Creates an SLA policy whose schedule and groups exist, with a new id.
    pub async fn create_policy<A: prost::Message + Default>(
        &self,
        mut policy: PolicyRecord,
        replay: &Replay<PolicyRecord, A>,
    ) -> Result<A, ServiceError> {
        policy.id = new_id();
        policy.create_time = self.ctx.now();
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, "slaPolicies", self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        self.check_policy_refs(&mut tx, &policy).await?;
        policy.version = 1;
        store::insert_policy(&mut tx, &policy).await?;
        let answer = replay.answer(&mut tx, &policy).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// Checks that the schedule, groups and agents a policy names exist (and that its levels'
    /// agents may take tickets of their groups).
    async fn check_policy_refs(
        &self,
        tx: &mut Write,
        policy: &PolicyRecord,
    ) -> Result<(), ServiceError> {
        if let Some(schedule_id) = &policy.schedule_id
            && store::find::<ScheduleRecord>(&mut *tx, schedule_id)
                .await?
                .is_none()
        {
            return Err(ServiceError::NotFound(format!(
                "businessSchedules/{schedule_id}"
            )));
        }
        for group_id in &policy.groups {
            if store::live_group(&mut *tx, group_id).await?.is_none() {
                return Err(ServiceError::NotFound(format!("groups/{group_id}")));
            }
        }
        self.check_levels(tx, policy).await
    }

    /// One policy, archived or not.
    pub async fn get_policy(&self, id: &str) -> Result<PolicyRecord, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        store::get_policy(&mut conn, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("slaPolicies/{id}")))
    }

    /// Writes `after`, a change of the policy as it was read at `after.version` (checked, with
    /// the client's etag, in the transaction: a change since answers ABORTED).
    pub async fn update_policy(
        &self,
        etag: &str,
        mut after: PolicyRecord,
    ) -> Result<PolicyRecord, ServiceError> {
        let name = format!("slaPolicies/{}", after.id);
        let mut tx = self.ctx.db.begin_write().await?;
        let before = store::get_policy(&mut tx, &after.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(name.clone()))?;
        still_as_read(&name, before.version, etag, after.version)?;
        if before.archive_time.is_some() {
            return Err(ServiceError::FailedPrecondition(format!(
                "{name} is archived"
            )));
        }
        if after == before {
            return Ok(before);
        }
        self.check_policy_refs(&mut tx, &after).await?;
        after.version = before.version + 1;
        if !store::update_policy(&mut tx, &after).await? {
            return Err(ServiceError::Conflict(name));
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a policy no ticket holds, or archives it; true when archived.
    pub async fn delete_policy(&self, id: &str, etag: &str) -> Result<bool, ServiceError> {
        let name = format!("slaPolicies/{id}");
        let mut tx = self.ctx.db.begin_write().await?;
        tx.lock_in_order("sla_policies", [id]).await?;
        let mut policy = store::get_policy(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(name.clone()))?;
        check_etag(&name, policy.version, etag)?;
        if policy.archive_time.is_some() {
            return Ok(true);
        }
        let archived = store::policy_in_use(&mut tx, id).await?;
        if archived {
            policy.archive_time = Some(self.ctx.now());
            policy.version += 1;
            if !store::update_policy(&mut tx, &policy).await? {
                return Err(ServiceError::Conflict(name));
            }
        } else {
            store::delete_policy(&mut tx, id).await?;
        }
        tx.commit().await?;
        Ok(archived)
    }

    /// A page of policies in the order they are tried.
    pub async fn list_policies(
        &self,
        after: Option<&(i64, i64, String)>,
        archived: bool,
        limit: usize,
    ) -> Result<Vec<PolicyRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(store::list_policies(&mut conn, after, archived, limit).await?)
    }
}
