//! `kefu-bench`: kefu's load tool. Figures go to `docs/benchmarks.md`.
//!
//! `kefu-bench search --articles 10000 --database sqlite` generates a knowledge base of mixed
//! English and Chinese articles (loaded through the service's own write path, so the search index
//! is built exactly as in production), serves it on a loopback port, and measures SearchArticles
//! latency over gRPC with one request in flight.

mod automation;
mod text;
mod tickets;
mod unary;
mod write;

use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use kefu_knowledge::domain::article::{Content, Settings};
use kefu_principal::Principal;
use kefu_proto::knowledge::v1 as pb;
use kefu_testkit::{Backend, CallAs, TestDatabase};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::text::Corpus;

#[derive(Parser)]
#[command(name = "kefu-bench", about = "kefu's load tool")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Database {
    Sqlite,
    Postgres,
}

#[derive(Subcommand)]
enum Command {
    /// Search latency on a generated knowledge base.
    Search {
        /// How many articles to generate.
        #[arg(long, default_value_t = 10_000)]
        articles: usize,
        /// sqlite (a temporary file) or postgres (a fresh database on KEFU_TEST_POSTGRES_URL).
        #[arg(long, value_enum, default_value_t = Database::Sqlite)]
        database: Database,
        /// Measured queries (after 50 warm-up queries).
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        /// Skip `ANALYZE` after the load, to see the plans chosen before the database has
        /// statistics.
        #[arg(long)]
        skip_analyze: bool,
    },
    /// Unary RPC throughput and latency: straight to a service, through kefu-gateway, and
    /// through nginx's grpc_pass (when `nginx` is on the PATH), in one run.
    Unary {
        /// Seconds of throughput measurement per path (in one-second slices, paths interleaved).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Requests in flight for the throughput measurement.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Calls per path for the one-in-flight latency measurement (paths in rotation).
        #[arg(long, default_value_t = 5000)]
        calls: usize,
        /// Worker threads of the gateway (`KEFU_GATEWAY_THREADS`; nginx runs one worker here).
        #[arg(long, default_value_t = 2)]
        gateway_threads: usize,
        /// A kefu-gateway binary to measure (default: the one next to kefu-bench); give it more
        /// than once to compare builds in the same interleaved run.
        #[arg(long)]
        gateway_binary: Vec<std::path::PathBuf>,
    },
    /// The write path through kefu-gateway (CreateTicket alone, and a realistic mix) against a
    /// single-row INSERT into the same database server, interleaved in one run.
    Write {
        /// sqlite (a temporary file) or postgres (fresh databases on KEFU_TEST_POSTGRES_URL).
        #[arg(long, value_enum, default_value_t = Database::Sqlite)]
        database: Database,
        /// One-second slices per workload.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Calls in flight.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Worker threads of the gateway.
        #[arg(long, default_value_t = 2)]
        gateway_threads: usize,
    },
    /// Event committed → trigger actions applied, at a steady rate of new tickets with many
    /// active triggers.
    Automation {
        /// sqlite (a temporary file) or postgres (fresh databases on KEFU_TEST_POSTGRES_URL).
        #[arg(long, value_enum, default_value_t = Database::Postgres)]
        database: Database,
        /// Active triggers (five of them fire on every ticket).
        #[arg(long, default_value_t = 50)]
        triggers: usize,
        /// New tickets per second.
        #[arg(long, default_value_t = 20)]
        rate: u32,
        /// Seconds of load.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// How the cost of a support team's reads grows with the ticket history: lists under each
    /// filter and order, views with counts, 30-day stats, and search, on several sizes at once.
    Tickets {
        /// Ticket counts, one database each, measured interleaved (e.g. 10000,1000000).
        #[arg(long, value_delimiter = ',', default_values_t = [10_000, 100_000])]
        tickets: Vec<usize>,
        /// sqlite (a temporary file) or postgres (fresh databases on KEFU_TEST_POSTGRES_URL).
        #[arg(long, value_enum, default_value_t = Database::Sqlite)]
        database: Database,
        /// Measured calls per case and size (after 10 warm-up rounds).
        #[arg(long, default_value_t = 200)]
        calls: usize,
        /// Also index the tickets for SearchTickets (with the service's own backlog sweep) and
        /// measure it.
        #[arg(long)]
        search: bool,
    },
}

fn article(rng: &mut StdRng, i: usize, corpus: &Corpus) -> (Content, Settings) {
    let is_chinese = i % 2 == 1;
    let title = corpus.title(rng, is_chinese, 4);
    let content = Content {
        title: format!("{title} {i}"),
        body: corpus.text(rng, is_chinese, 80),
        summary: String::new(),
    };
    let settings = Settings {
        locale: if is_chinese {
            "zh-CN".into()
        } else {
            "en".into()
        },
        category_id: None,
        tags: Vec::new(),
        visibility: kefu_knowledge::domain::kinds::Visibility::Public,
        promoted: false,
    };
    (content, settings)
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match Cli::parse().command {
        Command::Search {
            articles,
            database,
            queries,
            skip_analyze,
        } => search(articles, database, queries, skip_analyze).await,
        Command::Unary {
            seconds,
            concurrency,
            calls,
            gateway_threads,
            gateway_binary,
        } => {
            unary::run(
                Duration::from_secs(seconds),
                concurrency,
                calls,
                gateway_threads,
                gateway_binary,
            )
            .await
        }
        Command::Write {
            database,
            seconds,
            concurrency,
            gateway_threads,
        } => write::run(database.backend(), seconds, concurrency, gateway_threads)
            .await
            .map_err(|error| error.to_string().into()),
        Command::Automation {
            database,
            triggers,
            rate,
            seconds,
        } => automation::run(database.backend(), triggers, rate, seconds)
            .await
            .map_err(|error| error.to_string().into()),
        Command::Tickets {
            tickets,
            database,
            calls,
            search,
        } => tickets::run(database.backend(), &tickets, calls, search)
            .await
            .map_err(|error| error.to_string().into()),
    }
}

impl Database {
    fn backend(self) -> Backend {
        match self {
            Database::Sqlite => Backend::Sqlite,
            Database::Postgres => Backend::Postgres,
        }
    }
}

async fn search(
    articles: usize,
    database: Database,
    queries: usize,
    skip_analyze: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let backend = database.backend();
    let test_db = TestDatabase::create(backend)
        .await?
        .ok_or("set KEFU_TEST_POSTGRES_URL for --database postgres")?;
    let key = kefu_principal::InternalKey::generate();
    let config = kefu_server::Config::new(test_db.url.clone(), key.clone(), ());
    let prepared = kefu_server::kit::prepare::<kefu_knowledge::Knowledge>(config).await?;
    let ctx = kefu_server::kit::Context::new(prepared.db().clone(), kefu_server::Clock::system());
    let ops = kefu_knowledge::ops::Knowledge::new(ctx);
    let mut rng = StdRng::seed_from_u64(42);
    let corpus = Corpus::new();
    let started = Instant::now();
    let mut loaded = 0;
    while loaded < articles {
        let batch: Vec<_> = (loaded..(loaded + 500).min(articles))
            .map(|i| article(&mut rng, i, &corpus))
            .collect();
        loaded += ops.import_published("bench", batch).await?;
    }
    if !skip_analyze {
        ops.refresh_statistics().await?;
    }
    let load_time = started.elapsed();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(prepared.serve(listener, async move {
        let _ = stopped.await;
    }));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let mut client = pb::knowledge_service_client::KnowledgeServiceClient::with_interceptor(
        channel,
        CallAs::new(&key, &Principal::customer("bench-reader")),
    );
    let mut query_rng = StdRng::seed_from_u64(7);
    let mut latencies = Vec::with_capacity(queries);
    let mut hits = 0usize;
    for i in 0..queries + 50 {
        let query = corpus.query(&mut query_rng);
        let sent = Instant::now();
        let response = client
            .search_articles(pb::SearchArticlesRequest {
                query,
                ..Default::default()
            })
            .await?
            .into_inner();
        if i >= 50 {
            latencies.push(sent.elapsed());
            hits += response.results.len();
        }
    }
    latencies.sort();
    let mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;
    println!(
        "search | {} | {articles} articles | loaded in {:.1} s | {queries} queries, 1 in flight | p50 {:.2} ms | p99 {:.2} ms | mean {:.2} ms | {:.1} hits/query (page of 20)",
        match database {
            Database::Sqlite => "SQLite",
            Database::Postgres => "PostgreSQL",
        },
        load_time.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        mean.as_secs_f64() * 1000.0,
        hits as f64 / queries as f64,
    );
    let _ = stop.send(());
    server.await??;
    Ok(())
}
