//! kefu knowledge base service: a category tree, articles with revisions, public and internal
//! visibility, search that works in English and Chinese, suggestions for tickets, reader votes,
//! views and the FAQ page.
//!
//! Layout, one direction of flow, files named by resource or use case: [`api`] (authorize,
//! validate into domain values, convert) → [`ops`] (one transaction per use case; the change, its
//! search-index rows and its event commit together) → [`domain`] (rules and text analysis, no
//! I/O, no wire types) and [`store`] (SQL, one text for both databases).

pub mod api;
pub mod domain;
pub mod ops;
pub mod store;

use kefu_db::Migrations;
use kefu_proto::knowledge::v1::knowledge_service_server::KnowledgeServiceServer;
use kefu_server::kit::{Runtime, Service};
use kefu_server::{ConfigError, Grpc};

pub use api::KnowledgeApi;

/// The knowledge service.
#[derive(Debug)]
pub struct Knowledge;

impl Service for Knowledge {
    const NAME: &'static str = "knowledge";
    const DEFAULT_LISTEN: &'static str = "127.0.0.1:50063";
    type Settings = ();

    fn settings_from_env() -> Result<(), ConfigError> {
        Ok(())
    }

    fn migrations() -> Migrations {
        Migrations::common(sqlx::migrate!("./migrations")).with_dialects(
            sqlx::migrate!("./migrations/sqlite"),
            sqlx::migrate!("./migrations/postgres"),
        )
    }

    fn start(runtime: &mut Runtime, (): ()) -> Result<Grpc, ConfigError> {
        let ops = ops::Knowledge::new(runtime.context());
        let api = KnowledgeApi::new(ops, runtime.event_feed());
        Ok(runtime.grpc(KnowledgeServiceServer::new(api)))
    }
}
