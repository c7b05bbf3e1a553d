//! The replicas of one upstream service: one multiplexed HTTP/2 connection each, active health
//! checks (grpc.health.v1), passive ejection on transport failure, and power-of-two-choices
//! balancing on requests in flight.
//!
//! A replica keeps one connection per gateway worker thread: each worker serves its client
//! connections on a runtime of its own, and its upstream connections are driven by that same
//! runtime, so a call never crosses threads. Health and load are shared by all workers.
//!
//! Each configured `host:port` is resolved again on every health round and every address it
//! resolves to is a replica of its own, so a name with several addresses (a Kubernetes headless
//! Service) spreads requests over all its pods, and pods that come and go are followed.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;

use crate::upstream::Connection;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// How long connecting to a replica may take before it counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

thread_local! {
    /// The connection slot of the worker running on this thread (0 on any other thread).
    static WORKER_SLOT: Cell<usize> = const { Cell::new(0) };
}

/// Makes this thread use connection slot `slot`: called once by each worker thread.
pub fn set_worker_slot(slot: usize) {
    WORKER_SLOT.with(|current| current.set(slot));
}

fn worker_slot() -> usize {
    WORKER_SLOT.with(Cell::get)
}

/// One worker's connection to a replica.
#[derive(Debug, Default)]
struct Slot {
    /// The open connection, read on every request without waiting.
    connection: std::sync::RwLock<Option<Connection>>,
    /// Held while (re)connecting, so concurrent requests do not open several connections.
    connecting: tokio::sync::Mutex<()>,
}

/// One replica.
#[derive(Debug)]
pub struct Replica {
    /// Where to connect: a resolved `ip:port`, or the configured `host:port` while it does not
    /// resolve.
    pub address: String,
    in_flight: AtomicUsize,
    healthy: AtomicBool,
    /// The configured `host:port` as the requests' authority; `None` if it is not one
    /// (connecting then fails).
    pub authority: Option<http::uri::Authority>,
    /// grpc.health.v1 client over a connection of its own, opened on first use.
    health: Option<HealthClient<Channel>>,
    /// One connection per worker thread, indexed by its slot.
    slots: Box<[Slot]>,
}

/// Counts a request in flight on a replica until dropped.
#[derive(Debug)]
pub struct InFlight(Arc<Replica>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Replica {
    fn new(address: String, target: &str, slots: usize) -> Self {
        let health = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .ok()
            .map(|e| HealthClient::new(e.connect_timeout(CONNECT_TIMEOUT).connect_lazy()));
        Self {
            authority: target.parse().ok(),
            health,
            address,
            in_flight: AtomicUsize::new(0),
            // Healthy until a check or a request says otherwise, so the first calls need not wait.
            healthy: AtomicBool::new(true),
            slots: (0..slots.max(1)).map(|_| Slot::default()).collect(),
        }
    }

    /// Whether the last health check or request succeeded.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Takes the replica out of rotation until a health check passes.
    pub fn eject(&self) {
        if self.healthy.swap(false, Ordering::Relaxed) {
            tracing::warn!(upstream = %self.address, "upstream ejected");
        }
    }

    fn mark(&self, healthy: bool) {
        let was = self.healthy.swap(healthy, Ordering::Relaxed);
        if healthy && !was {
            tracing::info!(upstream = %self.address, "upstream healthy again");
        } else if !healthy && was {
            tracing::warn!(upstream = %self.address, "upstream failed its health check");
        }
    }

    /// This worker's HTTP/2 connection to the replica, opened (again) if needed.
    pub async fn connection(&self) -> std::io::Result<Connection> {
        let slot = &self.slots[worker_slot() % self.slots.len()];
        if let Some(connection) = slot.open_connection() {
            return Ok(connection);
        }
        let _connecting = slot.connecting.lock().await;
        if let Some(connection) = slot.open_connection() {
            return Ok(connection);
        }
        let stream = tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio::net::TcpStream::connect(&self.address),
        )
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        let connection = tokio::time::timeout(
            CONNECT_TIMEOUT,
            Connection::handshake(stream, &self.address),
        )
        .await
        .map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::TimedOut, "HTTP/2 handshake timed out")
        })?
        .map_err(std::io::Error::other)?;
        if let Ok(mut open) = slot.connection.write() {
            *open = Some(connection.clone());
        }
        Ok(connection)
    }

    /// Counts a request in flight.
    pub fn start(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }
}

impl Slot {
    fn open_connection(&self) -> Option<Connection> {
        self.connection
            .read()
            .ok()?
            .as_ref()
            .filter(|c| !c.is_closed())
            .cloned()
    }
}

/// The replicas of one service package.
#[derive(Debug)]
pub struct Pool {
    /// `customers`, `tickets`, …
    pub name: String,
    /// The configured `host:port` targets.
    targets: Vec<String>,
    /// What each target last resolved to, kept while its name does not resolve (a DNS blip
    /// must not empty the pool).
    resolved: std::sync::Mutex<HashMap<String, Vec<SocketAddr>>>,
    replicas: std::sync::RwLock<Vec<Arc<Replica>>>,
    /// Connection slots per replica: one per worker thread.
    slots: usize,
}

/// Resolves `host:port` with the system resolver (IP literals need no lookup).
pub async fn resolve(target: String) -> std::io::Result<Vec<SocketAddr>> {
    let lookup = tokio::net::lookup_host(target);
    match tokio::time::timeout(CONNECT_TIMEOUT, lookup).await {
        Ok(addresses) => Ok(addresses?.collect()),
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "name resolution timed out",
        )),
    }
}

impl Pool {
    /// A pool over `addresses` (`host:port`), one replica per target until [`Pool::refresh`]
    /// resolves them; each replica keeps up to `slots` connections (one per worker thread).
    pub fn new(name: &str, addresses: &[String], slots: usize) -> Self {
        Self {
            name: name.to_owned(),
            targets: addresses.to_vec(),
            resolved: std::sync::Mutex::default(),
            replicas: std::sync::RwLock::new(
                addresses
                    .iter()
                    .map(|target| Arc::new(Replica::new(target.clone(), target, slots)))
                    .collect(),
            ),
            slots,
        }
    }

    /// Resolves every target with `resolve` and makes the replicas the addresses found. A
    /// replica whose address is still there is kept as it is (connection, health, load); a
    /// target that fails to resolve keeps its last addresses, or its name if it never resolved.
    pub async fn refresh<R, F>(&self, resolve: R)
    where
        R: Fn(String) -> F,
        F: Future<Output = std::io::Result<Vec<SocketAddr>>>,
    {
        let mut wanted: Vec<(String, &str)> = Vec::new();
        for target in &self.targets {
            let found = match resolve(target.clone()).await {
                Ok(addresses) if !addresses.is_empty() => {
                    if let Ok(mut resolved) = self.resolved.lock() {
                        resolved.insert(target.clone(), addresses.clone());
                    }
                    Some(addresses)
                }
                Ok(_) | Err(_) => self
                    .resolved
                    .lock()
                    .ok()
                    .and_then(|resolved| resolved.get(target).cloned()),
            };
            match found {
                Some(addresses) => {
                    wanted.extend(addresses.iter().map(|a| (a.to_string(), target.as_str())));
                }
                None => wanted.push((target.clone(), target)),
            }
        }
        let mut seen = HashSet::new();
        wanted.retain(|(address, _)| seen.insert(address.clone()));
        let Ok(mut replicas) = self.replicas.write() else {
            return;
        };
        let current: HashMap<&str, &Arc<Replica>> =
            replicas.iter().map(|r| (r.address.as_str(), r)).collect();
        let next: Vec<Arc<Replica>> = wanted
            .iter()
            .map(|(address, target)| match current.get(address.as_str()) {
                Some(kept) => Arc::clone(kept),
                None => {
                    tracing::info!(service = %self.name, upstream = %address, "upstream replica added");
                    Arc::new(Replica::new(address.clone(), target, self.slots))
                }
            })
            .collect();
        for gone in replicas.iter().filter(|r| !seen.contains(&r.address)) {
            tracing::info!(service = %self.name, upstream = %gone.address, "upstream replica removed");
        }
        *replicas = next;
    }

    /// The current replicas.
    pub fn replicas(&self) -> Vec<Arc<Replica>> {
        self.replicas.read().map(|r| r.clone()).unwrap_or_default()
    }

    /// Replicas in the order to try them: the better of two random healthy ones first (fewer
    /// requests in flight), then the other healthy ones, then the ejected ones as a last resort.
    pub fn candidates(&self) -> Vec<Arc<Replica>> {
        let (mut healthy, ejected): (Vec<_>, Vec<_>) =
            self.replicas().into_iter().partition(|r| r.is_healthy());
        if healthy.len() >= 2 {
            let mut rng = rand::rng();
            let a = rng.random_range(0..healthy.len());
            let mut b = rng.random_range(0..healthy.len() - 1);
            if b >= a {
                b += 1;
            }
            let load = |i: usize| healthy[i].in_flight.load(Ordering::Relaxed);
            let first = if load(b) < load(a) { b } else { a };
            healthy.swap(0, first);
        }
        healthy.extend(ejected);
        healthy
    }

    /// Whether any replica is healthy.
    pub fn any_healthy(&self) -> bool {
        self.replicas().iter().any(|r| r.is_healthy())
    }

    /// Each `interval` until `stop`: resolves the targets again, then checks every replica's
    /// grpc.health.v1 status.
    pub async fn check_health(self: Arc<Self>, interval: Duration, stop: CancellationToken) {
        loop {
            self.refresh(resolve).await;
            for replica in self.replicas() {
                let healthy = match &replica.health {
                    Some(client) => {
                        let mut client = client.clone();
                        let check = client.check(HealthCheckRequest {
                            service: String::new(),
                        });
                        matches!(
                            tokio::time::timeout(CONNECT_TIMEOUT, check).await,
                            Ok(Ok(response)) if response.get_ref().status == ServingStatus::Serving as i32
                        )
                    }
                    None => false,
                };
                replica.mark(healthy);
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use super::*;

    /// A resolver answering from a table that the test edits; a missing name fails to resolve.
    #[derive(Clone, Default)]
    struct FakeDns(Arc<Mutex<HashMap<String, Vec<SocketAddr>>>>);

    impl FakeDns {
        fn set(&self, name: &str, addresses: &[&str]) {
            let addresses = addresses.iter().map(|a| a.parse().unwrap()).collect();
            self.0.lock().unwrap().insert(name.to_owned(), addresses);
        }

        fn forget(&self, name: &str) {
            self.0.lock().unwrap().remove(name);
        }

        fn resolver(
            &self,
        ) -> impl Fn(String) -> std::future::Ready<std::io::Result<Vec<SocketAddr>>> {
            let table = self.0.clone();
            move |name| {
                std::future::ready(table.lock().unwrap().get(&name).cloned().ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such name")
                }))
            }
        }
    }

    fn addresses(pool: &Pool) -> Vec<String> {
        pool.replicas().iter().map(|r| r.address.clone()).collect()
    }

    fn replica(pool: &Pool, address: &str) -> Arc<Replica> {
        pool.replicas()
            .into_iter()
            .find(|r| r.address == address)
            .unwrap()
    }

    #[tokio::test]
    async fn every_address_a_target_resolves_to_is_a_replica_and_changes_are_followed() {
        let dns = FakeDns::default();
        let pool = Pool::new(
            "customers",
            &["customers:50061".into(), "10.0.0.9:50061".into()],
            1,
        );
        // Before the first resolution: one replica per target, connected to by name.
        assert_eq!(addresses(&pool), ["customers:50061", "10.0.0.9:50061"]);

        dns.set("customers:50061", &["10.0.0.1:50061", "10.0.0.2:50061"]);
        dns.set("10.0.0.9:50061", &["10.0.0.9:50061"]);
        pool.refresh(dns.resolver()).await;
        assert_eq!(
            addresses(&pool),
            ["10.0.0.1:50061", "10.0.0.2:50061", "10.0.0.9:50061"]
        );
        // Requests keep naming the configured service, whichever pod serves them.
        assert_eq!(
            replica(&pool, "10.0.0.2:50061")
                .authority
                .as_ref()
                .map(|a| a.as_str()),
            Some("customers:50061")
        );

        // A pod goes, another comes: the one that stayed keeps its state (here: ejected).
        let stayed = replica(&pool, "10.0.0.2:50061");
        stayed.eject();
        dns.set("customers:50061", &["10.0.0.2:50061", "10.0.0.3:50061"]);
        pool.refresh(dns.resolver()).await;
        assert_eq!(
            addresses(&pool),
            ["10.0.0.2:50061", "10.0.0.3:50061", "10.0.0.9:50061"]
        );
        let still = replica(&pool, "10.0.0.2:50061");
        assert!(Arc::ptr_eq(&stayed, &still) && !still.is_healthy());
        assert!(replica(&pool, "10.0.0.3:50061").is_healthy());

        // A failed lookup keeps the last addresses rather than emptying the pool.
        dns.forget("customers:50061");
        pool.refresh(dns.resolver()).await;
        assert_eq!(
            addresses(&pool),
            ["10.0.0.2:50061", "10.0.0.3:50061", "10.0.0.9:50061"]
        );
        // So does a lookup that answers with nothing.
        dns.set("customers:50061", &[]);
        pool.refresh(dns.resolver()).await;
        assert_eq!(addresses(&pool).len(), 3);
    }

    #[tokio::test]
    async fn unresolved_names_stay_replicas_by_name_and_shared_addresses_count_once() {
        let dns = FakeDns::default();
        let pool = Pool::new(
            "tickets",
            &[
                "tickets-a:50062".into(),
                "tickets-b:50062".into(),
                "nowhere:50062".into(),
            ],
            1,
        );
        dns.set("tickets-a:50062", &["10.0.1.1:50062"]);
        dns.set("tickets-b:50062", &["10.0.1.1:50062", "10.0.1.2:50062"]);
        pool.refresh(dns.resolver()).await;
        assert_eq!(
            addresses(&pool),
            ["10.0.1.1:50062", "10.0.1.2:50062", "nowhere:50062"]
        );
    }

    #[tokio::test]
    async fn the_system_resolver_reads_ip_literals_and_localhost() {
        let literal = resolve("127.0.0.1:50061".into()).await.unwrap();
        assert_eq!(literal, ["127.0.0.1:50061".parse::<SocketAddr>().unwrap()]);
        let localhost = resolve("localhost:50061".into()).await.unwrap();
        assert!(
            localhost
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 50061)
        );
        assert!(!localhost.is_empty());
        assert!(resolve("not an address".into()).await.is_err());
    }
}
