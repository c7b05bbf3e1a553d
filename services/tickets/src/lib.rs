//! kefu tickets service: tickets from NEW to CLOSED through a checked state machine, comments,
//! groups and agents, SLA policies counted in business hours, an audit entry for every change,
//! and an event stream.
//!
//! Layout, one direction of flow: [`api`] (authorize, validate, convert) → [`ops`] (one
//! transaction per use case; the change, its audit entry and its events commit together) →
//! [`domain`] (rules, no I/O) and [`store`] (SQL, one text for both databases). [`customers`]
//! is the seam to the customers service.

pub mod api;
pub mod customers;
pub mod domain;
pub mod error;
pub mod ops;
pub mod store;

use std::future::Future;
use std::time::Duration;

use kefu_db::outbox::OutboxSignal;
use kefu_db::time::now_micros;
use kefu_db::{Database, Migrations};
use kefu_principal::InternalKey;
use kefu_proto::tickets::v1::ticket_service_server::TicketServiceServer;
use kefu_server::{Authenticator, CommonConfig, ServeSettings};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use api::TicketsApi;

/// The service name used for the SQLite file, logs and its own principal.
pub const SERVICE: &str = "tickets";
/// Where the service listens when `KEFU_LISTEN` is unset.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50062";
/// Where the customers service is when `KEFU_CUSTOMERS_URL` is unset.
pub const DEFAULT_CUSTOMERS_URL: &str = "http://127.0.0.1:50061";
/// Largest message accepted, in bytes.
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
    /// Verifies callers' principals and signs the service's own.
    pub internal_key: InternalKey,
    /// Upper bound on a unary call.
    pub request_timeout: Duration,
    /// How often the database is pinged for health.
    pub health_interval: Duration,
    /// `KEFU_CUSTOMERS_URL`: the customers service.
    pub customers_url: String,
    /// `KEFU_TICKETS_AUTO_CLOSE_HOURS` (default 96): SOLVED tickets close after this long.
    pub auto_close_after: Duration,
    /// How often the SLA sweeper and auto-close run.
    pub sweep_interval: Duration,
}

/// A setting that cannot be used.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl Config {
    /// The common settings plus the tickets service's own variables.
    pub fn from_env(common: CommonConfig) -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let hours = match var("KEFU_TICKETS_AUTO_CLOSE_HOURS") {
            None => 96,
            Some(text) => text.trim().parse::<u64>().map_err(|_| {
                ConfigError(format!(
                    "KEFU_TICKETS_AUTO_CLOSE_HOURS must be a whole number of hours, not {text:?}"
                ))
            })?,
        };
        let mut config = Config::from(common);
        config.customers_url = var("KEFU_CUSTOMERS_URL").unwrap_or(config.customers_url);
        config.auto_close_after = Duration::from_secs(hours * 3600);
        Ok(config)
    }
}

impl From<CommonConfig> for Config {
    fn from(common: CommonConfig) -> Self {
        Self {
            database_url: common.database_url,
            internal_key: common.internal_key,
            request_timeout: Duration::from_secs(30),
            health_interval: Duration::from_secs(5),
            customers_url: DEFAULT_CUSTOMERS_URL.to_owned(),
            auto_close_after: Duration::from_secs(96 * 3600),
            sweep_interval: Duration::from_secs(30),
        }
    }
}

/// Why the service could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum Error {
    /// Connecting or migrating failed.
    #[error("database")]
    Database(#[from] kefu_db::DbError),
    /// `KEFU_CUSTOMERS_URL` is not a usable URL.
    #[error("KEFU_CUSTOMERS_URL")]
    CustomersUrl(#[from] tonic::transport::Error),
    /// Serving failed.
    #[error("server")]
    Serve(#[from] kefu_server::ServeError),
}

/// The service connected to its migrated database, ready to serve.
#[derive(Debug)]
pub struct Prepared {
    config: Config,
    db: Database,
    customers: customers::Customers,
}

/// Connects to the database and runs the migrations.
pub async fn prepare(config: Config) -> Result<Prepared, Error> {
    let customers = customers::Customers::new(&config.customers_url)?;
    let db = Database::connect(&config.database_url).await?;
    db.migrate(&migrations()).await?;
    Ok(Prepared {
        config,
        db,
        customers,
    })
}

impl Prepared {
    /// The service's operations.
    pub fn ops(&self) -> ops::Tickets {
        ops::Tickets {
            db: self.db.clone(),
            signal: OutboxSignal::default(),
        }
    }

    /// Serves on `listener` until `shutdown` resolves, with the SLA sweeper, auto-close and the
    /// customers event consumer running beside it; then drains and closes the database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let stop = CancellationToken::new();
        let ops = self.ops();
        let Prepared {
            config,
            db,
            customers,
        } = self;
        let background = vec![
            tokio::spawn(run_timers(
                ops.clone(),
                config.sweep_interval,
                config.auto_close_after,
                stop.clone(),
            )),
            tokio::spawn(customers.clone().follow_erasures(
                ops.clone(),
                config.internal_key.clone(),
                stop.clone(),
            )),
        ];
        let api = TicketsApi::new(ops, customers, stop.clone());
        let service = TicketServiceServer::new(api)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let service = tonic::service::interceptor::InterceptedService::new(
            service,
            Authenticator::new(config.internal_key),
        );
        let mut settings = ServeSettings::new(db, stop.clone());
        settings.request_timeout = config.request_timeout;
        settings.health_interval = config.health_interval;
        let result = kefu_server::serve(service, settings, listener, shutdown).await;
        stop.cancel();
        for task in background {
            let _ = task.await;
        }
        result?;
        Ok(())
    }
}

/// Runs the SLA sweeper and auto-close every `interval` until `stop`.
async fn run_timers(
    ops: ops::Tickets,
    interval: Duration,
    auto_close_after: Duration,
    stop: CancellationToken,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let now = now_micros();
        if let Err(error) = ops.sweep_breaches(now).await {
            tracing::warn!(%error, "SLA sweep failed; retrying next round");
        }
        let cutoff = now - i64::try_from(auto_close_after.as_micros()).unwrap_or(i64::MAX);
        if let Err(error) = ops.auto_close(now, cutoff).await {
            tracing::warn!(%error, "auto-close failed; retrying next round");
        }
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
