//! kefu knowledge base service: a category tree, articles with revisions, public and internal
//! visibility, search that works in English and Chinese, suggestions for tickets, reader votes,
//! views and the FAQ page.
//!
//! Layout, one direction of flow: [`api`] (authorize, validate, convert) → [`ops`] (one
//! transaction per use case; the change, its search-index rows and its event commit together) →
//! [`domain`] (rules and text analysis, no I/O) and [`store`] (SQL, one text for both databases).

pub mod api;
pub mod domain;
pub mod error;
pub mod ops;
pub mod store;

use std::future::Future;
use std::time::Duration;

use kefu_db::outbox::OutboxSignal;
use kefu_db::{Database, Migrations};
use kefu_principal::InternalKey;
use kefu_proto::knowledge::v1::knowledge_service_server::KnowledgeServiceServer;
use kefu_server::{Authenticator, CommonConfig, ServeSettings};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use api::KnowledgeApi;

/// The service name used for the SQLite file and logs.
pub const SERVICE: &str = "knowledge";
/// Where the service listens when `KEFU_LISTEN` is unset.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50063";
/// Largest message accepted, in bytes (an article body is at most 200,000 characters).
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// This service's migrations, embedded in the binary.
pub fn migrations() -> Migrations {
    Migrations {
        sqlite: sqlx::migrate!("./migrations/sqlite"),
        postgres: sqlx::migrate!("./migrations/postgres"),
    }
}

/// What the service needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Verifies callers' principals.
    pub internal_key: InternalKey,
    /// Upper bound on a unary call.
    pub request_timeout: Duration,
    /// How often the database is pinged for health.
    pub health_interval: Duration,
}

impl From<CommonConfig> for Config {
    fn from(common: CommonConfig) -> Self {
        Self {
            database_url: common.database_url,
            internal_key: common.internal_key,
            request_timeout: Duration::from_secs(30),
            health_interval: Duration::from_secs(5),
        }
    }
}

/// Why the service could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum Error {
    /// Connecting or migrating failed.
    #[error("database")]
    Database(#[from] kefu_db::DbError),
    /// Serving failed.
    #[error("server")]
    Serve(#[from] kefu_server::ServeError),
}

/// The service connected to its migrated database, ready to serve.
#[derive(Debug)]
pub struct Prepared {
    config: Config,
    db: Database,
}

/// Connects to the database and runs the migrations.
pub async fn prepare(config: Config) -> Result<Prepared, Error> {
    let db = Database::connect(&config.database_url).await?;
    db.migrate(&migrations()).await?;
    Ok(Prepared { config, db })
}

impl Prepared {
    /// The service's operations, for tools that load data directly (the benchmark).
    pub fn ops(&self) -> ops::Knowledge {
        ops::Knowledge {
            db: self.db.clone(),
            signal: OutboxSignal::default(),
        }
    }

    /// Serves on `listener` until `shutdown` resolves, then drains and closes the database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let stop = CancellationToken::new();
        let api = KnowledgeApi::new(self.ops(), stop.clone());
        let Prepared { config, db } = self;
        let service = KnowledgeServiceServer::new(api)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let service = tonic::service::interceptor::InterceptedService::new(
            service,
            Authenticator::new(config.internal_key),
        );
        let mut settings = ServeSettings::new(db, stop);
        settings.request_timeout = config.request_timeout;
        settings.health_interval = config.health_interval;
        kefu_server::serve(service, settings, listener, shutdown).await?;
        Ok(())
    }
}

/// Connects, migrates, and serves on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    prepare(config).await?.serve(listener, shutdown).await
}
