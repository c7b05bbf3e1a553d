//! kefu automation service: triggers that act on tickets when something happens to them.
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
use kefu_server::config::var_or;
use kefu_server::kit::{Runtime, Service};
use kefu_server::{ConfigError, Grpc};

pub use api::AutomationApi;

use crate::remote::tickets::Tickets;

/// The automation service.
#[derive(Debug)]
pub struct AutomationService;

/// The automation service's own settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `KEFU_TICKETS_URL`: the tickets service.
    pub tickets_url: String,
}

impl Service for AutomationService {
    const NAME: &'static str = "automation";
    const DEFAULT_LISTEN: &'static str = "127.0.0.1:50065";
    type Settings = Settings;

    fn settings_from_env() -> Result<Settings, ConfigError> {
        Ok(Settings {
            tickets_url: var_or("KEFU_TICKETS_URL", "http://127.0.0.1:50062"),
        })
    }

    fn migrations() -> Migrations {
        Migrations::common(sqlx::migrate!("./migrations"))
    }

    fn start(runtime: &mut Runtime, settings: Settings) -> Result<Grpc, ConfigError> {
        let tickets = Tickets::new(&settings.tickets_url, runtime.key().clone())?;
        let ops = ops::Automation::new(runtime.context(), tickets.clone());
        runtime.spawn(ops.clone().run_firings(runtime.stop()));
        let handler = ops.clone();
        runtime.follow(remote::tickets::SOURCE, tickets.client(), move |delivery| {
            let handler = handler.clone();
            async move { handler.ticket_event(delivery).await }
        });
        let api = AutomationApi::new(ops, runtime.event_feed());
        Ok(runtime.grpc(AutomationServiceServer::new(api)))
    }
}
