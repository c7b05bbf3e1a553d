//! `kefu-gateway`: serve (the default), or manage API keys.

use std::process::ExitCode;

use clap::Parser;
use kefu_gateway::cli::Cli;
use kefu_telemetry::TelemetryConfig;

// The main thread accepts connections, checks upstream health and looks up keys; calls are served
// by the gateway's own worker threads (`KEFU_GATEWAY_THREADS`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let telemetry = match TelemetryConfig::from_env("kefu-gateway").and_then(|t| t.install()) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("kefu-gateway: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = Cli::parse().run().await;
    telemetry.shutdown();
    kefu_server::kit::exit_code("kefu-gateway", result)
}
