//! What the gateway's test binaries share: a gateway on a loopback port, stand-in upstreams, and
//! bearer metadata.

// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use kefu_gateway::Config;
use kefu_principal::{InternalKey, Principal};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

/// A gateway serving on a loopback port until dropped, with its own SQLite key store.
pub struct Gateway {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// Its API key store.
    pub keys: kefu_gateway::Keys,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts a gateway in front of `upstreams`, its health checked every 200 ms; `tune` adjusts the
/// rest of its configuration.
pub async fn gateway(
    key: &InternalKey,
    upstreams: HashMap<String, Vec<String>>,
    tune: impl FnOnce(&mut Config),
) -> Gateway {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("gateway.db").display()
    );
    let mut config = Config::new(url, key.clone(), upstreams);
    config.health_interval = Duration::from_millis(200);
    tune(&mut config);
    let prepared = kefu_gateway::prepare(config).await.unwrap();
    let keys = prepared.keys();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(prepared.serve(listener, async move {
        let _ = stopped.await;
    }));
    Gateway {
        addr,
        keys,
        _dir: dir,
        stop: Some(stop),
    }
}

impl Gateway {
    /// Tells it to stop: no new connections, open calls drain.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// A client connection to it.
    pub async fn channel(&self) -> Channel {
        tonic::transport::Endpoint::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// A new API key for `principal`.
    pub async fn key(&self, principal: &Principal) -> String {
        self.keys.create("test", principal).await.unwrap().0
    }
}

/// `message` with `authorization: Bearer <token>`.
pub fn with_bearer<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {token}")).unwrap(),
    );
    request
}

/// The customers service at `address` (`host:port`, a name or an IP address).
pub fn upstream_at(address: String) -> HashMap<String, Vec<String>> {
    [("customers".to_owned(), vec![address])]
        .into_iter()
        .collect()
}

/// Serves HTTP/2 on a loopback port, answering every request with `answer`.
pub async fn serve_fake<F, Answer>(answer: F) -> std::net::SocketAddr
where
    F: Fn(http::Request<hyper::body::Incoming>) -> Answer + Clone + Send + Sync + 'static,
    Answer: std::future::Future<Output = http::Response<tonic::body::Body>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let answered = answer(request);
                    async move { Ok::<_, std::convert::Infallible>(answered.await) }
                });
                let _ =
                    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
            });
        }
    });
    addr
}
