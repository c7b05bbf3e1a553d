//! Test kit: start any kefu service on port 0 against a fresh database — a temporary SQLite file,
//! or a PostgreSQL database created for the test and dropped after it when
//! `KEFU_TEST_POSTGRES_URL` is set — and call it as a given principal.
//!
//! Under `CI=true` a PostgreSQL test without `KEFU_TEST_POSTGRES_URL` fails instead of skipping,
//! so the PostgreSQL half of the suite can never be skipped silently.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use kefu_principal::{InternalKey, PRINCIPAL_HEADER, Principal};
use kefu_server::kit::{KitError, Service};
use kefu_server::{Clock, Config};
use sqlx::Connection;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::transport::{Channel, Endpoint};

/// The variable naming a PostgreSQL server for tests, such as `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_URL_VAR: &str = "KEFU_TEST_POSTGRES_URL";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on `KEFU_TEST_POSTGRES_URL`.
    Postgres,
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// Its URL.
    pub url: String,
    /// Where the SQLite file lives, for tests that inspect it.
    pub sqlite_dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

/// Why a test database could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// PostgreSQL was asked for in CI but is not configured.
    #[error("{POSTGRES_URL_VAR} is not set, and CI=true forbids skipping the PostgreSQL tests")]
    PostgresRequired,
    /// Setting up failed.
    #[error("test setup failed: {0}")]
    Setup(String),
}

fn setup<E: std::fmt::Display>(error: E) -> TestkitError {
    TestkitError::Setup(error.to_string())
}

impl TestDatabase {
    /// A fresh database on `backend`; `Ok(None)` when PostgreSQL is not configured outside CI.
    pub async fn create(backend: Backend) -> Result<Option<Self>, TestkitError> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().map_err(setup)?;
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Ok(Some(Self {
                    url,
                    sqlite_dir: Some(dir),
                    postgres: None,
                }))
            }
            Backend::Postgres => {
                let Some(admin_url) = std::env::var(POSTGRES_URL_VAR)
                    .ok()
                    .filter(|v| !v.is_empty())
                else {
                    if std::env::var("CI").is_ok_and(|v| v == "true") {
                        return Err(TestkitError::PostgresRequired);
                    }
                    eprintln!("skipping: {POSTGRES_URL_VAR} is not set");
                    return Ok(None);
                };
                let name = format!("kefu_test_{}", uuid::Uuid::now_v7().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .map_err(setup)?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .map_err(setup)?;
                let _ = admin.close().await;
                let mut url = url::Url::parse(&admin_url).map_err(setup)?;
                url.set_path(&name);
                Ok(Some(Self {
                    url: url.to_string(),
                    sqlite_dir: None,
                    postgres: Some((admin_url, name)),
                }))
            }
        }
    }
}

impl TestDatabase {
    /// A database another [`TestServer`] owns, for a second replica of a service: dropping this
    /// one deletes nothing.
    pub fn shared(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            sqlite_dir: None,
            postgres: None,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Dropping happens outside any runtime we could borrow: use a thread with its own.
        if let Some((admin_url, name)) = self.postgres.take() {
            let dropper = std::thread::spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(async move {
                    if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut admin)
                                .await;
                        let _ = admin.close().await;
                    }
                });
            });
            let _ = dropper.join();
        }
    }
}

/// A service running for a test.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The key its principals are signed with.
    pub key: InternalKey,
    /// Its database; dropped (and on PostgreSQL, deleted) after the server stops.
    pub database: TestDatabase,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), String>>>,
    channel: Channel,
}

impl TestServer {
    /// Starts a service: `serve(database_url, key, listener, shutdown)` is the service's own `serve`.
    /// `Ok(None)` when the backend is not available outside CI.
    pub async fn start<F, Fut, E>(backend: Backend, serve: F) -> Result<Option<Self>, TestkitError>
    where
        F: FnOnce(String, InternalKey, TcpListener, oneshot::Receiver<()>) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display,
    {
        Self::start_with_key(backend, InternalKey::generate(), serve).await
    }

    /// Like [`TestServer::start`], with a given key, for several services that trust each other.
    pub async fn start_with_key<F, Fut, E>(
        backend: Backend,
        key: InternalKey,
        serve: F,
    ) -> Result<Option<Self>, TestkitError>
    where
        F: FnOnce(String, InternalKey, TcpListener, oneshot::Receiver<()>) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display,
    {
        let Some(database) = TestDatabase::create(backend).await? else {
            return Ok(None);
        };
        // Bound before the server task starts, so there is nothing to wait for.
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(setup)?;
        Self::serve_on(database, key, listener, serve).map(Some)
    }

    /// Starts a service again on a database and address it had before (after
    /// [`TestServer::stop_keeping_database`]), so clients and other services that know the
    /// address reach it again: for restart tests.
    pub async fn start_again<F, Fut, E>(
        database: TestDatabase,
        key: InternalKey,
        addr: SocketAddr,
        serve: F,
    ) -> Result<Self, TestkitError>
    where
        F: FnOnce(String, InternalKey, TcpListener, oneshot::Receiver<()>) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display,
    {
        let listener = TcpListener::bind(addr).await.map_err(setup)?;
        Self::serve_on(database, key, listener, serve)
    }

    fn serve_on<F, Fut, E>(
        database: TestDatabase,
        key: InternalKey,
        listener: TcpListener,
        serve: F,
    ) -> Result<Self, TestkitError>
    where
        F: FnOnce(String, InternalKey, TcpListener, oneshot::Receiver<()>) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display,
    {
        let addr = listener.local_addr().map_err(setup)?;
        let (shutdown, stopped) = oneshot::channel();
        let future = serve(database.url.clone(), key.clone(), listener, stopped);
        let task = tokio::spawn(async move { future.await.map_err(|e| e.to_string()) });
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(setup)?
            .connect_timeout(Duration::from_secs(5))
            .connect_lazy();
        Ok(Self {
            addr,
            key,
            database,
            shutdown: Some(shutdown),
            task: Some(task),
            channel,
        })
    }

    /// Starts the kit service `S` on a fresh database, trusting `key`, on the system clock.
    /// `Ok(None)` when the backend is not available outside CI.
    pub async fn service<S: Service>(
        backend: Backend,
        key: &InternalKey,
        settings: S::Settings,
    ) -> Result<Option<Self>, TestkitError> {
        Self::service_with_clock::<S>(backend, key, Clock::system(), settings).await
    }

    /// Like [`TestServer::service`], on `clock` (a manual one lets a test move time).
    pub async fn service_with_clock<S: Service>(
        backend: Backend,
        key: &InternalKey,
        clock: Clock,
        settings: S::Settings,
    ) -> Result<Option<Self>, TestkitError> {
        Self::start_with_key(backend, key.clone(), run::<S>(clock, settings)).await
    }

    /// Starts `S` again on a database and address it had before (after
    /// [`TestServer::stop_keeping_database`]), or as a second replica on a
    /// [`TestDatabase::shared`] database and a new address (`127.0.0.1:0`).
    pub async fn restart_service<S: Service>(
        database: TestDatabase,
        key: &InternalKey,
        addr: SocketAddr,
        clock: Clock,
        settings: S::Settings,
    ) -> Result<Self, TestkitError> {
        Self::start_again(database, key.clone(), addr, run::<S>(clock, settings)).await
    }

    /// A channel to the server.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// An interceptor that calls as `principal`.
    pub fn as_principal(&self, principal: &Principal) -> CallAs {
        CallAs::new(&self.key, principal)
    }

    /// Stops the server gracefully and returns how `serve` ended. (Dropping a `TestServer` also
    /// stops it: the shutdown sender's drop resolves the server's shutdown future.)
    pub async fn stop(self) -> Result<(), String> {
        self.stop_keeping_database().await.0
    }

    /// Stops the server and hands back its database for inspection.
    pub async fn stop_keeping_database(mut self) -> (Result<(), String>, TestDatabase) {
        let result = self.shutdown_and_join().await;
        (result, self.database)
    }

    async fn shutdown_and_join(&mut self) -> Result<(), String> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.task.take() {
            Some(task) => match tokio::time::timeout(Duration::from_secs(30), task).await {
                Ok(Ok(result)) => result,
                Ok(Err(join)) => Err(join.to_string()),
                Err(_) => Err("server did not stop within 30 s".to_owned()),
            },
            None => Ok(()),
        }
    }
}

/// A running service's future, as [`TestServer::serve_on`] spawns it.
type Serving = std::pin::Pin<Box<dyn Future<Output = Result<(), KitError>> + Send>>;

/// How tests serve a kit service: short timeouts, health every second.
fn run<S: Service>(
    clock: Clock,
    settings: S::Settings,
) -> impl FnOnce(String, InternalKey, TcpListener, oneshot::Receiver<()>) -> Serving {
    move |database_url, key, listener, stopped| {
        let mut config = Config::new(database_url, key, settings).with_clock(clock);
        config.request_timeout = Duration::from_secs(10);
        config.health_interval = Duration::from_secs(1);
        Box::pin(kefu_server::kit::run::<S>(config, listener, async move {
            let _ = stopped.await;
        }))
    }
}

/// A client interceptor that attaches a signed principal to every call.
#[derive(Clone, Debug)]
pub struct CallAs {
    token: Option<MetadataValue<tonic::metadata::Ascii>>,
}

impl CallAs {
    /// Calls as `principal`, signed with `key`.
    pub fn new(key: &InternalKey, principal: &Principal) -> Self {
        let token = key.sign(principal, Duration::from_secs(3600));
        Self {
            token: token.parse().ok(),
        }
    }

    /// Calls with no principal at all.
    pub fn anonymous() -> Self {
        Self { token: None }
    }

    /// Calls with this raw header value (for forged or malformed principals).
    pub fn raw(value: &str) -> Self {
        Self {
            token: value.parse().ok(),
        }
    }
}

impl Interceptor for CallAs {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(token) = &self.token {
            request
                .metadata_mut()
                .insert(PRINCIPAL_HEADER, token.clone());
        }
        Ok(request)
    }
}

/// Sends `request` through `client.method` twice, as a client that lost the first answer would;
/// the retry must succeed with exactly the first answer, which it returns.
#[macro_export]
macro_rules! sent_twice {
    ($client:expr, $method:ident, $request:expr) => {{
        let request = $request;
        let first = $client
            .$method(request.clone())
            .await
            .expect(concat!(stringify!($method), " should succeed"))
            .into_inner();
        let retry = $client
            .$method(request)
            .await
            .expect(concat!(
                "the retry of ",
                stringify!($method),
                " should succeed"
            ))
            .into_inner();
        assert_eq!(
            retry,
            first,
            "the retry of {} answered differently",
            stringify!($method)
        );
        first
    }};
}

/// Generates one `#[tokio::test]` per backend for each listed test function, in modules named
/// `sqlite` and `postgres`. Each function is `async fn(Backend)`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await
                }
            )*
        }
    };
}

/// Asserts that a call failed with `code`, that its message leaks no database text, and, for
/// INVALID_ARGUMENT, that its `google.rpc.BadRequest` names every field in `fields`. Returns the
/// status for further checks.
#[track_caller]
#[allow(clippy::expect_used)]
pub fn assert_status<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
    fields: &[&str],
) -> tonic::Status {
    use tonic_types::StatusExt;
    let status = result.expect_err("the call should fail");
    assert_eq!(status.code(), code, "unexpected status: {status:?}");
    let lower = status.message().to_lowercase();
    assert!(
        !lower.contains("sqlx") && !lower.contains("syntax"),
        "database text leaked: {}",
        status.message()
    );
    if code == tonic::Code::InvalidArgument {
        let violations: Vec<String> = status
            .get_details_bad_request()
            .map(|br| br.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default();
        for field in fields {
            assert!(
                violations.iter().any(|v| v == field),
                "no violation for {field} in {violations:?}"
            );
        }
    }
    status
}

/// Polls `check` every 50 ms until it gives a value, for up to 20 s; panics naming `what` when
/// it never does. For tests waiting on work a service does in the background.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_showing(what, || {
        let attempt = check();
        async move { attempt.await.ok_or("nothing") }
    })
    .await
}

/// Like [`eventually`], for a `check` that answers what it saw instead when the wait is not
/// over: the panic shows the last of it, so a timeout in CI says where the work stood.
#[allow(clippy::panic)]
pub async fn eventually_showing<T, Seen, F, Fut>(what: &str, mut check: F) -> T
where
    Seen: std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Seen>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut ticks = tokio::time::interval(Duration::from_millis(50));
    loop {
        ticks.tick().await;
        match check().await {
            Ok(value) => return value,
            Err(seen) if tokio::time::Instant::now() >= deadline => {
                panic!("timed out waiting for {what}; last seen: {seen:?}")
            }
            Err(_) => {}
        }
    }
}
