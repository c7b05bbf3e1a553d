//! `kefu-bench write`: the write path through kefu-gateway against the database's own ceiling,
//! in one run, on SQLite or PostgreSQL.
//!
//! kefu-customers and kefu-tickets run in this process on a fresh database; kefu-gateway runs as
//! its own process in front of them. Four workloads are measured in one-second slices,
//! interleaved so the machine's slow and fast moments fall on all of them alike, each with the
//! same number of calls in flight:
//!
//! - **ceiling**: a single-row `INSERT`, one transaction each, straight into another database of
//!   the same server (64 connections on PostgreSQL, as `pgbench -c 64`; the services' own pool
//!   settings on SQLite);
//! - **create**: `CreateTicket` with a requester the tickets service looks up in kefu-customers
//!   and an SLA policy that applies to it;
//! - **routed create**: the same into a round-robin group of eight agents, so each ticket is
//!   routed (the group and its agents locked, each agent's load counted) in its transaction;
//! - **mixed**: CreateTicket 15 %, CreateComment 25 %, UpdateTicket 15 %, a lifecycle move
//!   (assign, solve or reopen, by the ticket's state) 10 %, GetTicket 20 %, ListTickets 15 %;
//! - **get**: GetTicket alone, the read path for comparison.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kefu_principal::InternalKey;
use kefu_proto::customers::v1 as cpb;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, TestDatabase, TestServer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

use crate::percentile;
use crate::unary::{connect, cpu_model, start_gateway};

type Tickets = pb::ticket_service_client::TicketServiceClient<Channel>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The workloads, in the order of each round.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Workload {
    Ceiling,
    Create,
    RoutedCreate,
    Mixed,
    Get,
}

const WORKLOADS: [Workload; 5] = [
    Workload::Ceiling,
    Workload::Create,
    Workload::RoutedCreate,
    Workload::Mixed,
    Workload::Get,
];

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Ceiling => "ceiling (INSERT)",
            Workload::Create => "create",
            Workload::RoutedCreate => "routed create",
            Workload::Mixed => "mixed",
            Workload::Get => "get",
        }
    }
}

/// What one kind of call measured.
#[derive(Default)]
struct Calls {
    ok: u64,
    /// Answers a client acts on in this workload (a solve racing a solve of the same ticket).
    conflicts: u64,
    errors: u64,
    latencies: Vec<Duration>,
    first_error: Option<String>,
}

/// Where a benchmark ticket is: the lifecycle move it gets next follows from it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Unassigned,
    Assigned,
    Solved,
}

impl Stage {
    fn next(self) -> Self {
        match self {
            Stage::Unassigned => Stage::Assigned,
            Stage::Assigned => Stage::Solved,
            Stage::Solved => Stage::Assigned,
        }
    }
}

/// The agent the benchmark assigns tickets to.
const AGENT: &str = "bench-agent";

/// Everything the calls need.
struct Context {
    tickets: Tickets,
    authorization: MetadataValue<tonic::metadata::Ascii>,
    requesters: Vec<String>,
    /// Tickets to act on, and where each is in its life.
    open: Mutex<Vec<(String, Stage)>>,
    ceiling: sqlx::AnyPool,
    /// The round-robin group routed creates go to.
    routed_group: String,
}

impl Context {
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", self.authorization.clone());
        request
    }

    fn random_ticket(&self, rng: &mut StdRng) -> (usize, String, Stage) {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let index = rng.random_range(0..open.len());
        (index, open[index].0.clone(), open[index].1)
    }

    async fn create_ticket(&self, rng: &mut StdRng) -> Result<String, tonic::Status> {
        self.create_in(rng, String::new()).await
    }

    async fn create_in(&self, rng: &mut StdRng, group: String) -> Result<String, tonic::Status> {
        let requester = self.requesters[rng.random_range(0..self.requesters.len())].clone();
        let ticket = self
            .tickets
            .clone()
            .create_ticket(self.request(pb::CreateTicketRequest {
                ticket: Some(pb::Ticket {
                    subject: format!("My order {} has not arrived", rng.random::<u32>()),
                    description:
                        "I ordered a kettle last week and the tracking has not moved.".into(),
                    requester,
                    group,
                    priority: pb::TicketPriority::Normal as i32,
                    channel: kefu_proto::common::v1::Channel::Email as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            }))
            .await?
            .into_inner();
        Ok(ticket.name)
    }

    /// One call of `workload`: its kind and how it ended.
    async fn call(
        &self,
        workload: Workload,
        rng: &mut StdRng,
    ) -> (&'static str, Result<(), tonic::Status>) {
        match workload {
            Workload::Ceiling => ("INSERT", self.insert(rng).await),
            Workload::Create => ("CreateTicket", self.create_ticket(rng).await.map(drop)),
            Workload::RoutedCreate => {
                let created = self.create_in(rng, self.routed_group.clone()).await;
                ("CreateTicket", created.map(drop))
            }
            Workload::Get => ("GetTicket", self.get(rng).await),
            Workload::Mixed => {
                let roll = rng.random_range(0..100);
                if roll < 15 {
                    let created = self.create_ticket(rng).await;
                    if let Ok(name) = &created {
                        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
                        open.push((name.clone(), Stage::Unassigned));
                    }
                    ("CreateTicket", created.map(drop))
                } else if roll < 40 {
                    ("CreateComment", self.comment(rng).await)
                } else if roll < 55 {
                    ("UpdateTicket", self.update(rng).await)
                } else if roll < 65 {
                    self.move_lifecycle(rng).await
                } else if roll < 85 {
                    ("GetTicket", self.get(rng).await)
                } else {
                    ("ListTickets", self.list().await)
                }
            }
        }
    }

    async fn insert(&self, rng: &mut StdRng) -> Result<(), tonic::Status> {
        sqlx::query("INSERT INTO ceiling (payload, create_time) VALUES ($1, $2)")
            .bind(format!("row {}", rng.random::<u64>()))
            .bind(rng.random::<i32>() as i64)
            .execute(&self.ceiling)
            .await
            .map(drop)
            .map_err(|error| tonic::Status::unavailable(error.to_string()))
    }

    async fn get(&self, rng: &mut StdRng) -> Result<(), tonic::Status> {
        let (_, name, _) = self.random_ticket(rng);
        self.tickets
            .clone()
            .get_ticket(self.request(pb::GetTicketRequest { name }))
            .await
            .map(drop)
    }

    async fn list(&self) -> Result<(), tonic::Status> {
        self.tickets
            .clone()
            .list_tickets(self.request(pb::ListTicketsRequest {
                statuses: vec![pb::TicketStatus::New as i32, pb::TicketStatus::Open as i32],
                page_size: 20,
                ..Default::default()
            }))
            .await
            .map(drop)
    }

    async fn comment(&self, rng: &mut StdRng) -> Result<(), tonic::Status> {
        let (_, parent, _) = self.random_ticket(rng);
        self.tickets
            .clone()
            .create_comment(self.request(pb::CreateCommentRequest {
                request_id: String::new(),
                parent,
                comment: Some(pb::Comment {
                    body: "Thanks for waiting: the parcel left our warehouse today.".into(),
                    public: true,
                    ..Default::default()
                }),
            }))
            .await
            .map(drop)
    }

    async fn update(&self, rng: &mut StdRng) -> Result<(), tonic::Status> {
        let (_, name, _) = self.random_ticket(rng);
        let priority = if rng.random_bool(0.5) {
            pb::TicketPriority::High
        } else {
            pb::TicketPriority::Normal
        };
        self.tickets
            .clone()
            .update_ticket(self.request(pb::UpdateTicketRequest {
                request_id: String::new(),
                ticket: Some(pb::Ticket {
                    name,
                    priority: priority as i32,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["priority".into()],
                }),
                etag: String::new(),
            }))
            .await
            .map(drop)
    }

    /// Assigns, solves or reopens a ticket, by its stage. Two workers may pick the same ticket:
    /// the loser's FAILED_PRECONDITION is a conflict, and the stage moves on as the winner's did.
    async fn move_lifecycle(&self, rng: &mut StdRng) -> (&'static str, Result<(), tonic::Status>) {
        let (index, name, stage) = self.random_ticket(rng);
        let mut tickets = self.tickets.clone();
        let etag = String::new();
        let (kind, answer) = match stage {
            Stage::Unassigned => {
                let request = pb::AssignTicketRequest {
                    request_id: String::new(),
                    name,
                    assignee: format!("agents/{AGENT}"),
                    group: String::new(),
                    etag,
                };
                let answer = tickets.assign_ticket(self.request(request)).await;
                ("AssignTicket", answer.map(drop))
            }
            Stage::Assigned => {
                let request = pb::SolveTicketRequest {
                    request_id: String::new(),
                    name,
                    etag,
                };
                let answer = tickets.solve_ticket(self.request(request)).await;
                ("SolveTicket", answer.map(drop))
            }
            Stage::Solved => {
                let request = pb::ReopenTicketRequest {
                    request_id: String::new(),
                    name,
                    etag,
                };
                let answer = tickets.reopen_ticket(self.request(request)).await;
                ("ReopenTicket", answer.map(drop))
            }
        };
        let moved = match &answer {
            Ok(()) => true,
            Err(status) => status.code() == tonic::Code::FailedPrecondition,
        };
        if moved {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(entry) = open.get_mut(index)
                && entry.1 == stage
            {
                entry.1 = stage.next();
            }
        }
        (kind, answer)
    }
}

/// `concurrency` calls of `workload` kept in flight for `slice`; adds to `figures`.
async fn slice(
    context: &Arc<Context>,
    workload: Workload,
    slice: Duration,
    concurrency: usize,
    seed: u64,
    figures: &mut WorkloadFigures,
) -> Result<(), BoxError> {
    let done = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let (context, done) = (context.clone(), done.clone());
        let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(1_000).wrapping_add(worker as u64));
        workers.push(tokio::spawn(async move {
            let mut seen: Vec<(&'static str, Result<Duration, tonic::Status>)> = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let (kind, answer) = context.call(workload, &mut rng).await;
                seen.push((kind, answer.map(|()| sent.elapsed())));
            }
            seen
        }));
    }
    tokio::time::sleep(slice).await;
    done.store(true, Ordering::Relaxed);
    for worker in workers {
        for (kind, answer) in worker.await? {
            let calls = figures.kinds.entry(kind).or_default();
            match answer {
                Ok(latency) => {
                    calls.ok += 1;
                    calls.latencies.push(latency);
                }
                Err(status) if status.code() == tonic::Code::FailedPrecondition => {
                    calls.conflicts += 1;
                }
                Err(status) => {
                    calls.errors += 1;
                    calls
                        .first_error
                        .get_or_insert_with(|| format!("{status:?}"));
                }
            }
        }
    }
    figures.busy += started.elapsed();
    Ok(())
}

/// One workload's calls by kind, over the time its slices took.
#[derive(Default)]
struct WorkloadFigures {
    busy: Duration,
    kinds: BTreeMap<&'static str, Calls>,
}

impl WorkloadFigures {
    fn per_second(&self, count: u64) -> f64 {
        count as f64 / self.busy.as_secs_f64().max(f64::EPSILON)
    }

    fn writes(&self) -> u64 {
        self.kinds
            .iter()
            .filter(|(kind, _)| !matches!(**kind, "GetTicket" | "ListTickets"))
            .map(|(_, calls)| calls.ok)
            .sum()
    }

    fn all(&self) -> u64 {
        self.kinds.values().map(|calls| calls.ok).sum()
    }
}

async fn ceiling_pool(backend: Backend) -> Result<(TestDatabase, sqlx::AnyPool), BoxError> {
    let database = TestDatabase::create(backend)
        .await?
        .ok_or("no database: set KEFU_TEST_POSTGRES_URL for postgres")?;
    let pool = match backend {
        // The services' own settings (WAL, synchronous = NORMAL, their pool size).
        Backend::Sqlite => kefu_db::Database::connect(&database.url)
            .await?
            .pool()
            .clone(),
        Backend::Postgres => {
            sqlx::any::install_default_drivers();
            // As pgbench: no health check before each statement.
            sqlx::any::AnyPoolOptions::new()
                .max_connections(64)
                .test_before_acquire(false)
                .connect(&database.url)
                .await?
        }
    };
    let id = match backend {
        Backend::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "id BIGSERIAL PRIMARY KEY",
    };
    sqlx::query(&format!(
        "CREATE TABLE ceiling ({id}, payload TEXT NOT NULL, create_time BIGINT NOT NULL)"
    ))
    .execute(&pool)
    .await?;
    Ok((database, pool))
}

/// A round-robin group of eight agents with no capacity limit; returns its name.
async fn routed_group(
    tickets: &mut Tickets,
    authorization: &MetadataValue<tonic::metadata::Ascii>,
) -> Result<String, BoxError> {
    fn authorized<T>(
        authorization: &MetadataValue<tonic::metadata::Ascii>,
        message: T,
    ) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", authorization.clone());
        request
    }
    let group = tickets
        .create_group(authorized(
            authorization,
            pb::CreateGroupRequest {
                request_id: String::new(),
                group: Some(pb::Group {
                    display_name: "Routed".into(),
                    routing: pb::RoutingMethod::RoundRobin as i32,
                    ..Default::default()
                }),
            },
        ))
        .await?
        .into_inner();
    for n in 0..8 {
        let agent = tickets
            .create_agent(authorized(
                authorization,
                pb::CreateAgentRequest {
                    request_id: String::new(),
                    agent: Some(pb::Agent {
                        display_name: format!("Routed agent {n}"),
                        email: format!("routed-{n}@example.com"),
                        active: true,
                        ..Default::default()
                    }),
                    agent_id: format!("routed-{n}"),
                },
            ))
            .await?
            .into_inner();
        tickets
            .add_group_member(authorized(
                authorization,
                pb::AddGroupMemberRequest {
                    group: group.name.clone(),
                    agent: agent.name,
                },
            ))
            .await?;
    }
    Ok(group.name)
}

/// Runs the benchmark and prints its figures.
pub(crate) async fn run(
    backend: Backend,
    seconds: u64,
    concurrency: usize,
    gateway_threads: usize,
) -> Result<(), BoxError> {
    let key_text: String = {
        let bytes: [u8; 32] = rand::rng().random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    let key = InternalKey::parse(&key_text)?;
    let customers = TestServer::service::<kefu_customers::Customers>(backend, &key, ())
        .await?
        .ok_or("no database: set KEFU_TEST_POSTGRES_URL for postgres")?;
    let customers_addr = customers.addr.to_string();
    let tickets = TestServer::service::<kefu_tickets::Tickets>(
        backend,
        &key,
        kefu_tickets::Settings::new(format!("http://{customers_addr}")),
    )
    .await?
    .ok_or("no database")?;
    let tickets_addr = tickets.addr.to_string();
    let dir = tempfile::tempdir()?;
    let (_gateway, gateway_addr, api_key) = start_gateway(
        dir.path(),
        &key_text,
        &[("customers", &customers_addr), ("tickets", &tickets_addr)],
        gateway_threads,
        None,
    )
    .map_err(|error| error.to_string())?;
    let authorization: MetadataValue<_> = format!("Bearer {api_key}").parse()?;
    let channel = connect(&gateway_addr)
        .await
        .map_err(|error| error.to_string())?;

    // Requesters, and an SLA policy that applies to every ticket.
    let mut customers_client =
        cpb::customer_service_client::CustomerServiceClient::new(channel.clone());
    let mut requesters = Vec::new();
    for n in 0..50 {
        let mut request = tonic::Request::new(cpb::CreateCustomerRequest {
            customer: Some(cpb::Customer {
                display_name: format!("Requester {n}"),
                ..Default::default()
            }),
            request_id: String::new(),
        });
        request
            .metadata_mut()
            .insert("authorization", authorization.clone());
        requesters.push(
            customers_client
                .create_customer(request)
                .await?
                .into_inner()
                .name,
        );
    }
    let (_ceiling_database, ceiling) = ceiling_pool(backend).await?;
    let mut tickets_client = Tickets::new(channel);
    let routed_group = routed_group(&mut tickets_client, &authorization).await?;
    let context = Arc::new(Context {
        tickets: tickets_client.clone(),
        authorization,
        requesters,
        open: Mutex::new(Vec::new()),
        ceiling,
        routed_group,
    });
    context
        .tickets
        .clone()
        .create_sla_policy(context.request(pb::CreateSlaPolicyRequest {
            request_id: String::new(),
            sla_policy: Some(pb::SlaPolicy {
                display_name: "Everyone".into(),
                first_response_minutes: 60,
                resolution_minutes: 24 * 60,
                ..Default::default()
            }),
        }))
        .await?;
    context
        .tickets
        .clone()
        .create_agent(context.request(pb::CreateAgentRequest {
            request_id: String::new(),
            agent: Some(pb::Agent {
                display_name: "Bench Agent".into(),
                email: "bench-agent@example.com".into(),
                active: true,
                ..Default::default()
            }),
            agent_id: AGENT.into(),
        }))
        .await?;
    let mut rng = StdRng::seed_from_u64(17);
    for _ in 0..500 {
        let name = context.create_ticket(&mut rng).await?;
        context
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((name, Stage::Unassigned));
    }
    let probe = context.open.lock().unwrap_or_else(|e| e.into_inner())[0]
        .0
        .clone();
    let sample = context
        .tickets
        .clone()
        .get_ticket(context.request(pb::GetTicketRequest { name: probe }))
        .await?
        .into_inner();
    if sample.sla.is_none() {
        return Err("the SLA policy did not apply to the benchmark's tickets".into());
    }

    let mut figures: Vec<WorkloadFigures> = WORKLOADS
        .iter()
        .map(|_| WorkloadFigures::default())
        .collect();
    for round in 0..seconds.max(1) {
        for offset in 0..WORKLOADS.len() {
            let index = (round as usize + offset) % WORKLOADS.len();
            slice(
                &context,
                WORKLOADS[index],
                Duration::from_secs(1),
                concurrency,
                round * 10 + index as u64,
                &mut figures[index],
            )
            .await?;
        }
    }
    report(backend, seconds, concurrency, &figures);
    Ok(())
}

fn report(backend: Backend, seconds: u64, concurrency: usize, figures: &[WorkloadFigures]) {
    println!(
        "kefu-bench write: {} on {:?}, {concurrency} in flight, {seconds} one-second slices per workload",
        cpu_model(),
        backend
    );
    println!(
        "{:<18} {:<14} {:>9} {:>9} {:>6} {:>9} {:>9}",
        "workload", "call", "ok/s", "conflict", "errors", "p50 ms", "p99 ms"
    );
    for (workload, figures) in WORKLOADS.iter().zip(figures) {
        for (kind, calls) in &figures.kinds {
            let mut latencies = calls.latencies.clone();
            latencies.sort();
            let (p50, p99) = if latencies.is_empty() {
                (Duration::ZERO, Duration::ZERO)
            } else {
                (percentile(&latencies, 0.5), percentile(&latencies, 0.99))
            };
            println!(
                "{:<18} {:<14} {:>9.0} {:>9} {:>6} {:>9.2} {:>9.2}",
                workload.name(),
                kind,
                figures.per_second(calls.ok),
                calls.conflicts,
                calls.errors,
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3,
            );
            if let Some(error) = &calls.first_error {
                println!("    first error: {error}");
            }
        }
    }
    let ceiling = figures[0].per_second(figures[0].all());
    let create = figures[1].per_second(figures[1].all());
    let routed = figures[2].per_second(figures[2].all());
    let mixed_writes = figures[3].per_second(figures[3].writes());
    let mixed_all = figures[3].per_second(figures[3].all());
    println!("ceiling: {ceiling:.0} single-row INSERTs/s");
    println!(
        "create: {create:.0} CreateTicket/s = {:.2}x the ceiling",
        create / ceiling.max(f64::EPSILON)
    );
    println!(
        "routed create: {routed:.0} CreateTicket/s = {:.2}x create without routing",
        routed / create.max(f64::EPSILON)
    );
    println!(
        "mixed: {mixed_all:.0} calls/s, of which {mixed_writes:.0} writes/s = {:.2}x the ceiling",
        mixed_writes / ceiling.max(f64::EPSILON)
    );
    println!(
        "get: {:.0} GetTicket/s through the gateway",
        figures[4].per_second(figures[4].all())
    );
}
