//! `kefu-bench`: kefu's load tool. Figures go to `docs/benchmarks.md`.
//!
//! `kefu-bench search --articles 10000 --database sqlite` generates a knowledge base of mixed
//! English and Chinese articles (loaded through the service's own write path, so the search index
//! is built exactly as in production), serves it on a loopback port, and measures SearchArticles
//! latency over gRPC with one request in flight.

mod unary;
mod write;

use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use kefu_knowledge::domain::article::{Content, Settings};
use kefu_principal::Principal;
use kefu_proto::knowledge::v1 as pb;
use kefu_testkit::{Backend, CallAs, TestDatabase};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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
}

const ENGLISH: &[&str] = &[
    "refund",
    "order",
    "payment",
    "shipping",
    "delivery",
    "return",
    "warranty",
    "repair",
    "account",
    "password",
    "invoice",
    "subscription",
    "cancel",
    "upgrade",
    "discount",
    "coupon",
    "address",
    "tracking",
    "parcel",
    "damaged",
    "replacement",
    "battery",
    "charger",
    "screen",
    "kettle",
    "blender",
    "vacuum",
    "filter",
    "install",
    "setup",
    "login",
    "security",
    "privacy",
    "export",
    "report",
    "team",
    "agent",
    "ticket",
    "priority",
    "schedule",
    "holiday",
    "store",
    "credit",
    "card",
    "bank",
    "transfer",
    "currency",
    "tax",
    "receipt",
    "exchange",
    "size",
    "color",
    "fabric",
    "clean",
    "wash",
    "manual",
    "guide",
    "troubleshoot",
    "error",
    "update",
    "firmware",
    "bluetooth",
    "wifi",
];
const CHINESE: &[&str] = &[
    "退货",
    "退款",
    "订单",
    "支付",
    "配送",
    "快递",
    "保修",
    "维修",
    "账号",
    "密码",
    "发票",
    "订阅",
    "取消",
    "升级",
    "优惠券",
    "地址",
    "物流",
    "包裹",
    "损坏",
    "更换",
    "电池",
    "充电器",
    "屏幕",
    "水壶",
    "安装",
    "登录",
    "安全",
    "隐私",
    "会员",
    "积分",
    "客服",
    "工单",
    "优先级",
    "节假日",
    "门店",
    "信用卡",
    "银行",
    "转账",
    "税费",
    "收据",
];
const FILLER_EN: &[&str] = &[
    "the", "your", "is", "to", "and", "we", "can", "please", "how", "when", "after", "before",
];
const FILLER_ZH: &[&str] = &[
    "如何", "办理", "流程", "请", "您的", "我们", "可以", "之后", "之前", "需要",
];

/// Words of one language, most frequent first, with Zipf sampling (rank r drawn ∝ 1/r), as in
/// real text: a few words are everywhere, most are rare.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(words: Vec<String>) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Self { words, cumulative }
    }

    fn sample(&self, rng: &mut StdRng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.random_range(0.0..total);
        let index = self
            .cumulative
            .partition_point(|c| *c < x)
            .min(self.words.len() - 1);
        &self.words[index]
    }

    /// A word among the `top` most frequent, uniformly: what people search for.
    fn query_word(&self, rng: &mut StdRng, top: usize) -> &str {
        &self.words[rng.random_range(0..top.min(self.words.len()))]
    }
}

fn english_vocabulary() -> Vocabulary {
    const ONSETS: &[&str] = &[
        "b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "br", "st", "pl",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou"];
    const CODAS: &[&str] = &["", "n", "r", "s", "t", "x", "ng"];
    let mut words: Vec<String> = ENGLISH.iter().map(|w| (*w).to_owned()).collect();
    'outer: for onset in ONSETS {
        for vowel in VOWELS {
            for onset2 in ONSETS {
                for coda in CODAS {
                    words.push(format!("{onset}{vowel}{onset2}{vowel}{coda}"));
                    if words.len() >= 3000 {
                        break 'outer;
                    }
                }
            }
        }
    }
    Vocabulary::new(words)
}

fn chinese_vocabulary() -> Vocabulary {
    const CHARS: &str = "天地人和平安心意情感家国山水风云花草木林江河海湖春夏秋冬东南西北金银铜铁电子书本学校工作生活服务产品质量价格时间空间文化科技信息网络系统管理设计开发测试";
    let chars: Vec<char> = CHARS.chars().collect();
    let mut words: Vec<String> = CHINESE.iter().map(|w| (*w).to_owned()).collect();
    'outer: for a in &chars {
        for b in &chars {
            words.push(format!("{a}{b}"));
            if words.len() >= 3000 {
                break 'outer;
            }
        }
    }
    Vocabulary::new(words)
}

fn article(
    rng: &mut StdRng,
    i: usize,
    english: &Vocabulary,
    chinese: &Vocabulary,
) -> (Content, Settings) {
    let is_chinese = i % 2 == 1;
    let (vocabulary, filler, sep) = if is_chinese {
        (chinese, FILLER_ZH, "，")
    } else {
        (english, FILLER_EN, " ")
    };
    let title: Vec<String> = (0..4).map(|_| vocabulary.sample(rng).to_owned()).collect();
    let body: Vec<String> = (0..80)
        .map(|k| {
            if k % 4 == 0 {
                filler[rng.random_range(0..filler.len())].to_owned()
            } else {
                vocabulary.sample(rng).to_owned()
            }
        })
        .collect();
    let content = Content {
        title: format!("{} {i}", title.join(sep)),
        body: body.join(sep),
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
    let english = english_vocabulary();
    let chinese = chinese_vocabulary();
    let started = Instant::now();
    let mut loaded = 0;
    while loaded < articles {
        let batch: Vec<_> = (loaded..(loaded + 500).min(articles))
            .map(|i| article(&mut rng, i, &english, &chinese))
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
    // Queries as people type them: one or two words from the 500 most frequent of a language.
    let next_query = |rng: &mut StdRng| -> String {
        match rng.random_range(0..4) {
            0 => english.query_word(rng, 500).to_owned(),
            1 => chinese.query_word(rng, 500).to_owned(),
            2 => format!(
                "{} {}",
                english.query_word(rng, 500),
                english.query_word(rng, 500)
            ),
            _ => format!(
                "{}{}",
                chinese.query_word(rng, 500),
                chinese.query_word(rng, 500)
            ),
        }
    };
    let mut latencies = Vec::with_capacity(queries);
    let mut hits = 0usize;
    for i in 0..queries + 50 {
        let query = next_query(&mut query_rng);
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
