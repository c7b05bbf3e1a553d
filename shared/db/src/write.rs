//! A write transaction: the change, its events and any request id or consumer cursor it claims
//! commit together or not at all, and committing wakes this process's event watchers.

use std::ops::{Deref, DerefMut};

use sqlx::{Any, AnyConnection, Transaction};

use crate::outbox::{self, NewEvent};
use crate::{Database, DbError, Dialect};

/// A write transaction begun by [`Database::begin_write`]. It derefs to the connection, so the
/// store's functions take `&mut tx`; dropping it without [`Write::commit`] rolls back.
#[derive(Debug)]
pub struct Write {
    tx: Transaction<'static, Any>,
    db: Database,
    appended: bool,
}

impl Write {
    pub(crate) fn new(tx: Transaction<'static, Any>, db: Database) -> Self {
        Self {
            tx,
            db,
            appended: false,
        }
    }

    /// The dialect the transaction speaks.
    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// Locks the rows of `table` (keyed by `id`) with these ids until the transaction ends, in id
    /// order. A use case that changes several rows calls this first, so two transactions over the
    /// same rows always wait for each other in the same order instead of deadlocking. On SQLite
    /// the write transaction already holds the database's only write lock: nothing to do.
    pub async fn lock_in_order<'a>(
        &mut self,
        table: &'static str,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), DbError> {
        if self.dialect() == Dialect::Sqlite {
            return Ok(());
        }
        let mut ids: Vec<&str> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        // The rows are locked as the sorted result is read, so in id order.
        let sql = format!(
            "SELECT id FROM {table} WHERE id IN ({}) ORDER BY id FOR UPDATE",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(&mut *self.tx).await?;
        Ok(())
    }

    /// Appends an event to the outbox: it commits or rolls back with the change.
    pub async fn append(&mut self, event: NewEvent<'_>) -> Result<(), DbError> {
        outbox::append(&mut self.tx, event).await?;
        self.appended = true;
        Ok(())
    }

    /// Appends `event`, encoded, to the outbox as `event_type` about `resource` (and `subject`,
    /// the customer or ticket concerned, for exports and audits).
    pub async fn emit(
        &mut self,
        event_type: &str,
        resource: &str,
        subject: Option<&str>,
        event: &impl prost::Message,
        event_time: i64,
    ) -> Result<(), DbError> {
        self.append(NewEvent {
            event_type,
            resource,
            subject,
            payload: event.encode_to_vec(),
            event_time,
        })
        .await
    }

    /// Commits, then wakes the event watchers if an event was appended.
    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await?;
        if self.appended {
            self.db.signal().notify();
        }
        Ok(())
    }
}

impl Deref for Write {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for Write {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}
