//! kefu gateway: one port for every kefu API. It authenticates the caller (API keys stored as
//! hashes, or JWTs), strips any principal the client sent and signs its own, rate-limits per
//! principal, routes by gRPC service name to the replicas of that service (power of two choices,
//! unhealthy ones ejected), and streams bodies through without decoding them — so a new RPC or a
//! new service works with no gateway change. Health and reflection for the whole API are served
//! here. Calls are served thread-per-core: each client connection is handed to one worker thread,
//! which serves it and its upstream connections on a runtime of its own.

pub mod auth;
pub mod cli;
pub mod keys;
pub mod limit;
pub mod pool;
pub mod proxy;
pub mod replay;
pub mod upstream;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::Watcher;
use kefu_db::{Database, Migrations};
use kefu_principal::{InternalKey, Role};
use prost::Message;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;

pub use keys::Keys;

/// The service name used for the SQLite file and logs.
pub const SERVICE: &str = "gateway";
/// Where the gateway listens when `KEFU_LISTEN` is unset.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50050";

/// The gateway's migrations (its API keys), embedded in the binary.
pub fn migrations() -> Migrations {
    Migrations::common(sqlx::migrate!("./migrations"))
}

/// Sustained requests per second and burst for one principal of a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Tokens per second.
    pub per_second: u32,
    /// Bucket size.
    pub burst: u32,
}

/// What the gateway needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the API keys live.
    pub database_url: String,
    /// Signs the principal the services verify.
    pub internal_key: InternalKey,
    /// Upstream `host:port` replicas by package name (`tickets` serves `kefu.tickets.v1.*`).
    pub upstreams: HashMap<String, Vec<String>>,
    /// Accepted JWTs, if any.
    pub jwt: Option<auth::JwtConfig>,
    /// Per-role limits; a role without one is not limited.
    pub rate_limits: HashMap<Role, RateLimit>,
    /// The longest `grpc-timeout` passed on.
    pub max_timeout: Duration,
    /// How often upstream health is checked.
    pub health_interval: Duration,
    /// On shutdown, how long open calls (long event streams included) may take before their
    /// connections are closed.
    pub drain_timeout: Duration,
    /// Largest request message passed on, in bytes (read from the gRPC length prefix).
    pub max_message_bytes: usize,
    /// Threads serving client connections, each with a runtime and upstream connections of its
    /// own (a client connection stays on one of them).
    pub worker_threads: usize,
}

impl Config {
    /// Defaults around the given upstreams: customers 20/s (burst 40), agents 200/s, integrations
    /// 1000/s, admins unlimited; deadlines capped at 60 s; health checked every 2 s; one worker
    /// thread per core.
    pub fn new(
        database_url: String,
        internal_key: InternalKey,
        upstreams: HashMap<String, Vec<String>>,
    ) -> Self {
        let rate_limits = [
            (
                Role::Customer,
                RateLimit {
                    per_second: 20,
                    burst: 40,
                },
            ),
            (
                Role::Agent,
                RateLimit {
                    per_second: 200,
                    burst: 400,
                },
            ),
            (
                Role::Integration,
                RateLimit {
                    per_second: 1000,
                    burst: 2000,
                },
            ),
        ]
        .into_iter()
        .collect();
        Self {
            database_url,
            internal_key,
            upstreams,
            jwt: None,
            rate_limits,
            max_timeout: Duration::from_secs(60),
            health_interval: Duration::from_secs(2),
            drain_timeout: Duration::from_secs(20),
            max_message_bytes: 4 * 1024 * 1024,
            worker_threads: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}

/// Why the gateway could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum Error {
    /// Connecting or migrating failed.
    #[error("database")]
    Database(#[from] kefu_db::DbError),
    /// The reflection service could not be built.
    #[error("reflection")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// Accepting connections failed.
    #[error("listener")]
    Io(#[from] std::io::Error),
}

/// The gateway connected to its migrated database.
#[derive(Debug)]
pub struct Prepared {
    config: Config,
    db: Database,
    keys: Keys,
}

/// Connects to the key store and runs its migrations.
pub async fn prepare(config: Config) -> Result<Prepared, Error> {
    let db = Database::connect(&config.database_url).await?;
    db.migrate(&migrations()).await?;
    let keys = Keys::new(db.clone());
    Ok(Prepared { config, db, keys })
}

/// Every `kefu.<package>.*` service in the descriptor set, by package.
fn kefu_services() -> HashMap<String, Vec<String>> {
    let mut services: HashMap<String, Vec<String>> = HashMap::new();
    if let Ok(set) = prost_types::FileDescriptorSet::decode(kefu_proto::FILE_DESCRIPTOR_SET) {
        for file in set.file {
            let package = file.package.unwrap_or_default();
            let Some(short) = package
                .strip_prefix("kefu.")
                .and_then(|p| p.split('.').next())
            else {
                continue;
            };
            for service in file.service {
                services
                    .entry(short.to_owned())
                    .or_default()
                    .push(format!("{package}.{}", service.name.unwrap_or_default()));
            }
        }
    }
    services
}

impl Prepared {
    /// The key store, for the CLI, `kefu dev` and tests; it shares its cache with the server, so
    /// a revocation through it takes effect at once.
    pub fn keys(&self) -> Keys {
        self.keys.clone()
    }

    /// Serves on `listener` until `shutdown` resolves, then lets open calls finish for up to
    /// `drain_timeout` and closes what is left, leaving no task or thread behind. This task
    /// accepts connections and checks upstream health; `worker_threads` threads serve the calls.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let Prepared { config, db, keys } = self;
        let stop = CancellationToken::new();
        let pools: HashMap<String, Arc<pool::Pool>> = config
            .upstreams
            .iter()
            .map(|(name, addresses)| {
                let pool = pool::Pool::new(name, addresses, config.worker_threads.max(1));
                (name.clone(), Arc::new(pool))
            })
            .collect();
        for pool in pools.values() {
            tokio::spawn(
                pool.clone()
                    .check_health(config.health_interval, stop.clone()),
            );
        }
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let health = tokio::spawn(report_health(
            reporter,
            pools.clone(),
            config.health_interval,
            stop.clone(),
        ));
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(kefu_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        let local = tonic::service::Routes::new(health_service)
            .add_service(reflection().build_v1()?)
            .add_service(reflection().build_v1alpha()?);
        let limits = config
            .rate_limits
            .iter()
            .filter_map(|(role, limit)| {
                proxy::limiter(limit.per_second, limit.burst).map(|l| (*role, l))
            })
            .collect();
        let gateway = Arc::new(proxy::Gateway {
            pools,
            authenticator: auth::Authenticator::new(keys, config.jwt.clone()),
            internal_key: config.internal_key.clone(),
            limits,
            max_timeout: config.max_timeout,
            max_message_bytes: config.max_message_bytes,
            local,
            minted: std::sync::RwLock::default(),
        });
        let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        builder
            .timer(TokioTimer::new())
            .keep_alive_interval(Duration::from_secs(30))
            // gRPC's own hard limit on a call's metadata: room for large JWTs, none for abuse.
            .max_header_list_size(16 * 1024)
            .max_concurrent_streams(1024);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let close = CancellationToken::new();
        // Dropped before its end (its task aborted), serve still stops its workers.
        let _close_when_dropped = close.clone().drop_guard();
        let workers = (0..config.worker_threads.max(1))
            .map(|slot| Worker::start(slot, gateway.clone(), builder.clone(), close.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        tokio::pin!(shutdown);
        let mut next = 0;
        loop {
            let (stream, _) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let stream = match stream.into_std() {
                Ok(stream) => stream,
                Err(error) => {
                    tracing::warn!(%error, "could not hand over a connection");
                    continue;
                }
            };
            let loads: Vec<usize> = workers.iter().map(Worker::load).collect();
            let worker = least_loaded(&loads, next);
            next = (worker + 1) % workers.len();
            workers[worker].hand_over(stream, graceful.watcher());
        }
        stop.cancel();
        // NOT_SERVING everywhere before the GOAWAY, so probes and balancers watching health stop
        // sending here while open calls drain.
        let _ = health.await;
        // No more connections: each worker keeps serving the ones it has.
        let finished: Vec<_> = workers.into_iter().map(Worker::stop_accepting).collect();
        // GOAWAY to every client: no new calls; open ones (long streams too) get the drain time.
        if tokio::time::timeout(config.drain_timeout, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                drain_ms = config.drain_timeout.as_millis() as u64,
                "open calls did not finish in time: closing their connections"
            );
        }
        close.cancel();
        for worker in finished {
            // The worker has closed its connections and dropped its runtime, tasks and all.
            let _ = worker.await;
        }
        db.close().await;
        tracing::info!(service = "kefu-gateway", "stopped");
        Ok(())
    }
}

/// Reports each kefu service as SERVING while one of its replicas is healthy, and the gateway
/// itself (the empty name) as SERVING until `stop`; from then on everything is NOT_SERVING.
async fn report_health(
    reporter: tonic_health::server::HealthReporter,
    pools: HashMap<String, Arc<pool::Pool>>,
    interval: Duration,
    stop: CancellationToken,
) {
    let services = kefu_services();
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    loop {
        for (package, pool) in &pools {
            let status = if pool.any_healthy() {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            for service in services.get(package).into_iter().flatten() {
                reporter.set_service_status(service, status).await;
            }
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
    for service in services.values().flatten() {
        reporter
            .set_service_status(service, ServingStatus::NotServing)
            .await;
    }
    reporter
        .set_service_status("", ServingStatus::NotServing)
        .await;
}

/// A thread serving client connections on a current-thread runtime of its own. The calls of a
/// connection, their upstream connections and every task they spawn stay on that thread, so a
/// call wakes no other thread (tokio's work-stealing scheduler woke an idle worker about once per
/// call, which cost more latency than it saved on a small machine).
struct Worker {
    incoming: tokio::sync::mpsc::UnboundedSender<(std::net::TcpStream, Watcher)>,
    /// Client connections open on this worker.
    open: Arc<AtomicUsize>,
    finished: tokio::sync::oneshot::Receiver<()>,
}

/// Counts an open client connection until dropped.
struct OpenConnection(Arc<AtomicUsize>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Worker {
    /// Starts the thread for connection slot `slot`; it serves until `close`, after its intake
    /// has ended.
    fn start(
        slot: usize,
        gateway: Arc<proxy::Gateway>,
        builder: Http2Builder,
        close: CancellationToken,
    ) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (incoming, intake) = tokio::sync::mpsc::unbounded_channel();
        let (done, finished) = tokio::sync::oneshot::channel();
        let open = Arc::new(AtomicUsize::new(0));
        let counted = open.clone();
        // The caller's log and trace subscriber, for a test or an embedding that set its own.
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        std::thread::Builder::new()
            .name(format!("kefu-gateway-{slot}"))
            .spawn(move || {
                pool::set_worker_slot(slot);
                tracing::dispatcher::with_default(&dispatch, || {
                    runtime.block_on(serve_connections(intake, gateway, builder, counted, close));
                });
                drop(runtime);
                let _ = done.send(());
            })?;
        Ok(Self {
            incoming,
            open,
            finished,
        })
    }

    fn load(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    fn hand_over(&self, stream: std::net::TcpStream, watcher: Watcher) {
        self.open.fetch_add(1, Ordering::Relaxed);
        if self.incoming.send((stream, watcher)).is_err() {
            self.open.fetch_sub(1, Ordering::Relaxed);
            tracing::warn!("a gateway worker has stopped: connection dropped");
        }
    }

    /// Ends the intake; resolves once the thread has finished.
    fn stop_accepting(self) -> tokio::sync::oneshot::Receiver<()> {
        self.finished
    }
}

/// The index of the smallest load, the first such from `start` on (so ties rotate).
fn least_loaded(loads: &[usize], start: usize) -> usize {
    (0..loads.len())
        .map(|offset| (start + offset) % loads.len())
        .min_by_key(|&index| loads[index])
        .unwrap_or(0)
}

type Http2Builder = hyper::server::conn::http2::Builder<TokioExecutor>;

/// A worker's loop: serves each connection handed over until the intake ends, then lets them
/// finish until `close` and drops what is left.
async fn serve_connections(
    mut intake: tokio::sync::mpsc::UnboundedReceiver<(std::net::TcpStream, Watcher)>,
    gateway: Arc<proxy::Gateway>,
    builder: Http2Builder,
    open: Arc<AtomicUsize>,
    close: CancellationToken,
) {
    let mut connections = tokio::task::JoinSet::new();
    while let Some((stream, watcher)) = intake.recv().await {
        let counted = OpenConnection(open.clone());
        let stream = match tokio::net::TcpStream::from_std(stream) {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(%error, "could not take over a connection");
                continue;
            }
        };
        let gateway = gateway.clone();
        let service = hyper::service::service_fn(move |request| gateway.clone().handle(request));
        let connection = watcher.watch(builder.serve_connection(TokioIo::new(stream), service));
        connections.spawn(async move {
            let _counted = counted;
            if let Err(error) = connection.await {
                tracing::debug!(%error, "client connection ended with an error");
            }
        });
        // Reap finished connections as we go.
        while connections.try_join_next().is_some() {}
    }
    close.cancelled().await;
    connections.shutdown().await;
}

/// Connects, migrates, and serves on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    prepare(config).await?.serve(listener, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::least_loaded;

    #[test]
    fn connections_go_to_the_least_loaded_worker_and_ties_rotate() {
        assert_eq!(least_loaded(&[2, 0, 1], 0), 1);
        assert_eq!(least_loaded(&[2, 0, 1], 2), 1);
        // All equal: the one at `start`, so successive connections take turns.
        assert_eq!(least_loaded(&[1, 1, 1], 0), 0);
        assert_eq!(least_loaded(&[1, 1, 1], 2), 2);
        // Two tied for least: the first from `start` on, wrapping around.
        assert_eq!(least_loaded(&[0, 3, 0], 1), 2);
        assert_eq!(least_loaded(&[0, 3, 0], 0), 0);
        assert_eq!(least_loaded(&[5], 0), 0);
    }
}
