//! Worker threads: each serves its clients over upstream connections of its own, and stops cleanly.

use std::time::Duration;

use kefu_principal::{InternalKey, Principal, Role};
use kefu_testkit::assert_status;
use tonic::Code;

use crate::helpers::*;
use crate::support::{gateway, upstream_at};

/// A stand-in upstream that answers health checks SERVING and every other call with NOT_FOUND,
/// and reports which of its connections carried calls and how many of those are still open.
async fn connection_counting_replica() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<std::collections::HashSet<usize>>>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let carried = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let open = Arc::new(AtomicUsize::new(0));
    let (carried_by, still_open) = (carried.clone(), open.clone());
    tokio::spawn(async move {
        let mut next_id = 0;
        while let Ok((stream, _)) = listener.accept().await {
            let id = next_id;
            next_id += 1;
            let (carried, open, closing) =
                (carried_by.clone(), still_open.clone(), still_open.clone());
            tokio::spawn(async move {
                let counted = Arc::new(AtomicBool::new(false));
                let marked = counted.clone();
                let service = hyper::service::service_fn(move |request: http::Request<_>| {
                    let health = request.uri().path() == "/grpc.health.v1.Health/Check";
                    if !health && !marked.swap(true, Ordering::Relaxed) {
                        carried.lock().unwrap().insert(id);
                        open.fetch_add(1, Ordering::Relaxed);
                    }
                    async move {
                        let response = if health {
                            health_response(true)
                        } else {
                            tonic::Status::not_found("counted").into_http::<tonic::body::Body>()
                        };
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ =
                    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                if counted.load(Ordering::Relaxed) {
                    closing.fetch_sub(1, Ordering::Relaxed);
                }
            });
        }
    });
    (addr, carried, open)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_worker_thread_serves_its_clients_over_its_own_upstream_connection() {
    use std::sync::atomic::Ordering;
    let (replica, carried, open) = connection_counting_replica().await;
    let key = InternalKey::generate();
    let mut gw = gateway(&key, upstream_at(replica.to_string()), |config| {
        config.worker_threads = 3;
        config.drain_timeout = Duration::from_millis(500);
    })
    .await;
    let admin_key = gw.key(&Principal::new("ops", Role::Admin)).await;
    // Six client connections over three workers: two each, one upstream connection per worker.
    let mut clients = Vec::new();
    for _ in 0..6 {
        clients.push(Customers::new(gw.channel().await));
    }
    for client in &mut clients {
        for _ in 0..3 {
            let call = list_as(client, &admin_key);
            assert_status(call.await, Code::NotFound, &[]);
        }
    }
    assert_eq!(
        carried.lock().unwrap().len(),
        3,
        "one upstream connection per worker thread, shared by that worker's clients"
    );
    assert_eq!(open.load(Ordering::Relaxed), 3);

    // Stopping the gateway ends the workers and closes every upstream connection they held.
    gw.stop();
    tokio::time::timeout(Duration::from_secs(5), async {
        while open.load(Ordering::Relaxed) > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the workers' upstream connections close when the gateway stops");
    // A stopped gateway serves no more calls: once it has finished stopping it no longer listens.
    tokio::time::timeout(Duration::from_secs(5), async {
        while tokio::net::TcpStream::connect(gw.addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the stopped gateway closes its listener");
}
