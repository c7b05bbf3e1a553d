//! Followers: agents who follow a ticket, by asking or by being mentioned in an internal note.

use kefu_db::Write;
use kefu_proto::tickets::v1 as pb;
use kefu_server::ServiceError;

use super::{Actor, EventDraft, Tickets};
use crate::domain::followers::{self, MAX_FOLLOWERS};
use crate::domain::scope::Visibility;
use crate::domain::ticket::TicketRecord;
use crate::store;

impl Tickets {
    /// Makes `agent_id` follow (or, with `follow` false, stop following) the ticket, in one
    /// transaction with its audit entry and TICKET_FOLLOWED event; no change answers the ticket
    /// as it is.
    pub async fn set_following(
        &self,
        actor: &Actor,
        ticket_id: &str,
        agent_id: &str,
        follow: bool,
    ) -> Result<TicketRecord, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let before = self.load_for_write(&mut tx, actor, ticket_id).await?;
        let mut after = before.clone();
        let now = self.ctx.now();
        if follow {
            if !self.may_follow(&mut tx, &before, agent_id).await? {
                return Err(ServiceError::FailedPrecondition(format!(
                    "agents/{agent_id} is not an active agent who can see this ticket"
                )));
            }
            if !followers::follow(&mut after.followers, agent_id) {
                return Ok(before);
            }
            if after.followers.len() > MAX_FOLLOWERS {
                return Err(ServiceError::FailedPrecondition(format!(
                    "a ticket has at most {MAX_FOLLOWERS} followers"
                )));
            }
            store::add_followers(&mut tx, ticket_id, &[agent_id.to_owned()], now).await?;
        } else {
            if !followers::unfollow(&mut after.followers, agent_id) {
                return Ok(before);
            }
            store::remove_follower(&mut tx, ticket_id, agent_id).await?;
        }
        self.save(&mut tx, actor, &before, &mut after, now).await?;
        let mut draft = EventDraft::new(pb::EventType::TicketFollowed, &after);
        draft.changed_fields = vec![if follow { "followed" } else { "unfollowed" }.to_owned()];
        draft.notify_agents = vec![agent_id.to_owned()];
        draft.emit(&mut tx, actor, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Adds the agents a note on `t` mentions to its followers (the caller saves `t`): those that
    /// are active agents who can see it, up to the most followers a ticket has. Answers the
    /// mentioned agents to notify, in the note's order.
    pub(super) async fn follow_mentions(
        &self,
        tx: &mut Write,
        t: &mut TicketRecord,
        body: &str,
        now: i64,
    ) -> Result<Vec<String>, ServiceError> {
        let mut mentioned = Vec::new();
        for agent_id in followers::mentions(body) {
            if !self.may_follow(tx, t, &agent_id).await? {
                continue;
            }
            let new = followers::follow(&mut t.followers, &agent_id);
            if new && t.followers.len() > MAX_FOLLOWERS {
                followers::unfollow(&mut t.followers, &agent_id);
                continue;
            }
            mentioned.push(agent_id);
        }
        store::add_followers(tx, &t.id, &mentioned, now).await?;
        Ok(mentioned)
    }

    /// Whether `agent_id` is an active agent whose ticket scope includes `t`.
    async fn may_follow(
        &self,
        tx: &mut Write,
        t: &TicketRecord,
        agent_id: &str,
    ) -> Result<bool, ServiceError> {
        Ok(match store::get_agent(tx, agent_id).await? {
            Some(agent) if agent.active => {
                Visibility::of_agent(&agent.id, agent.ticket_scope, agent.groups).sees_ticket(t)
            }
            _ => false,
        })
    }
}
