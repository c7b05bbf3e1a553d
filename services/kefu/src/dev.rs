//! `kefu dev`: the gateway and every service on the embedded SQLite default, in one process.

use kefu_automation::AutomationService;
use kefu_customers::Customers;
use kefu_feedback::Feedback;
use kefu_knowledge::Knowledge;
use kefu_principal::{Principal, Role};
use kefu_server::kit::{self, CliResult, Service};
use kefu_server::{CommonConfig, Config, shutdown_signal};
use kefu_telemetry::TelemetryConfig;
use kefu_tickets::Tickets;
use tokio_util::sync::CancellationToken;

/// Where `kefu dev` serves the gateway when `KEFU_LISTEN` is unset.
pub(crate) const DEV_LISTEN: &str = "127.0.0.1:50051";
/// The development admin key's file under the data directory.
const DEV_KEY_FILE: &str = "dev-admin.key";

/// Unless set, `kefu dev` sweeps SLA targets this often (the service's default is 30 s), so
/// escalations show within seconds when trying them out.
const DEV_SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);
/// The variable that sets the sweep interval.
const DEV_SWEEP_VAR: &str = "KEFU_TICKETS_SWEEP_SECONDS";

/// Runs until Ctrl-C, with telemetry as the environment configures it.
pub(crate) async fn run() -> CliResult {
    let telemetry = TelemetryConfig::from_env("kefu")?.install()?;
    let result = run_services().await;
    telemetry.shutdown();
    result?;
    println!("kefu dev: stopped");
    Ok(())
}

/// Binds a loopback port for an internal service.
async fn loopback() -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind("127.0.0.1:0").await
}

/// The development admin key: read from the data directory, or created there on first start.
async fn dev_admin_key(
    keys: &kefu_gateway::Keys,
    data_dir: &std::path::Path,
) -> Result<String, Box<dyn std::error::Error>> {
    let path = data_dir.join(DEV_KEY_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if keys.verify(&existing).await?.is_some() {
            return Ok(existing);
        }
    }
    let (key, _) = keys
        .create("kefu dev admin", &Principal::new("dev-admin", Role::Admin))
        .await?;
    write_private(&path, &key)?;
    Ok(key)
}

/// Writes a secret readable by its owner only.
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// Starts the gateway on `KEFU_LISTEN` and every service behind it, until Ctrl-C; whichever
/// ends first (an error, or Ctrl-C) stops the others.
async fn run_services() -> CliResult {
    let gateway_common = CommonConfig::from_env(kefu_gateway::SERVICE, DEV_LISTEN)?;
    let data_dir = gateway_common.data_dir.clone();
    let gateway_listener = tokio::net::TcpListener::bind(gateway_common.listen).await?;
    let gateway_addr = gateway_listener.local_addr()?;
    let (customers_listener, knowledge_listener, tickets_listener, feedback_listener) = (
        loopback().await?,
        loopback().await?,
        loopback().await?,
        loopback().await?,
    );
    let automation_listener = loopback().await?;
    let customers_url = format!("http://{}", customers_listener.local_addr()?);
    let tickets_url = format!("http://{}", tickets_listener.local_addr()?);
    let upstreams = [
        ("customers", &customers_listener),
        ("knowledge", &knowledge_listener),
        ("tickets", &tickets_listener),
        ("feedback", &feedback_listener),
        ("automation", &automation_listener),
    ]
    .into_iter()
    .map(|(name, listener)| Ok((name.to_owned(), vec![listener.local_addr()?.to_string()])))
    .collect::<std::io::Result<_>>()?;
    let mut tickets_config = dev_config::<Tickets>()?;
    tickets_config.service.customers_url = customers_url.clone();
    if std::env::var_os(DEV_SWEEP_VAR).is_none() {
        tickets_config.service.sweep_interval = DEV_SWEEP_INTERVAL;
    }
    let mut feedback_config = dev_config::<Feedback>()?;
    feedback_config.service.customers_url = customers_url.clone();
    feedback_config.service.tickets_url = tickets_url.clone();
    let mut automation_config = dev_config::<AutomationService>()?;
    automation_config.service.tickets_url = tickets_url;
    automation_config.service.customers_url = customers_url;
    // The auto-acknowledgement is on by default here; `KEFU_AUTOMATION_ACKNOWLEDGE=off` keeps it off.
    automation_config.service.acknowledge =
        std::env::var("KEFU_AUTOMATION_ACKNOWLEDGE").map_or(true, |v| v != "off");
    let gateway_config = kefu_gateway::Config::new(
        gateway_common.database_url,
        gateway_common.internal_key,
        upstreams,
    );
    let customers = kit::prepare::<Customers>(dev_config::<Customers>()?).await?;
    let knowledge = kit::prepare::<Knowledge>(dev_config::<Knowledge>()?).await?;
    let tickets = kit::prepare::<Tickets>(tickets_config).await?;
    let feedback = kit::prepare::<Feedback>(feedback_config).await?;
    let automation = kit::prepare::<AutomationService>(automation_config).await?;
    let gateway = kefu_gateway::prepare(gateway_config).await?;
    let admin_key = dev_admin_key(&gateway.keys(), &data_dir).await?;
    println!("kefu dev: data in {}", data_dir.display());
    println!(
        "kefu dev: gateway listening on {gateway_addr} (customers, tickets, knowledge, feedback, automation behind it)"
    );
    println!(
        "kefu dev: admin API key (also in {}):\n{admin_key}",
        data_dir.join(DEV_KEY_FILE).display()
    );
    let stop = CancellationToken::new();
    let signal_stop = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        signal_stop.cancel();
    });
    // Each ends when `stop` fires, and fires it when it ends: one failing stops them all.
    let stop_all = |stop: &CancellationToken| stop.clone().drop_guard();
    let until = |stop: &CancellationToken| stop.clone().cancelled_owned();
    let (
        gateway_result,
        customers_result,
        knowledge_result,
        tickets_result,
        feedback_result,
        automation_result,
    ) = tokio::join!(
        async {
            let _guard = stop_all(&stop);
            gateway.serve(gateway_listener, until(&stop)).await
        },
        async {
            let _guard = stop_all(&stop);
            customers.serve(customers_listener, until(&stop)).await
        },
        async {
            let _guard = stop_all(&stop);
            knowledge.serve(knowledge_listener, until(&stop)).await
        },
        async {
            let _guard = stop_all(&stop);
            tickets.serve(tickets_listener, until(&stop)).await
        },
        async {
            let _guard = stop_all(&stop);
            feedback.serve(feedback_listener, until(&stop)).await
        },
        async {
            let _guard = stop_all(&stop);
            automation.serve(automation_listener, until(&stop)).await
        },
    );
    gateway_result?;
    customers_result?;
    knowledge_result?;
    tickets_result?;
    feedback_result?;
    automation_result?;
    Ok(())
}

/// A service's configuration from the environment, with its SQLite file under the data directory.
fn dev_config<S: Service>() -> Result<Config<S::Settings>, Box<dyn std::error::Error>> {
    let common = CommonConfig::from_env(S::NAME, DEV_LISTEN)?;
    Ok(kit::config_from_env::<S>(&common)?)
}
