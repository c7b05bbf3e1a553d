//! `kefu-tickets`: configuration from the environment, then [`kefu_tickets::serve`].

use std::process::ExitCode;

use kefu_server::{CommonConfig, shutdown_signal};
use kefu_telemetry::TelemetryConfig;

#[tokio::main]
async fn main() -> ExitCode {
    let telemetry =
        match TelemetryConfig::from_env("kefu-tickets").and_then(TelemetryConfig::install) {
            Ok(guard) => guard,
            Err(error) => {
                eprintln!("kefu-tickets: {error}");
                return ExitCode::FAILURE;
            }
        };
    let result = run().await;
    if let Err(error) = &result {
        tracing::error!(error = %kefu_server::status::error_chain(error.as_ref()), "kefu-tickets failed");
    }
    telemetry.shutdown();
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let common = CommonConfig::from_env(kefu_tickets::SERVICE, kefu_tickets::DEFAULT_LISTEN)?;
    let listener = tokio::net::TcpListener::bind(common.listen).await?;
    let config = kefu_tickets::Config::from_env(common)?;
    let service = kefu_tickets::prepare(config).await?;
    println!("kefu-tickets listening on {}", listener.local_addr()?);
    service.serve(listener, shutdown_signal()).await?;
    Ok(())
}
