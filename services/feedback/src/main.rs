//! `kefu-feedback`: configuration from the environment, then [`kefu_feedback::serve`].

use std::process::ExitCode;

use kefu_server::{CommonConfig, shutdown_signal};
use kefu_telemetry::TelemetryConfig;

#[tokio::main]
async fn main() -> ExitCode {
    let telemetry =
        match TelemetryConfig::from_env("kefu-feedback").and_then(TelemetryConfig::install) {
            Ok(guard) => guard,
            Err(error) => {
                eprintln!("kefu-feedback: {error}");
                return ExitCode::FAILURE;
            }
        };
    let result = run().await;
    if let Err(error) = &result {
        tracing::error!(error = %kefu_server::status::error_chain(error.as_ref()), "kefu-feedback failed");
    }
    telemetry.shutdown();
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let common = CommonConfig::from_env(kefu_feedback::SERVICE, kefu_feedback::DEFAULT_LISTEN)?;
    let listener = tokio::net::TcpListener::bind(common.listen).await?;
    let config = kefu_feedback::Config::from_env(common)?;
    let service = kefu_feedback::prepare(config).await?;
    println!("kefu-feedback listening on {}", listener.local_addr()?);
    service.serve(listener, shutdown_signal()).await?;
    Ok(())
}
