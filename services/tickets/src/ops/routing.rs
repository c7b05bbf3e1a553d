//! Routing in the transaction that causes it: a new ticket of a routed group goes to an agent
//! with room, or waits in the group's queue (its unassigned NEW and OPEN tickets); whatever frees room (a ticket leaving NEW or OPEN,
//! an agent coming ONLINE or taking more) hands the queue's next tickets out.
//!
//! Locks, always in this order: the group's row, then its members' rows in id order, then a
//! queued ticket's row. Every routing decision for a group serializes on the group, and every
//! decision about an agent on the agent, so no agent ever takes more than their capacity, even
//! when they belong to several routed groups.

use kefu_db::Write;
use kefu_proto::tickets::v1 as pb;
use kefu_server::{ServiceError, Violations};

use super::{Actor, EventDraft, Tickets, check_etag, illegal, load};
use crate::domain::kinds::{Availability, RoutingMethod, TicketStatus};
use crate::domain::lifecycle::{self, Move};
use crate::domain::policy::ScheduleRecord;
use crate::domain::routing::{self, COUNTED, Candidate};
use crate::domain::skills::{self, SkillRule};
use crate::domain::team::{AgentRecord, GroupRecord};
use crate::domain::ticket::{Change, TicketRecord};
use crate::store;

/// UpdateGroup, validated: the fields the mask named, the others `None`.
#[derive(Debug, Clone, Default)]
pub struct GroupUpdate {
    /// New unique name.
    pub display_name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New routing.
    pub routing: Option<RoutingMethod>,
    /// New skill rules.
    pub skill_rules: Option<Vec<SkillRule>>,
    /// Whether a member going OFFLINE gives their tickets back.
    pub reassign_offline: Option<bool>,
    /// New lead (`Some(None)` clears it).
    pub lead_id: Option<Option<String>>,
    /// New business schedule (`Some(None)`: routes at any time).
    pub schedule_id: Option<Option<String>>,
}

/// Most queued tickets one change hands out, to keep its transaction short; the next change
/// (or the sweeper) hands out the rest.
const MAX_HANDED_OUT: usize = 50;

/// A group's routing, locked for one decision.
struct Routing {
    group_id: String,
    method: RoutingMethod,
    rules: Vec<SkillRule>,
    candidates: Vec<Candidate>,
    last: Option<String>,
}

/// How a routed ticket found its agent, for the audit trail.
pub(super) struct Routed(String);

impl Routing {
    /// The agent the next ticket needing `required` goes to, counted in as taking it.
    fn take_turn(&mut self, required: &[String]) -> Option<String> {
        let chosen = routing::choose(
            self.method,
            &self.candidates,
            self.last.as_deref(),
            required,
        )?;
        let id = chosen.id.clone();
        if let Some(c) = self.candidates.iter_mut().find(|c| c.id == id) {
            c.load += 1;
        }
        self.last = Some(id.clone());
        Some(id)
    }
}

impl Tickets {
    /// Locks the routed ones among `group_ids`, all at once, then all their members and any
    /// `extra_agents`, all at once; returns the routed groups in id order. Taking every group
    /// before any agent is what keeps two transactions that route in overlapping groups from
    /// waiting on each other in a circle.
    pub(super) async fn lock_groups(
        &self,
        tx: &mut Write,
        group_ids: &[String],
        extra_agents: &[&str],
    ) -> Result<Vec<GroupRecord>, ServiceError> {
        let mut routed = Vec::new();
        for group_id in group_ids {
            if let Some(group) = store::find::<GroupRecord>(tx, group_id).await?
                && group.routing != RoutingMethod::Manual
                && !routed.iter().any(|g: &GroupRecord| g.id == group.id)
            {
                routed.push(group);
            }
        }
        routed.sort_by(|a, b| a.id.cmp(&b.id));
        tx.lock_in_order("team_groups", routed.iter().map(|g| g.id.as_str()))
            .await?;
        let mut members: Vec<String> = extra_agents.iter().map(|a| (*a).to_owned()).collect();
        for group in &routed {
            members.extend(
                store::candidates(tx, &group.id)
                    .await?
                    .into_iter()
                    .map(|c| c.id),
            );
        }
        tx.lock_in_order("agents", members.iter().map(String::as_str))
            .await?;
        Ok(routed)
    }

    /// A locked group's routing, counted under the locks (after what another group's routing,
    /// or this transaction, did meanwhile).
    /// Outside the group's business hours nobody is a candidate: every ticket waits.
    async fn routing_of(
        &self,
        tx: &mut Write,
        group: &GroupRecord,
        now: i64,
    ) -> Result<Routing, ServiceError> {
        let open = match &group.schedule_id {
            Some(schedule_id) => {
                match store::find::<ScheduleRecord>(&mut *tx, schedule_id).await? {
                    Some(schedule) => schedule.clock().is_ok_and(|clock| clock.is_working(now)),
                    None => true,
                }
            }
            None => true,
        };
        let candidates = if open {
            store::candidates(tx, &group.id).await?
        } else {
            Vec::new()
        };
        Ok(Routing {
            group_id: group.id.clone(),
            method: group.routing,
            rules: group.skill_rules.clone(),
            candidates,
            last: store::last_routed(tx, &group.id).await?,
        })
    }

    /// Gives a new, unassigned ticket to the requester's account owner when they may take it
    /// (active, ONLINE, below capacity, in the ticket's group), else, in a routed group, to an
    /// agent with room; leaves it NEW and queued when nobody has room. Runs before the ticket is
    /// first written; the caller records the decision after the creation.
    pub(super) async fn route_new(
        &self,
        tx: &mut Write,
        t: &mut TicketRecord,
        account_owner: Option<&str>,
        now: i64,
    ) -> Result<Option<Routed>, ServiceError> {
        if t.assignee_id.is_some() {
            return Ok(None);
        }
        let groups: Vec<String> = t.group_id.iter().cloned().collect();
        let extra: Vec<&str> = account_owner.into_iter().collect();
        let routed = self.lock_groups(tx, &groups, &extra).await?;
        if let Some(owner) = account_owner
            && let Some(candidate) = store::candidate(tx, owner).await?
            && candidate.has_room()
            && match &t.group_id {
                Some(group) => store::groups_of(tx, owner).await?.contains(group),
                None => true,
            }
        {
            self.give(tx, t, owner, now).await?;
            return Ok(Some(Routed("to the account owner".to_owned())));
        }
        let Some(group) = routed.first() else {
            return Ok(None);
        };
        let mut routing = self.routing_of(tx, group, now).await?;
        self.give_in_turn(tx, &mut routing, t, now).await
    }

    /// Sets `agent_id` as `t`'s assignee and moves the ticket as an assignment does.
    async fn give(
        &self,
        tx: &mut Write,
        t: &mut TicketRecord,
        agent_id: &str,
        now: i64,
    ) -> Result<(), ServiceError> {
        t.assignee_id = Some(agent_id.to_owned());
        let next = lifecycle::apply(t.status, Move::Assign, true).map_err(illegal)?;
        let clock = self.ticket_clock(tx, t).await?;
        lifecycle::move_to(t, next, now, &clock);
        Ok(())
    }

    /// Gives `t` to the agent whose turn it is, if anyone (with the skills it needs, under
    /// skills-based routing) has room, and records the turn; `None` when it was not given.
    async fn give_in_turn(
        &self,
        tx: &mut Write,
        routing: &mut Routing,
        t: &mut TicketRecord,
        now: i64,
    ) -> Result<Option<Routed>, ServiceError> {
        let mut how = routing.method.name().to_owned();
        let mut required = Vec::new();
        if routing.method == RoutingMethod::SkillsBased {
            required = skills::required_skills(&routing.rules, t);
            if !required.is_empty() {
                how = format!("{how}, needs {}", required.join(", "));
            }
        }
        let Some(agent_id) = routing.take_turn(&required) else {
            return Ok(None);
        };
        store::set_last_routed(tx, &routing.group_id, &agent_id).await?;
        self.give(tx, t, &agent_id, now).await?;
        Ok(Some(Routed(how)))
    }

    /// The events and audit entry of a routing decision already written on `t`.
    pub(super) async fn record_routed(
        &self,
        tx: &mut Write,
        t: &TicketRecord,
        how: &Routed,
        old_status: TicketStatus,
        now: i64,
    ) -> Result<(), ServiceError> {
        let actor = Actor::service("Routing");
        let change = Change {
            field: "assignee".to_owned(),
            old: String::new(),
            new: format!(
                "agents/{} (routed {})",
                t.assignee_id.as_deref().unwrap_or_default(),
                how.0
            ),
        };
        self.audit(tx, &actor, &t.id, vec![change], now).await?;
        EventDraft::new(pb::EventType::TicketAssigned, t)
            .emit(tx, &actor, now)
            .await?;
        self.emit_status(tx, &actor, t, old_status, now).await
    }

    /// Whether a ticket going from `before` to `after` frees room for its assignee.
    pub(super) fn frees_room(before: &TicketRecord, after: &TicketRecord) -> bool {
        before.assignee_id.is_some()
            && COUNTED.contains(&before.status)
            && (!COUNTED.contains(&after.status) || after.assignee_id != before.assignee_id)
    }

    /// After `before` became `after` in this transaction: hands out the queues of the groups of
    /// the agent it freed room for, if it did.
    pub(super) async fn hand_out_freed(
        &self,
        tx: &mut Write,
        before: &TicketRecord,
        after: &TicketRecord,
        now: i64,
    ) -> Result<(), ServiceError> {
        if !Self::frees_room(before, after) {
            return Ok(());
        }
        let Some(agent_id) = &before.assignee_id else {
            return Ok(());
        };
        let groups = store::groups_of(tx, agent_id).await?;
        self.hand_out(tx, &groups, now).await
    }

    /// Hands the queue of each of `group_ids` out to agents with room, oldest SLA due first.
    pub(super) async fn hand_out(
        &self,
        tx: &mut Write,
        group_ids: &[String],
        now: i64,
    ) -> Result<(), ServiceError> {
        for group in self.lock_groups(tx, group_ids, &[]).await? {
            let mut routing = self.routing_of(tx, &group, now).await?;
            let queued = store::queue(tx, &group.id, MAX_HANDED_OUT as i64).await?;
            for ticket_id in queued {
                tx.lock_in_order("tickets", [ticket_id.as_str()]).await?;
                let before = load(tx, &ticket_id).await?;
                // Assigned or moved on since the queue was read.
                if before.assignee_id.is_some()
                    || !COUNTED.contains(&before.status)
                    || before.group_id.as_deref() != Some(group.id.as_str())
                {
                    continue;
                }
                let mut after = before.clone();
                let Some(how) = self.give_in_turn(tx, &mut routing, &mut after, now).await? else {
                    // Under skills-based routing a later ticket may need skills someone with
                    // room has; otherwise nobody has room.
                    if group.routing == RoutingMethod::SkillsBased {
                        continue;
                    }
                    break;
                };
                after.version = before.version + 1;
                after.update_time = now;
                if !store::update_ticket(tx, &after).await? {
                    return Err(ServiceError::Conflict(format!("tickets/{ticket_id}")));
                }
                self.record_routed(tx, &after, &how, before.status, now)
                    .await?;
            }
        }
        Ok(())
    }

    /// Locks the groups of `agent_id`, then the agent, in routing's order; returns the groups.
    pub(super) async fn lock_agent_for_routing(
        &self,
        tx: &mut Write,
        agent_id: &str,
    ) -> Result<Vec<String>, ServiceError> {
        let groups = store::groups_of(tx, agent_id).await?;
        tx.lock_in_order("team_groups", groups.iter().map(String::as_str))
            .await?;
        tx.lock_in_order("agents", [agent_id]).await?;
        Ok(groups)
    }

    /// Sets whether an agent takes routed tickets; coming ONLINE hands their groups' queues out,
    /// going OFFLINE gives their tickets of groups that ask for it back to routing.
    pub async fn set_availability(
        &self,
        agent_id: &str,
        availability: Availability,
    ) -> Result<AgentRecord, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let groups = self.lock_agent_for_routing(&mut tx, agent_id).await?;
        let name = format!("agents/{agent_id}");
        let before = store::get_agent(&mut tx, agent_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(name.clone()))?;
        super::retire::deleted_agent(&before)?;
        if before.availability == availability {
            return Ok(before);
        }
        let mut after = before.clone();
        after.availability = availability;
        after.version = before.version + 1;
        let now = self.ctx.now();
        if !store::update_agent(&mut tx, &after, now).await? {
            return Err(ServiceError::Conflict(name));
        }
        match availability {
            Availability::Online => self.hand_out(&mut tx, &groups, now).await?,
            Availability::Offline => self.give_back(&mut tx, agent_id, &groups, now).await?,
            Availability::Away => {}
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Applies an update to a group; turning routing on hands its queue out.
    pub async fn update_group(
        &self,
        group_id: &str,
        etag: &str,
        update: GroupUpdate,
    ) -> Result<GroupRecord, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        tx.lock_in_order("team_groups", [group_id]).await?;
        let name = format!("groups/{group_id}");
        let before = store::find::<GroupRecord>(&mut tx, group_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(name.clone()))?;
        check_etag(&name, before.version, etag)?;
        if before.delete_time.is_some() {
            return Err(ServiceError::FailedPrecondition(format!(
                "{name} is deleted"
            )));
        }
        let mut after = before.clone();
        if let Some(display_name) = update.display_name {
            after.display_name = display_name;
        }
        if let Some(description) = update.description {
            after.description = description;
        }
        if let Some(routing) = update.routing {
            after.routing = routing;
        }
        if let Some(reassign) = update.reassign_offline {
            after.reassign_offline = reassign;
        }
        if let Some(lead_id) = update.lead_id {
            self.check_lead(&mut tx, lead_id.as_deref()).await?;
            after.lead_id = lead_id;
        }
        if let Some(rules) = update.skill_rules {
            self.check_skills(&mut tx, &rules).await?;
            after.skill_rules = rules;
        }
        if let Some(schedule_id) = update.schedule_id {
            check_schedule(&mut tx, schedule_id.as_deref()).await?;
            after.schedule_id = schedule_id;
        }
        if after == before {
            return Ok(before);
        }
        if after.display_name != before.display_name
            && store::group_name_taken(&mut tx, &after.display_name).await?
        {
            return Err(ServiceError::AlreadyExists {
                reason: "GROUP_NAME_TAKEN",
                message: format!("a group named {:?} exists", after.display_name),
            });
        }
        after.version = before.version + 1;
        let now = self.ctx.now();
        if !store::update_group(&mut tx, &after, now).await? {
            return Err(ServiceError::Conflict(name));
        }
        if after.routing != before.routing
            || after.skill_rules != before.skill_rules
            || after.schedule_id != before.schedule_id
        {
            self.hand_out(&mut tx, &[group_id.to_owned()], now).await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Unassigns `agent_id`'s NEW and OPEN tickets of those of `group_ids` (locked, with the
    /// agent) that reassign when a member goes OFFLINE, and routes them again; a ticket nobody
    /// has room for waits in the queue.
    async fn give_back(
        &self,
        tx: &mut Write,
        agent_id: &str,
        group_ids: &[String],
        now: i64,
    ) -> Result<(), ServiceError> {
        let actor = Actor::service("Routing");
        let mut reassigning = Vec::new();
        for group_id in group_ids {
            let Some(group) = store::find::<GroupRecord>(tx, group_id).await? else {
                continue;
            };
            if !group.reassign_offline || group.routing == RoutingMethod::Manual {
                continue;
            }
            for ticket_id in store::in_progress(tx, agent_id, group_id).await? {
                tx.lock_in_order("tickets", [ticket_id.as_str()]).await?;
                let before = load(tx, &ticket_id).await?;
                if before.assignee_id.as_deref() != Some(agent_id) {
                    continue;
                }
                let mut after = before.clone();
                after.assignee_id = None;
                self.save(tx, &actor, &before, &mut after, now).await?;
                EventDraft::new(pb::EventType::TicketAssigned, &after)
                    .emit(tx, &actor, now)
                    .await?;
            }
            reassigning.push(group.id);
        }
        self.hand_out(tx, &reassigning, now).await
    }

    /// Checks that a group's lead, if any, is an active agent (INVALID_ARGUMENT on `group.lead`).
    pub(super) async fn check_lead(
        &self,
        tx: &mut Write,
        lead_id: Option<&str>,
    ) -> Result<(), ServiceError> {
        let Some(lead_id) = lead_id else {
            return Ok(());
        };
        let mut v = Violations::new();
        match store::get_agent(tx, lead_id).await? {
            Some(agent) if agent.active => {}
            Some(_) => v.add("group.lead", format!("agents/{lead_id} is not active")),
            None => v.add("group.lead", format!("no agent agents/{lead_id}")),
        }
        Ok(v.into_result()?)
    }

    /// INVALID_ARGUMENT naming each rule skill no active agent holds.
    pub(super) async fn check_skills(
        &self,
        tx: &mut Write,
        rules: &[SkillRule],
    ) -> Result<(), ServiceError> {
        let known = store::known_skills(tx).await?;
        let mut v = Violations::new();
        for (field, skill) in skills::unknown_skills(rules, &known, "group.skill_rules") {
            v.add(field, format!("no active agent has skill {skill:?}"));
        }
        Ok(v.into_result()?)
    }
}

/// NOT_FOUND when a group names a business schedule that does not exist.
pub(super) async fn check_schedule(
    tx: &mut Write,
    schedule_id: Option<&str>,
) -> Result<(), ServiceError> {
    if let Some(schedule_id) = schedule_id
        && store::find::<ScheduleRecord>(&mut *tx, schedule_id)
            .await?
            .is_none()
    {
        return Err(ServiceError::NotFound(format!(
            "businessSchedules/{schedule_id}"
        )));
    }
    Ok(())
}
