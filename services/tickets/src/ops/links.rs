//! Links between tickets: related tickets, and parent/child trees.

use kefu_db::idempotency::Replay;
use kefu_proto::tickets::v1 as pb;
use kefu_server::ServiceError;
use sqlx::AnyConnection;

use super::{Actor, EventDraft, Tickets, load_seen};
use crate::domain::kinds::LinkKind;
use crate::domain::links::{self, LinkFacts};
use crate::domain::ticket::TicketRecord;
use crate::domain::ticket::{Change, ticket_name};
use crate::store;

impl Tickets {
    /// Links two tickets, recorded on both.
    pub async fn link<A: prost::Message + Default>(
        &self,
        actor: &Actor,
        ticket_id: &str,
        other_id: &str,
        kind: LinkKind,
        replay: &Replay<store::LinkRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, &ticket_name(ticket_id), self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        tx.lock_in_order("tickets", [ticket_id, other_id]).await?;
        let now = self.ctx.now();
        let seen = self.visibility(&mut tx, actor).await?;
        let ticket = load_seen(&mut tx, &seen, ticket_id).await?;
        let other = load_seen(&mut tx, &seen, other_id).await?;
        let ticket_links = store::list_links(&mut tx, ticket_id).await?;
        let other_links = store::list_links(&mut tx, other_id).await?;
        let ancestors = ancestors(&mut tx, ticket_id).await?;
        let parent_of_other = other_links
            .iter()
            .find(|l| l.kind == LinkKind::Parent)
            .map(|l| l.other_id.clone());
        let facts = LinkFacts {
            ancestors_of_ticket: &ancestors,
            parent_of_other: parent_of_other.as_deref(),
            already_linked: ticket_links.iter().any(|l| l.other_id == other_id),
            link_counts: (ticket_links.len(), other_links.len()),
        };
        links::check_link(kind, ticket_id, other_id, &facts)
            .map_err(ServiceError::FailedPrecondition)?;
        let back = links::reverse(kind);
        let forward = store::LinkRecord {
            ticket_id: ticket_id.to_owned(),
            other_id: other_id.to_owned(),
            kind,
            create_time: now,
        };
        store::insert_link(&mut tx, &forward).await?;
        let backward = store::LinkRecord {
            ticket_id: other_id.to_owned(),
            other_id: ticket_id.to_owned(),
            kind: back,
            create_time: now,
        };
        store::insert_link(&mut tx, &backward).await?;
        for (t, to, link_kind) in [(&ticket, other_id, kind), (&other, ticket_id, back)] {
            let change = Change {
                field: format!("links.{}", link_kind.label().to_lowercase()),
                old: String::new(),
                new: ticket_name(to),
            };
            self.audit(&mut tx, actor, &t.id, vec![change], now).await?;
            let mut draft = EventDraft::new(pb::EventType::TicketLinked, t);
            draft.related = Some(ticket_name(to));
            draft.changed_fields = vec!["links".to_owned()];
            draft.emit(&mut tx, actor, now).await?;
        }
        let answer = replay.answer(&mut tx, &forward).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// Removes the link between two tickets.
    pub async fn unlink(
        &self,
        actor: &Actor,
        ticket_id: &str,
        other_id: &str,
    ) -> Result<(), ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        tx.lock_in_order("tickets", [ticket_id, other_id]).await?;
        let now = self.ctx.now();
        let seen = self.visibility(&mut tx, actor).await?;
        let ticket = load_seen(&mut tx, &seen, ticket_id).await?;
        let other = load_seen(&mut tx, &seen, other_id).await?;
        if store::delete_link(&mut tx, ticket_id, other_id).await? == 0 {
            return Err(ServiceError::NotFound(format!(
                "a link between {} and {}",
                ticket_name(ticket_id),
                ticket_name(other_id)
            )));
        }
        for (t, to) in [(&ticket, other_id), (&other, ticket_id)] {
            let change = Change {
                field: "links".to_owned(),
                old: ticket_name(to),
                new: String::new(),
            };
            self.audit(&mut tx, actor, &t.id, vec![change], now).await?;
            let mut draft = EventDraft::new(pb::EventType::TicketLinked, t);
            draft.related = Some(ticket_name(to));
            draft.changed_fields = vec!["links".to_owned()];
            draft.emit(&mut tx, actor, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A ticket's links to tickets the actor may see.
    pub async fn list_links(
        &self,
        actor: &Actor,
        ticket_id: &str,
    ) -> Result<Vec<store::LinkRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let seen = self.visibility(&mut conn, actor).await?;
        load_seen(&mut conn, &seen, ticket_id).await?;
        let all = store::list_links(&mut conn, ticket_id).await?;
        if seen.is_everything() {
            return Ok(all);
        }
        let others: Vec<String> = all.iter().map(|l| l.other_id.clone()).collect();
        let visible: Vec<String> = store::find_all::<TicketRecord>(&mut conn, &others)
            .await?
            .into_iter()
            .filter(|t| seen.sees_ticket(t))
            .map(|t| t.id)
            .collect();
        Ok(all
            .into_iter()
            .filter(|l| visible.contains(&l.other_id))
            .collect())
    }
}

/// A ticket's ancestors in the parent/child tree, nearest first.
async fn ancestors(conn: &mut AnyConnection, id: &str) -> Result<Vec<String>, ServiceError> {
    let mut chain = Vec::new();
    let mut current = id.to_owned();
    while chain.len() <= links::MAX_DEPTH {
        let parent = store::list_links(conn, &current)
            .await?
            .into_iter()
            .find(|l| l.kind == LinkKind::Parent)
            .map(|l| l.other_id);
        match parent {
            Some(parent) if !chain.contains(&parent) => {
                chain.push(parent.clone());
                current = parent;
            }
            _ => break,
        }
    }
    Ok(chain)
}
