//! What a team reads back: a ticket's audit trail and the statistics.

use std::collections::BTreeMap;

use kefu_server::ServiceError;

use super::{Tickets, load};
use crate::store::{self, AuditRecord, Dimension, StatsRow};

impl Tickets {
    /// A page of a ticket's audit entries, oldest first.
    pub async fn list_audits(
        &self,
        ticket_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        load(&mut conn, ticket_id).await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(store::list_audits(&mut conn, ticket_id, after, limit).await?)
    }

    /// GetTicketStats figures for `[start, end)` split by `dimension`.
    pub async fn stats(
        &self,
        dimension: Dimension,
        start: i64,
        end: i64,
    ) -> Result<BTreeMap<String, StatsRow>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        Ok(store::ticket_stats(&mut conn, dimension, start, end).await?)
    }
}
