//! kefu automation service: triggers that act on tickets when something happens to them, and
//! time-based rules that act when a ticket has waited long enough.
//!
//! Layout, one direction of flow: [`api`] (authorize, validate into domain values, convert) →
//! [`ops`] (one orchestrator per use case; a change and its events commit together) →
//! [`domain`] (rules, no I/O, no wire types) and [`store`] (SQL, one text for both databases).
//! [`remote`] holds the client of the tickets service, whose events it follows and whose API it
//! acts through.

pub mod api;
pub mod domain;
pub mod ops;
pub mod remote;
pub mod store;

use kefu_db::Migrations;
use kefu_proto::automation::v1::automation_service_server::AutomationServiceServer;
use std::time::Duration;

use kefu_server::config::{parsed_var, var_or};
use kefu_server::kit::{Runtime, Service};
use kefu_server::{ConfigError, Grpc};

pub use api::AutomationApi;

use crate::remote::customers::Customers;
use crate::remote::tickets::Tickets;

/// The automation service.
#[derive(Debug)]
pub struct AutomationService;

/// The automation service's own settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `KEFU_TICKETS_URL`: the tickets service.
    pub tickets_url: String,
    /// `KEFU_CUSTOMERS_URL`: the customers service (requesters' locales and time zones).
    pub customers_url: String,
    /// `KEFU_AUTOMATION_ACKNOWLEDGE` (`on` or `off`, default `off`; `kefu dev` turns it on):
    /// install the auto-acknowledgement triggers on first start.
    pub acknowledge: bool,
    /// `KEFU_AUTOMATION_CHECK_SECONDS` (default 60): how often time-based rules are checked.
    pub check_interval: Duration,
}

impl Settings {
    /// The defaults, against the tickets and customers services at these URLs.
    pub fn new(tickets_url: impl Into<String>, customers_url: impl Into<String>) -> Self {
        Self {
            tickets_url: tickets_url.into(),
            customers_url: customers_url.into(),
            acknowledge: false,
            check_interval: Duration::from_secs(60),
        }
    }
}

impl Service for AutomationService {
    const NAME: &'static str = "automation";
    const DEFAULT_LISTEN: &'static str = "127.0.0.1:50065";
    type Settings = Settings;

    fn settings_from_env() -> Result<Settings, ConfigError> {
        let check_seconds = parsed_var(
            "KEFU_AUTOMATION_CHECK_SECONDS",
            60_u64,
            "must be 1 to 3600 seconds",
            |s| (1..=3600).contains(s),
        )?;
        let acknowledge = parsed_var(
            "KEFU_AUTOMATION_ACKNOWLEDGE",
            "off".to_owned(),
            "must be on or off",
            |v| v == "on" || v == "off",
        )?;
        let mut settings = Settings::new(
            var_or("KEFU_TICKETS_URL", "http://127.0.0.1:50062"),
            var_or("KEFU_CUSTOMERS_URL", "http://127.0.0.1:50061"),
        );
        settings.check_interval = Duration::from_secs(check_seconds);
        settings.acknowledge = acknowledge == "on";
        Ok(settings)
    }

    fn migrations() -> Migrations {
        Migrations::common(sqlx::migrate!("./migrations"))
    }

    fn start(runtime: &mut Runtime, settings: Settings) -> Result<Grpc, ConfigError> {
        let tickets = Tickets::new(&settings.tickets_url, runtime.key().clone())?;
        let customers = Customers::new(&settings.customers_url, runtime.key().clone())?;
        let ops = ops::Automation::new(runtime.context(), tickets.clone(), customers);
        if settings.acknowledge {
            let installer = ops.clone();
            runtime.spawn(async move {
                if let Err(error) = installer.install_acknowledgements().await {
                    tracing::warn!(%error, "auto-acknowledgement triggers not installed");
                }
            });
        }
        runtime.spawn(ops.clone().run_firings(runtime.stop()));
        runtime.spawn(
            ops.clone()
                .run_schedules(settings.check_interval, runtime.stop()),
        );
        let handler = ops.clone();
        runtime.follow(remote::tickets::SOURCE, tickets.client(), move |delivery| {
            let handler = handler.clone();
            async move { handler.ticket_event(delivery).await }
        });
        let api = AutomationApi::new(ops, runtime.event_feed());
        Ok(runtime.grpc(AutomationServiceServer::new(api)))
    }
}
