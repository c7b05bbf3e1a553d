//! A ticket's life: assignment and the lifecycle moves (pending, on hold, solved, reopened,
//! closed), each with its SLA effects.

use kefu_db::idempotency::Replay;
use kefu_proto::tickets::v1 as pb;
use kefu_server::ServiceError;

use super::{Actor, EventDraft, Tickets, check_etag, illegal, load};
use crate::domain::lifecycle::{self, Move};
use crate::domain::team;
use crate::domain::ticket::{TicketRecord, ticket_name};
use crate::store;

impl Tickets {
    /// Assigns an agent and/or a group.
    pub async fn assign<A: prost::Message + Default>(
        &self,
        actor: &Actor,
        id: &str,
        assignee: Option<String>,
        group: Option<String>,
        etag: &str,
        replay: &Replay<TicketRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &ticket_name(id), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        let now = self.ctx.now();
        // A ticket sent to a routed group without an assignee is routed there, and a
        // reassignment frees room in the old assignee's groups: those groups' locks come before
        // the ticket's, all at once, in routing's order. (Read unlocked: should the assignee
        // change meanwhile, the database's deadlock detection still answers ABORTED.)
        let route_to = group.clone().filter(|_| assignee.is_none());
        let mut routing_groups: Vec<String> = route_to.iter().cloned().collect();
        if let Some(current) = load(&mut tx, id).await?.assignee_id {
            routing_groups.extend(store::groups_of(&mut tx, &current).await?);
        }
        self.lock_groups(&mut tx, &routing_groups, &[]).await?;
        let before = self.load_for_write(&mut tx, actor, id).await?;
        check_etag(&ticket_name(id), before.version, etag)?;
        let mut after = before.clone();
        if let Some(group_id) = &group {
            if store::live_group(&mut tx, group_id).await?.is_none() {
                return Err(ServiceError::NotFound(format!("groups/{group_id}")));
            }
            after.group_id = Some(group_id.clone());
        }
        match assignee {
            Some(agent_id) => {
                let agent = store::get_agent(&mut tx, &agent_id)
                    .await?
                    .ok_or_else(|| ServiceError::NotFound(format!("agents/{agent_id}")))?;
                team::check_assignee(&agent, after.group_id.as_deref())
                    .map_err(ServiceError::FailedPrecondition)?;
                after.assignee_id = Some(agent_id);
            }
            None => {
                if let (Some(current), Some(group_id)) = (&before.assignee_id, &after.group_id) {
                    let agent = store::get_agent(&mut tx, current).await?;
                    if !team::keeps_assignee(agent.as_ref(), group_id) {
                        after.assignee_id = None;
                    }
                }
            }
        }
        let next = lifecycle::apply(before.status, Move::Assign, after.assignee_id.is_some())
            .map_err(illegal)?;
        let clock = self.ticket_clock(&mut tx, &before).await?;
        lifecycle::move_to(&mut after, next, now, &clock);
        if after.group_id != before.group_id {
            self.apply_policy(&mut tx, &mut after).await?;
        }
        self.save(&mut tx, actor, &before, &mut after, now).await?;
        EventDraft::new(pb::EventType::TicketAssigned, &after)
            .emit(&mut tx, actor, now)
            .await?;
        self.emit_status(&mut tx, actor, &after, before.status, now)
            .await?;
        self.hand_out_freed(&mut tx, &before, &after, now).await?;
        if let Some(group_id) = route_to
            && after.group_id != before.group_id
            && after.assignee_id.is_none()
        {
            self.hand_out(&mut tx, &[group_id], now).await?;
            after = load(&mut tx, id).await?;
        }
        let answer = replay.answer(&mut tx, &after).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// SetPending, SetOnHold, Solve, Reopen, Close.
    pub async fn transition<A: prost::Message + Default>(
        &self,
        actor: &Actor,
        id: &str,
        action: Move,
        etag: &str,
        replay: &Replay<TicketRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &ticket_name(id), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        let now = self.ctx.now();
        let before = self.load_for_write(&mut tx, actor, id).await?;
        check_etag(&ticket_name(id), before.version, etag)?;
        let next = lifecycle::apply(before.status, action, before.assignee_id.is_some())
            .map_err(illegal)?;
        if action == Move::Solve {
            self.check_solvable(&mut tx, &before).await?;
        }
        let mut after = before.clone();
        let clock = self.ticket_clock(&mut tx, &before).await?;
        lifecycle::move_to(&mut after, next, now, &clock);
        self.save(&mut tx, actor, &before, &mut after, now).await?;
        self.emit_status(&mut tx, actor, &after, before.status, now)
            .await?;
        self.hand_out_freed(&mut tx, &before, &after, now).await?;
        let answer = replay.answer(&mut tx, &after).await?;
        tx.commit().await?;
        Ok(answer)
    }
}
