//! Satisfaction figures, computed by the database.

use kefu_server::ServiceError;

use super::{Actor, Feedback};
use crate::store::{self, SummaryKey, SummaryRow};

impl Feedback {
    /// Figures for the surveys created in `[from, to)` that `actor` may read.
    pub async fn summary(
        &self,
        actor: &Actor,
        key: SummaryKey,
        from: i64,
        to: i64,
    ) -> Result<Vec<SummaryRow>, ServiceError> {
        let scope = self.scope(actor).await?;
        let mut conn = self.ctx.db.read().await?;
        Ok(store::summary(&mut conn, key, (from, to), &scope).await?)
    }
}
