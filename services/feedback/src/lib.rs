//! kefu feedback service: CSAT surveys when tickets are solved, NPS campaigns, complaints,
//! suggestions and praise, follow-up tickets for low scores and complaints, and satisfaction
//! summaries computed by the database.
//!
//! Layout, one direction of flow, files named by resource or use case: [`api`] (authorize,
//! validate into domain values, convert) → [`ops`] (one orchestrator per use case; the change and
//! its events commit together) → [`domain`] (rules, no I/O, no wire types) and [`store`] (SQL,
//! one text for both databases). [`remote`] holds the clients of the customers and tickets
//! services.

pub mod api;
pub mod domain;
pub mod ops;
pub mod remote;
pub mod store;

use std::time::Duration;

use kefu_db::Migrations;
use kefu_proto::feedback::v1::feedback_service_server::FeedbackServiceServer;
use kefu_server::config::{parsed_var, var, var_or};
use kefu_server::kit::{Runtime, Service};
use kefu_server::{ConfigError, Grpc};

use crate::domain::follow_up::ticket_terms;
use kefu_server::customers::Customers;

use crate::remote::tickets::Tickets;

pub use api::FeedbackApi;

/// The feedback service.
#[derive(Debug)]
pub struct Feedback;

/// The feedback service's own settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `KEFU_CUSTOMERS_URL`: the customers service.
    pub customers_url: String,
    /// `KEFU_TICKETS_URL`: the tickets service.
    pub tickets_url: String,
    /// `KEFU_FEEDBACK_SURVEY_TTL_DAYS` (default 14): how long a survey can be answered.
    pub survey_ttl: Duration,
    /// `KEFU_FEEDBACK_FOLLOW_UP_TYPE` (`TASK`, the default, or `COMPLAINT`): the tickets type of
    /// the follow-up tickets low scores open.
    pub follow_up_type: &'static str,
}

/// How long a survey can be answered when `KEFU_FEEDBACK_SURVEY_TTL_DAYS` is unset.
pub const DEFAULT_SURVEY_TTL: Duration = Duration::from_secs(14 * 24 * 3600);

impl Settings {
    /// The defaults, with the customers and tickets services at these URLs.
    pub fn new(customers_url: impl Into<String>, tickets_url: impl Into<String>) -> Self {
        Self {
            customers_url: customers_url.into(),
            tickets_url: tickets_url.into(),
            survey_ttl: DEFAULT_SURVEY_TTL,
            follow_up_type: ticket_terms::TYPE_TASK,
        }
    }
}

impl Service for Feedback {
    const NAME: &'static str = "feedback";
    const DEFAULT_LISTEN: &'static str = "127.0.0.1:50064";
    type Settings = Settings;

    fn settings_from_env() -> Result<Settings, ConfigError> {
        let mut settings = Settings::new(
            var_or("KEFU_CUSTOMERS_URL", "http://127.0.0.1:50061"),
            var_or("KEFU_TICKETS_URL", "http://127.0.0.1:50062"),
        );
        let days = parsed_var(
            "KEFU_FEEDBACK_SURVEY_TTL_DAYS",
            14_u64,
            "must be 1 to 365 days",
            |d| (1..=365).contains(d),
        )?;
        settings.survey_ttl = Duration::from_secs(days * 24 * 3600);
        if let Some(text) = var("KEFU_FEEDBACK_FOLLOW_UP_TYPE") {
            settings.follow_up_type = match text.to_ascii_uppercase().as_str() {
                "TASK" => ticket_terms::TYPE_TASK,
                "COMPLAINT" => ticket_terms::TYPE_COMPLAINT,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "KEFU_FEEDBACK_FOLLOW_UP_TYPE".to_owned(),
                        expected: "must be TASK or COMPLAINT".to_owned(),
                        value: text,
                    });
                }
            };
        }
        Ok(settings)
    }

    fn migrations() -> Migrations {
        Migrations::common(sqlx::migrate!("./migrations"))
    }

    fn start(runtime: &mut Runtime, settings: Settings) -> Result<Grpc, ConfigError> {
        let customers = Customers::new(&settings.customers_url)?;
        let tickets = Tickets::new(&settings.tickets_url)?;
        let services = ops::Services {
            customers: customers.clone(),
            tickets: tickets.clone(),
            key: runtime.key().clone(),
            survey_ttl: settings.survey_ttl,
            follow_up_type: settings.follow_up_type,
        };
        let ops = ops::Feedback::new(runtime.context(), services);
        runtime.spawn(ops.clone().run_follow_ups(runtime.stop()));
        let handler = ops.clone();
        runtime.follow(remote::tickets::SOURCE, tickets.client(), move |delivery| {
            let handler = handler.clone();
            async move { handler.ticket_event(delivery).await }
        });
        runtime.follow_customers(&customers, ops.clone());
        let api = FeedbackApi::new(ops, runtime.event_feed());
        Ok(runtime.grpc(FeedbackServiceServer::new(api)))
    }
}
