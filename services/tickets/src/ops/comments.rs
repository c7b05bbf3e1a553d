//! Replies and internal notes on a ticket.

use kefu_db::idempotency::Replay;
use kefu_proto::tickets::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::common::Channel;

use super::{Actor, EventDraft, Tickets, illegal, new_id};
use crate::domain::lifecycle::{self, Replier};
use crate::domain::ticket::{AttachmentRecord, Change, CommentRecord, TicketRecord, diff};
use crate::store;

/// CreateComment, validated.
#[derive(Debug, Clone)]
pub struct NewComment {
    /// Ticket id.
    pub ticket_id: String,
    /// Text.
    pub body: String,
    /// Visible to the requester.
    pub public: bool,
    /// Where it came in.
    pub channel: Channel,
    /// Attachments.
    pub attachments: Vec<AttachmentRecord>,
}

impl Tickets {
    /// Adds a comment, with the status and SLA effects of a reply.
    pub async fn add_comment<A: prost::Message + Default>(
        &self,
        actor: &Actor,
        new: NewComment,
        replay: &Replay<(CommentRecord, TicketRecord), A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(
                &mut tx,
                &crate::domain::ticket::ticket_name(&new.ticket_id),
                self.ctx.now(),
            )
            .await?
        {
            return Ok(answer);
        }
        let now = self.ctx.now();
        tx.lock_in_order("tickets", [new.ticket_id.as_str()])
            .await?;
        let before = self.load_visible(&mut tx, actor, &new.ticket_id).await?;
        let replier = if actor.customer_id.is_some() {
            Replier::Requester
        } else {
            Replier::Agent
        };
        let next = lifecycle::after_comment(before.status, new.public, replier).map_err(illegal)?;
        let clock = self.ticket_clock(&mut tx, &before).await?;
        let mut after = before.clone();
        // A system's reply (an auto-acknowledgement, a reminder) tells the requester something,
        // but no person has answered: the ticket keeps its status and its SLA targets.
        let automated = replier == Replier::Agent && actor.role == "INTEGRATION";
        if !automated {
            lifecycle::move_to(&mut after, next, now, &clock);
            lifecycle::record_reply(&mut after, new.public, replier, now, &clock);
        }
        let mentioned = if new.public || replier == Replier::Requester {
            Vec::new()
        } else {
            self.follow_mentions(&mut tx, &mut after, &new.body, now)
                .await?
        };
        let comment = CommentRecord {
            id: new_id(),
            ticket_id: new.ticket_id.clone(),
            body: new.body,
            public: new.public,
            author: actor.id.clone(),
            author_kind: lifecycle::author_kind(replier, actor.role == "INTEGRATION"),
            channel: new.channel,
            attachments: new.attachments,
            create_time: now,
        };
        store::insert_comment(&mut tx, &comment).await?;
        self.reindex(&mut tx, &comment.ticket_id).await?;
        let comment_name = format!("tickets/{}/comments/{}", new.ticket_id, comment.id);
        let mut changes = diff(Some(&before), &after);
        changes.push(Change {
            field: if comment.public {
                "comment.public"
            } else {
                "comment.internal"
            }
            .to_owned(),
            old: String::new(),
            new: comment_name.clone(),
        });
        after.version = before.version + 1;
        after.update_time = now;
        if !store::update_ticket(&mut tx, &after).await? {
            return Err(ServiceError::Conflict(crate::domain::ticket::ticket_name(
                &new.ticket_id,
            )));
        }
        self.audit(&mut tx, actor, &new.ticket_id, changes, now)
            .await?;
        let mut draft = EventDraft::new(pb::EventType::TicketCommented, &after);
        draft.comment = Some(comment_name.clone());
        draft.emit(&mut tx, actor, now).await?;
        if !mentioned.is_empty() {
            let mut draft = EventDraft::new(pb::EventType::TicketMentioned, &after);
            draft.comment = Some(comment_name);
            draft.notify_agents = mentioned;
            draft.emit(&mut tx, actor, now).await?;
        }
        self.emit_status(&mut tx, actor, &after, before.status, now)
            .await?;
        let answer = replay.answer(&mut tx, &(comment, after)).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// A page of comments (customers: public ones on their own tickets).
    pub async fn list_comments(
        &self,
        actor: &Actor,
        ticket_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<CommentRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        self.load_visible(&mut conn, actor, ticket_id).await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let public_only = actor.customer_id.is_some();
        Ok(store::list_comments(&mut conn, ticket_id, public_only, after, limit).await?)
    }
}
