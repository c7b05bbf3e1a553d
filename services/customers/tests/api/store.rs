use std::time::Duration;

use kefu_customers::domain::customer::CustomerFields;
use kefu_customers::ops::{Customers, NewCustomer};
use kefu_db::Database;
use kefu_db::idempotency::RequestKey;
use kefu_proto::customers::v1 as pb;
use kefu_server::Clock;
use kefu_server::kit::{Context, Service};
use kefu_testkit::{Backend, TestDatabase, TestServer};

use crate::helpers::*;

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// SQLite's WAL must checkpoint while we write: a `RETURNING` row read with `fetch_one` or
/// `fetch_optional` keeps a read transaction open and the `-wal` file then grows without bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_wal_stays_bounded_under_many_writes() {
    let database = TestDatabase::create(Backend::Sqlite)
        .await
        .unwrap()
        .unwrap();
    let dir = database.sqlite_dir.as_ref().unwrap().path().to_owned();
    let db = Database::connect(&database.url).await.unwrap();
    db.migrate(&kefu_customers::Customers::migrations())
        .await
        .unwrap();
    let ops = Customers::new(Context::new(db.clone(), Clock::system()));
    const ROWS: usize = 4_000;
    let mut peak = 0;
    for i in 0..ROWS {
        let fields = CustomerFields {
            display_name: format!(
                "Customer number {i} with a reasonably long display name to fill pages"
            ),
            emails: vec![format!("customer{i}@example.com")],
            tags: vec!["bulk".into(), format!("batch-{}", i % 10)],
            ..Default::default()
        };
        let command = NewCustomer {
            fields,
            request: Some(RequestKey {
                request_id: format!("req-{i}"),
                operation: "CreateCustomer",
                hash: format!("hash-{i}"),
            }),
        };
        ops.create_customer("wal-test", command).await.unwrap();
        if i % 500 == 0 {
            peak = peak.max(file_size(&dir.join("test.db-wal")));
        }
    }
    let wal = file_size(&dir.join("test.db-wal")).max(peak);
    let main = file_size(&dir.join("test.db"));
    eprintln!("after {ROWS} creates: database {main} bytes, WAL peak {wal} bytes");
    // The automatic checkpoint runs every 1000 pages (4 MiB); allow twice that.
    assert!(
        wal < 8 * 1024 * 1024,
        "WAL grew to {wal} bytes: checkpoints are being blocked"
    );
    assert!(
        main > 1024 * 1024,
        "the rows were checkpointed into the database file ({main} bytes)"
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_shutdown_closes_the_pool_and_leaves_no_wal_files() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    create(&mut app.admin(), person("A", "a@example.com")).await;
    let App { server } = app;
    let dir = server
        .database
        .sqlite_dir
        .as_ref()
        .unwrap()
        .path()
        .to_owned();
    assert!(
        dir.join("test.db-wal").exists(),
        "WAL mode is on while serving"
    );
    let (result, database) = server.stop_keeping_database().await;
    result.expect("clean stop");
    assert!(dir.join("test.db").exists());
    assert!(!dir.join("test.db-wal").exists(), "-wal left behind");
    assert!(!dir.join("test.db-shm").exists(), "-shm left behind");
    drop(database);
}

/// Health reports NOT_SERVING while the database is unreachable (PostgreSQL: the database is
/// dropped under the running service).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_health_turns_not_serving_when_the_database_goes_away() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
    let key = kefu_principal::InternalKey::generate();
    let Some(server) =
        TestServer::service::<kefu_customers::Customers>(Backend::Postgres, &key, ())
            .await
            .unwrap()
    else {
        return;
    };
    let mut health = HealthClient::new(server.channel());
    let check = |mut health: HealthClient<tonic::transport::Channel>| async move {
        health
            .check(HealthCheckRequest {
                service: "kefu.customers.v1.CustomerService".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status
    };
    assert_eq!(check(health.clone()).await, ServingStatus::Serving as i32);
    // Take the database away.
    let admin_url = std::env::var(kefu_testkit::POSTGRES_URL_VAR).unwrap();
    let name = url::Url::parse(&server.database.url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let status = health
            .check(HealthCheckRequest {
                service: "kefu.customers.v1.CustomerService".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        if status == ServingStatus::NotServing as i32 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still SERVING 15 s after the database was dropped"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Calls now fail as UNAVAILABLE (retry elsewhere or later), never hang.
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        app_admin(&server).get_customer(pb::GetCustomerRequest {
            name: "customers/x".into(),
        }),
    )
    .await;
    let status = result.expect("no hang").expect_err("the database is gone");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    let _ = server.stop().await;
}

fn app_admin(server: &TestServer) -> Client {
    pb::customer_service_client::CustomerServiceClient::with_interceptor(
        server.channel(),
        server.as_principal(&kefu_principal::Principal::new(
            "admin",
            kefu_principal::Role::Admin,
        )),
    )
}
