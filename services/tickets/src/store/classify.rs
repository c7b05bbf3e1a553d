//! The priority matrix's rows.

use kefu_db::row::{self, enumerated};
use sqlx::AnyConnection;

use crate::domain::classify::PriorityMatrix;
use crate::domain::kinds::{Level, Priority};

/// The matrix as stored; the migration seeds all nine pairs and updates replace them together.
pub async fn priority_matrix(conn: &mut AnyConnection) -> Result<PriorityMatrix, sqlx::Error> {
    let query = sqlx::query("SELECT urgency, impact, priority FROM priority_matrix");
    let cells = row::all(conn, query, |r| {
        Ok((
            enumerated(r, "urgency", Level::from_number)?,
            enumerated(r, "impact", Level::from_number)?,
            enumerated(r, "priority", Priority::from_number)?,
        ))
    })
    .await?;
    PriorityMatrix::from_cells(cells)
        .map_err(|e| sqlx::Error::Decode(format!("priority matrix: {e:?}").into()))
}

/// Replaces every cell.
pub async fn set_priority_matrix(
    conn: &mut AnyConnection,
    matrix: &PriorityMatrix,
) -> Result<(), sqlx::Error> {
    for (urgency, impact, priority) in matrix.cells() {
        sqlx::query("UPDATE priority_matrix SET priority = $1 WHERE urgency = $2 AND impact = $3")
            .bind(i64::from(priority.number()))
            .bind(i64::from(urgency.number()))
            .bind(i64::from(impact.number()))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
