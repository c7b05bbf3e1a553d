//! The replicas of one upstream service: one multiplexed HTTP/2 connection each, active health
//! checks (grpc.health.v1), passive ejection on transport failure, and power-of-two-choices
//! balancing on requests in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;
use tonic_health::pb::HealthCheckRequest;

use crate::upstream::Connection;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// How long connecting to a replica may take before it counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// One replica.
#[derive(Debug)]
pub struct Replica {
    /// `host:port`.
    pub address: String,
    in_flight: AtomicUsize,
    healthy: AtomicBool,
    /// `address` as a URI authority; `None` if it is not one (connecting then fails).
    pub authority: Option<http::uri::Authority>,
    /// The open connection, read on every request without waiting.
    connection: std::sync::RwLock<Option<Connection>>,
    /// Held while (re)connecting, so concurrent requests do not open several connections.
    connecting: tokio::sync::Mutex<()>,
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
    fn new(address: String) -> Self {
        Self {
            authority: address.parse().ok(),
            address,
            in_flight: AtomicUsize::new(0),
            // Healthy until a check or a request says otherwise, so the first calls need not wait.
            healthy: AtomicBool::new(true),
            connection: std::sync::RwLock::new(None),
            connecting: tokio::sync::Mutex::new(()),
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

    /// The replica's HTTP/2 connection, opened (again) if needed.
    pub async fn connection(&self) -> std::io::Result<Connection> {
        if let Some(connection) = self.open_connection() {
            return Ok(connection);
        }
        let _connecting = self.connecting.lock().await;
        if let Some(connection) = self.open_connection() {
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
        if let Ok(mut slot) = self.connection.write() {
            *slot = Some(connection.clone());
        }
        Ok(connection)
    }

    fn open_connection(&self) -> Option<Connection> {
        self.connection
            .read()
            .ok()?
            .as_ref()
            .filter(|c| !c.is_closed())
            .cloned()
    }

    /// Counts a request in flight.
    pub fn start(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }
}

/// The replicas of one service package.
#[derive(Debug)]
pub struct Pool {
    /// `customers`, `tickets`, …
    pub name: String,
    replicas: Vec<Arc<Replica>>,
}

impl Pool {
    /// A pool over `addresses` (`host:port`).
    pub fn new(name: &str, addresses: &[String]) -> Self {
        Self {
            name: name.to_owned(),
            replicas: addresses
                .iter()
                .cloned()
                .map(Replica::new)
                .map(Arc::new)
                .collect(),
        }
    }

    /// Replicas in the order to try them: the better of two random healthy ones first (fewer
    /// requests in flight), then the other healthy ones, then the ejected ones as a last resort.
    pub fn candidates(&self) -> Vec<Arc<Replica>> {
        let (mut healthy, ejected): (Vec<_>, Vec<_>) =
            self.replicas.iter().cloned().partition(|r| r.is_healthy());
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
        self.replicas.iter().any(|r| r.is_healthy())
    }

    /// Checks every replica's grpc.health.v1 status each `interval` until `stop`.
    pub async fn check_health(self: Arc<Self>, interval: Duration, stop: CancellationToken) {
        let clients: Vec<_> = self
            .replicas
            .iter()
            .map(|r| {
                tonic::transport::Endpoint::from_shared(format!("http://{}", r.address))
                    .map(|e| HealthClient::new(e.connect_timeout(CONNECT_TIMEOUT).connect_lazy()))
            })
            .collect();
        loop {
            for (replica, client) in self.replicas.iter().zip(&clients) {
                let healthy = match client {
                    Ok(client) => {
                        let mut client = client.clone();
                        let check = client.check(HealthCheckRequest {
                            service: String::new(),
                        });
                        matches!(
                            tokio::time::timeout(CONNECT_TIMEOUT, check).await,
                            Ok(Ok(response)) if response.get_ref().status == ServingStatus::Serving as i32
                        )
                    }
                    Err(_) => false,
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
