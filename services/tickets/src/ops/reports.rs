//! What a team reads back: a ticket's audit trail and the statistics.

use std::collections::BTreeMap;

use kefu_server::ServiceError;

use super::{Actor, Tickets};
use crate::store::{self, AuditRecord, Dimension, StatsRow};

impl Tickets {
    /// A page of a ticket's audit entries, oldest first.
    pub async fn list_audits(
        &self,
        actor: &Actor,
        ticket_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        self.load_visible(&mut conn, actor, ticket_id).await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(store::list_audits(&mut conn, ticket_id, after, limit).await?)
    }

    /// GetTicketStats figures for `[start, end)` split by `dimension`, over the tickets the
    /// actor may see.
    pub async fn stats(
        &self,
        actor: &Actor,
        dimension: Dimension,
        start: i64,
        end: i64,
    ) -> Result<BTreeMap<String, StatsRow>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let seen = self.visibility(&mut conn, actor).await?;
        Ok(store::ticket_stats(&mut conn, &seen, dimension, start, end).await?)
    }
}
