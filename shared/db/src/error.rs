use thiserror::Error;

/// A database failure. Messages are for logs: they never reach a client.
#[derive(Debug, Error)]
pub enum DbError {
    /// The database URL is not one kefu understands.
    #[error("unsupported database URL (expected sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    /// The data directory for the SQLite file could not be created.
    #[error("cannot create data directory {path}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A migration failed.
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other driver error.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

impl DbError {
    /// True when the failure is a unique-constraint violation (a duplicate key).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// True when the database could not be reached (pool closed, timed out, I/O).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            DbError::Sqlx(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_))
        )
    }
}
