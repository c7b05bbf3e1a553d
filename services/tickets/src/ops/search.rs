//! Ranked full-text search over tickets: the index kept in the transaction of every change to a
//! ticket's text, a sweep that indexes tickets written before search existed, and the query.

use kefu_db::Write;
use kefu_server::ServiceError;
use sqlx::AnyConnection;

use super::{Actor, Tickets};
use crate::domain::ticket::TicketRecord;
use crate::store;

/// Tickets the sweep indexes per round.
const BACKLOG_ROUND: i64 = 200;

impl Tickets {
    /// Rewrites a ticket's index rows from its text as it now stands in `conn`.
    pub(super) async fn reindex(
        &self,
        conn: &mut AnyConnection,
        ticket_id: &str,
    ) -> Result<(), ServiceError> {
        if let Some((subject, body)) = store::ticket_text(conn, ticket_id).await? {
            let terms = kefu_text::term_frequencies(&subject, &body);
            store::write_terms(conn, ticket_id, &terms).await?;
        }
        Ok(())
    }

    /// Indexes a round of tickets not indexed yet (written before search existed); returns how
    /// many.
    pub async fn index_backlog(&self) -> Result<usize, ServiceError> {
        let ids = {
            let mut conn = self.ctx.db.read().await?;
            store::unindexed(&mut conn, BACKLOG_ROUND).await?
        };
        for id in &ids {
            let mut tx: Write = self.ctx.db.begin_write().await?;
            tx.lock_in_order("tickets", [id.as_str()]).await?;
            self.reindex(&mut tx, id).await?;
            tx.commit().await?;
        }
        Ok(ids.len())
    }

    /// The tickets `actor` may see that best match `terms`, best first, after the `(score, id)`
    /// key `after`, with their scores.
    pub async fn search_tickets(
        &self,
        actor: &Actor,
        terms: &[String],
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<(TicketRecord, i64)>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let seen = self.visibility(&mut conn, actor).await?;
        let (documents, frequencies) = store::ticket_term_statistics(&mut conn, terms).await?;
        let weighted: Vec<(String, i64)> = terms
            .iter()
            .filter_map(|t| {
                let df = frequencies.get(t).copied().unwrap_or(0);
                (df > 0).then(|| (t.clone(), kefu_text::term_weight(documents, df)))
            })
            .collect();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let hits = store::search_tickets(&mut conn, &weighted, &seen, after, limit).await?;
        let ids: Vec<String> = hits.iter().map(|(id, _)| id.clone()).collect();
        let found = store::find_all::<TicketRecord>(&mut conn, &ids).await?;
        Ok(hits
            .into_iter()
            .filter_map(|(id, score)| {
                found
                    .iter()
                    .find(|t| t.id == id)
                    .map(|t| (t.clone(), score))
            })
            .collect())
    }
}
