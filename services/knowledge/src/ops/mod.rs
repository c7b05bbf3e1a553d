//! Use cases, one file each: one transaction per use case; the change, the search index rows it
//! affects, and its outbox event commit together. Inputs arrive validated from `api`; ids and
//! times are minted here, from the injected clock.

mod articles;
mod categories;
mod import;
mod publishing;
mod readers;
mod search;

use kefu_db::Write;
use kefu_proto::knowledge::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::events;
use kefu_server::kit::Context;
use sqlx::AnyConnection;

use crate::domain::article::{self, ArticleRecord, RevisionRecord, revision_name};
use crate::domain::search as text;
use crate::store;

/// The service's use cases over its database and clock.
#[derive(Clone, Debug)]
pub struct Knowledge {
    ctx: Context,
}

/// A new, time-sortable id.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// An article with the text of one of its revisions.
#[derive(Debug, Clone)]
pub struct ArticleView {
    /// The article.
    pub article: ArticleRecord,
    /// The revision whose text is shown.
    pub revision: RevisionRecord,
}

/// A search hit.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The article and the searched text.
    pub view: ArticleView,
    /// Excerpt with marked matches.
    pub snippet: String,
    /// Relevance.
    pub score: i64,
}

use kefu_server::etag::check as check_etag;

fn precondition(p: article::Precondition) -> ServiceError {
    ServiceError::FailedPrecondition(p.0)
}

async fn load_revision(
    conn: &mut AnyConnection,
    article_id: &str,
    revision_id: &str,
) -> Result<RevisionRecord, ServiceError> {
    store::get_revision(conn, article_id, revision_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(revision_name(article_id, revision_id)))
}

/// Rebuilds an article's index rows from the revision readers see.
async fn reindex(
    conn: &mut AnyConnection,
    article: &ArticleRecord,
    revision: &RevisionRecord,
) -> Result<(), ServiceError> {
    debug_assert_eq!(article.searchable_revision_id(), revision.id);
    let terms = text::term_frequencies(
        &revision.content.title,
        &format!("{}\n{}", revision.content.summary, revision.content.body),
    );
    store::reindex(conn, &article.id, &terms).await?;
    Ok(())
}

/// What an event says, before it gets its cursor.
struct EventDraft<'a> {
    kind: pb::EventType,
    resource: &'a str,
    revision: Option<&'a str>,
    changed_fields: Vec<String>,
}

impl Knowledge {
    /// The use cases over the service's database and clock.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }
}

impl EventDraft<'_> {
    /// Appends the event to the outbox in `tx`, as done by `actor` at `now`.
    async fn emit(self, tx: &mut Write, actor: &str, now: i64) -> Result<(), ServiceError> {
        let event = pb::Event {
            r#type: self.kind as i32,
            resource: self.resource.to_owned(),
            revision: self.revision.unwrap_or_default().to_owned(),
            changed_fields: self.changed_fields,
            actor: actor.to_owned(),
            event_time: Some(kefu_server::time::timestamp(now)),
            cursor: String::new(),
        };
        events::append(tx, &event, Some(self.resource), now).await
    }
}
