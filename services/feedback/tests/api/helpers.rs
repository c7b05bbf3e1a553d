use std::time::Duration;

use kefu_principal::{InternalKey, Principal, Role};
use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as cpb;
use kefu_proto::feedback::v1 as pb;
use kefu_proto::tickets::v1 as tpb;
use kefu_testkit::{Backend, CallAs, TestServer};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub use kefu_testkit::{assert_status, eventually};

pub type Client =
    pb::feedback_service_client::FeedbackServiceClient<InterceptedService<Channel, CallAs>>;
pub type TicketsClient =
    tpb::ticket_service_client::TicketServiceClient<InterceptedService<Channel, CallAs>>;
pub type CustomersClient =
    cpb::customer_service_client::CustomerServiceClient<InterceptedService<Channel, CallAs>>;

/// How the feedback service under test is configured.
#[derive(Clone, Copy)]
pub struct Options {
    pub survey_ttl: Duration,
    pub follow_up_type: &'static str,
    /// Run feedback on a manual clock that moves only through [`App::clock`].
    pub manual_clock: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            survey_ttl: Duration::from_secs(14 * 24 * 3600),
            follow_up_type: "TASK",
            manual_clock: false,
        }
    }
}

/// Customers, tickets and feedback on one backend, trusting one key. Tickets and feedback are
/// options so that tests can stop and start them again on the same address and database.
pub struct App {
    pub key: InternalKey,
    pub customers: TestServer,
    pub tickets: Option<TestServer>,
    pub feedback: Option<TestServer>,
    pub options: Options,
    /// The feedback service's clock (the system's unless `options.manual_clock`).
    pub clock: kefu_server::Clock,
}

pub async fn spawn(backend: Backend) -> Option<App> {
    spawn_with(backend, Options::default()).await
}

pub async fn spawn_with(backend: Backend, options: Options) -> Option<App> {
    let key = InternalKey::generate();
    let customers = TestServer::service::<kefu_customers::Customers>(backend, &key, ())
        .await
        .expect("customers starts")?;
    let customers_url = format!("http://{}", customers.addr);
    let tickets = TestServer::service::<kefu_tickets::Tickets>(
        backend,
        &key,
        tickets_settings(&customers_url),
    )
    .await
    .expect("tickets starts")?;
    let tickets_url = format!("http://{}", tickets.addr);
    let clock = if options.manual_clock {
        kefu_server::Clock::manual_from_now()
    } else {
        kefu_server::Clock::system()
    };
    let feedback = TestServer::service_with_clock::<kefu_feedback::Feedback>(
        backend,
        &key,
        clock.clone(),
        feedback_settings(&customers_url, &tickets_url, options),
    )
    .await
    .expect("feedback starts")?;
    Some(App {
        key,
        customers,
        tickets: Some(tickets),
        feedback: Some(feedback),
        options,
        clock,
    })
}

/// The tickets service with its sweeper idle.
fn tickets_settings(customers_url: &str) -> kefu_tickets::Settings {
    let mut settings = kefu_tickets::Settings::new(customers_url);
    settings.sweep_interval = Duration::from_secs(3600);
    settings
}

/// The feedback service as `options` say.
pub fn feedback_settings(
    customers_url: &str,
    tickets_url: &str,
    options: Options,
) -> kefu_feedback::Settings {
    let mut settings = kefu_feedback::Settings::new(customers_url, tickets_url);
    settings.survey_ttl = options.survey_ttl;
    settings.follow_up_type = options.follow_up_type;
    settings
}

impl App {
    fn feedback_server(&self) -> &TestServer {
        self.feedback.as_ref().expect("feedback runs")
    }

    fn tickets_server(&self) -> &TestServer {
        self.tickets.as_ref().expect("tickets runs")
    }

    pub fn client(&self, principal: &Principal) -> Client {
        let server = self.feedback_server();
        pb::feedback_service_client::FeedbackServiceClient::with_interceptor(
            server.channel(),
            server.as_principal(principal),
        )
    }
    pub fn admin(&self) -> Client {
        self.client(&Principal::new("admin-1", Role::Admin))
    }
    pub fn agent(&self) -> Client {
        self.client(&Principal::new("agent-1", Role::Agent))
    }
    pub fn integration(&self) -> Client {
        self.client(&Principal::new("survey-page", Role::Integration))
    }
    pub fn customer(&self, id: &str) -> Client {
        self.client(&Principal::customer(id))
    }

    pub fn tickets_as(&self, principal: &Principal) -> TicketsClient {
        let server = self.tickets_server();
        tpb::ticket_service_client::TicketServiceClient::with_interceptor(
            server.channel(),
            server.as_principal(principal),
        )
    }
    pub fn tickets_admin(&self) -> TicketsClient {
        self.tickets_as(&Principal::new("admin-1", Role::Admin))
    }

    pub fn customers_admin(&self) -> CustomersClient {
        cpb::customer_service_client::CustomerServiceClient::with_interceptor(
            self.customers.channel(),
            self.customers
                .as_principal(&Principal::new("admin-1", Role::Admin)),
        )
    }

    /// Stops the tickets service, keeping its database and address for [`App::start_tickets`].
    pub async fn stop_tickets(&mut self) -> (kefu_testkit::TestDatabase, std::net::SocketAddr) {
        let server = self.tickets.take().expect("tickets runs");
        let addr = server.addr;
        let (result, database) = server.stop_keeping_database().await;
        result.expect("tickets stops cleanly");
        (database, addr)
    }

    pub async fn start_tickets(
        &mut self,
        database: kefu_testkit::TestDatabase,
        addr: std::net::SocketAddr,
    ) {
        let customers_url = format!("http://{}", self.customers.addr);
        let server = TestServer::restart_service::<kefu_tickets::Tickets>(
            database,
            &self.key,
            addr,
            kefu_server::Clock::system(),
            tickets_settings(&customers_url),
        )
        .await
        .expect("tickets starts again");
        self.tickets = Some(server);
    }

    /// Stops the feedback service, keeping its database and address for [`App::start_feedback`].
    pub async fn stop_feedback(&mut self) -> (kefu_testkit::TestDatabase, std::net::SocketAddr) {
        let server = self.feedback.take().expect("feedback runs");
        let addr = server.addr;
        let (result, database) = server.stop_keeping_database().await;
        result.expect("feedback stops cleanly");
        (database, addr)
    }

    pub async fn start_feedback(
        &mut self,
        database: kefu_testkit::TestDatabase,
        addr: std::net::SocketAddr,
    ) {
        let customers_url = format!("http://{}", self.customers.addr);
        let tickets_url = format!("http://{}", self.tickets_server().addr);
        let server = TestServer::restart_service::<kefu_feedback::Feedback>(
            database,
            &self.key,
            addr,
            self.clock.clone(),
            feedback_settings(&customers_url, &tickets_url, self.options),
        )
        .await
        .expect("feedback starts again");
        self.feedback = Some(server);
    }

    /// A customer; returns its id.
    pub async fn customer_record(&self, name: &str, tier: common::Tier) -> String {
        let created = self
            .customers_admin()
            .create_customer(cpb::CreateCustomerRequest {
                customer: Some(cpb::Customer {
                    display_name: name.into(),
                    tier: tier as i32,
                    tags: vec!["newsletter".into()],
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("create customer")
            .into_inner();
        created.name.trim_start_matches("customers/").to_owned()
    }

    /// A group with one agent in it; returns (group name, agent name).
    pub async fn team(&self, group: &str, agent: &str) -> (String, String) {
        let mut admin = self.tickets_admin();
        let group = admin
            .create_group(tpb::CreateGroupRequest {
                request_id: String::new(),
                group: Some(tpb::Group {
                    display_name: group.into(),
                    ..Default::default()
                }),
            })
            .await
            .expect("create group")
            .into_inner();
        let agent = admin
            .create_agent(tpb::CreateAgentRequest {
                request_id: String::new(),
                agent: Some(tpb::Agent {
                    display_name: agent.into(),
                    email: format!("{agent}@example.com"),
                    active: true,
                    ..Default::default()
                }),
                agent_id: agent.into(),
            })
            .await
            .expect("create agent")
            .into_inner();
        admin
            .add_group_member(tpb::AddGroupMemberRequest {
                group: group.name.clone(),
                agent: agent.name.clone(),
            })
            .await
            .expect("add member");
        (group.name, agent.name)
    }

    /// A ticket of `customer_id` through `channel`, assigned in `team`.
    pub async fn open_ticket(
        &self,
        customer_id: &str,
        channel: common::Channel,
        ticket_type: tpb::TicketType,
        team: &(String, String),
    ) -> tpb::Ticket {
        let mut admin = self.tickets_admin();
        let ticket = admin
            .create_ticket(tpb::CreateTicketRequest {
                ticket: Some(tpb::Ticket {
                    subject: "My order is late".into(),
                    description: "Ordered two weeks ago".into(),
                    requester: format!("customers/{customer_id}"),
                    channel: channel as i32,
                    r#type: ticket_type as i32,
                    group: team.0.clone(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("create ticket")
            .into_inner();
        admin
            .assign_ticket(tpb::AssignTicketRequest {
                request_id: String::new(),
                name: ticket.name.clone(),
                assignee: team.1.clone(),
                group: team.0.clone(),
                etag: String::new(),
            })
            .await
            .expect("assign")
            .into_inner()
    }

    /// A new customer's email ticket, solved, and the CSAT survey the solve sent them.
    pub async fn solved_ticket_survey(&self, name: &str) -> (String, tpb::Ticket, pb::Survey) {
        let customer = self.customer_record(name, common::Tier::Standard).await;
        let team = self.team("Support", "agent-1").await;
        let ticket = self
            .open_ticket(
                &customer,
                common::Channel::Email,
                tpb::TicketType::Question,
                &team,
            )
            .await;
        let solved = self.solve(&ticket.name).await;
        let survey = self.surveys_of_ticket(&ticket.name, 1).await.remove(0);
        (customer, solved, survey)
    }

    pub async fn solve(&self, ticket: &str) -> tpb::Ticket {
        self.tickets_admin()
            .solve_ticket(tpb::SolveTicketRequest {
                request_id: String::new(),
                name: ticket.into(),
                etag: String::new(),
            })
            .await
            .expect("solve")
            .into_inner()
    }

    pub async fn reopen(&self, ticket: &str) -> tpb::Ticket {
        self.tickets_admin()
            .reopen_ticket(tpb::ReopenTicketRequest {
                request_id: String::new(),
                name: ticket.into(),
                etag: String::new(),
            })
            .await
            .expect("reopen")
            .into_inner()
    }

    pub async fn get_ticket(&self, name: &str) -> tpb::Ticket {
        self.tickets_admin()
            .get_ticket(tpb::GetTicketRequest { name: name.into() })
            .await
            .expect("get ticket")
            .into_inner()
    }

    /// Surveys matching `request`, as an admin sees them.
    pub async fn surveys(&self, request: pb::ListSurveysRequest) -> Vec<pb::Survey> {
        self.admin()
            .list_surveys(request)
            .await
            .expect("list surveys")
            .into_inner()
            .surveys
    }

    /// Waits until `ticket` has `count` surveys, and returns them newest first.
    pub async fn surveys_of_ticket(&self, ticket: &str, count: usize) -> Vec<pb::Survey> {
        let request = pb::ListSurveysRequest {
            ticket: ticket.into(),
            ..Default::default()
        };
        eventually(&format!("{count} surveys of {ticket}"), || async {
            let surveys = self.surveys(request.clone()).await;
            (surveys.len() >= count).then_some(surveys)
        })
        .await
    }

    /// A sentinel on the tickets stream: opens and solves a ticket for a new customer and waits
    /// for its survey. The stream is read in order, so once this returns the feedback service has
    /// acted on every tickets event written before, and anything those events were going to cause
    /// has happened.
    pub async fn tickets_stream_sentinel(&self, team: &(String, String)) {
        let customer = self
            .customer_record("Sentinel", common::Tier::Standard)
            .await;
        let ticket = self
            .open_ticket(
                &customer,
                common::Channel::Web,
                tpb::TicketType::Question,
                team,
            )
            .await;
        self.solve(&ticket.name).await;
        self.surveys_of_ticket(&ticket.name, 1).await;
    }

    /// A sentinel on the follow-up queue: a new customer answers a CSAT of 1, and this waits until
    /// that follow-up has opened its ticket. The queue is worked in due order, so every follow-up
    /// queued before it has been worked (opened, refused, or retried) by then.
    pub async fn follow_up_queue_sentinel(&self, team: &(String, String)) {
        let customer = self
            .customer_record("Sentinel", common::Tier::Standard)
            .await;
        let ticket = self
            .open_ticket(
                &customer,
                common::Channel::Web,
                tpb::TicketType::Question,
                team,
            )
            .await;
        self.solve(&ticket.name).await;
        let survey = self.surveys_of_ticket(&ticket.name, 1).await.remove(0);
        answer(&mut self.customer(&customer), &survey.token, 1, &[], "")
            .await
            .expect("the sentinel's answer is taken");
        let settled = self.settled_follow_up(&survey.name).await;
        assert_eq!(
            settled.follow_up.map(|f| f.state),
            Some(pb::FollowUpState::Opened as i32),
            "the sentinel's follow-up opens"
        );
    }

    /// How many times the follow-up of `source` was tried, and its state, read from the feedback
    /// service's own database: the condition a test waits on to know a retry happened.
    pub async fn follow_up_attempts(&self, source: &str) -> (i32, i32) {
        let database = kefu_db::Database::connect(&self.feedback_server().database.url)
            .await
            .expect("the feedback database opens");
        let mut conn = database.read().await.expect("a read connection");
        let row = sqlx::query("SELECT attempts, state FROM follow_ups WHERE source = $1")
            .bind(source)
            .fetch_one(&mut *conn)
            .await
            .expect("the follow-up row");
        let read = |column| kefu_db::row::int(&row, column).expect("an integer column");
        (read("attempts"), read("state"))
    }

    /// Waits until the survey's follow-up is no longer pending, and returns the survey.
    pub async fn settled_follow_up(&self, survey: &str) -> pb::Survey {
        eventually(&format!("the follow-up of {survey}"), || async {
            let survey = self
                .admin()
                .get_survey(pb::GetSurveyRequest {
                    name: survey.into(),
                })
                .await
                .expect("get survey")
                .into_inner();
            let state = survey.follow_up.as_ref().map(|f| f.state);
            (state != Some(pb::FollowUpState::Pending as i32)).then_some(survey)
        })
        .await
    }

    /// Tickets of a customer, as the tickets service lists them.
    pub async fn tickets_of(&self, customer_id: &str) -> Vec<tpb::Ticket> {
        self.tickets_admin()
            .list_tickets(tpb::ListTicketsRequest {
                requester: format!("customers/{customer_id}"),
                ..Default::default()
            })
            .await
            .expect("list tickets")
            .into_inner()
            .tickets
    }
}

/// Answers a survey by token.
pub async fn answer(
    client: &mut Client,
    token: &str,
    score: i32,
    reasons: &[&str],
    comment: &str,
) -> Result<pb::Survey, tonic::Status> {
    client
        .submit_survey_response(pb::SubmitSurveyResponseRequest {
            request_id: String::new(),
            token: token.into(),
            response: Some(pb::SurveyResponse {
                score: Some(score),
                reason_codes: reasons.iter().map(|r| (*r).to_owned()).collect(),
                comment: comment.into(),
                ..Default::default()
            }),
        })
        .await
        .map(tonic::Response::into_inner)
}
