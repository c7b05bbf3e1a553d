//! Satisfaction figures, computed by the database.

use kefu_server::ServiceError;

use super::Feedback;
use crate::store::{self, SummaryKey, SummaryRow};

impl Feedback {
    /// Figures for surveys created in `[from, to)`.
    pub async fn summary(
        &self,
        key: SummaryKey,
        from: i64,
        to: i64,
    ) -> Result<Vec<SummaryRow>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        Ok(store::summary(&mut conn, key, from, to).await?)
    }
}
