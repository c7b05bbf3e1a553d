//! The service kit: what makes a crate a kefu service. A service implements [`Service`] (its
//! name, its settings, its migrations, and how it starts); the kit does the rest the same way for
//! every service: configuration from the environment, telemetry, connecting and migrating, health,
//! reflection, authentication, background tasks, graceful shutdown.
//!
//! The binary is `fn main() -> ExitCode { kefu_server::kit::main::<MyService>() }`; `kefu dev`
//! and the tests call [`prepare`] and [`Prepared::serve`] with a [`Config`] of their own.

use std::convert::Infallible;
use std::future::Future;
use std::process::ExitCode;

use kefu_db::{Database, Migrations};
use kefu_principal::InternalKey;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

use crate::clock::Clock;
use crate::config::{CommonConfig, Config, ConfigError};
use crate::consumer::{Delivery, Follower, Handled};
use crate::events::EventFeed;
use crate::remote;
use crate::serve::{Grpc, ServeError, ServeSettings, serve, shutdown_signal};
use crate::{Authenticator, status};
use kefu_proto::{EventSource, WatchResponse};

/// A kefu service, as the kit sees it.
pub trait Service: 'static {
    /// Its short name: the SQLite file, the binary (`kefu-<name>`), logs, and the principal id
    /// its own background work acts as.
    const NAME: &'static str;
    /// Where it listens when `KEFU_LISTEN` is unset.
    const DEFAULT_LISTEN: &'static str;
    /// Its own settings, beside the common ones in [`Config`].
    type Settings: Clone + std::fmt::Debug + Send + Sync + 'static;

    /// Reads its own settings (`KEFU_<SERVICE>_…`, other services' URLs) from the environment.
    fn settings_from_env() -> Result<Self::Settings, ConfigError>;

    /// Its migrations, embedded in the binary.
    fn migrations() -> Migrations;

    /// Builds its API and starts its background work on `runtime`.
    fn start(runtime: &mut Runtime, settings: Self::Settings) -> Result<Grpc, ConfigError>;
}

/// Why a service could not start, or stopped with an error.
#[derive(Debug, Error)]
pub enum KitError {
    /// A setting cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Connecting or migrating failed.
    #[error("database")]
    Database(#[from] kefu_db::DbError),
    /// The address cannot be listened on.
    #[error("cannot listen")]
    Listen(#[from] std::io::Error),
    /// Serving failed.
    #[error("server")]
    Serve(#[from] ServeError),
}

/// What every use case of a service reads: its database and the time. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Context {
    /// The service's database.
    pub db: Database,
    /// The time the use cases see.
    pub clock: Clock,
}

impl Context {
    /// The context of `db` with time from `clock`.
    pub fn new(db: Database, clock: Clock) -> Self {
        Self { db, clock }
    }

    /// Now, by the service's clock, in UTC microseconds.
    pub fn now(&self) -> i64 {
        self.clock.now_micros()
    }
}

/// What a service's [`Service::start`] builds on: its database, key, clock, shutdown, and the
/// background tasks it spawns.
#[derive(Debug)]
pub struct Runtime {
    name: &'static str,
    db: Database,
    key: InternalKey,
    clock: Clock,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Runtime {
    /// The service's database, migrated.
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// The service's name, the id of its own principal.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The key that verifies callers and signs the service's own requests.
    pub fn key(&self) -> &InternalKey {
        &self.key
    }

    /// The time the service's use cases see.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The database and clock the service's use cases run on.
    pub fn context(&self) -> Context {
        Context::new(self.db.clone(), self.clock.clone())
    }

    /// Cancelled when the service shuts down: background work stops, open streams end.
    pub fn stop(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// The source of the service's `WatchEvents`.
    pub fn event_feed(&self) -> EventFeed {
        EventFeed::new(self.db.clone(), self.stop.clone())
    }

    /// A consumer of the stream `source`, storing its cursor in this service's database.
    pub fn follower(&self, source: &'static str) -> Follower {
        Follower {
            source,
            db: self.db.clone(),
            clock: self.clock.clone(),
            stop: self.stop.clone(),
        }
    }

    /// Follows the event stream `source` from `client` as this service (its own principal),
    /// handing each event to `handle`; the cursor is stored in this service's database.
    pub fn follow<C, Handle, HandleFuture>(
        &mut self,
        source: &'static str,
        client: C,
        handle: Handle,
    ) where
        C: EventSource,
        Handle:
            FnMut(Delivery<<C::Response as WatchResponse>::Event>) -> HandleFuture + Send + 'static,
        HandleFuture: Future<Output = Result<Handled, crate::ServiceError>> + Send + 'static,
    {
        let (key, name) = (self.key.clone(), self.name);
        let open = move |cursor: String| {
            let client = client.clone();
            let request = remote::as_service(
                &key,
                name,
                remote::STREAM_PRINCIPAL_TTL,
                <C::Response as WatchResponse>::request(cursor),
            );
            async move { client.watch(request).await }
        };
        let follower = self.follower(source);
        self.spawn(follower.run(open, handle));
    }

    /// Runs `task` beside the server; shutdown waits for it after cancelling [`Runtime::stop`].
    pub fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.push(tokio::spawn(task));
    }

    /// The service's tonic server, every call authenticated with the internal key.
    pub fn grpc<S>(&self, server: S) -> Grpc
    where
        S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        let authenticated = InterceptedService::new(server, Authenticator::new(self.key.clone()));
        Grpc {
            name: S::NAME,
            routes: Routes::new(authenticated),
        }
    }
}

/// The settings of `S` from the environment, beside the common ones already read.
pub fn config_from_env<S: Service>(
    common: &CommonConfig,
) -> Result<Config<S::Settings>, ConfigError> {
    Ok(Config::new(
        common.database_url.clone(),
        common.internal_key.clone(),
        S::settings_from_env()?,
    ))
}

/// A service connected to its migrated database, ready to serve.
#[derive(Debug)]
pub struct Prepared<S: Service> {
    config: Config<S::Settings>,
    db: Database,
}

/// Connects to the database and runs kefu-db's and the service's migrations.
pub async fn prepare<S: Service>(config: Config<S::Settings>) -> Result<Prepared<S>, KitError> {
    let db = Database::connect(&config.database_url).await?;
    db.migrate(&S::migrations()).await?;
    Ok(Prepared { config, db })
}

impl<S: Service> Prepared<S> {
    /// The migrated database.
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Serves on `listener` until `shutdown` resolves, with the service's background work
    /// beside it; then drains, stops the background work, and closes the database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), KitError> {
        let Prepared { config, db } = self;
        let stop = CancellationToken::new();
        let mut runtime = Runtime {
            name: S::NAME,
            db: db.clone(),
            key: config.internal_key,
            clock: config.clock,
            stop: stop.clone(),
            tasks: Vec::new(),
        };
        let result = match S::start(&mut runtime, config.service) {
            Ok(grpc) => {
                let settings = ServeSettings {
                    db: db.clone(),
                    shutdown: stop.clone(),
                    request_timeout: config.request_timeout,
                    health_interval: config.health_interval,
                };
                serve(grpc, settings, listener, shutdown)
                    .await
                    .map_err(KitError::from)
            }
            Err(error) => Err(error.into()),
        };
        stop.cancel();
        for task in runtime.tasks.drain(..) {
            if let Err(error) = task.await {
                tracing::warn!(service = runtime.name, %error, "background task ended abnormally");
            }
        }
        db.close().await;
        result
    }
}

/// Connects, migrates, and serves on `listener` until `shutdown` resolves.
pub async fn run<S: Service>(
    config: Config<S::Settings>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), KitError> {
    prepare::<S>(config).await?.serve(listener, shutdown).await
}

/// What a command-line tool's run ends with: printed with its causes on failure.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

/// The exit status of a command-line tool: on failure, `binary: error: cause: …` on stderr.
pub fn exit_code(binary: &str, result: CliResult) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{binary}: {}", status::error_chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// The whole of a service's binary: telemetry, configuration from the environment, then serve
/// until SIGTERM or Ctrl-C. Prints the address once it is ready.
pub fn main<S: Service>() -> ExitCode {
    let binary = format!("kefu-{}", S::NAME);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{binary}: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let telemetry = match kefu_telemetry::TelemetryConfig::from_env(&binary)
            .and_then(kefu_telemetry::TelemetryConfig::install)
        {
            Ok(guard) => guard,
            Err(error) => {
                eprintln!("{binary}: {error}");
                return ExitCode::FAILURE;
            }
        };
        let result = run_from_env::<S>(&binary).await;
        if let Err(error) = &result {
            tracing::error!(error = %status::error_chain(error), "{binary} failed");
        }
        telemetry.shutdown();
        if result.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}

async fn run_from_env<S: Service>(binary: &str) -> Result<(), KitError> {
    let common = CommonConfig::from_env(S::NAME, S::DEFAULT_LISTEN)?;
    let config = config_from_env::<S>(&common)?;
    let listener = TcpListener::bind(common.listen).await?;
    let prepared = prepare::<S>(config).await?;
    println!("{binary} listening on {}", listener.local_addr()?);
    prepared.serve(listener, shutdown_signal()).await
}
