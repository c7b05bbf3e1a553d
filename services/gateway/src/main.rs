//! `kefu-gateway`: serve (the default), or manage API keys.

use std::collections::HashMap;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kefu_gateway::{Config, RateLimit};
use kefu_principal::{Principal, Role};
use kefu_server::{CommonConfig, shutdown_signal};
use kefu_telemetry::TelemetryConfig;

#[derive(Parser)]
#[command(name = "kefu-gateway", about = "kefu's authenticated entry point")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve (the default).
    Serve,
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        action: KeyAction,
    },
}

#[derive(Subcommand)]
enum KeyAction {
    /// Create a key and print it (it is shown only once).
    Create {
        /// What the key is for.
        #[arg(long)]
        name: String,
        /// ADMIN, AGENT, INTEGRATION or CUSTOMER.
        #[arg(long)]
        role: String,
        /// The principal id the key acts as (default: the name; the customer id for CUSTOMER).
        #[arg(long)]
        id: Option<String>,
        /// For CUSTOMER keys: the customer id.
        #[arg(long)]
        customer: Option<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by its id.
    Revoke {
        /// The id shown by `list`.
        id: String,
    },
}

// The main thread accepts connections, checks upstream health and looks up keys; calls are served
// by the gateway's own worker threads (`KEFU_GATEWAY_THREADS`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let telemetry =
        match TelemetryConfig::from_env("kefu-gateway").and_then(TelemetryConfig::install) {
            Ok(guard) => guard,
            Err(error) => {
                eprintln!("kefu-gateway: {error}");
                return ExitCode::FAILURE;
            }
        };
    let result = run(Cli::parse()).await;
    if let Err(error) = &result {
        eprintln!(
            "kefu-gateway: {}",
            kefu_server::status::error_chain(error.as_ref())
        );
    }
    telemetry.shutdown();
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Upstreams from `KEFU_<PACKAGE>_URL` variables (comma-separated `host:port` or `http://host:port`).
fn upstreams_from_env() -> HashMap<String, Vec<String>> {
    std::env::vars()
        .filter_map(|(name, value)| {
            let package = name.strip_prefix("KEFU_")?.strip_suffix("_URL")?;
            if package == "DATABASE" || value.trim().is_empty() {
                return None;
            }
            let replicas = value
                .split(',')
                .map(|v| {
                    v.trim()
                        .trim_start_matches("http://")
                        .trim_end_matches('/')
                        .to_owned()
                })
                .filter(|v| !v.is_empty())
                .collect();
            Some((package.to_lowercase(), replicas))
        })
        .collect()
}

fn config_from_env(common: CommonConfig) -> Result<Config, Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut config = Config::new(
        common.database_url,
        common.internal_key,
        upstreams_from_env(),
    );
    let hs256 =
        var("KEFU_JWT_HS256_SECRET").map(|s| jsonwebtoken::DecodingKey::from_secret(s.as_bytes()));
    let rs256 = match var("KEFU_JWT_RS256_PUBLIC_KEY_FILE") {
        Some(path) => Some(jsonwebtoken::DecodingKey::from_rsa_pem(&std::fs::read(
            path,
        )?)?),
        None => None,
    };
    if hs256.is_some() || rs256.is_some() {
        config.jwt = Some(kefu_gateway::auth::JwtConfig {
            hs256,
            rs256,
            issuer: var("KEFU_JWT_ISSUER").ok_or("KEFU_JWT_ISSUER is required with a JWT key")?,
            audience: var("KEFU_JWT_AUDIENCE")
                .ok_or("KEFU_JWT_AUDIENCE is required with a JWT key")?,
        });
    }
    if let Some(threads) = var("KEFU_GATEWAY_THREADS") {
        config.worker_threads = match threads.trim().parse() {
            Ok(threads) if threads > 0 => threads,
            _ => {
                return Err(format!(
                    "KEFU_GATEWAY_THREADS must be a positive number, not {threads:?}"
                )
                .into());
            }
        };
    }
    for role in Role::ALL {
        if let Some(text) = var(&format!("KEFU_RATE_LIMIT_{}", role.as_str())) {
            let limit = match text.as_str() {
                "off" => None,
                _ => {
                    let (rate, burst) = text.split_once('/').unwrap_or((&text, &text));
                    Some(RateLimit {
                        per_second: rate.trim().parse()?,
                        burst: burst.trim().parse()?,
                    })
                }
            };
            match limit {
                Some(limit) => config.rate_limits.insert(role, limit),
                None => config.rate_limits.remove(&role),
            };
        }
    }
    Ok(config)
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let common = CommonConfig::from_env(kefu_gateway::SERVICE, kefu_gateway::DEFAULT_LISTEN)?;
    let listen = common.listen;
    let config = config_from_env(common)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(listen).await?;
            let mut routes: Vec<_> = config
                .upstreams
                .iter()
                .map(|(k, v)| format!("{k} → {}", v.join(", ")))
                .collect();
            routes.sort();
            let prepared = kefu_gateway::prepare(config).await?;
            println!(
                "kefu-gateway listening on {} ({})",
                listener.local_addr()?,
                routes.join("; ")
            );
            prepared.serve(listener, shutdown_signal()).await?;
        }
        Command::Keys { action } => {
            let keys = kefu_gateway::prepare(config).await?.keys();
            match action {
                KeyAction::Create {
                    name,
                    role,
                    id,
                    customer,
                } => {
                    let role = Role::parse(&role)
                        .ok_or("role must be admin, agent, integration or customer")?;
                    let principal = match (role, customer) {
                        (Role::Customer, Some(customer)) => Principal {
                            id: id.unwrap_or_else(|| customer.clone()),
                            role,
                            customer_id: Some(customer),
                        },
                        (Role::Customer, None) => {
                            return Err("a CUSTOMER key needs --customer <id>".into());
                        }
                        (_, Some(_)) => return Err("--customer is only for --role customer".into()),
                        (role, None) => Principal::new(id.unwrap_or_else(|| name.clone()), role),
                    };
                    let (key, record) = keys.create(&name, &principal).await?;
                    println!("{key}");
                    eprintln!(
                        "created key {} for {} ({}); it is shown only once",
                        record.id, principal.id, principal.role
                    );
                }
                KeyAction::List => {
                    for k in keys.list().await? {
                        let state = if k.revoke_time.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        println!(
                            "{}\t{}\t{}\t{}\t{}",
                            k.id, k.principal.role, k.principal.id, k.name, state
                        );
                    }
                }
                KeyAction::Revoke { id } => {
                    if keys.revoke(&id).await? {
                        println!("revoked {id}");
                    } else {
                        return Err(format!("no active key {id}").into());
                    }
                }
            }
        }
    }
    Ok(())
}
