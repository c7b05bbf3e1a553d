//! The `kefu` command.
//!
//! - `kefu dev`: runs the whole platform on the embedded SQLite default under `KEFU_DATA_DIR`
//!   until Ctrl-C: the gateway on `KEFU_LISTEN` (default `127.0.0.1:50051`) in front of the
//!   customers, tickets, knowledge, feedback and automation services (on loopback ports of their
//!   own). On first start
//!   it creates a development admin API key, kept in `$KEFU_DATA_DIR/dev-admin.key`.
//! - `kefu key --role ROLE`: creates another API key in the same data directory.
//! - `kefu principal --role ROLE`: prints a signed principal for the `x-kefu-principal` header,
//!   to call one service directly, bypassing the gateway.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kefu_gateway::cli::PrincipalArgs;

mod dev;
mod tools;

#[derive(Parser)]
#[command(name = "kefu", version, about = "kefu customer service platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run kefu for development on the embedded SQLite default.
    Dev,
    /// Create an API key for the gateway of `kefu dev` and print it (shown only once).
    Key(PrincipalArgs),
    /// Print a signed principal for the `x-kefu-principal` header.
    Principal {
        #[command(flatten)]
        principal: PrincipalArgs,
        /// How long the principal is valid, in seconds.
        #[arg(long, default_value_t = 12 * 3600)]
        ttl: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Dev => dev::run().await,
        Command::Key(principal) => tools::key(principal).await,
        Command::Principal { principal, ttl } => {
            tools::principal(principal, Duration::from_secs(ttl))
        }
    };
    kefu_server::kit::exit_code("kefu", result)
}
