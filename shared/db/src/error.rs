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

/// What a driver error means for the caller, whatever the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The database cannot be reached or is going away (pool exhausted or closed, I/O, a
    /// terminated backend, shutdown, the database dropped): retry later, maybe on another replica.
    Unavailable,
    /// The transaction lost a race the database detected (serialization failure, deadlock, a
    /// busy or locked SQLite file): retry the whole call.
    Contention,
    /// A unique index refused a duplicate.
    Duplicate,
    /// Anything else: a bug or an operator's problem.
    Other,
}

/// Classifies a driver error by what the caller can do about it.
pub fn classify(error: &sqlx::Error) -> Fault {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => Fault::Unavailable,
        sqlx::Error::Database(db) if db.is_unique_violation() => Fault::Duplicate,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                classify_sqlite(&code)
            } else {
                classify_sqlstate(&code)
            }
        }
        _ => Fault::Other,
    }
}

/// PostgreSQL SQLSTATEs by fault.
fn classify_sqlstate(code: &str) -> Fault {
    match code {
        // connection_exception class, admin/crash shutdown, cannot_connect_now, too many
        // connections, the database no longer exists.
        c if c.starts_with("08") => Fault::Unavailable,
        "57P01" | "57P02" | "57P03" | "53300" | "3D000" => Fault::Unavailable,
        // serialization_failure, deadlock_detected, lock_not_available.
        "40001" | "40P01" | "55P03" => Fault::Contention,
        _ => Fault::Other,
    }
}

/// SQLite result codes by fault: SQLITE_BUSY and SQLITE_LOCKED with their extended codes (the
/// low byte is the primary code).
fn classify_sqlite(code: &str) -> Fault {
    match code.parse::<i64>() {
        Ok(n) if matches!(n & 0xff, 5 | 6) => Fault::Contention,
        _ => Fault::Other,
    }
}

impl DbError {
    /// What this failure means for the caller.
    pub fn fault(&self) -> Fault {
        match self {
            DbError::Sqlx(error) => classify(error),
            _ => Fault::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified_by_what_the_caller_can_do() {
        for code in [
            "08006", "08003", "57P01", "57P02", "57P03", "53300", "3D000",
        ] {
            assert_eq!(classify_sqlstate(code), Fault::Unavailable, "{code}");
        }
        for code in ["40001", "40P01", "55P03"] {
            assert_eq!(classify_sqlstate(code), Fault::Contention, "{code}");
        }
        for code in ["23503", "42P01", "22021", ""] {
            assert_eq!(classify_sqlstate(code), Fault::Other, "{code}");
        }
        // 5 = SQLITE_BUSY, 6 = SQLITE_LOCKED, 517 = SQLITE_BUSY_SNAPSHOT, 262 = SQLITE_LOCKED_SHAREDCACHE.
        for code in ["5", "6", "517", "262"] {
            assert_eq!(classify_sqlite(code), Fault::Contention, "{code}");
        }
        for code in ["1", "19", "2067", ""] {
            assert_eq!(classify_sqlite(code), Fault::Other, "{code}");
        }
        assert_eq!(classify(&sqlx::Error::PoolTimedOut), Fault::Unavailable);
        assert_eq!(classify(&sqlx::Error::RowNotFound), Fault::Other);
    }
}
