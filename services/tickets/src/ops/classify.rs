//! The priority matrix, and settling a ticket's priority from its urgency and impact.

use kefu_db::Write;
use kefu_server::ServiceError;

use super::Tickets;
use crate::domain::classify::{self, PriorityMatrix};
use crate::domain::ticket::TicketFields;
use crate::store;

impl Tickets {
    /// Settles `fields`' priority (domain::classify::settle), reading the matrix only when the
    /// ticket is classified and its priority not set by hand.
    pub(super) async fn classify(
        &self,
        tx: &mut Write,
        fields: &mut TicketFields,
    ) -> Result<(), ServiceError> {
        let matrix = if classify::needs_matrix(fields) {
            store::priority_matrix(tx).await?
        } else {
            PriorityMatrix::default()
        };
        classify::settle(fields, &matrix);
        Ok(())
    }

    /// The priority matrix.
    pub async fn priority_matrix(&self) -> Result<PriorityMatrix, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        Ok(store::priority_matrix(&mut conn).await?)
    }

    /// Replaces the priority matrix.
    pub async fn set_priority_matrix(
        &self,
        matrix: PriorityMatrix,
    ) -> Result<PriorityMatrix, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        store::set_priority_matrix(&mut tx, &matrix).await?;
        tx.commit().await?;
        Ok(matrix)
    }
}
