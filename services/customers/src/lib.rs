//! kefu customers service: customer profiles, organizations, purchase history, the interaction
//! timeline, and data protection (export, erasure, audit trail).
//!
//! Layout, one direction of flow, files named by resource or use case:
//! - [`api`]: the tonic service — authorize, validate into domain values, convert; no SQL, no rules;
//! - [`ops`]: use cases — one transaction each, the change and its outbox event commit together;
//! - [`domain`]: rules — validation, the role × RPC table, merge/erase rules; no I/O, no wire types;
//! - [`store`]: SQL — one text for SQLite and PostgreSQL; no rules.
//!
//! [`Customers`] is the service as the kit (`kefu_server::kit`) runs it.

pub mod api;
pub mod domain;
pub mod ops;
pub mod store;

use kefu_db::Migrations;
use kefu_proto::customers::v1::customer_service_server::CustomerServiceServer;
use kefu_server::kit::{Runtime, Service};
use kefu_server::{ConfigError, Grpc};

pub use api::CustomerApi;

/// The customers service.
#[derive(Debug)]
pub struct Customers;

impl Service for Customers {
    const NAME: &'static str = "customers";
    const DEFAULT_LISTEN: &'static str = "127.0.0.1:50061";
    type Settings = ();

    fn settings_from_env() -> Result<(), ConfigError> {
        Ok(())
    }

    fn migrations() -> Migrations {
        Migrations::common(sqlx::migrate!("./migrations"))
    }

    fn start(runtime: &mut Runtime, (): ()) -> Result<Grpc, ConfigError> {
        let ops = ops::Customers::new(runtime.context());
        let api = CustomerApi::new(ops, runtime.event_feed());
        Ok(runtime.grpc(CustomerServiceServer::new(api)))
    }
}
