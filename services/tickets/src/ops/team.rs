//! The support team: groups, agents and who belongs where.

use kefu_db::idempotency::Replay;
use kefu_server::ServiceError;

use super::retire::deleted_agent;
use super::{Tickets, check_etag, new_id};
use crate::domain::kinds::TicketScope;
use crate::domain::team::{AgentRecord, GroupRecord};
use crate::store;

/// UpdateAgent, validated: the fields the mask named, the others `None`.
#[derive(Debug, Clone, Default)]
pub struct AgentUpdate {
    /// New name.
    pub display_name: Option<String>,
    /// New email.
    pub email: Option<String>,
    /// New skills.
    pub skills: Option<Vec<String>>,
    /// New capacity.
    pub capacity: Option<i32>,
    /// Whether assignable.
    pub active: Option<bool>,
    /// Which tickets they see.
    pub ticket_scope: Option<TicketScope>,
}

impl AgentUpdate {
    fn apply(self, agent: &mut AgentRecord) {
        if let Some(x) = self.display_name {
            agent.display_name = x;
        }
        if let Some(x) = self.email {
            agent.email = x;
        }
        if let Some(x) = self.skills {
            agent.skills = x;
        }
        if let Some(x) = self.capacity {
            agent.capacity = x;
        }
        if let Some(x) = self.active {
            agent.active = x;
        }
        if let Some(x) = self.ticket_scope {
            agent.ticket_scope = x;
        }
    }
}

fn email_taken() -> ServiceError {
    ServiceError::AlreadyExists {
        reason: "EMAIL_TAKEN",
        message: "another agent has this email".to_owned(),
    }
}

impl Tickets {
    /// Creates `group` (its id and creation time given here) with a unique name and skill rules
    /// naming skills agents hold.
    pub async fn create_group<A: prost::Message + Default>(
        &self,
        mut group: GroupRecord,
        replay: &Replay<GroupRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay.earlier(&mut tx, "groups", self.ctx.now()).await? {
            return Ok(answer);
        }
        if store::group_name_taken(&mut tx, &group.display_name).await? {
            return Err(ServiceError::AlreadyExists {
                reason: "GROUP_NAME_TAKEN",
                message: format!("a group named {:?} exists", group.display_name),
            });
        }
        self.check_skills(&mut tx, &group.skill_rules).await?;
        self.check_lead(&mut tx, group.lead_id.as_deref()).await?;
        super::routing::check_schedule(&mut tx, group.schedule_id.as_deref()).await?;
        group.id = new_id();
        group.create_time = self.ctx.now();
        group.version = 1;
        store::insert_group(&mut tx, &group).await?;
        let answer = replay.answer(&mut tx, &group).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// A page of groups by name; deleted ones only with `deleted`.
    pub async fn list_groups(
        &self,
        after: Option<&(String, String)>,
        deleted: bool,
        limit: usize,
    ) -> Result<Vec<GroupRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(store::list_groups(&mut conn, after, deleted, limit).await?)
    }

    /// Creates an agent (its id is the agent's principal id) in no group yet.
    pub async fn create_agent<A: prost::Message + Default>(
        &self,
        mut agent: AgentRecord,
        replay: &Replay<AgentRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &format!("agents/{}", agent.id), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        if store::get_agent(&mut tx, &agent.id).await?.is_some() {
            return Err(ServiceError::AlreadyExists {
                reason: "AGENT_EXISTS",
                message: format!("agents/{} exists", agent.id),
            });
        }
        if store::agent_with_email(&mut tx, &agent.email)
            .await?
            .is_some()
        {
            return Err(email_taken());
        }
        agent.groups = Vec::new();
        agent.create_time = self.ctx.now();
        agent.version = 1;
        store::insert_agent(&mut tx, &agent).await?;
        let answer = replay.answer(&mut tx, &agent).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// One agent.
    pub async fn get_agent(&self, id: &str) -> Result<AgentRecord, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        store::get_agent(&mut conn, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("agents/{id}")))
    }

    /// Applies an update to an agent.
    pub async fn update_agent(
        &self,
        id: &str,
        etag: &str,
        update: AgentUpdate,
    ) -> Result<AgentRecord, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let groups = self.lock_agent_for_routing(&mut tx, id).await?;
        let name = format!("agents/{id}");
        let before = store::get_agent(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(name.clone()))?;
        check_etag(&name, before.version, etag)?;
        deleted_agent(&before)?;
        let mut after = before.clone();
        update.apply(&mut after);
        after.version = before.version + 1;
        if after.email != before.email
            && store::agent_with_email(&mut tx, &after.email)
                .await?
                .is_some()
        {
            return Err(email_taken());
        }
        if !store::update_agent(&mut tx, &after, self.ctx.now()).await? {
            return Err(ServiceError::Conflict(name));
        }
        // A new skill may fit a ticket waiting in a skills-based queue.
        let new_skill = after.skills.iter().any(|s| !before.skills.contains(s));
        let more_room = (after.active && !before.active)
            || new_skill
            || (before.capacity != 0 && (after.capacity == 0 || after.capacity > before.capacity));
        if more_room {
            self.hand_out(&mut tx, &groups, self.ctx.now()).await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    /// A page of agents, of one group or all; deleted ones only with `deleted`.
    pub async fn list_agents(
        &self,
        group_id: Option<&str>,
        after: Option<&str>,
        deleted: bool,
        limit: usize,
    ) -> Result<Vec<AgentRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        if let Some(group_id) = group_id
            && store::find::<GroupRecord>(&mut conn, group_id)
                .await?
                .is_none()
        {
            return Err(ServiceError::NotFound(format!("groups/{group_id}")));
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(store::list_agents(&mut conn, group_id, after, deleted, limit).await?)
    }

    /// Adds or removes a membership; returns the agent.
    pub async fn set_membership(
        &self,
        group_id: &str,
        agent_id: &str,
        member: bool,
    ) -> Result<AgentRecord, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        // In routing's lock order, before the membership's foreign keys lock the rows too.
        tx.lock_in_order("team_groups", [group_id]).await?;
        tx.lock_in_order("agents", [agent_id]).await?;
        if store::live_group(&mut tx, group_id).await?.is_none() {
            return Err(ServiceError::NotFound(format!("groups/{group_id}")));
        }
        match store::get_agent(&mut tx, agent_id).await? {
            None => return Err(ServiceError::NotFound(format!("agents/{agent_id}"))),
            Some(agent) => deleted_agent(&agent)?,
        }
        if member {
            store::add_member(&mut tx, group_id, agent_id).await?;
            self.hand_out(&mut tx, &[group_id.to_owned()], self.ctx.now())
                .await?;
        } else {
            store::remove_member(&mut tx, group_id, agent_id).await?;
        }
        let agent = store::get_agent(&mut tx, agent_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("agents/{agent_id}")))?;
        tx.commit().await?;
        Ok(agent)
    }
}
