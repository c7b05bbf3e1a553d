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
    name: String,
    addr: String,
    header: (&'static str, MetadataValue<tonic::metadata::Ascii>),
    /// The proxy process whose CPU time is read (none for the direct path: the service runs in
    /// this process).
    proxy_pid: Option<u32>,
}

/// CPU time a process has used, in clock ticks (`/proc/<pid>/stat` fields 14 and 15).
#[derive(Clone, Copy, Default)]
struct CpuTicks {
    user: u64,
    system: u64,
}

impl CpuTicks {
    fn read(pid: u32) -> Option<Self> {
        Self::parse(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    fn parse(stat: &str) -> Option<Self> {
        // The command name may hold spaces and parentheses; the fields after it may not.
        let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
        // After the name: state is field 3, utime field 14, stime field 15.
        let user = fields.nth(11)?.parse().ok()?;
        let system = fields.next()?.parse().ok()?;
        Some(Self { user, system })
    }

    fn since(self, earlier: Self) -> Self {
        Self {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }

    fn add(&mut self, other: Self) {
        self.user += other.user;
        self.system += other.system;
    }
}

/// Clock ticks per second, as `getconf CLK_TCK` reports them (100 on Linux when it cannot).
fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The processor's model as `/proc/cpuinfo` names it: figures from different sessions may come
/// from different hardware under the same VM size, so every run says which it ran on.
pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| model_name(&text))
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// The first `model name` in `cpuinfo` text.
fn model_name(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

/// The child of `parent` (nginx's master) that serves connections: its one worker.
fn child_of(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let ppid: u32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == parent).then_some(pid)
        })
}

/// What one path measured.
#[derive(Default)]
struct Figures {
    ok: u64,
    errors: u64,
    busy: Duration,
    latencies: Vec<Duration>,
    /// The proxy's CPU time over the one-in-flight calls.
    latency_cpu: CpuTicks,
    /// The proxy's CPU time over the throughput slices.
    throughput_cpu: CpuTicks,
}

impl Figures {
    fn throughput(&self) -> f64 {
        self.ok as f64 / self.busy.as_secs_f64().max(f64::EPSILON)
    }

    fn p(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        percentile(&self.latencies, p)
    }
}

pub(crate) async fn connect(addr: &str) -> Result<Channel, Box<dyn std::error::Error>> {
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

/// `concurrency` calls kept in flight on `client` for `slice`; adds to `figures`.
async fn throughput_slice(
    client: &Client,
    target: &Target,
    customer: &str,
    slice: Duration,
    concurrency: usize,
    figures: &mut Figures,
) -> Result<(), Box<dyn std::error::Error>> {
    let done = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    let started = Instant::now();
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
    tokio::time::sleep(slice).await;
    done.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await?;
    }
    // Calls finishing after the stop flag are counted, so the time they took is too.
    figures.busy += started.elapsed();
    figures.ok += ok.load(Ordering::Relaxed);
    figures.errors += errors.load(Ordering::Relaxed);
    Ok(())
}

/// Measures every path in turn, interleaved so that the machine's slow and fast moments fall on
/// all of them alike: throughput in one-second slices, each round starting at the next path;
/// latency one call at a time, each call going to the next path in rotation.
async fn measure(
    targets: &[Target],
    customer: &str,
    seconds: Duration,
    concurrency: usize,
    calls: usize,
) -> Result<Vec<Figures>, Box<dyn std::error::Error>> {
    let mut clients = Vec::new();
    for target in targets {
        let client = Client::new(connect(&target.addr).await?);
        // Warm up the connections and caches.
        for _ in 0..200 {
            client
                .clone()
                .get_customer(request(target, customer))
                .await?;
        }
        clients.push(client);
    }
    let mut figures: Vec<Figures> = targets.iter().map(|_| Figures::default()).collect();
    let slice = Duration::from_secs(1);
    let rounds = seconds.as_secs().max(1) as usize;
    if !seconds.is_zero() {
        for round in 0..rounds {
            for offset in 0..targets.len() {
                let i = (round + offset) % targets.len();
                let before = targets[i].proxy_pid.and_then(CpuTicks::read);
                throughput_slice(
                    &clients[i],
                    &targets[i],
                    customer,
                    slice,
                    concurrency,
                    &mut figures[i],
                )
                .await?;
                if let (Some(before), Some(after)) =
                    (before, targets[i].proxy_pid.and_then(CpuTicks::read))
                {
                    figures[i].throughput_cpu.add(after.since(before));
                }
            }
        }
    }
    for figures in &mut figures {
        figures.latencies.reserve(calls);
    }
    let before: Vec<_> = targets
        .iter()
        .map(|t| t.proxy_pid.and_then(CpuTicks::read))
        .collect();
    for call in 0..calls {
        for offset in 0..targets.len() {
            let i = (call + offset) % targets.len();
            let sent = Instant::now();
            match clients[i]
                .clone()
                .get_customer(request(&targets[i], customer))
                .await
            {
                Ok(_) => figures[i].latencies.push(sent.elapsed()),
                Err(_) => figures[i].errors += 1,
            }
        }
    }
    for ((figures, target), before) in figures.iter_mut().zip(targets).zip(before) {
        figures.latencies.sort();
        if let (Some(before), Some(after)) = (before, target.proxy_pid.and_then(CpuTicks::read)) {
            figures.latency_cpu = after.since(before);
        }
    }
    Ok(figures)
}

/// A child process that is stopped and reaped when dropped, so an early error leaves none
/// behind: SIGTERM first (nginx's master then stops its workers, which a SIGKILL would orphan),
/// SIGKILL if it is still running after two seconds.
pub(crate) struct Reaped(std::process::Child);

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

/// The `kefu-gateway` binary next to this one, in front of `upstreams` (package, `host:port`), with
/// an admin API key; access logs off (`RUST_LOG=warn`), as nginx's are in this benchmark;
/// `threads` runtime workers.
pub(crate) fn start_gateway(
    data_dir: &std::path::Path,
    key_text: &str,
    upstreams: &[(&str, &str)],
    threads: usize,
    binary: Option<&std::path::Path>,
) -> Result<(Reaped, String, String), Box<dyn std::error::Error>> {
    use std::io::BufRead;
    let binary = match binary {
        Some(binary) => binary.to_owned(),
        None => std::env::current_exe()?
            .parent()
            .ok_or("no directory for kefu-bench")?
            .join("kefu-gateway"),
    };
    if !binary.is_file() {
        return Err("build it first: cargo build --release -p kefu-gateway -p kefu-bench".into());
    }
    let command = || {
        let mut command = std::process::Command::new(&binary);
        command
            .env("KEFU_DATA_DIR", data_dir)
            .env("KEFU_LISTEN", "127.0.0.1:0")
            .env("KEFU_INTERNAL_KEY", key_text)
            .env("KEFU_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .env("KEFU_GATEWAY_THREADS", threads.to_string())
            // What gateways built before KEFU_GATEWAY_THREADS read, so they can be compared.
            .env("TOKIO_WORKER_THREADS", threads.to_string());
        for (package, address) in upstreams {
            command.env(
                format!("KEFU_{}_URL", package.to_ascii_uppercase()),
                address,
            );
        }
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
    gateway_binaries: Vec<std::path::PathBuf>,
) -> Result<(), Box<dyn std::error::Error>> {
    let key_text: String = {
        use rand::Rng;
        let bytes: [u8; 32] = rand::rng().random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    let key = InternalKey::parse(&key_text)?;
    let customers = TestServer::service::<kefu_customers::Customers>(Backend::Sqlite, &key, ())
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
        name: "direct".to_owned(),
        addr: upstream.clone(),
        header: (PRINCIPAL_HEADER, principal.clone()),
        proxy_pid: None,
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
    let binaries: Vec<Option<&std::path::Path>> = if gateway_binaries.is_empty() {
        vec![None]
    } else {
        gateway_binaries.iter().map(|b| Some(b.as_path())).collect()
    };
    let mut gateways = Vec::new();
    let mut targets = vec![direct];
    for (n, binary) in binaries.into_iter().enumerate() {
        let (gateway, addr, api_key) = start_gateway(
            &dir.path().join(format!("gateway-{n}")),
            &key_text,
            &[("customers", &upstream)],
            gateway_threads,
            binary,
        )?;
        targets.push(Target {
            name: match binary {
                Some(binary) if gateway_binaries.len() > 1 => {
                    format!("kefu-gateway ({})", binary.display())
                }
                _ => "kefu-gateway".to_owned(),
            },
            addr,
            header: ("authorization", format!("Bearer {api_key}").parse()?),
            proxy_pid: Some(gateway.0.id()),
        });
        gateways.push(gateway);
    }
    let nginx = start_nginx(dir.path(), &upstream)?;
    if let Some((master, addr)) = &nginx {
        tokio::time::sleep(Duration::from_millis(300)).await;
        targets.push(Target {
            name: "nginx grpc_pass".to_owned(),
            addr: addr.clone(),
            header: (PRINCIPAL_HEADER, principal.clone()),
            proxy_pid: child_of(master.0.id()),
        });
    } else {
        println!("nginx not found on PATH: measuring direct and gateway only");
    }
    println!(
        "unary GetCustomer (kefu-customers on SQLite), {concurrency} in flight for {} s per path (one-second slices, paths interleaved), then {calls} calls one at a time per path (paths in rotation); client, proxy and service share the machine's {} cores ({})",
        seconds.as_secs(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        cpu_model()
    );
    let results = measure(&targets, &customer, seconds, concurrency, calls).await?;
    println!(
        "| path | req/s ({concurrency} in flight) | errors | p50 (1 in flight) | p99 (1 in flight) |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (target, figures) in targets.iter().zip(&results) {
        println!(
            "| {} | {:.0} | {} | {:.0} µs | {:.0} µs |",
            target.name,
            figures.throughput(),
            figures.errors,
            figures.p(0.50).as_secs_f64() * 1e6,
            figures.p(0.99).as_secs_f64() * 1e6
        );
    }
    if let Some((direct, rest)) = results.split_first() {
        for (target, figures) in targets[1..].iter().zip(rest) {
            println!(
                "{}: {:.2}× direct throughput, +{:.0} µs p50",
                target.name,
                figures.throughput() / direct.throughput().max(f64::EPSILON),
                (figures.p(0.50).as_secs_f64() - direct.p(0.50).as_secs_f64()) * 1e6
            );
        }
    }
    // The proxies' own CPU per call: where a gap in latency at one call in flight comes from.
    let tick_us = 1e6 / ticks_per_second();
    for (target, figures) in targets.iter().zip(&results) {
        if target.proxy_pid.is_none() {
            continue;
        }
        let per_call = |ticks: u64, calls: u64| ticks as f64 * tick_us / calls.max(1) as f64;
        let measured = figures.latencies.len() as u64;
        println!(
            "{} CPU per call: {:.0} µs user + {:.0} µs system one at a time; {:.0} µs user + {:.0} µs system with {concurrency} in flight",
            target.name,
            per_call(figures.latency_cpu.user, measured),
            per_call(figures.latency_cpu.system, measured),
            per_call(figures.throughput_cpu.user, figures.ok),
            per_call(figures.throughput_cpu.system, figures.ok),
        );
    }
    drop(nginx);
    drop(gateways);
    customers.stop().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::{CpuTicks, model_name};

    #[test]
    fn the_cpu_model_is_the_first_model_name_line() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 2\nmodel name\t: AMD EPYC\nflags\t: fpu\n\nprocessor\t: 1\nmodel name\t: other\n";
        assert_eq!(model_name(cpuinfo).as_deref(), Some("AMD EPYC"));
        assert_eq!(model_name("processor\t: 0\nmodel\t\t: 2\n"), None);
    }

    #[test]
    fn cpu_ticks_are_read_after_the_command_name() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
        let stat =
            "4242 (nginx: worker (x)) S 4241 4241 4241 0 -1 4194624 120 0 0 0 731 95 0 0 20 0 1";
        let ticks = CpuTicks::parse(stat).expect("parsed");
        assert_eq!((ticks.user, ticks.system), (731, 95));
        let later = CpuTicks {
            user: 800,
            system: 100,
        };
        let spent = later.since(ticks);
        assert_eq!((spent.user, spent.system), (69, 5));
        assert!(CpuTicks::parse("4242 (truncated) S 1").is_none());
    }
}
