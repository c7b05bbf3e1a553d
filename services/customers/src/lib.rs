//! kefu customers service: customer profiles, organizations, purchase history, the interaction
//! timeline, and data protection (export, erasure, audit trail).
//!
//! Layout, one direction of flow:
//! - [`api`]: the tonic service — authorize, validate, call `ops`, convert; no SQL, no rules;
//! - `ops`: use cases — one transaction each, the change and its outbox event commit together;
//! - [`domain`]: rules — validation, the role × RPC table, merge/erase rules; no I/O;
//! - `store`: SQL — one text for SQLite and PostgreSQL; no rules;
//! - [`error`]: the one mapping from this service's errors to gRPC codes.
//!
//! [`serve`] starts the service the same way for the binary, `kefu dev` and the tests.

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
use kefu_proto::customers::v1::customer_service_server::CustomerServiceServer;
use kefu_server::{Authenticator, CommonConfig, ServeSettings};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use api::CustomerApi;

/// The service name used for the SQLite file and logs.
pub const SERVICE: &str = "customers";
/// Where the service listens when `KEFU_LISTEN` is unset.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50061";
/// Largest request message accepted, in bytes.
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
    /// Serves on `listener` until `shutdown` resolves, then drains and closes the database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let Prepared { config, db } = self;
        let stop = CancellationToken::new();
        let api = CustomerApi::new(
            ops::Customers {
                db: db.clone(),
                signal: OutboxSignal::default(),
            },
            stop.clone(),
        );
        let service = CustomerServiceServer::new(api)
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
