//! `kefu key` and `kefu principal`: credentials for the development platform.

use std::time::Duration;

use kefu_customers::Customers;
use kefu_gateway::cli::PrincipalArgs;
use kefu_principal::{Principal, Role};
use kefu_server::CommonConfig;
use kefu_server::kit::{CliResult, Service};

use crate::dev::DEV_LISTEN;

/// A development principal: `dev-<role>` unless `--id` says otherwise.
fn dev_principal(args: PrincipalArgs) -> Result<Principal, String> {
    args.principal(|role: Role| format!("dev-{}", role.as_str().to_lowercase()))
}

/// Creates an API key in the development gateway's key store and prints it.
pub(crate) async fn key(args: PrincipalArgs) -> CliResult {
    let principal = dev_principal(args)?;
    let common = CommonConfig::from_env(kefu_gateway::SERVICE, DEV_LISTEN)?;
    let config =
        kefu_gateway::Config::new(common.database_url, common.internal_key, Default::default());
    let keys = kefu_gateway::prepare(config).await?.keys();
    let (key, record) = keys
        .create(&format!("kefu key ({})", principal.id), &principal)
        .await?;
    println!("{key}");
    eprintln!(
        "kefu: key {} acts as {} ({})",
        record.id, principal.id, principal.role
    );
    Ok(())
}

/// Prints a principal signed with the development internal key, valid for `ttl`.
pub(crate) fn principal(args: PrincipalArgs, ttl: Duration) -> CliResult {
    let principal = dev_principal(args)?;
    let config = CommonConfig::from_env(Customers::NAME, DEV_LISTEN)?;
    println!("{}", config.internal_key.sign(&principal, ttl));
    Ok(())
}
