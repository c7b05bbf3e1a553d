//! kefu tickets service: tickets from NEW to CLOSED through a checked state machine, comments,
//! groups and agents, SLA policies counted in business hours, an audit entry for every change,
//! and an event stream.
//!
//! Layout, one direction of flow, files named by resource or use case: [`api`] (authorize,
//! validate into domain values, convert) → [`ops`] (one orchestrator per use case; the change,
//! its audit entry and its events commit together) → [`domain`] (rules, no I/O, no wire types)
//! and [`store`] (SQL, one text for both databases). [`remote`] holds the clients of other
//! services.

pub mod api;
pub mod domain;
pub mod ops;
pub mod remote;
pub mod store;

use std::time::Duration;

use kefu_db::Migrations;
use kefu_proto::tickets::v1::ticket_service_server::TicketServiceServer;
use kefu_server::config::{parsed_var, var_or};
use kefu_server::kit::{Runtime, Service};
use kefu_server::{ConfigError, Grpc};

pub use api::TicketsApi;

/// The tickets service.
#[derive(Debug)]
pub struct Tickets;

/// The tickets service's own settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `KEFU_CUSTOMERS_URL`: the customers service.
    pub customers_url: String,
    /// `KEFU_TICKETS_AUTO_CLOSE_HOURS` (default 96): SOLVED tickets close after this long.
    pub auto_close_after: Duration,
    /// `KEFU_TICKETS_SWEEP_SECONDS` (default 30): how often the SLA sweeper (breaches,
    /// escalation levels) and auto-close run.
    pub sweep_interval: Duration,
}

impl Settings {
    /// The defaults, with the customers service at `customers_url`.
    pub fn new(customers_url: impl Into<String>) -> Self {
        Self {
            customers_url: customers_url.into(),
            auto_close_after: Duration::from_secs(96 * 3600),
            sweep_interval: Duration::from_secs(30),
        }
    }
}

impl Service for Tickets {
    const NAME: &'static str = "tickets";
    const DEFAULT_LISTEN: &'static str = "127.0.0.1:50062";
    type Settings = Settings;

    fn settings_from_env() -> Result<Settings, ConfigError> {
        let hours = parsed_var(
            "KEFU_TICKETS_AUTO_CLOSE_HOURS",
            96_u64,
            "must be a whole number of hours",
            |h| *h <= 100 * 365 * 24,
        )?;
        let sweep_seconds = parsed_var(
            "KEFU_TICKETS_SWEEP_SECONDS",
            30_u64,
            "must be 1 to 3600 seconds",
            |s| (1..=3600).contains(s),
        )?;
        let mut settings = Settings::new(var_or("KEFU_CUSTOMERS_URL", "http://127.0.0.1:50061"));
        settings.auto_close_after = Duration::from_secs(hours * 3600);
        settings.sweep_interval = Duration::from_secs(sweep_seconds);
        Ok(settings)
    }

    fn migrations() -> Migrations {
        Migrations::common(sqlx::migrate!("./migrations"))
    }

    fn start(runtime: &mut Runtime, settings: Settings) -> Result<Grpc, ConfigError> {
        let customers = kefu_server::customers::Customers::new(&settings.customers_url)?;
        let ops = ops::Tickets::new(runtime.context(), customers.clone());
        runtime.spawn(ops.clone().run_timers(
            settings.sweep_interval,
            settings.auto_close_after,
            runtime.stop(),
        ));
        runtime.follow_customers(&customers, ops.clone());
        let api = TicketsApi::new(ops, runtime.event_feed());
        Ok(runtime.grpc(TicketServiceServer::new(api)))
    }
}
