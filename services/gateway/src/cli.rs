//! The `kefu-gateway` command line — serve (the default), or manage API keys — with its
//! configuration from the environment, and the principal arguments `kefu key` shares.

use std::collections::HashMap;
use std::error::Error;

use clap::{Args, Parser, Subcommand};
use kefu_principal::{Principal, Role};
use kefu_server::kit::CliResult;
use kefu_server::{CommonConfig, shutdown_signal};

use crate::{Config, RateLimit};

/// `kefu-gateway [serve | keys …]`.
#[derive(Parser)]
#[command(name = "kefu-gateway", about = "kefu's authenticated entry point")]
pub struct Cli {
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
        /// What the key is for; also the principal id when `--id` is not given.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        principal: PrincipalArgs,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by its id.
    Revoke {
        /// The id shown by `list`.
        id: String,
    },
}

/// `--role`, `--id` and `--customer`: who a key or a signed principal acts as.
#[derive(Args)]
pub struct PrincipalArgs {
    /// ADMIN, AGENT, INTEGRATION or CUSTOMER.
    #[arg(long)]
    pub role: String,
    /// The principal's id (default: the customer id for CUSTOMER; otherwise the command says).
    #[arg(long)]
    pub id: Option<String>,
    /// For CUSTOMER: the customer's id (the part after `customers/`).
    #[arg(long)]
    pub customer: Option<String>,
}

impl PrincipalArgs {
    /// The principal these arguments name; `default_id` gives the id of a staff or integration
    /// principal given no `--id`.
    pub fn principal(self, default_id: impl FnOnce(Role) -> String) -> Result<Principal, String> {
        let role = Role::parse(&self.role).ok_or_else(|| {
            format!(
                "unknown role {:?}: use admin, agent, integration or customer",
                self.role
            )
        })?;
        match (role, self.customer) {
            (Role::Customer, Some(customer)) => {
                let customer = customer.trim_start_matches("customers/").to_owned();
                Ok(Principal {
                    id: self.id.unwrap_or_else(|| customer.clone()),
                    role,
                    customer_id: Some(customer),
                })
            }
            (Role::Customer, None) => Err("a CUSTOMER principal needs --customer <id>".into()),
            (_, Some(_)) => Err("--customer is only for --role customer".into()),
            (role, None) => Ok(Principal::new(
                self.id.unwrap_or_else(|| default_id(role)),
                role,
            )),
        }
    }
}

impl Cli {
    /// Runs the command.
    pub async fn run(self) -> CliResult {
        let common = CommonConfig::from_env(crate::SERVICE, crate::DEFAULT_LISTEN)?;
        let listen = common.listen;
        let config = config_from_env(common)?;
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                let listener = tokio::net::TcpListener::bind(listen).await?;
                let mut routes: Vec<_> = config
                    .upstreams
                    .iter()
                    .map(|(k, v)| format!("{k} → {}", v.join(", ")))
                    .collect();
                routes.sort();
                let prepared = crate::prepare(config).await?;
                println!(
                    "kefu-gateway listening on {} ({})",
                    listener.local_addr()?,
                    routes.join("; ")
                );
                prepared.serve(listener, shutdown_signal()).await?;
            }
            Command::Keys { action } => {
                let keys = crate::prepare(config).await?.keys();
                manage_keys(&keys, action).await?;
            }
        }
        Ok(())
    }
}

async fn manage_keys(keys: &crate::Keys, action: KeyAction) -> CliResult {
    match action {
        KeyAction::Create { name, principal } => {
            let principal = principal.principal(|_| name.clone())?;
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
            if !keys.revoke(&id).await? {
                return Err(format!("no active key {id}").into());
            }
            println!("revoked {id}");
        }
    }
    Ok(())
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

/// The gateway's configuration from `KEFU_*` variables on top of the common ones.
pub fn config_from_env(common: CommonConfig) -> Result<Config, Box<dyn Error>> {
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
        config.jwt = Some(crate::auth::JwtConfig {
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
