//! `kefu-knowledge`: configuration from the environment, then [`kefu_knowledge::serve`].

use std::process::ExitCode;

use kefu_server::{CommonConfig, shutdown_signal};
use kefu_telemetry::TelemetryConfig;

#[tokio::main]
async fn main() -> ExitCode {
    let telemetry =
        match TelemetryConfig::from_env("kefu-knowledge").and_then(TelemetryConfig::install) {
            Ok(guard) => guard,
            Err(error) => {
                eprintln!("kefu-knowledge: {error}");
                return ExitCode::FAILURE;
            }
        };
    let result = run().await;
    if let Err(error) = &result {
        tracing::error!(error = %kefu_server::status::error_chain(error.as_ref()), "kefu-knowledge failed");
    }
    telemetry.shutdown();
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = CommonConfig::from_env(kefu_knowledge::SERVICE, kefu_knowledge::DEFAULT_LISTEN)?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let service = kefu_knowledge::prepare(config.into()).await?;
    println!("kefu-knowledge listening on {}", listener.local_addr()?);
    service.serve(listener, shutdown_signal()).await?;
    Ok(())
}
