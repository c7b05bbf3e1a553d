//! Merging a duplicate ticket into another, and taking it back out.

use kefu_db::idempotency::Replay;
use kefu_proto::tickets::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::common::Channel;

use super::{Actor, EventDraft, Tickets, check_etag, load_seen, new_id};
use crate::domain::kinds::{AuthorKind, TicketStatus};
use crate::domain::lifecycle;
use crate::domain::links;
use crate::domain::ticket::{Change, CommentRecord, TicketRecord, ticket_name};
use crate::store;

impl Tickets {
    /// Writes an internal note on `t` (by `actor`) and bumps its version, with an audit entry.
    async fn note(
        &self,
        tx: &mut kefu_db::Write,
        actor: &Actor,
        t: &TicketRecord,
        body: String,
        change: Change,
        now: i64,
    ) -> Result<TicketRecord, ServiceError> {
        let comment = CommentRecord {
            id: new_id(),
            ticket_id: t.id.clone(),
            body,
            public: false,
            author: actor.id.clone(),
            author_kind: AuthorKind::System,
            channel: Channel::Api,
            attachments: Vec::new(),
            create_time: now,
        };
        store::insert_comment(tx, &comment).await?;
        self.reindex(tx, &comment.ticket_id).await?;
        let mut after = t.clone();
        after.version = t.version + 1;
        after.update_time = now;
        if !store::update_ticket(tx, &after).await? {
            return Err(ServiceError::Conflict(ticket_name(&t.id)));
        }
        self.audit(tx, actor, &t.id, vec![change], now).await?;
        Ok(after)
    }

    /// Merges `source_id` into `target_id`: the source's comments move to the target, the source
    /// closes; returns the target.
    pub async fn merge<A: prost::Message + Default>(
        &self,
        actor: &Actor,
        source_id: &str,
        target_id: &str,
        etag: &str,
        replay: &Replay<TicketRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &ticket_name(source_id), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        tx.lock_in_order("tickets", [source_id, target_id]).await?;
        let now = self.ctx.now();
        let seen = self.visibility(&mut tx, actor).await?;
        let source = load_seen(&mut tx, &seen, source_id).await?;
        let target = load_seen(&mut tx, &seen, target_id).await?;
        let (source_name, target_name) = (ticket_name(source_id), ticket_name(target_id));
        check_etag(&source_name, source.version, etag)?;
        links::check_merge(&source, &target).map_err(ServiceError::FailedPrecondition)?;
        let moved = store::comment_ids(&mut tx, source_id).await?;
        store::move_comments(&mut tx, &moved, target_id).await?;
        let merge = store::MergeRecord {
            source_id: source_id.to_owned(),
            target_id: target_id.to_owned(),
            moved_comments: moved,
            source_status: source.status,
            source_solve_time: source.solve_time,
            create_time: now,
        };
        store::insert_merge(&mut tx, &merge).await?;
        let mut after = source.clone();
        let clock = self.ticket_clock(&mut tx, &source).await?;
        lifecycle::move_to(&mut after, TicketStatus::Closed, now, &clock);
        after.merged_into = Some(target_id.to_owned());
        self.save(&mut tx, actor, &source, &mut after, now).await?;
        // The merged-away ticket closes: its assignee may have room for a queued one.
        self.hand_out_freed(&mut tx, &source, &after, now).await?;
        let mut draft = EventDraft::new(pb::EventType::TicketMerged, &after);
        draft.related = Some(target_name.clone());
        draft.emit(&mut tx, actor, now).await?;
        self.emit_status(&mut tx, actor, &after, source.status, now)
            .await?;
        let body = format!(
            "Merged {source_name} into this ticket: \"{}\"",
            source.fields.subject
        );
        let change = Change {
            field: "merged_from".to_owned(),
            old: String::new(),
            new: source_name,
        };
        let target_after = self
            .note(&mut tx, actor, &target, body, change, now)
            .await?;
        let answer = replay.answer(&mut tx, &target_after).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// Takes a merged ticket back out, its comments back with it; returns it.
    pub async fn unmerge<A: prost::Message + Default>(
        &self,
        actor: &Actor,
        source_id: &str,
        replay: &Replay<TicketRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &ticket_name(source_id), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        let now = self.ctx.now();
        let seen = self.visibility(&mut tx, actor).await?;
        let source = load_seen(&mut tx, &seen, source_id).await?;
        let source_name = ticket_name(source_id);
        let merge = store::get_merge(&mut tx, source_id).await?.ok_or_else(|| {
            ServiceError::FailedPrecondition(format!("{source_name} is not merged"))
        })?;
        tx.lock_in_order("tickets", [source_id, merge.target_id.as_str()])
            .await?;
        let target = load_seen(&mut tx, &seen, &merge.target_id).await?;
        let target_name = ticket_name(&merge.target_id);
        if target.status == TicketStatus::Closed {
            return Err(ServiceError::FailedPrecondition(format!(
                "{target_name} is CLOSED: its comments can no longer move"
            )));
        }
        store::move_comments(&mut tx, &merge.moved_comments, source_id).await?;
        store::delete_merge(&mut tx, source_id).await?;
        let mut after = source.clone();
        let clock = self.ticket_clock(&mut tx, &source).await?;
        lifecycle::restore_after_unmerge(
            &mut after,
            merge.source_status,
            merge.source_solve_time,
            now,
            &clock,
        );
        self.save(&mut tx, actor, &source, &mut after, now).await?;
        let mut draft = EventDraft::new(pb::EventType::TicketUnmerged, &after);
        draft.related = Some(target_name);
        draft.emit(&mut tx, actor, now).await?;
        // A restored status is not a new solve: no SOLVED event (no second survey), no stats row.
        let mut draft = EventDraft::new(pb::EventType::TicketStatusChanged, &after);
        draft.old_status = Some(source.status);
        draft.emit(&mut tx, actor, now).await?;
        let change = Change {
            field: "merged_from".to_owned(),
            old: source_name.clone(),
            new: String::new(),
        };
        let body = format!("Unmerged {source_name} from this ticket");
        self.note(&mut tx, actor, &target, body, change, now)
            .await?;
        let answer = replay.answer(&mut tx, &after).await?;
        tx.commit().await?;
        Ok(answer)
    }
}
