//! The whole platform for end-to-end tests: customers, tickets, knowledge, feedback and automation on port 0 (SQLite, or
//! PostgreSQL per service when `KEFU_TEST_POSTGRES_URL` is set) behind a gateway, reached only
//! through the gateway with API keys.

mod clients;

pub use clients::{Authed, Clients};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use kefu_principal::{InternalKey, Principal};
use kefu_testkit::{Backend, TestServer};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

/// A running platform.
pub struct Platform {
    /// The services, by package name.
    pub services: HashMap<&'static str, TestServer>,
    /// A second tickets replica on the same database, behind the gateway beside the first.
    pub tickets_replica: Option<TestServer>,
    /// The gateway's key store.
    pub keys: kefu_gateway::Keys,
    /// Where the gateway listens.
    pub gateway: SocketAddr,
    gateway_config: kefu_gateway::Config,
    stop_gateway: Option<tokio::sync::oneshot::Sender<()>>,
    gateway_task: Option<tokio::task::JoinHandle<Result<(), kefu_gateway::Error>>>,
    _dir: tempfile::TempDir,
}

/// Why the platform could not start.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

impl Platform {
    /// Starts every service and the gateway; `None` when the backend is not available.
    pub async fn start(
        backend: Backend,
        tune: impl FnOnce(&mut kefu_gateway::Config),
    ) -> Result<Option<Self>, StartError> {
        Self::start_with_clock(backend, kefu_server::Clock::system(), tune).await
    }

    /// Like [`Platform::start`], with the tickets and automation services on `clock`: a manual
    /// one lets a test move time for SLAs and time-based rules (checked every 50 ms here).
    pub async fn start_with_clock(
        backend: Backend,
        clock: kefu_server::Clock,
        tune: impl FnOnce(&mut kefu_gateway::Config),
    ) -> Result<Option<Self>, StartError> {
        let key = InternalKey::generate();
        let Some(customers) =
            TestServer::service::<kefu_customers::Customers>(backend, &key, ()).await?
        else {
            return Ok(None);
        };
        let customers_url = format!("http://{}", customers.addr);
        let mut tickets_settings = kefu_tickets::Settings::new(customers_url.clone());
        tickets_settings.sweep_interval = Duration::from_secs(3600);
        let Some(tickets) = TestServer::service_with_clock::<kefu_tickets::Tickets>(
            backend,
            &key,
            clock.clone(),
            tickets_settings.clone(),
        )
        .await?
        else {
            return Ok(None);
        };
        // The replica shares the database: start it once the first has migrated it.
        wait_until_serving(&tickets).await?;
        let tickets_replica = TestServer::restart_service::<kefu_tickets::Tickets>(
            kefu_testkit::TestDatabase::shared(&tickets.database.url),
            &key,
            "127.0.0.1:0".parse()?,
            clock.clone(),
            tickets_settings,
        )
        .await?;
        let Some(knowledge) =
            TestServer::service::<kefu_knowledge::Knowledge>(backend, &key, ()).await?
        else {
            return Ok(None);
        };
        let tickets_url = format!("http://{}", tickets.addr);
        let mut automation_settings =
            kefu_automation::Settings::new(tickets_url.clone(), customers_url.clone());
        automation_settings.check_interval = Duration::from_millis(50);
        let feedback_settings = kefu_feedback::Settings::new(customers_url, tickets_url);
        let Some(feedback) =
            TestServer::service::<kefu_feedback::Feedback>(backend, &key, feedback_settings)
                .await?
        else {
            return Ok(None);
        };
        let Some(automation) =
            TestServer::service_with_clock::<kefu_automation::AutomationService>(
                backend,
                &key,
                clock,
                automation_settings,
            )
            .await?
        else {
            return Ok(None);
        };
        let upstreams = [
            ("customers", &customers),
            ("tickets", &tickets),
            ("knowledge", &knowledge),
            ("feedback", &feedback),
            ("automation", &automation),
        ]
        .into_iter()
        .map(|(name, server)| {
            let mut replicas = vec![server.addr.to_string()];
            if name == "tickets" {
                replicas.push(tickets_replica.addr.to_string());
            }
            (name.to_owned(), replicas)
        })
        .collect();
        let dir = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("gateway.db").display()
        );
        let mut config = kefu_gateway::Config::new(url, key, upstreams);
        config.health_interval = Duration::from_millis(200);
        tune(&mut config);
        let mut platform = Self {
            services: [
                ("customers", customers),
                ("tickets", tickets),
                ("knowledge", knowledge),
                ("feedback", feedback),
                ("automation", automation),
            ]
            .into_iter()
            .collect(),
            tickets_replica: Some(tickets_replica),
            keys: kefu_gateway::prepare(config.clone()).await?.keys(),
            gateway: "127.0.0.1:0".parse()?,
            gateway_config: config,
            stop_gateway: None,
            gateway_task: None,
            _dir: dir,
        };
        platform.start_gateway().await?;
        Ok(Some(platform))
    }

    /// (Re)starts the gateway on a new port, with the same key store.
    pub async fn start_gateway(&mut self) -> Result<(), StartError> {
        let prepared = kefu_gateway::prepare(self.gateway_config.clone()).await?;
        self.keys = prepared.keys();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        self.gateway = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        self.stop_gateway = Some(stop);
        self.gateway_task = Some(tokio::spawn(prepared.serve(listener, async move {
            let _ = stopped.await;
        })));
        Ok(())
    }

    /// Stops the gateway (open streams end).
    pub async fn stop_gateway(&mut self) {
        if let Some(stop) = self.stop_gateway.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.gateway_task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(35), task).await;
        }
    }

    /// A channel to the gateway.
    pub async fn channel(&self) -> Result<Channel, StartError> {
        Ok(
            tonic::transport::Endpoint::from_shared(format!("http://{}", self.gateway))?
                .connect()
                .await?,
        )
    }

    /// A new API key acting as `principal`.
    pub async fn key(&self, principal: &Principal) -> Result<String, StartError> {
        Ok(self.keys.create("e2e", principal).await?.0)
    }
}

/// Waits until a tickets server answers (its migrations have run).
async fn wait_until_serving(tickets: &TestServer) -> Result<(), StartError> {
    let principal = Principal::new("e2e-setup", kefu_principal::Role::Admin);
    let mut client =
        kefu_proto::tickets::v1::ticket_service_client::TicketServiceClient::with_interceptor(
            tickets.channel(),
            tickets.as_principal(&principal),
        );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let request = kefu_proto::tickets::v1::ListGroupsRequest::default();
        match client.list_groups(request).await {
            Ok(_) => return Ok(()),
            Err(status) if tokio::time::Instant::now() > deadline => {
                return Err(format!("tickets did not start: {status}").into());
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// An interceptor that sends `authorization: Bearer <key>`.
#[derive(Clone, Debug)]
pub struct Bearer(MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    /// For this key.
    pub fn new(key: &str) -> Result<Self, StartError> {
        Ok(Self(format!("Bearer {key}").parse()?))
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}
