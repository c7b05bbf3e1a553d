//! The configuration every kefu binary reads, with the same names everywhere, and the settings a
//! service runs with.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use kefu_principal::{InternalKey, KeyError};
use thiserror::Error;

use crate::clock::Clock;

/// Settings every binary reads from the environment.
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
    /// A service's own variable has a value it cannot use.
    #[error("{name} {expected}, not {value:?}")]
    Invalid {
        /// The variable.
        name: String,
        /// What it must be.
        expected: String,
        /// What it was.
        value: String,
    },
}

impl CommonConfig {
    /// Reads the environment; `service` names the SQLite file, `default_listen` is used when
    /// `KEFU_LISTEN` is unset.
    pub fn from_env(service: &str, default_listen: &str) -> Result<Self, ConfigError> {
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

/// What a service runs with: the settings every service has, and `service`, its own.
#[derive(Debug, Clone)]
pub struct Config<T> {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Verifies callers' principals and signs the service's own.
    pub internal_key: InternalKey,
    /// Upper bound on a unary call, and the default when a caller sets no deadline.
    pub request_timeout: Duration,
    /// How often the database is pinged for health.
    pub health_interval: Duration,
    /// The time the service's use cases see.
    pub clock: Clock,
    /// The service's own settings.
    pub service: T,
}

impl<T> Config<T> {
    /// The defaults (30 s request timeout, health every 5 s, the system clock) for `service`.
    pub fn new(database_url: String, internal_key: InternalKey, service: T) -> Self {
        Self {
            database_url,
            internal_key,
            request_timeout: Duration::from_secs(30),
            health_interval: Duration::from_secs(5),
            clock: Clock::system(),
            service,
        }
    }

    /// The same settings with another clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }
}

/// A variable's value, trimmed; `None` when unset or blank.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A variable's value, or `default` when unset.
pub fn var_or(name: &str, default: &str) -> String {
    var(name).unwrap_or_else(|| default.to_owned())
}

/// A variable parsed as `T` and accepted by `check`, or `default` when unset; `expected` says
/// what it must be when it is not.
pub fn parsed_var<T: FromStr>(
    name: &str,
    default: T,
    expected: &str,
    check: impl Fn(&T) -> bool,
) -> Result<T, ConfigError> {
    let Some(text) = var(name) else {
        return Ok(default);
    };
    text.parse::<T>()
        .ok()
        .filter(|value| check(value))
        .ok_or_else(|| ConfigError::Invalid {
            name: name.to_owned(),
            expected: expected.to_owned(),
            value: text,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_variables_take_the_default_and_bad_ones_say_what_is_expected() {
        let name = "KEFU_CONFIG_TEST_UNSET_VARIABLE";
        assert_eq!(
            parsed_var(name, 7_u64, "must be a number", |_| true).ok(),
            Some(7)
        );
        let error = ConfigError::Invalid {
            name: "KEFU_X".into(),
            expected: "must be 1 to 9".into(),
            value: "0".into(),
        };
        assert_eq!(error.to_string(), "KEFU_X must be 1 to 9, not \"0\"");
    }
}
