use std::time::Duration;

use kefu_principal::{Principal, Role};
use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as cpb;
use kefu_proto::tickets::v1 as pb;
use kefu_server::Clock;
use kefu_testkit::{Backend, CallAs, TestServer};
use pb::ticket_service_client::TicketServiceClient;
use tonic::Status;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Client = TicketServiceClient<InterceptedService<Channel, CallAs>>;
pub type CustomersClient =
    cpb::customer_service_client::CustomerServiceClient<InterceptedService<Channel, CallAs>>;

pub struct App {
    pub tickets: TestServer,
    pub customers: Option<TestServer>,
    /// The tickets service's clock: it moves only when a test moves it.
    pub clock: Clock,
}

/// Customers and tickets on one backend, trusting the same key; tickets on a manual clock.
pub async fn spawn(backend: Backend) -> Option<App> {
    let key = kefu_principal::InternalKey::generate();
    let customers = TestServer::service::<kefu_customers::Customers>(backend, &key, ())
        .await
        .expect("customers starts")?;
    let customers_url = format!("http://{}", customers.addr);
    let clock = Clock::manual_from_now();
    let tickets = start_tickets(backend, key, customers_url, clock.clone()).await?;
    Some(App {
        tickets,
        customers: Some(customers),
        clock,
    })
}

/// The tickets service on `backend`, the sweeper idle (tests run the jobs themselves).
pub async fn start_tickets(
    backend: Backend,
    key: kefu_principal::InternalKey,
    customers_url: String,
    clock: Clock,
) -> Option<TestServer> {
    let mut settings = kefu_tickets::Settings::new(customers_url);
    settings.sweep_interval = Duration::from_secs(3600);
    TestServer::service_with_clock::<kefu_tickets::Tickets>(backend, &key, clock, settings)
        .await
        .expect("tickets starts")
}

impl App {
    pub fn client(&self, principal: &Principal) -> Client {
        TicketServiceClient::with_interceptor(
            self.tickets.channel(),
            self.tickets.as_principal(principal),
        )
    }
    pub fn admin(&self) -> Client {
        self.client(&Principal::new("admin-1", Role::Admin))
    }
    pub fn agent(&self, id: &str) -> Client {
        self.client(&Principal::new(id, Role::Agent))
    }
    pub fn integration(&self) -> Client {
        self.client(&Principal::new("crm-sync", Role::Integration))
    }
    pub fn customer(&self, id: &str) -> Client {
        self.client(&Principal::customer(id))
    }

    pub fn customers_admin(&self) -> CustomersClient {
        let server = self.customers.as_ref().expect("customers runs");
        cpb::customer_service_client::CustomerServiceClient::with_interceptor(
            server.channel(),
            server.as_principal(&Principal::new("admin-1", Role::Admin)),
        )
    }

    /// Now, by the tickets service's clock.
    pub fn now(&self) -> i64 {
        self.clock.now_micros()
    }

    /// The tickets service's database.
    pub async fn db(&self) -> kefu_db::Database {
        kefu_db::Database::connect(&self.tickets.database.url)
            .await
            .expect("connect")
    }

    /// The service's operations on the same database and clock, for the background jobs.
    pub async fn ops(&self) -> kefu_tickets::ops::Tickets {
        let customers =
            kefu_server::customers::Customers::new("http://127.0.0.1:9").expect("a URL");
        let ctx = kefu_server::kit::Context::new(self.db().await, self.clock.clone());
        kefu_tickets::ops::Tickets::new(ctx, customers)
    }

    /// Creates a customer and returns its id.
    pub async fn customer_record(&self, name: &str, tier: common::Tier) -> String {
        self.customer_with(cpb::Customer {
            display_name: name.into(),
            tier: tier as i32,
            ..Default::default()
        })
        .await
    }

    /// Creates `customer` and returns its id.
    pub async fn customer_with(&self, customer: cpb::Customer) -> String {
        let created = self
            .customers_admin()
            .create_customer(cpb::CreateCustomerRequest {
                customer: Some(customer),
                request_id: String::new(),
            })
            .await
            .expect("create customer")
            .into_inner();
        created.name.trim_start_matches("customers/").to_owned()
    }
}

pub fn new_ticket(requester: &str, subject: &str) -> pb::Ticket {
    pb::Ticket {
        subject: subject.into(),
        description: format!("{subject}: details"),
        requester: format!("customers/{requester}"),
        channel: common::Channel::Email as i32,
        ..Default::default()
    }
}

pub async fn create(client: &mut Client, ticket: pb::Ticket) -> pb::Ticket {
    client
        .create_ticket(pb::CreateTicketRequest {
            ticket: Some(ticket),
            request_id: String::new(),
        })
        .await
        .expect("create ticket")
        .into_inner()
}

pub async fn group(client: &mut Client, name: &str) -> pb::Group {
    client
        .create_group(pb::CreateGroupRequest {
            request_id: String::new(),
            group: Some(pb::Group {
                display_name: name.into(),
                ..Default::default()
            }),
        })
        .await
        .expect("create group")
        .into_inner()
}

/// An active agent with this principal id, member of `groups`.
pub async fn agent(client: &mut Client, id: &str, groups: &[&pb::Group]) -> pb::Agent {
    let mut agent = client
        .create_agent(pb::CreateAgentRequest {
            request_id: String::new(),
            agent: Some(pb::Agent {
                display_name: id.into(),
                email: format!("{id}@example.com"),
                active: true,
                ..Default::default()
            }),
            agent_id: id.into(),
        })
        .await
        .expect("create agent")
        .into_inner();
    for group in groups {
        agent = client
            .add_group_member(pb::AddGroupMemberRequest {
                group: group.name.clone(),
                agent: agent.name.clone(),
            })
            .await
            .expect("add member")
            .into_inner();
    }
    agent
}

pub async fn assign(
    client: &mut Client,
    ticket: &str,
    agent: &str,
    group: &str,
) -> Result<pb::Ticket, Status> {
    client
        .assign_ticket(pb::AssignTicketRequest {
            request_id: String::new(),
            name: ticket.into(),
            assignee: agent.into(),
            group: group.into(),
            etag: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

pub async fn comment(
    client: &mut Client,
    ticket: &str,
    body: &str,
    public: bool,
) -> Result<pb::Comment, Status> {
    client
        .create_comment(pb::CreateCommentRequest {
            request_id: String::new(),
            parent: ticket.into(),
            comment: Some(pb::Comment {
                body: body.into(),
                public,
                ..Default::default()
            }),
        })
        .await
        .map(tonic::Response::into_inner)
}

pub async fn get(client: &mut Client, name: &str) -> pb::Ticket {
    client
        .get_ticket(pb::GetTicketRequest { name: name.into() })
        .await
        .expect("get ticket")
        .into_inner()
}

pub fn status(ticket: &pb::Ticket) -> pb::TicketStatus {
    pb::TicketStatus::try_from(ticket.status).unwrap()
}

pub fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

pub fn micros(t: Option<&prost_types::Timestamp>) -> i64 {
    let t = t.expect("timestamp set");
    t.seconds * 1_000_000 + i64::from(t.nanos / 1000)
}

pub use kefu_testkit::assert_status;

/// A new group routing by `method`.
pub async fn routed_group(admin: &mut Client, name: &str, method: pb::RoutingMethod) -> pb::Group {
    let created = group(admin, name).await;
    admin
        .update_group(pb::UpdateGroupRequest {
            group: Some(pb::Group {
                name: created.name.clone(),
                routing: method as i32,
                ..Default::default()
            }),
            update_mask: mask(&["routing"]),
            etag: created.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Sets an agent's capacity.
pub async fn set_capacity(admin: &mut Client, agent: &str, capacity: i32) {
    admin
        .update_agent(pb::UpdateAgentRequest {
            agent: Some(pb::Agent {
                name: format!("agents/{agent}"),
                capacity,
                ..Default::default()
            }),
            update_mask: mask(&["capacity"]),
            etag: String::new(),
        })
        .await
        .unwrap();
}

/// Sets an agent's availability as `client`.
pub async fn availability(
    client: &mut Client,
    agent: &str,
    availability: pb::AgentAvailability,
) -> Result<pb::Agent, tonic::Status> {
    client
        .set_agent_availability(pb::SetAgentAvailabilityRequest {
            name: format!("agents/{agent}"),
            availability: availability as i32,
        })
        .await
        .map(tonic::Response::into_inner)
}

/// How routing gave `ticket` its assignee, as the audit trail says; empty when it did not.
pub async fn routed_how(client: &mut Client, ticket: &str) -> String {
    audited(client, ticket, "assignee")
        .await
        .into_iter()
        .filter(|(via, _)| via == "Routing")
        .map(|(_, value)| value)
        .next_back()
        .unwrap_or_default()
}

/// Every new value the audit trail of `ticket` records for `field`, oldest first, with who set it.
pub async fn audited(client: &mut Client, ticket: &str, field: &str) -> Vec<(String, String)> {
    let audits = client
        .list_ticket_audits(pb::ListTicketAuditsRequest {
            parent: ticket.to_owned(),
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .audits;
    audits
        .iter()
        .flat_map(|a| a.changes.iter().map(move |c| (a, c)))
        .filter(|(_, c)| c.field == field)
        .map(|(a, c)| (a.via.clone(), c.new_value.clone()))
        .collect()
}

/// A new ticket for `group`.
pub fn in_group(requester: &str, subject: &str, group: &pb::Group) -> pb::Ticket {
    pb::Ticket {
        group: group.name.clone(),
        ..new_ticket(requester, subject)
    }
}

/// Sets an agent's ticket scope.
pub async fn set_scope(admin: &mut Client, agent: &str, scope: pb::TicketScope) -> pb::Agent {
    admin
        .update_agent(pb::UpdateAgentRequest {
            agent: Some(pb::Agent {
                name: format!("agents/{agent}"),
                ticket_scope: scope as i32,
                ..Default::default()
            }),
            update_mask: mask(&["ticket_scope"]),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// The first `count` events of `kind` on the stream, from its start.
pub async fn events_of(app: &App, kind: pb::EventType, count: usize) -> Vec<pb::Event> {
    let mut stream = app
        .integration()
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut seen = Vec::new();
    while seen.len() < count {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), stream.message())
            .await
            .expect("event in time")
            .unwrap()
            .unwrap()
            .event
            .unwrap();
        if event.r#type == kind as i32 {
            seen.push(event);
        }
    }
    seen
}

/// A new SLA policy.
pub async fn create_policy(admin: &mut Client, policy: pb::SlaPolicy) -> pb::SlaPolicy {
    admin
        .create_sla_policy(pb::CreateSlaPolicyRequest {
            request_id: String::new(),
            sla_policy: Some(policy),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Deletes (or archives) an SLA policy.
pub async fn delete_policy(admin: &mut Client, name: &str) {
    admin
        .delete_sla_policy(pb::DeleteSlaPolicyRequest {
            name: name.into(),
            etag: String::new(),
        })
        .await
        .unwrap();
}

/// Defines a ticket field.
pub async fn define_field(
    admin: &mut Client,
    id: &str,
    field_type: pb::TicketFieldType,
    options: &[&str],
    required_to_solve: bool,
) -> Result<pb::TicketField, tonic::Status> {
    admin
        .create_ticket_field(pb::CreateTicketFieldRequest {
            ticket_field_id: id.into(),
            ticket_field: Some(pb::TicketField {
                display_name: id.replace('_', " "),
                r#type: field_type as i32,
                options: options.iter().map(|o| (*o).to_owned()).collect(),
                required_to_solve,
                ..Default::default()
            }),
        })
        .await
        .map(tonic::Response::into_inner)
}
