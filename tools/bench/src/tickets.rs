//! `kefu-bench tickets`: what a support team's reads cost as the ticket history grows.
//!
//! For each size asked for, a fresh database gets that many tickets at a steady 10,000 per 30
//! days ending now — so at 10k the whole history is the last 30 days and at 1M it reaches back
//! eight years, while the last 30 days hold the same 10,000 tickets. They are written with the
//! service's own store functions (`insert_ticket`, `insert_status_change`), in transactions of
//! 1,000. Each database is served by its own kefu-tickets on a loopback port, and every case is
//! timed on every size **interleaved**, one call in flight, so the machine's slow moments fall on
//! all sizes alike:
//!
//! - ListTickets' first page (25) under each filter and order, as an admin, who sees everything;
//! - the built-in views with their counts, as an agent scoped to two of eight groups;
//! - GetTicketStats over the last 30 days;
//! - with `--search`, SearchTickets over the index built by the service's own backlog sweep.

use std::time::{Duration, Instant};

use kefu_principal::{InternalKey, Principal, Role};
use kefu_proto::tickets::v1 as pb;
use kefu_server::common::{Channel, Tier};
use kefu_testkit::{Backend, CallAs, TestDatabase};
use kefu_tickets::domain::kinds::{Priority, PrioritySource, TicketStatus, TicketType};
use kefu_tickets::domain::sla::{SlaRecord, Target};
use kefu_tickets::domain::ticket::{Requester, TicketFields, TicketRecord};
use kefu_tickets::store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel as GrpcChannel;

use crate::percentile;
use crate::text::Corpus;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Client =
    pb::ticket_service_client::TicketServiceClient<InterceptedService<GrpcChannel, CallAs>>;

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Tickets per day of history: 10,000 per 30 days.
const TICKETS_PER_DAY: f64 = 10_000.0 / 30.0;
/// Younger tickets are still being worked; older ones are closed.
const WORKING_DAYS: i64 = 4;
const GROUPS: usize = 8;
const AGENTS_PER_GROUP: usize = 5;
const REQUESTERS: usize = 5_000;
const BATCH: usize = 1_000;
const PAGE: i32 = 25;
const TAGS: &[&str] = &[
    "refund",
    "shipping",
    "vip",
    "bug",
    "billing",
    "login",
    "warranty",
    "return",
    "invoice",
    "damaged",
    "follow-up",
    "feedback",
];
const CATEGORIES: &[&str] = &[
    "orders/refund",
    "orders/shipping",
    "account/login",
    "billing/invoice",
    "product/defect",
];

/// One served database of `size` tickets.
struct Served {
    admin: Client,
    viewer: Client,
    load_time: Duration,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), kefu_server::kit::KitError>>,
    _database: TestDatabase,
}

/// A call measured on every size.
#[derive(Clone)]
enum Call {
    List(Box<pb::ListTicketsRequest>),
    View(&'static str),
    Stats(pb::StatsDimension),
    Search,
}

struct Case {
    name: String,
    call: Call,
}

/// What one case measured on one size.
#[derive(Default)]
struct Figures {
    latencies: Vec<Duration>,
    rows: usize,
    total: i64,
}

fn agent_id(g: usize, k: usize) -> String {
    format!("a{g}-{k}")
}

/// The viewer: an agent of groups 0 and 1 who sees their groups' tickets.
const VIEWER: &str = "a0-0";

fn weighted<T: Copy>(rng: &mut StdRng, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (choice, weight) in choices {
        if x < *weight {
            return *choice;
        }
        x -= weight;
    }
    choices[choices.len() - 1].0
}

/// Ticket `i` of `n`, created `(n - i) / TICKETS_PER_DAY` days before `now`; with its solve's
/// status change when it is solved or closed.
fn ticket(
    rng: &mut StdRng,
    corpus: &Corpus,
    groups: &[String],
    (i, n): (usize, usize),
    now: i64,
) -> TicketRecord {
    let age = ((n - i) as f64 / TICKETS_PER_DAY * MICROS_PER_DAY as f64) as i64;
    let created = now - age;
    let seconds = created.div_euclid(1_000_000);
    let nanos = (created.rem_euclid(1_000_000) * 1_000) as u32;
    let id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        seconds as u64,
        nanos,
    ))
    .to_string();
    let chinese = i % 2 == 1;
    let requester = rng.random_range(0..REQUESTERS);
    let mut tags: Vec<String> = (0..rng.random_range(1..=2))
        .map(|_| TAGS[rng.random_range(0..TAGS.len())].to_owned())
        .collect();
    tags.sort();
    tags.dedup();
    let fields = TicketFields {
        subject: corpus.title(rng, chinese, 6),
        description: corpus.text(rng, chinese, 40),
        priority: weighted(
            rng,
            &[
                (Priority::Low, 20),
                (Priority::Normal, 55),
                (Priority::High, 20),
                (Priority::Urgent, 5),
            ],
        ),
        priority_source: PrioritySource::Manual,
        urgency: None,
        impact: None,
        ticket_type: weighted(
            rng,
            &[
                (TicketType::Question, 50),
                (TicketType::Incident, 25),
                (TicketType::Task, 10),
                (TicketType::Problem, 5),
                (TicketType::Complaint, 10),
            ],
        ),
        after_sales_kind: None,
        category: CATEGORIES[rng.random_range(0..CATEGORIES.len())].to_owned(),
        tags,
        custom_fields: Default::default(),
    };
    let channel = weighted(
        rng,
        &[
            (Channel::Email, 40),
            (Channel::Web, 30),
            (Channel::Chat, 15),
            (Channel::Phone, 10),
            (Channel::Api, 5),
        ],
    );
    let mut t = TicketRecord::new(
        id,
        fields,
        Requester {
            id: format!("c{requester:05}"),
            display_name: format!("Customer {requester}"),
            tier: if requester % 20 == 0 {
                Tier::Vip
            } else {
                Tier::Standard
            },
            organization_id: None,
            locale: if chinese { "zh-CN" } else { "en" }.to_owned(),
            account_owner: None,
        },
        channel,
        created,
    );
    let group = rng.random_range(0..GROUPS);
    t.group_id = Some(groups[group].clone());
    t.status = if age >= WORKING_DAYS * MICROS_PER_DAY {
        TicketStatus::Closed
    } else {
        weighted(
            rng,
            &[
                (TicketStatus::New, 15),
                (TicketStatus::Open, 35),
                (TicketStatus::Pending, 15),
                (TicketStatus::OnHold, 5),
                (TicketStatus::Solved, 30),
            ],
        )
    };
    let assigned = t.status != TicketStatus::New
        && (matches!(t.status, TicketStatus::Solved | TicketStatus::Closed)
            || rng.random_range(0..100) < 85);
    if assigned {
        t.assignee_id = Some(agent_id(group, rng.random_range(0..AGENTS_PER_GROUP)));
    }
    let resolution_target = MICROS_PER_DAY;
    let mut sla = SlaRecord::default();
    if matches!(t.status, TicketStatus::Solved | TicketStatus::Closed) {
        // Solved some time after creation, within the age for the ones still SOLVED, so the
        // auto-close sweep has nothing to do while the benchmark runs.
        let took = rng
            .random_range(3_600_000_000..(2 * MICROS_PER_DAY))
            .min(age);
        let solved = created + took;
        t.solve_time = Some(solved);
        if t.status == TicketStatus::Closed {
            t.close_time = Some((solved + WORKING_DAYS * MICROS_PER_DAY).min(now));
        }
        t.first_response_seconds = Some(rng.random_range(60..4 * 3600));
        t.resolution_seconds = Some(took / 1_000_000);
        t.agent_replies = rng.random_range(1..4);
        sla.resolution = Target {
            start: Some(created),
            seconds: resolution_target / 1_000_000,
            achieved: Some(solved),
            breached: took > resolution_target,
            ..Target::default()
        };
    } else {
        // Due four days and up to two hours after creation: never past due while the
        // benchmark runs (the sweep stays idle), a few due within the hour.
        let target = WORKING_DAYS * MICROS_PER_DAY + rng.random_range(0..7_200_000_000);
        sla.resolution = Target {
            start: Some(created),
            seconds: target / 1_000_000,
            due: Some(created + target),
            ..Target::default()
        };
    }
    t.sla = sla;
    t.update_time = t.close_time.or(t.solve_time).unwrap_or(created);
    t.version = 3;
    t
}

async fn load(
    db: &kefu_db::Database,
    groups: &[String],
    size: usize,
    now: i64,
    corpus: &Corpus,
) -> Result<(), BoxError> {
    let mut rng = StdRng::seed_from_u64(size as u64);
    let mut written = 0;
    while written < size {
        let mut tx = db.begin_write().await?;
        for i in written..(written + BATCH).min(size) {
            let t = ticket(&mut rng, corpus, groups, (i, size), now);
            store::insert_ticket(&mut tx, &t).await?;
            if let Some(solved) = t.solve_time {
                let at_solve = TicketRecord {
                    status: TicketStatus::Solved,
                    ..t.clone()
                };
                let change = uuid::Uuid::now_v7().to_string();
                store::insert_status_change(
                    &mut tx,
                    &change,
                    &at_solve,
                    TicketStatus::Open,
                    solved,
                )
                .await?;
            }
        }
        tx.commit().await?;
        written = (written + BATCH).min(size);
    }
    Ok(())
}

/// Eight groups of five agents; the viewer in groups 0 and 1, seeing their groups' tickets.
/// Returns the group ids in order.
async fn setup_team(admin: &mut Client) -> Result<Vec<String>, BoxError> {
    let mut groups = Vec::new();
    for g in 0..GROUPS {
        let group = admin
            .create_group(pb::CreateGroupRequest {
                request_id: String::new(),
                group: Some(pb::Group {
                    display_name: format!("Group {g}"),
                    ..Default::default()
                }),
            })
            .await?
            .into_inner();
        for k in 0..AGENTS_PER_GROUP {
            let id = agent_id(g, k);
            let scope = if id == VIEWER {
                pb::TicketScope::Groups
            } else {
                pb::TicketScope::All
            };
            admin
                .create_agent(pb::CreateAgentRequest {
                    request_id: String::new(),
                    agent: Some(pb::Agent {
                        display_name: format!("Agent {g}-{k}"),
                        email: format!("{id}@example.com"),
                        active: true,
                        ticket_scope: scope as i32,
                        ..Default::default()
                    }),
                    agent_id: id.clone(),
                })
                .await?;
            admin
                .add_group_member(pb::AddGroupMemberRequest {
                    group: group.name.clone(),
                    agent: format!("agents/{id}"),
                })
                .await?;
        }
        groups.push(group.name);
    }
    admin
        .add_group_member(pb::AddGroupMemberRequest {
            group: groups[1].clone(),
            agent: format!("agents/{VIEWER}"),
        })
        .await?;
    groups
        .iter()
        .map(|name| {
            name.strip_prefix("groups/")
                .map(str::to_owned)
                .ok_or_else(|| format!("unexpected group name {name}").into())
        })
        .collect()
}

async fn serve(
    backend: Backend,
    size: usize,
    search: bool,
    now: i64,
    corpus: &Corpus,
) -> Result<Served, BoxError> {
    let database = TestDatabase::create(backend)
        .await?
        .ok_or("no database: set KEFU_TEST_POSTGRES_URL for postgres")?;
    let key = InternalKey::generate();
    // Reads never call kefu-customers; nothing listens on this port.
    let settings = kefu_tickets::Settings::new("http://127.0.0.1:9");
    let config = kefu_server::Config::new(database.url.clone(), key.clone(), settings);
    let prepared = kefu_server::kit::prepare::<kefu_tickets::Tickets>(config).await?;
    let db = prepared.db().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(prepared.serve(listener, async move {
        let _ = stopped.await;
    }));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let client = |principal: Principal| {
        pb::ticket_service_client::TicketServiceClient::with_interceptor(
            channel.clone(),
            CallAs::new(&key, &principal),
        )
    };
    let mut admin = client(Principal::new("bench-admin", Role::Admin));
    let started = Instant::now();
    let groups = setup_team(&mut admin).await?;
    load(&db, &groups, size, now, corpus).await?;
    if search {
        let ops = kefu_tickets::ops::Tickets::new(
            kefu_server::kit::Context::new(db.clone(), kefu_server::Clock::system()),
            kefu_server::customers::Customers::new("http://127.0.0.1:9")?,
        );
        while ops.index_backlog().await? > 0 {}
    } else {
        // Stands for tickets indexed when they were written, as new tickets are; the sweep's
        // backlog indexing would otherwise run beside the measured calls.
        sqlx::query("UPDATE tickets SET search_indexed = 1")
            .execute(db.pool())
            .await?;
    }
    db.analyze().await?;
    let load_time = started.elapsed();
    Ok(Served {
        admin,
        viewer: client(Principal::new(VIEWER, Role::Agent)),
        load_time,
        stop,
        server,
        _database: database,
    })
}

fn timestamp(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1_000) as i32,
    }
}

fn list(name: &str, request: pb::ListTicketsRequest) -> Case {
    Case {
        name: name.to_owned(),
        call: Call::List(Box::new(pb::ListTicketsRequest {
            page_size: PAGE,
            ..request
        })),
    }
}

/// Every measured case: a team's everyday lists, its views, its report, and search.
fn cases(now: i64, search: bool, corpus: &Corpus) -> Vec<Case> {
    let open = vec![pb::TicketStatus::New as i32, pb::TicketStatus::Open as i32];
    let mut cases = vec![
        list("list: all, oldest first", Default::default()),
        list(
            "list: all, newest first",
            pb::ListTicketsRequest {
                order_by: "create_time desc".into(),
                ..Default::default()
            },
        ),
        list(
            "list: all, recently updated",
            pb::ListTicketsRequest {
                order_by: "update_time desc".into(),
                ..Default::default()
            },
        ),
        list(
            "list: all, most urgent",
            pb::ListTicketsRequest {
                order_by: "priority desc".into(),
                ..Default::default()
            },
        ),
        list(
            "list: all, due soonest",
            pb::ListTicketsRequest {
                order_by: "due_time".into(),
                ..Default::default()
            },
        ),
        list(
            "list: new+open",
            pb::ListTicketsRequest {
                statuses: open.clone(),
                ..Default::default()
            },
        ),
        list(
            "list: new+open, due soonest",
            pb::ListTicketsRequest {
                statuses: open.clone(),
                order_by: "due_time".into(),
                ..Default::default()
            },
        ),
        list(
            "list: an agent's, newest",
            pb::ListTicketsRequest {
                assignee: format!("agents/{}", agent_id(3, 2)),
                order_by: "create_time desc".into(),
                ..Default::default()
            },
        ),
        list(
            "list: a requester's, newest",
            pb::ListTicketsRequest {
                requester: "customers/c00042".into(),
                order_by: "create_time desc".into(),
                ..Default::default()
            },
        ),
        list(
            "list: tag, newest",
            pb::ListTicketsRequest {
                tag: "warranty".into(),
                order_by: "create_time desc".into(),
                ..Default::default()
            },
        ),
        list(
            "list: urgent",
            pb::ListTicketsRequest {
                priority: pb::TicketPriority::Urgent as i32,
                ..Default::default()
            },
        ),
        list(
            "list: email channel",
            pb::ListTicketsRequest {
                channel: kefu_proto::common::v1::Channel::Email as i32,
                ..Default::default()
            },
        ),
        list(
            "list: SLA breached",
            pb::ListTicketsRequest {
                sla_breached: true,
                ..Default::default()
            },
        ),
        list(
            "list: created last 7 days",
            pb::ListTicketsRequest {
                create_time_from: Some(timestamp(now - 7 * MICROS_PER_DAY)),
                ..Default::default()
            },
        ),
        list(
            "list: text (substring)",
            pb::ListTicketsRequest {
                text: corpus.english_word(40).to_owned(),
                ..Default::default()
            },
        ),
        Case {
            name: "view: my open tickets".into(),
            call: Call::View("views/my-open-tickets"),
        },
        Case {
            name: "view: unassigned in my groups".into(),
            call: Call::View("views/unassigned-in-my-groups"),
        },
        Case {
            name: "view: breaching soon".into(),
            call: Call::View("views/breaching-soon"),
        },
        Case {
            name: "stats: 30 days".into(),
            call: Call::Stats(pb::StatsDimension::Unspecified),
        },
        Case {
            name: "stats: 30 days by agent".into(),
            call: Call::Stats(pb::StatsDimension::Agent),
        },
    ];
    if search {
        cases.push(Case {
            name: "search: 1-2 common words".into(),
            call: Call::Search,
        });
    }
    cases
}

/// One call of `case` on `served`: how many rows it answered and, for a view, its count.
async fn call(
    served: &mut Served,
    case: &Call,
    now: i64,
    query: String,
) -> Result<(usize, i64), BoxError> {
    Ok(match case {
        Call::List(request) => {
            let page = served
                .admin
                .list_tickets((**request).clone())
                .await?
                .into_inner();
            (page.tickets.len(), 0)
        }
        Call::View(name) => {
            let page = served
                .viewer
                .list_view_tickets(pb::ListViewTicketsRequest {
                    name: (*name).to_owned(),
                    page_size: PAGE,
                    page_token: String::new(),
                })
                .await?
                .into_inner();
            (page.tickets.len(), page.total_size)
        }
        Call::Stats(dimension) => {
            let stats = served
                .admin
                .get_ticket_stats(pb::GetTicketStatsRequest {
                    start_time: Some(timestamp(now - 30 * MICROS_PER_DAY)),
                    end_time: Some(timestamp(now)),
                    group_by: *dimension as i32,
                })
                .await?
                .into_inner();
            (stats.rows.len(), 0)
        }
        Call::Search => {
            let page = served
                .admin
                .search_tickets(pb::SearchTicketsRequest {
                    query,
                    page_size: 20,
                    page_token: String::new(),
                })
                .await?
                .into_inner();
            (page.results.len(), 0)
        }
    })
}

/// Runs the benchmark and prints its figures.
pub(crate) async fn run(
    backend: Backend,
    sizes: &[usize],
    calls: usize,
    search: bool,
) -> Result<(), BoxError> {
    let corpus = Corpus::new();
    let now = kefu_server::Clock::system().now_micros();
    let mut served = Vec::new();
    for &size in sizes {
        let one = serve(backend, size, search, now, &corpus).await?;
        println!(
            "{size} tickets loaded in {:.1} s",
            one.load_time.as_secs_f64()
        );
        served.push(one);
    }
    let cases = cases(now, search, &corpus);
    let mut figures: Vec<Vec<Figures>> = cases
        .iter()
        .map(|_| sizes.iter().map(|_| Figures::default()).collect())
        .collect();
    let mut queries = StdRng::seed_from_u64(7);
    let warm_up = 10;
    for round in 0..calls + warm_up {
        for (case, case_figures) in cases.iter().zip(figures.iter_mut()) {
            // The same query on every size in a round.
            let query = corpus.query(&mut queries);
            for (one, f) in served.iter_mut().zip(case_figures.iter_mut()) {
                let sent = Instant::now();
                let (rows, total) = call(one, &case.call, now, query.clone())
                    .await
                    .map_err(|e| format!("{}: {e}", case.name))?;
                if round >= warm_up {
                    f.latencies.push(sent.elapsed());
                    f.rows += rows;
                    f.total = total;
                }
            }
        }
    }
    report(backend, sizes, calls, &cases, &mut figures);
    for one in served {
        let _ = one.stop.send(());
        one.server.await??;
        drop(one._database);
    }
    Ok(())
}

fn report(
    backend: Backend,
    sizes: &[usize],
    calls: usize,
    cases: &[Case],
    figures: &mut [Vec<Figures>],
) {
    println!(
        "kefu-bench tickets: {} on {backend:?}, {calls} calls per case and size, 1 in flight, sizes interleaved",
        crate::unary::cpu_model()
    );
    let mut header = format!("{:<32}", "case");
    for size in sizes {
        header.push_str(&format!(" {:>9} p50 ms   p99 ms  rows", size));
    }
    if sizes.len() > 1 {
        header.push_str("  p99 last/first");
    }
    println!("{header}");
    for (case, per_size) in cases.iter().zip(figures.iter_mut()) {
        let mut line = format!("{:<32}", case.name);
        let mut p99s = Vec::new();
        for f in per_size.iter_mut() {
            f.latencies.sort();
            let p50 = percentile(&f.latencies, 0.50).as_secs_f64() * 1000.0;
            let p99 = percentile(&f.latencies, 0.99).as_secs_f64() * 1000.0;
            p99s.push(p99);
            let rows = f.rows as f64 / f.latencies.len().max(1) as f64;
            let rows = if matches!(case.call, Call::View(_)) {
                format!("{rows:.0}/{}", f.total)
            } else {
                format!("{rows:.0}")
            };
            line.push_str(&format!(" {p50:>16.2} {p99:>8.2} {rows:>5}"));
        }
        if let (Some(first), Some(last)) = (p99s.first(), p99s.last())
            && p99s.len() > 1
        {
            line.push_str(&format!("  {:>13.2}x", last / first));
        }
        println!("{line}");
    }
}
