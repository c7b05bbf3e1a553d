//! kefu feedback service: CSAT surveys when tickets are solved, NPS campaigns, complaints,
//! suggestions and praise, follow-up tickets for low scores and complaints, and satisfaction
//! summaries computed by the database.
//!
//! Layout, one direction of flow: [`api`] (authorize, validate, convert) → [`ops`] (one
//! transaction per use case; the change and its events commit together) → [`domain`] (rules, no
//! I/O) and [`store`] (SQL, one text for both databases). [`tickets`] and [`customers`] are the
//! seams to those services; [`worker`] opens the queued follow-up tickets.

pub mod api;
pub mod customers;
pub mod domain;
pub mod error;
pub mod ops;
pub mod remote;
pub mod store;
pub mod tickets;
pub mod worker;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kefu_db::outbox::OutboxSignal;
use kefu_db::{Database, Migrations};
use kefu_principal::InternalKey;
use kefu_proto::feedback::v1::feedback_service_server::FeedbackServiceServer;
use kefu_proto::tickets::v1 as tickets_pb;
use kefu_server::{Authenticator, CommonConfig, ServeSettings};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use api::FeedbackApi;

/// The service name used for the SQLite file, logs and its own principal.
pub const SERVICE: &str = "feedback";
/// Where the service listens when `KEFU_LISTEN` is unset.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50064";
/// Where the customers service is when `KEFU_CUSTOMERS_URL` is unset.
pub const DEFAULT_CUSTOMERS_URL: &str = "http://127.0.0.1:50061";
/// Where the tickets service is when `KEFU_TICKETS_URL` is unset.
pub const DEFAULT_TICKETS_URL: &str = "http://127.0.0.1:50062";
/// Largest message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// How long a survey can be answered when `KEFU_FEEDBACK_SURVEY_TTL_DAYS` is unset.
pub const DEFAULT_SURVEY_TTL: Duration = Duration::from_secs(14 * 24 * 3600);

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
    /// `KEFU_TICKETS_URL`: the tickets service.
    pub tickets_url: String,
    /// `KEFU_FEEDBACK_SURVEY_TTL_DAYS` (default 14): how long a survey can be answered.
    pub survey_ttl: Duration,
    /// `KEFU_FEEDBACK_FOLLOW_UP_TYPE` (`TASK`, the default, or `COMPLAINT`): the type of the
    /// follow-up tickets low scores open.
    pub follow_up_type: tickets_pb::TicketType,
}

/// A setting that cannot be used.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl Config {
    /// The common settings plus the feedback service's own variables.
    pub fn from_env(common: CommonConfig) -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut config = Config::from(common);
        config.customers_url = var("KEFU_CUSTOMERS_URL").unwrap_or(config.customers_url);
        config.tickets_url = var("KEFU_TICKETS_URL").unwrap_or(config.tickets_url);
        if let Some(text) = var("KEFU_FEEDBACK_SURVEY_TTL_DAYS") {
            let days = text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|d| (1..=365).contains(d))
                .ok_or_else(|| {
                    ConfigError(format!(
                        "KEFU_FEEDBACK_SURVEY_TTL_DAYS must be 1 to 365 days, not {text:?}"
                    ))
                })?;
            config.survey_ttl = Duration::from_secs(days * 24 * 3600);
        }
        if let Some(text) = var("KEFU_FEEDBACK_FOLLOW_UP_TYPE") {
            config.follow_up_type = match text.trim().to_ascii_uppercase().as_str() {
                "TASK" => tickets_pb::TicketType::Task,
                "COMPLAINT" => tickets_pb::TicketType::Complaint,
                _ => {
                    return Err(ConfigError(format!(
                        "KEFU_FEEDBACK_FOLLOW_UP_TYPE must be TASK or COMPLAINT, not {text:?}"
                    )));
                }
            };
        }
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
            tickets_url: DEFAULT_TICKETS_URL.to_owned(),
            survey_ttl: DEFAULT_SURVEY_TTL,
            follow_up_type: tickets_pb::TicketType::Task,
        }
    }
}

/// Why the service could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum Error {
    /// Connecting or migrating failed.
    #[error("database")]
    Database(#[from] kefu_db::DbError),
    /// `KEFU_CUSTOMERS_URL` or `KEFU_TICKETS_URL` is not a usable URL.
    #[error("service URL")]
    ServiceUrl(#[from] tonic::transport::Error),
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
    tickets: tickets::Tickets,
}

/// Connects to the database and runs the migrations.
pub async fn prepare(config: Config) -> Result<Prepared, Error> {
    let customers = customers::Customers::new(&config.customers_url)?;
    let tickets = tickets::Tickets::new(&config.tickets_url)?;
    let db = Database::connect(&config.database_url).await?;
    db.migrate(&migrations()).await?;
    Ok(Prepared {
        config,
        db,
        customers,
        tickets,
    })
}

impl Prepared {
    /// The service's operations.
    pub fn ops(&self) -> ops::Feedback {
        ops::Feedback {
            db: self.db.clone(),
            signal: OutboxSignal::default(),
            follow_up_queued: Arc::default(),
            survey_ttl_micros: i64::try_from(self.config.survey_ttl.as_micros())
                .unwrap_or(i64::MAX),
            follow_up_type: self.config.follow_up_type as i32,
        }
    }

    /// Serves on `listener` until `shutdown` resolves, with the tickets and customers event
    /// consumers and the follow-up worker running beside it; then drains and closes the database.
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
            tickets,
        } = self;
        let key = config.internal_key.clone();
        let background = vec![
            tokio::spawn(
                tickets
                    .clone()
                    .follow_events(ops.clone(), key.clone(), stop.clone()),
            ),
            tokio::spawn(
                customers
                    .clone()
                    .follow_erasures(ops.clone(), key.clone(), stop.clone()),
            ),
            tokio::spawn(worker::run(
                ops.clone(),
                tickets.clone(),
                key.clone(),
                stop.clone(),
            )),
        ];
        let api = FeedbackApi::new(ops, customers, tickets, stop.clone());
        let service = FeedbackServiceServer::new(api)
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

/// Connects, migrates, and serves on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    prepare(config).await?.serve(listener, shutdown).await
}
