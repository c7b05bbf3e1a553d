//! Health that tells the truth: a service reports NOT_SERVING while its database does not answer.

use std::time::Duration;

use kefu_db::Database;
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// Pings the database every `interval` and sets the status of `service_name` and of the whole
/// server (the empty name) until `stop` fires.
pub(crate) async fn watch_database(
    reporter: HealthReporter,
    service_name: &'static str,
    db: Database,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut last = None;
    loop {
        let healthy = matches!(
            tokio::time::timeout(interval.max(Duration::from_secs(1)), db.ping()).await,
            Ok(Ok(()))
        );
        let status = if healthy {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        if last != Some(status) {
            if !healthy {
                tracing::warn!(
                    service = service_name,
                    "database unreachable: reporting NOT_SERVING"
                );
            } else if last.is_some() {
                tracing::info!(
                    service = service_name,
                    "database reachable again: reporting SERVING"
                );
            }
            reporter.set_service_status(service_name, status).await;
            reporter.set_service_status("", status).await;
            last = Some(status);
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = stop.cancelled() => return,
        }
    }
}
