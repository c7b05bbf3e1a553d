//! SLA configuration: business schedules and the policies tried in order.

use kefu_db::idempotency::Replay;
use kefu_server::ServiceError;

use super::{Tickets, new_id};
use crate::domain::policy::{PolicyRecord, ScheduleRecord};
use crate::domain::team::GroupRecord;
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
        if let Some(schedule_id) = &policy.schedule_id
            && store::find::<ScheduleRecord>(&mut tx, schedule_id)
                .await?
                .is_none()
        {
            return Err(ServiceError::NotFound(format!(
                "businessSchedules/{schedule_id}"
            )));
        }
        for group_id in &policy.groups {
            if store::find::<GroupRecord>(&mut tx, group_id)
                .await?
                .is_none()
            {
                return Err(ServiceError::NotFound(format!("groups/{group_id}")));
            }
        }
        self.check_levels(&mut tx, &policy).await?;
        store::insert_policy(&mut tx, &policy).await?;
        let answer = replay.answer(&mut tx, &policy).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// A page of policies in the order they are tried.
    pub async fn list_policies(
        &self,
        after: Option<&(i64, i64, String)>,
        limit: usize,
    ) -> Result<Vec<PolicyRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(store::list_policies(&mut conn, after, limit).await?)
    }
}
