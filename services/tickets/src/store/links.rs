use kefu_db::Params;
use kefu_db::row::{self, enumerated, json, json_text};
use sqlx::{AnyConnection, Row};

use crate::domain::kinds::{LinkKind, TicketStatus};

/// What unmerging a ticket needs to put back.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeRecord {
    /// The merged-away ticket.
    pub source_id: String,
    /// The ticket it went into.
    pub target_id: String,
    /// Comment ids moved to the target.
    pub moved_comments: Vec<String>,
    /// The source's status before.
    pub source_status: TicketStatus,
    /// The source's solve time before.
    pub source_solve_time: Option<i64>,
    /// Micros.
    pub create_time: i64,
}

/// Records a merge.
pub async fn insert_merge(conn: &mut AnyConnection, m: &MergeRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ticket_merges (source_id, target_id, moved_comments, source_status, source_solve_time, \
         create_time) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&m.source_id)
    .bind(&m.target_id)
    .bind(json_text(&m.moved_comments)?)
    .bind(i64::from(m.source_status.number()))
    .bind(m.source_solve_time)
    .bind(m.create_time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The merge of a source ticket, if it is merged.
pub async fn get_merge(
    conn: &mut AnyConnection,
    source_id: &str,
) -> Result<Option<MergeRecord>, sqlx::Error> {
    let query = sqlx::query(
        "SELECT source_id, target_id, moved_comments, source_status, source_solve_time, create_time \
         FROM ticket_merges WHERE source_id = $1",
    )
    .bind(source_id);
    row::one(conn, query, |r| {
        Ok(MergeRecord {
            source_id: r.try_get("source_id")?,
            target_id: r.try_get("target_id")?,
            moved_comments: json(r, "moved_comments")?,
            source_status: enumerated(r, "source_status", TicketStatus::from_number)?,
            source_solve_time: r.try_get("source_solve_time")?,
            create_time: r.try_get("create_time")?,
        })
    })
    .await
}

/// Forgets a merge.
pub async fn delete_merge(conn: &mut AnyConnection, source_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM ticket_merges WHERE source_id = $1")
        .bind(source_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Ids of a ticket's comments.
pub async fn comment_ids(
    conn: &mut AnyConnection,
    ticket_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let query =
        sqlx::query("SELECT id FROM comments WHERE ticket_id = $1 ORDER BY id").bind(ticket_id);
    row::all(conn, query, |r| r.try_get("id")).await
}

/// Moves comments to another ticket.
pub async fn move_comments(
    conn: &mut AnyConnection,
    ids: &[String],
    to_ticket: &str,
) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(500) {
        let mut params = Params::new();
        let target = params.bind(to_ticket.to_owned());
        let list = params.list(chunk.to_vec());
        let sql = format!("UPDATE comments SET ticket_id = {target} WHERE id IN ({list})");
        sqlx::query_with(&sql, params.into_args())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A stored link row.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRecord {
    /// From.
    pub ticket_id: String,
    /// To.
    pub other_id: String,
    /// `pb::LinkKind`.
    pub kind: LinkKind,
    /// Micros.
    pub create_time: i64,
}

/// Inserts one link row (callers write both ends).
pub async fn insert_link(conn: &mut AnyConnection, l: &LinkRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ticket_links (ticket_id, other_id, kind, create_time) VALUES ($1, $2, $3, $4)",
    )
    .bind(&l.ticket_id)
    .bind(&l.other_id)
    .bind(i64::from(l.kind.number()))
    .bind(l.create_time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes the link between two tickets, both ends; how many rows went.
pub async fn delete_link(conn: &mut AnyConnection, a: &str, b: &str) -> Result<u64, sqlx::Error> {
    let removed = sqlx::query(
        "DELETE FROM ticket_links WHERE (ticket_id = $1 AND other_id = $2) OR (ticket_id = $3 AND other_id = $4)",
    )
    .bind(a)
    .bind(b)
    .bind(b)
    .bind(a)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(removed)
}

/// A ticket's links, oldest first.
pub async fn list_links(
    conn: &mut AnyConnection,
    ticket_id: &str,
) -> Result<Vec<LinkRecord>, sqlx::Error> {
    let query = sqlx::query(
        "SELECT ticket_id, other_id, kind, create_time FROM ticket_links WHERE ticket_id = $1 ORDER BY create_time, other_id",
    )
    .bind(ticket_id);
    row::all(conn, query, |r| {
        Ok(LinkRecord {
            ticket_id: r.try_get("ticket_id")?,
            other_id: r.try_get("other_id")?,
            kind: enumerated(r, "kind", LinkKind::from_number)?,
            create_time: r.try_get("create_time")?,
        })
    })
    .await
}
