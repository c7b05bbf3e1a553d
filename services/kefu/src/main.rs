//! The `kefu` command.
//!
//! - `kefu dev`: runs the platform on the embedded SQLite default under `KEFU_DATA_DIR` until
//!   Ctrl-C: the customers service on `KEFU_LISTEN` (default `127.0.0.1:50051`), knowledge and
//!   tickets on the next two ports. The gateway will take `KEFU_LISTEN` when it lands.
//! - `kefu principal --role ROLE`: prints a signed principal for the `x-kefu-principal` header,
//!   so `grpcurl`/`buf curl` can call a service directly during development.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kefu_principal::{Principal, Role};
use kefu_server::{CommonConfig, shutdown_signal};
use kefu_telemetry::TelemetryConfig;

/// Where `kefu dev` puts its first service when `KEFU_LISTEN` is unset.
const DEV_LISTEN: &str = "127.0.0.1:50051";

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
    /// Print a signed principal for the `x-kefu-principal` header.
    Principal {
        /// ADMIN, AGENT, INTEGRATION or CUSTOMER.
        #[arg(long, default_value = "admin")]
        role: String,
        /// The principal's id (default: `dev-<role>`, or the customer id for CUSTOMER).
        #[arg(long)]
        id: Option<String>,
        /// For CUSTOMER: the customer's id (the part after `customers/`).
        #[arg(long)]
        customer: Option<String>,
        /// How long the principal is valid, in seconds.
        #[arg(long, default_value_t = 12 * 3600)]
        ttl: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dev => dev().await,
        Command::Principal {
            role,
            id,
            customer,
            ttl,
        } => principal(&role, id, customer, ttl),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kefu: {}", kefu_server::status::error_chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn dev() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = TelemetryConfig::from_env("kefu")?.install()?;
    let result = run_services().await;
    telemetry.shutdown();
    result?;
    println!("kefu dev: stopped");
    Ok(())
}

/// Starts every service in this process until Ctrl-C: customers on `KEFU_LISTEN`, knowledge and
/// tickets on the next ports. (The gateway will take `KEFU_LISTEN` and route to them when it lands.)
async fn run_services() -> Result<(), Box<dyn std::error::Error>> {
    let customers_config = CommonConfig::from_env(kefu_customers::SERVICE, DEV_LISTEN)?;
    let knowledge_config = CommonConfig::from_env(kefu_knowledge::SERVICE, DEV_LISTEN)?;
    let tickets_common = CommonConfig::from_env(kefu_tickets::SERVICE, DEV_LISTEN)?;
    let customers_listener = tokio::net::TcpListener::bind(customers_config.listen).await?;
    let customers_addr = customers_listener.local_addr()?;
    let next_port = |offset: u16| {
        (
            customers_addr.ip(),
            customers_addr.port().wrapping_add(offset),
        )
    };
    let knowledge_listener = tokio::net::TcpListener::bind(next_port(1)).await?;
    let knowledge_addr = knowledge_listener.local_addr()?;
    let tickets_listener = tokio::net::TcpListener::bind(next_port(2)).await?;
    let tickets_addr = tickets_listener.local_addr()?;
    let mut tickets_config = kefu_tickets::Config::from_env(tickets_common)?;
    tickets_config.customers_url = format!("http://{customers_addr}");
    let admin = customers_config.internal_key.sign(
        &Principal::new("dev-admin", Role::Admin),
        Duration::from_secs(12 * 3600),
    );
    let data_dir = customers_config.data_dir.clone();
    let customers = kefu_customers::prepare(customers_config.into()).await?;
    let knowledge = kefu_knowledge::prepare(knowledge_config.into()).await?;
    let tickets = kefu_tickets::prepare(tickets_config).await?;
    println!("kefu dev: data in {}", data_dir.display());
    println!("kefu dev: customers service listening on {customers_addr}");
    println!("kefu dev: knowledge service listening on {knowledge_addr}");
    println!("kefu dev: tickets service listening on {tickets_addr}");
    println!("kefu dev: admin principal for the next 12 h (header x-kefu-principal):\n{admin}");
    let stop = tokio_util::sync::CancellationToken::new();
    let signal_stop = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        signal_stop.cancel();
    });
    // Whichever service ends first (an error, or Ctrl-C) stops the others.
    let (customers_result, knowledge_result, tickets_result) = tokio::join!(
        async {
            let result = customers
                .serve(customers_listener, stop.clone().cancelled_owned())
                .await;
            stop.cancel();
            result
        },
        async {
            let result = knowledge
                .serve(knowledge_listener, stop.clone().cancelled_owned())
                .await;
            stop.cancel();
            result
        },
        async {
            let result = tickets
                .serve(tickets_listener, stop.clone().cancelled_owned())
                .await;
            stop.cancel();
            result
        },
    );
    customers_result?;
    knowledge_result?;
    tickets_result?;
    Ok(())
}

fn principal(
    role: &str,
    id: Option<String>,
    customer: Option<String>,
    ttl: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let role = Role::parse(role).ok_or_else(|| {
        format!("unknown role {role:?}: use admin, agent, integration or customer")
    })?;
    let principal = match (role, customer) {
        (Role::Customer, Some(customer)) => {
            let customer = customer.trim_start_matches("customers/").to_owned();
            Principal {
                id: id.unwrap_or_else(|| customer.clone()),
                role,
                customer_id: Some(customer),
            }
        }
        (Role::Customer, None) => return Err("a CUSTOMER principal needs --customer <id>".into()),
        (_, Some(_)) => return Err("--customer is only for --role customer".into()),
        (role, None) => Principal::new(
            id.unwrap_or_else(|| format!("dev-{}", role.as_str().to_lowercase())),
            role,
        ),
    };
    let config = CommonConfig::from_env(kefu_customers::SERVICE, DEV_LISTEN)?;
    println!(
        "{}",
        config
            .internal_key
            .sign(&principal, Duration::from_secs(ttl))
    );
    Ok(())
}
