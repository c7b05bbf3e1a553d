//! Changing and retiring the team's configuration: business schedules change and go; groups and
//! agents are deleted softly, because tickets, audit entries and statistics keep naming them.

use kefu_proto::tickets::v1 as pb;
use kefu_server::ServiceError;

use super::{Actor, EventDraft, Tickets, check_etag, load, still_as_read};
use crate::domain::policy::ScheduleRecord;
use crate::domain::team::{self, AgentRecord, GroupRecord, UNSOLVED};
use crate::store;

impl Tickets {
    /// One schedule.
    pub async fn get_schedule(&self, id: &str) -> Result<ScheduleRecord, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        store::find::<ScheduleRecord>(&mut conn, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("businessSchedules/{id}")))
    }

    /// Writes `after`, a change of the schedule as it was read at `after.version` (checked with
    /// the client's etag in the transaction: a change since answers ABORTED).
    pub async fn update_schedule(
        &self,
        etag: &str,
        mut after: ScheduleRecord,
    ) -> Result<ScheduleRecord, ServiceError> {
        let name = format!("businessSchedules/{}", after.id);
        let mut tx = self.ctx.db.begin_write().await?;
        tx.lock_in_order("business_schedules", [after.id.as_str()])
            .await?;
        let before = store::find::<ScheduleRecord>(&mut tx, &after.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(name.clone()))?;
        still_as_read(&name, before.version, etag, after.version)?;
        if after == before {
            return Ok(before);
        }
        after.version = before.version + 1;
        if !store::update_schedule(&mut tx, &after).await? {
            return Err(ServiceError::Conflict(name));
        }
        // Hours that begin now hand the queues of the groups keeping them out at once.
        let groups: Vec<String> = store::scheduled_groups(&mut tx)
            .await?
            .into_iter()
            .filter(|g| g.schedule_id.as_deref() == Some(after.id.as_str()))
            .map(|g| g.id)
            .collect();
        self.hand_out(&mut tx, &groups, self.ctx.now()).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a schedule no policy counts by.
    pub async fn delete_schedule(&self, id: &str, etag: &str) -> Result<(), ServiceError> {
        let name = format!("businessSchedules/{id}");
        let mut tx = self.ctx.db.begin_write().await?;
        tx.lock_in_order("business_schedules", [id]).await?;
        let schedule = store::find::<ScheduleRecord>(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(name.clone()))?;
        check_etag(&name, schedule.version, etag)?;
        if let Some(policy_id) = store::policy_using_schedule(&mut tx, id).await? {
            return Err(ServiceError::FailedPrecondition(format!(
                "slaPolicies/{policy_id} counts by {name}: give it another schedule first \
                 (archived policies too: their tickets still count by it)"
            )));
        }
        if let Some(group_id) = store::group_using_schedule(&mut tx, id).await? {
            return Err(ServiceError::FailedPrecondition(format!(
                "groups/{group_id} keeps the hours of {name}: give it another schedule first"
            )));
        }
        if !store::delete_schedule(&mut tx, id).await? {
            return Err(ServiceError::Conflict(name));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a group holding no unsolved ticket and named by no live policy; its members leave.
    pub async fn delete_group(&self, id: &str, etag: &str) -> Result<GroupRecord, ServiceError> {
        let name = format!("groups/{id}");
        let mut tx = self.ctx.db.begin_write().await?;
        tx.lock_in_order("team_groups", [id]).await?;
        let mut group = store::find::<GroupRecord>(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(name.clone()))?;
        check_etag(&name, group.version, etag)?;
        if group.delete_time.is_some() {
            return Ok(group);
        }
        let held = store::unsolved_of(&mut tx, id, true).await?;
        if let Some(first) = held.first() {
            return Err(ServiceError::FailedPrecondition(format!(
                "{name} holds {} unsolved tickets (tickets/{first} among them): move them to \
                 another group first",
                held.len()
            )));
        }
        let policies = store::live_policies(&mut tx).await?;
        if let Some(policy) = team::policy_naming_group(&policies, id) {
            return Err(ServiceError::FailedPrecondition(format!(
                "slaPolicies/{} names {name}: change or delete the policy first",
                policy.id
            )));
        }
        let now = self.ctx.now();
        store::remove_memberships(&mut tx, Some(id), None).await?;
        group.version += 1;
        group.delete_time = Some(now);
        if !store::update_group(&mut tx, &group, now).await? {
            return Err(ServiceError::Conflict(name));
        }
        tx.commit().await?;
        Ok(group)
    }

    /// Retires an agent: inactive, in no group, leading none; their unsolved tickets are
    /// unassigned by `actor` and routed again.
    pub async fn delete_agent(
        &self,
        actor: &Actor,
        id: &str,
        etag: &str,
    ) -> Result<AgentRecord, ServiceError> {
        let name = format!("agents/{id}");
        let mut tx = self.ctx.db.begin_write().await?;
        // Routing's lock order: every group the change routes in, then the agent, then tickets.
        let held = store::unsolved_of(&mut tx, id, false).await?;
        let mut group_ids = store::groups_of(&mut tx, id).await?;
        for ticket_id in &held {
            if let Some(group_id) = load(&mut tx, ticket_id).await?.group_id
                && !group_ids.contains(&group_id)
            {
                group_ids.push(group_id);
            }
        }
        self.lock_groups(&mut tx, &group_ids, &[id]).await?;
        let mut agent = store::get_agent(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(name.clone()))?;
        check_etag(&name, agent.version, etag)?;
        if agent.delete_time.is_some() {
            return Ok(agent);
        }
        let policies = store::live_policies(&mut tx).await?;
        if let Some(policy) = team::policy_naming_agent(&policies, id) {
            return Err(ServiceError::FailedPrecondition(format!(
                "slaPolicies/{} reassigns to {name} in an escalation level: change the policy first",
                policy.id
            )));
        }
        let now = self.ctx.now();
        store::remove_memberships(&mut tx, None, Some(id)).await?;
        store::clear_lead(&mut tx, id, now).await?;
        agent.active = false;
        agent.groups.clear();
        agent.delete_time = Some(now);
        agent.version += 1;
        if !store::update_agent(&mut tx, &agent, now).await? {
            return Err(ServiceError::Conflict(name));
        }
        for ticket_id in &held {
            tx.lock_in_order("tickets", [ticket_id.as_str()]).await?;
            let before = load(&mut tx, ticket_id).await?;
            if before.assignee_id.as_deref() != Some(id) || !UNSOLVED.contains(&before.status) {
                continue;
            }
            let mut after = before.clone();
            after.assignee_id = None;
            self.save(&mut tx, actor, &before, &mut after, now).await?;
            EventDraft::new(pb::EventType::TicketAssigned, &after)
                .emit(&mut tx, actor, now)
                .await?;
        }
        self.hand_out(&mut tx, &group_ids, now).await?;
        tx.commit().await?;
        Ok(agent)
    }
}

/// FAILED_PRECONDITION for a change to a deleted agent.
pub(super) fn deleted_agent(agent: &AgentRecord) -> Result<(), ServiceError> {
    match agent.delete_time {
        Some(_) => Err(ServiceError::FailedPrecondition(format!(
            "agents/{} is deleted",
            agent.id
        ))),
        None => Ok(()),
    }
}
