use kefu_db::row::{self, enumerated, flag, json, json_text};
use kefu_server::common::Channel;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::kinds::AuthorKind;
use crate::domain::ticket::{Change, CommentRecord};

/// An audit entry as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Id.
    pub id: String,
    /// Ticket id.
    pub ticket_id: String,
    /// Principal id.
    pub actor: String,
    /// Principal role.
    pub actor_role: String,
    /// RPC or job.
    pub via: String,
    /// Field changes.
    pub changes: Vec<Change>,
    /// Micros.
    pub create_time: i64,
}

fn decode_comment(row: &AnyRow) -> Result<CommentRecord, sqlx::Error> {
    Ok(CommentRecord {
        id: row.try_get("id")?,
        ticket_id: row.try_get("ticket_id")?,
        body: row.try_get("body")?,
        public: flag(row, "public")?,
        author: row.try_get("author")?,
        author_kind: enumerated(row, "author_kind", AuthorKind::from_number)?,
        channel: enumerated(row, "channel", Channel::from_number)?,
        attachments: json(row, "attachments")?,
        create_time: row.try_get("create_time")?,
    })
}

/// Inserts a comment.
pub async fn insert_comment(
    conn: &mut AnyConnection,
    c: &CommentRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO comments (id, ticket_id, body, public, author, author_kind, channel, attachments, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&c.id)
    .bind(&c.ticket_id)
    .bind(&c.body)
    .bind(i64::from(c.public))
    .bind(&c.author)
    .bind(i64::from(c.author_kind.number()))
    .bind(i64::from(c.channel.number()))
    .bind(json_text(&c.attachments)?)
    .bind(c.create_time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A page of a ticket's comments after comment id `after`, oldest first.
pub async fn list_comments(
    conn: &mut AnyConnection,
    ticket_id: &str,
    public_only: bool,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<CommentRecord>, sqlx::Error> {
    row::all(conn, sqlx::query(
        "SELECT id, ticket_id, body, public, author, author_kind, channel, attachments, create_time FROM comments \
         WHERE ticket_id = $1 AND ($2 = 0 OR public = 1) AND id > $3 ORDER BY id LIMIT $4",
    )
    .bind(ticket_id)
    .bind(i64::from(public_only))
    .bind(after.unwrap_or(""))
    .bind(limit), decode_comment).await
}

/// Inserts an audit entry.
pub async fn insert_audit(conn: &mut AnyConnection, a: &AuditRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audits (id, ticket_id, actor, actor_role, via, changes, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&a.id)
    .bind(&a.ticket_id)
    .bind(&a.actor)
    .bind(&a.actor_role)
    .bind(&a.via)
    .bind(json_text(&a.changes)?)
    .bind(a.create_time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A page of a ticket's audit entries after audit id `after`, oldest first.
pub async fn list_audits(
    conn: &mut AnyConnection,
    ticket_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let query = sqlx::query(
        "SELECT id, ticket_id, actor, actor_role, via, changes, create_time FROM audits \
         WHERE ticket_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(ticket_id)
    .bind(after.unwrap_or(""))
    .bind(limit);
    row::all(conn, query, |row| {
        Ok(AuditRecord {
            id: row.try_get("id")?,
            ticket_id: row.try_get("ticket_id")?,
            actor: row.try_get("actor")?,
            actor_role: row.try_get("actor_role")?,
            via: row.try_get("via")?,
            changes: json(row, "changes")?,
            create_time: row.try_get("create_time")?,
        })
    })
    .await
}
