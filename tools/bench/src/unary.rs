//! `kefu-bench unary`: the same unary RPC (GetCustomer on a SQLite-backed kefu-customers) three
//! ways in one run — direct, through kefu-gateway, through nginx `grpc_pass` — measuring
//! throughput with many calls in flight and latency with one.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kefu_principal::{InternalKey, PRINCIPAL_HEADER, Principal, Role};
use kefu_proto::customers::v1 as cpb;
use kefu_testkit::{Backend, TestServer};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

use crate::percentile;

type Client = cpb::customer_service_client::CustomerServiceClient<Channel>;

/// How a path authenticates: the services trust a signed principal, the gateway wants a key.
#[derive(Clone)]
struct Target {
    name: &'static str,
    addr: String,
    header: (&'static str, MetadataValue<tonic::metadata::Ascii>),
}

struct Figures {
    throughput: f64,
    errors: u64,
    p50: Duration,
    p99: Duration,
}

async fn connect(addr: &str) -> Result<Channel, Box<dyn std::error::Error>> {
    Ok(
        tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
            .tcp_nodelay(true)
            .connect()
            .await?,
    )
}

fn request(target: &Target, name: &str) -> tonic::Request<cpb::GetCustomerRequest> {
    let mut request = tonic::Request::new(cpb::GetCustomerRequest {
        name: name.to_owned(),
    });
    request
        .metadata_mut()
        .insert(target.header.0, target.header.1.clone());
    request
}

async fn measure(
    target: &Target,
    customer: &str,
    seconds: Duration,
    concurrency: usize,
    calls: usize,
) -> Result<Figures, Box<dyn std::error::Error>> {
    let channel = connect(&target.addr).await?;
    let client = Client::new(channel);
    // Warm up the connections and caches.
    for _ in 0..200 {
        client
            .clone()
            .get_customer(request(target, customer))
            .await?;
    }
    let done = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, target, customer) = (client.clone(), target.clone(), customer.to_owned());
        let (done, ok, errors) = (done.clone(), ok.clone(), errors.clone());
        workers.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                match client
                    .clone()
                    .get_customer(request(&target, &customer))
                    .await
                {
                    Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                    Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(seconds).await;
    done.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    for worker in workers {
        worker.await?;
    }
    let throughput = ok.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64();
    let mut latencies = Vec::with_capacity(calls);
    for _ in 0..calls {
        let sent = Instant::now();
        match client.clone().get_customer(request(target, customer)).await {
            Ok(_) => latencies.push(sent.elapsed()),
            Err(_) => {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    latencies.sort();
    Ok(Figures {
        throughput,
        errors: errors.load(Ordering::Relaxed),
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
    })
}

/// A child process that is stopped and reaped when dropped, so an early error leaves none
/// behind: SIGTERM first (nginx's master then stops its workers, which a SIGKILL would orphan),
/// SIGKILL if it is still running after two seconds.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let terminated = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        if terminated {
            let deadline = std::time::Instant::now() + Duration::from_secs(2);
            while std::time::Instant::now() < deadline {
                if matches!(self.0.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `kefu-gateway` binary next to this one, in front of `upstream`, with an admin API key;
/// access logs off (`RUST_LOG=warn`), as nginx's are in this benchmark; `threads` runtime workers.
fn start_gateway(
    dir: &std::path::Path,
    key_text: &str,
    upstream: &str,
    threads: usize,
) -> Result<(Reaped, String, String), Box<dyn std::error::Error>> {
    use std::io::BufRead;
    let binary = std::env::current_exe()?
        .parent()
        .ok_or("no directory for kefu-bench")?
        .join("kefu-gateway");
    if !binary.is_file() {
        return Err("build it first: cargo build --release -p kefu-gateway -p kefu-bench".into());
    }
    let command = || {
        let mut command = std::process::Command::new(&binary);
        command
            .env("KEFU_DATA_DIR", dir.join("gateway"))
            .env("KEFU_LISTEN", "127.0.0.1:0")
            .env("KEFU_INTERNAL_KEY", key_text)
            .env("KEFU_CUSTOMERS_URL", upstream)
            .env("KEFU_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .env("TOKIO_WORKER_THREADS", threads.to_string());
        command
    };
    let created = command()
        .args(["keys", "create", "--name", "bench", "--role", "admin"])
        .stderr(Stdio::null())
        .output()?;
    let api_key = String::from_utf8(created.stdout)?.trim().to_owned();
    let mut child = command()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no gateway stdout")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .strip_prefix("kefu-gateway listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| format!("unexpected gateway output: {line:?}"))?
        .to_owned();
    Ok((Reaped(child), addr, api_key))
}

/// nginx in the foreground with a grpc_pass to `upstream`, on a free port.
fn start_nginx(
    dir: &std::path::Path,
    upstream: &str,
) -> Result<Option<(Reaped, String)>, Box<dyn std::error::Error>> {
    let Ok(nginx) = which("nginx") else {
        return Ok(None);
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let config = format!(
        "worker_processes 1;\ndaemon off;\nerror_log {dir}/error.log warn;\npid {dir}/nginx.pid;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {dir};\n  proxy_temp_path {dir};\n  fastcgi_temp_path {dir};\n  uwsgi_temp_path {dir};\n  scgi_temp_path {dir};\n\
           keepalive_requests 100000000;\n\
           upstream kefu {{ server {upstream}; keepalive 64; keepalive_requests 100000000; }}\n\
           server {{\n    listen 127.0.0.1:{port} http2;\n    location / {{ grpc_pass grpc://kefu; }}\n  }}\n}}\n",
        dir = dir.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, config)?;
    let child = std::process::Command::new(nginx)
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok(Some((Reaped(child), format!("127.0.0.1:{port}"))))
}

fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .ok_or(())
}

/// Runs the three measurements and prints a table.
pub(crate) async fn run(
    seconds: Duration,
    concurrency: usize,
    calls: usize,
    gateway_threads: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let key_text: String = {
        use rand::Rng;
        let bytes: [u8; 32] = rand::rng().random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    let key = InternalKey::parse(&key_text)?;
    let customers = TestServer::start_with_key(
        Backend::Sqlite,
        key.clone(),
        |database_url, internal_key, listener, stop| {
            let config = kefu_customers::Config {
                database_url,
                internal_key,
                request_timeout: Duration::from_secs(30),
                health_interval: Duration::from_secs(5),
            };
            kefu_customers::serve(config, listener, async move {
                let _ = stop.await;
            })
        },
    )
    .await?
    .ok_or("no test database")?;
    let upstream = customers.addr.to_string();
    let principal: MetadataValue<_> = key
        .sign(
            &Principal::new("bench", Role::Admin),
            Duration::from_secs(3600),
        )
        .parse()?;
    let direct = Target {
        name: "direct",
        addr: upstream.clone(),
        header: (PRINCIPAL_HEADER, principal.clone()),
    };
    let mut admin = Client::new(connect(&upstream).await?);
    let mut create = tonic::Request::new(cpb::CreateCustomerRequest {
        customer: Some(cpb::Customer {
            display_name: "Bench Mark".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    });
    create
        .metadata_mut()
        .insert(PRINCIPAL_HEADER, principal.clone());
    let customer = admin.create_customer(create).await?.into_inner().name;

    let dir = tempfile::tempdir()?;
    // The gateway runs as its own process, as nginx does and as it is deployed.
    let (gateway, gateway_addr, api_key) =
        start_gateway(dir.path(), &key_text, &upstream, gateway_threads)?;
    let through_gateway = Target {
        name: "kefu-gateway",
        addr: gateway_addr,
        header: ("authorization", format!("Bearer {api_key}").parse()?),
    };
    let nginx = start_nginx(dir.path(), &upstream)?;
    let mut targets = vec![direct, through_gateway];
    if let Some((_, addr)) = &nginx {
        tokio::time::sleep(Duration::from_millis(300)).await;
        targets.push(Target {
            name: "nginx grpc_pass",
            addr: addr.clone(),
            header: (PRINCIPAL_HEADER, principal.clone()),
        });
    } else {
        println!("nginx not found on PATH: measuring direct and gateway only");
    }
    println!(
        "unary GetCustomer (kefu-customers on SQLite), {concurrency} in flight for {} s, then {calls} calls one at a time; client, proxy and service share the machine's {} cores",
        seconds.as_secs(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!(
        "| path | req/s ({concurrency} in flight) | errors | p50 (1 in flight) | p99 (1 in flight) |"
    );
    println!("|---|---:|---:|---:|---:|");
    let mut results = Vec::new();
    for target in &targets {
        let figures = measure(target, &customer, seconds, concurrency, calls).await?;
        println!(
            "| {} | {:.0} | {} | {:.0} µs | {:.0} µs |",
            target.name,
            figures.throughput,
            figures.errors,
            figures.p50.as_secs_f64() * 1e6,
            figures.p99.as_secs_f64() * 1e6
        );
        results.push((target.name, figures));
    }
    if let Some((direct, rest)) = results.split_first() {
        for (name, figures) in rest {
            println!(
                "{name}: {:.2}× direct throughput, +{:.0} µs p50",
                figures.throughput / direct.1.throughput,
                (figures.p50.as_secs_f64() - direct.1.p50.as_secs_f64()) * 1e6
            );
        }
    }
    drop(nginx);
    drop(gateway);
    customers.stop().await?;
    Ok(())
}
