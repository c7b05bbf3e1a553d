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
