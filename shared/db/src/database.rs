use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::DbError;
use crate::outbox::OutboxSignal;
use crate::write::Write;

/// Which SQL engine is behind the pool. Everything dialect-specific branches on this, and only
/// in clearly named places (DDL in `migrations/<dialect>/` directories, locking and snapshots in
/// [`crate::outbox`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded default: one file per service.
    Sqlite,
    /// The production store.
    Postgres,
}

/// A service's migrations, embedded with `sqlx::migrate!`: one set whose SQL both databases
/// accept, and optionally a set per dialect for the few statements they spell differently.
pub struct Migrations {
    /// DDL both dialects run.
    pub common: Migrator,
    /// Extra DDL for SQLite, run after `common`.
    pub sqlite: Option<Migrator>,
    /// Extra DDL for PostgreSQL, run after `common`.
    pub postgres: Option<Migrator>,
}

impl Migrations {
    /// Migrations whose SQL is the same on both databases.
    pub fn common(common: Migrator) -> Self {
        Self {
            common,
            sqlite: None,
            postgres: None,
        }
    }

    /// Adds DDL that differs by dialect. Its versions must not collide with the common ones.
    pub fn with_dialects(mut self, sqlite: Migrator, postgres: Migrator) -> Self {
        self.sqlite = Some(sqlite);
        self.postgres = Some(postgres);
        self
    }
}

/// A connection pool plus the dialect it speaks and the signal its commits raise. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    dialect: Dialect,
    signal: OutboxSignal,
}

/// The SQLite URL of a service's file under `data_dir`, creating the directory if needed.
pub fn default_sqlite_url(data_dir: &Path, service: &str) -> Result<String, DbError> {
    std::fs::create_dir_all(data_dir).map_err(|source| DbError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    Ok(format!(
        "sqlite://{}?mode=rwc",
        data_dir.join(format!("{service}.db")).display()
    ))
}

impl Database {
    /// Connects to `url` (`sqlite://…` or `postgres://…`).
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(redact(url)));
        };
        let options = AnyPoolOptions::new()
            .max_connections(match dialect {
                // Readers run in parallel under WAL; writers queue on the file lock anyway.
                Dialect::Sqlite => 8,
                Dialect::Postgres => 16,
            })
            // A database that does not answer becomes UNAVAILABLE quickly instead of a hang.
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            });
        let pool = options.connect(url).await?;
        Ok(Self {
            pool,
            dialect,
            signal: OutboxSignal::default(),
        })
    }

    /// Runs kefu-db's own migrations (the outbox, request ids, consumer cursors), then the
    /// service's. Each migrator ignores the versions the other applied.
    pub async fn migrate(&self, migrations: &Migrations) -> Result<(), DbError> {
        let (own, dialect_specific) = match self.dialect {
            Dialect::Sqlite => (
                sqlx::migrate!("./migrations/sqlite"),
                migrations.sqlite.as_ref(),
            ),
            Dialect::Postgres => (
                sqlx::migrate!("./migrations/postgres"),
                migrations.postgres.as_ref(),
            ),
        };
        for migrator in [Some(&own), Some(&migrations.common), dialect_specific]
            .into_iter()
            .flatten()
        {
            let mut migrator = Migrator {
                migrations: migrator.migrations.clone(),
                ..Migrator::DEFAULT
            };
            migrator.set_ignore_missing(true);
            migrator.run(&self.pool).await?;
        }
        Ok(())
    }

    /// The pool, for reads and single-statement writes.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The dialect behind the pool.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The signal this process's commits raise for its event watchers.
    pub fn signal(&self) -> &OutboxSignal {
        &self.signal
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, DbError> {
        Ok(self.pool.acquire().await?)
    }

    /// Begins a transaction that will write. On SQLite it starts with `BEGIN IMMEDIATE`, so two
    /// writers queue on the busy timeout instead of failing when a read lock cannot be upgraded.
    pub async fn begin_write(&self) -> Result<Write, DbError> {
        let tx = match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.pool.begin().await?,
        };
        Ok(Write::new(tx, self.clone()))
    }

    /// Checks that the database answers, for health reporting.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.pool.execute("SELECT 1").await?;
        Ok(())
    }

    /// Refreshes the query planner's statistics after a bulk load, which PostgreSQL's
    /// autovacuum would otherwise do only a while later. On PostgreSQL it also vacuums, which
    /// marks the pages all-visible so index-only scans need not visit the table; on SQLite
    /// `VACUUM` would rewrite the whole file, so it only analyzes.
    pub async fn analyze(&self) -> Result<(), DbError> {
        let statement = match self.dialect {
            Dialect::Sqlite => "ANALYZE",
            Dialect::Postgres => "VACUUM (ANALYZE)",
        };
        self.pool.execute(statement).await?;
        Ok(())
    }

    /// Closes every connection. On SQLite the last close checkpoints the WAL and removes the
    /// `-wal` and `-shm` files.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unparseable URL>".to_owned(),
    }
}
