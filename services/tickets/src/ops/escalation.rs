//! The SLA sweeper: marks breaches and fires escalation levels, each once per ticket per target,
//! with the level's changes to the ticket in the same transaction as its audit and events.

use kefu_db::Write;
use kefu_proto::tickets::v1 as pb;
use kefu_server::ServiceError;

use super::{Actor, EventDraft, Tickets};
use crate::domain::escalation::{self, Effects, EscalationLevel};
use crate::domain::lifecycle::{self, Move};
use crate::domain::policy::PolicyRecord;
use crate::domain::sla::TargetKind;
use crate::domain::team::{self, GroupRecord};
use crate::domain::ticket::TicketRecord;
use crate::store;

/// Tickets handled per round: a round is short, the next one picks up the rest.
const ROUND: i64 = 200;

impl Tickets {
    /// Marks every target due at or before `now` as breached and fires every escalation level
    /// due by then: one audit entry per ticket, one event per breach and per level. Returns how
    /// many tickets changed.
    pub async fn sweep_breaches(&self, now: i64) -> Result<usize, ServiceError> {
        let actor = Actor::service("sla-sweeper");
        let ids = {
            let mut conn = self.ctx.db.read().await?;
            store::due_tickets(&mut conn, now, ROUND).await?
        };
        let mut changed = 0;
        for id in ids {
            match self.sweep_ticket(&actor, &id, now).await {
                Ok(true) => changed += 1,
                Ok(false) => {}
                // Another replica's sweeper (or a client) changed it first; the next round sees it.
                Err(ServiceError::Conflict(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(changed)
    }

    /// One ticket's breaches and escalations, in one transaction; false when nothing was due.
    async fn sweep_ticket(&self, actor: &Actor, id: &str, now: i64) -> Result<bool, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let Some(before) = store::find::<TicketRecord>(&mut tx, id).await? else {
            return Ok(false);
        };
        let policy = match before.sla.policy_id.as_deref() {
            Some(policy_id) => store::get_policy(&mut tx, policy_id).await?,
            None => None,
        };
        let clock = self.clock_for(&mut tx, policy.as_ref()).await?;
        let mut after = before.clone();
        let breached = after.sla.sweep(now);
        let fired = after.sla.escalate(now, &clock);
        if breached.is_empty() && fired.is_empty() {
            return Ok(false);
        }
        let levels: Vec<&EscalationLevel> = fired
            .iter()
            .filter_map(|(_, percent)| policy.as_ref().and_then(|p| p.level(*percent)))
            .collect();
        if levels.iter().any(|l| l.moves_ticket()) {
            // Routing's order: the groups this may free room in or route to, before the ticket's
            // row is written. Should the ticket move meanwhile, the save answers a conflict.
            let mut groups: Vec<String> =
                levels.iter().filter_map(|l| l.group_id.clone()).collect();
            if let Some(current) = &before.assignee_id {
                groups.extend(store::groups_of(&mut tx, current).await?);
            }
            self.lock_groups(&mut tx, &groups, &[]).await?;
        }
        let effects = self.apply_levels(&mut tx, &mut after, &levels).await?;
        if effects.priority || effects.group {
            self.apply_policy(&mut tx, &mut after).await?;
        }
        if after.assignee_id != before.assignee_id
            && let Ok(next) =
                lifecycle::apply(before.status, Move::Assign, after.assignee_id.is_some())
        {
            lifecycle::move_to(&mut after, next, now, &clock);
        }
        let changes = self.save(&mut tx, actor, &before, &mut after, now).await?;
        // Each fired level with whether it tells the group's lead.
        let notices: Vec<(TargetKind, u32, bool)> = fired
            .iter()
            .map(|(target, percent)| {
                let notify = policy
                    .as_ref()
                    .and_then(|p| p.level(*percent))
                    .is_some_and(|l| l.notify_lead);
                (*target, *percent, notify)
            })
            .collect();
        self.emit_sweep(&mut tx, actor, &after, &breached, &notices, now)
            .await?;
        if after.assignee_id != before.assignee_id || after.group_id != before.group_id {
            EventDraft::new(pb::EventType::TicketAssigned, &after)
                .emit(&mut tx, actor, now)
                .await?;
        }
        if changes.iter().any(|c| c.field == "priority") {
            let mut draft = EventDraft::new(pb::EventType::TicketUpdated, &after);
            draft.changed_fields = vec!["priority".to_owned()];
            draft.emit(&mut tx, actor, now).await?;
        }
        self.emit_status(&mut tx, actor, &after, before.status, now)
            .await?;
        self.hand_out_freed(&mut tx, &before, &after, now).await?;
        if let Some(group_id) = after.group_id.clone()
            && after.group_id != before.group_id
            && after.assignee_id.is_none()
        {
            self.hand_out(&mut tx, &[group_id], now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Applies fired levels in order: priority and group (domain rules), then the reassignment
    /// when the agent may take the ticket; an assignee who is not in a new group is let go.
    async fn apply_levels(
        &self,
        tx: &mut Write,
        t: &mut TicketRecord,
        levels: &[&EscalationLevel],
    ) -> Result<Effects, ServiceError> {
        let mut effects = Effects::default();
        for level in levels {
            let applied = escalation::apply(t, level);
            effects.priority |= applied.priority;
            effects.group |= applied.group;
            if let Some(agent_id) = &level.assignee_id {
                match store::get_agent(tx, agent_id).await? {
                    Some(agent) if team::check_assignee(&agent, t.group_id.as_deref()).is_ok() => {
                        t.assignee_id = Some(agent_id.clone());
                    }
                    _ => tracing::warn!(
                        ticket = %t.id,
                        agent = %agent_id,
                        "escalation reassignment skipped: the agent cannot take the ticket"
                    ),
                }
            }
        }
        if effects.group
            && let (Some(current), Some(group_id)) = (t.assignee_id.clone(), t.group_id.clone())
        {
            let agent = store::get_agent(tx, &current).await?;
            if !team::keeps_assignee(agent.as_ref(), &group_id) {
                t.assignee_id = None;
            }
        }
        Ok(effects)
    }

    /// SLA_BREACHED per breached target, SLA_ESCALATED per fired level (naming the lead of the
    /// ticket's group when the level notifies the lead).
    async fn emit_sweep(
        &self,
        tx: &mut Write,
        actor: &Actor,
        t: &TicketRecord,
        breached: &[TargetKind],
        fired: &[(TargetKind, u32, bool)],
        now: i64,
    ) -> Result<(), ServiceError> {
        let lead = match &t.group_id {
            Some(group_id) if fired.iter().any(|&(_, _, notify)| notify) => {
                store::find::<GroupRecord>(tx, group_id)
                    .await?
                    .and_then(|g| g.lead_id)
            }
            _ => None,
        };
        for target in breached {
            let mut draft = EventDraft::new(pb::EventType::SlaBreached, t);
            draft.sla_target = Some(target.as_str());
            draft.emit(tx, actor, now).await?;
        }
        for &(target, percent, notify_lead) in fired {
            let mut draft = EventDraft::new(pb::EventType::SlaEscalated, t);
            draft.sla_target = Some(target.as_str());
            draft.escalation_percent = percent;
            if notify_lead {
                draft.notify_agents.extend(lead.clone());
            }
            draft.emit(tx, actor, now).await?;
        }
        Ok(())
    }

    /// Checks that the groups and agents a policy's levels name exist, and that a level's
    /// agent may take tickets of its group.
    pub(super) async fn check_levels(
        &self,
        tx: &mut Write,
        policy: &PolicyRecord,
    ) -> Result<(), ServiceError> {
        for level in &policy.escalations {
            if let Some(group_id) = &level.group_id
                && store::live_group(tx, group_id).await?.is_none()
            {
                return Err(ServiceError::NotFound(format!("groups/{group_id}")));
            }
            if let Some(agent_id) = &level.assignee_id {
                let agent = store::get_agent(tx, agent_id)
                    .await?
                    .ok_or_else(|| ServiceError::NotFound(format!("agents/{agent_id}")))?;
                team::check_assignee(&agent, level.group_id.as_deref())
                    .map_err(ServiceError::FailedPrecondition)?;
            }
        }
        Ok(())
    }
}
