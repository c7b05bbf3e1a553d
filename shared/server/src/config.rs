//! The configuration every kefu binary reads, with the same names everywhere.

use std::net::SocketAddr;
use std::path::PathBuf;

use kefu_principal::{InternalKey, KeyError};
use thiserror::Error;

/// Settings common to every service.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// `KEFU_LISTEN`: where to serve.
    pub listen: SocketAddr,
    /// `KEFU_DATA_DIR` (default `./data`): where the SQLite default lives.
    pub data_dir: PathBuf,
    /// `KEFU_DATABASE_URL`, else the service's SQLite file under the data directory.
    pub database_url: String,
    /// `KEFU_INTERNAL_KEY`, else a key generated once under the data directory.
    pub internal_key: InternalKey,
}

/// A setting that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// `KEFU_LISTEN` is not `host:port`.
    #[error("KEFU_LISTEN must be an address like 127.0.0.1:50061, not {0:?}")]
    Listen(String),
    /// The internal key cannot be had.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The data directory cannot be used.
    #[error(transparent)]
    Database(#[from] kefu_db::DbError),
}

impl CommonConfig {
    /// Reads the environment; `service` names the SQLite file, `default_listen` is used when
    /// `KEFU_LISTEN` is unset.
    pub fn from_env(service: &str, default_listen: &str) -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let listen_text = var("KEFU_LISTEN").unwrap_or_else(|| default_listen.to_owned());
        let listen = listen_text
            .parse()
            .map_err(|_| ConfigError::Listen(listen_text.clone()))?;
        let data_dir = PathBuf::from(var("KEFU_DATA_DIR").unwrap_or_else(|| "./data".to_owned()));
        let database_url = match var("KEFU_DATABASE_URL") {
            Some(url) => url,
            None => kefu_db::default_sqlite_url(&data_dir, service)?,
        };
        let internal_key = InternalKey::resolve(var("KEFU_INTERNAL_KEY").as_deref(), &data_dir)?;
        Ok(Self {
            listen,
            data_dir,
            database_url,
            internal_key,
        })
    }
}
