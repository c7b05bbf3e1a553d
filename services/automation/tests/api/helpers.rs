use kefu_principal::{InternalKey, Principal, Role};
use kefu_proto::automation::v1 as pb;
use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as cpb;
use kefu_proto::tickets::v1 as tpb;
use kefu_server::Clock;
use kefu_testkit::{Backend, CallAs, TestServer};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub use kefu_testkit::{assert_status, eventually, eventually_showing};

pub type Client =
    pb::automation_service_client::AutomationServiceClient<InterceptedService<Channel, CallAs>>;
pub type TicketsClient =
    tpb::ticket_service_client::TicketServiceClient<InterceptedService<Channel, CallAs>>;
pub type CustomersClient =
    cpb::customer_service_client::CustomerServiceClient<InterceptedService<Channel, CallAs>>;

/// Customers, tickets and automation on one backend, trusting one key.
pub struct App {
    pub key: InternalKey,
    pub customers: TestServer,
    pub tickets: TestServer,
    pub automation: TestServer,
}

pub async fn spawn(backend: Backend) -> Option<App> {
    spawn_with_clock(backend, Clock::system()).await
}

/// Like [`spawn`], with tickets and automation on `clock` (a manual one lets a test move time).
pub async fn spawn_with_clock(backend: Backend, clock: Clock) -> Option<App> {
    spawn_with(backend, clock, |_| {}).await
}

/// Like [`spawn_with_clock`], with the automation settings changed by `adjust`.
pub async fn spawn_with(
    backend: Backend,
    clock: Clock,
    adjust: impl FnOnce(&mut kefu_automation::Settings),
) -> Option<App> {
    let key = InternalKey::generate();
    let customers = TestServer::service::<kefu_customers::Customers>(backend, &key, ())
        .await
        .expect("customers starts")?;
    let customers_url = format!("http://{}", customers.addr);
    let mut settings = kefu_tickets::Settings::new(&customers_url);
    settings.sweep_interval = std::time::Duration::from_secs(3600);
    let tickets = TestServer::service_with_clock::<kefu_tickets::Tickets>(
        backend,
        &key,
        clock.clone(),
        settings,
    )
    .await
    .expect("tickets starts")?;
    let mut settings = automation_settings(&tickets, &customers);
    adjust(&mut settings);
    let automation = TestServer::service_with_clock::<kefu_automation::AutomationService>(
        backend, &key, clock, settings,
    )
    .await
    .expect("automation starts")?;
    Some(App {
        key,
        customers,
        tickets,
        automation,
    })
}

pub fn automation_settings(
    tickets: &TestServer,
    customers: &TestServer,
) -> kefu_automation::Settings {
    let mut settings = kefu_automation::Settings::new(
        format!("http://{}", tickets.addr),
        format!("http://{}", customers.addr),
    );
    settings.check_interval = std::time::Duration::from_millis(50);
    settings
}

impl App {
    pub fn client_of(server: &TestServer, principal: &Principal) -> Client {
        pb::automation_service_client::AutomationServiceClient::with_interceptor(
            server.channel(),
            server.as_principal(principal),
        )
    }
    pub fn client(&self, principal: &Principal) -> Client {
        Self::client_of(&self.automation, principal)
    }
    pub fn admin(&self) -> Client {
        self.client(&Principal::new("admin-1", Role::Admin))
    }
    pub fn agent(&self) -> Client {
        self.client(&Principal::new("agent-1", Role::Agent))
    }
    pub fn tickets_admin(&self) -> TicketsClient {
        tpb::ticket_service_client::TicketServiceClient::with_interceptor(
            self.tickets.channel(),
            self.tickets
                .as_principal(&Principal::new("admin-1", Role::Admin)),
        )
    }

    pub fn customers_admin(&self) -> CustomersClient {
        cpb::customer_service_client::CustomerServiceClient::with_interceptor(
            self.customers.channel(),
            self.customers
                .as_principal(&Principal::new("admin-1", Role::Admin)),
        )
    }

    /// A customer of `tier`; returns its id.
    pub async fn customer(&self, name: &str, tier: common::Tier) -> String {
        self.customer_in(name, tier, "", "").await
    }

    /// A customer of `tier` reading `locale` in `time_zone`; returns its id.
    pub async fn customer_in(
        &self,
        name: &str,
        tier: common::Tier,
        locale: &str,
        time_zone: &str,
    ) -> String {
        let created = self
            .customers_admin()
            .create_customer(cpb::CreateCustomerRequest {
                customer: Some(cpb::Customer {
                    display_name: name.into(),
                    tier: tier as i32,
                    locale: locale.into(),
                    time_zone: time_zone.into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("create customer")
            .into_inner();
        created.name.trim_start_matches("customers/").to_owned()
    }

    /// A ticket of `customer` with this subject.
    pub async fn ticket(&self, customer: &str, subject: &str) -> tpb::Ticket {
        self.tickets_admin()
            .create_ticket(tpb::CreateTicketRequest {
                ticket: Some(tpb::Ticket {
                    subject: subject.into(),
                    description: "Please help".into(),
                    requester: format!("customers/{customer}"),
                    channel: common::Channel::Web as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("create ticket")
            .into_inner()
    }

    pub async fn get_ticket(&self, name: &str) -> tpb::Ticket {
        self.tickets_admin()
            .get_ticket(tpb::GetTicketRequest { name: name.into() })
            .await
            .expect("get ticket")
            .into_inner()
    }

    pub async fn comments(&self, ticket: &str) -> Vec<tpb::Comment> {
        self.tickets_admin()
            .list_comments(tpb::ListCommentsRequest {
                parent: ticket.into(),
                page_size: 100,
                page_token: String::new(),
            })
            .await
            .expect("list comments")
            .into_inner()
            .comments
    }

    pub async fn create_trigger(&self, trigger: pb::Trigger) -> pb::Trigger {
        self.admin()
            .create_trigger(pb::CreateTriggerRequest {
                trigger: Some(trigger),
                request_id: String::new(),
            })
            .await
            .expect("create trigger")
            .into_inner()
    }

    /// The firings of `ticket` by every trigger, newest first.
    pub async fn firings_of(&self, ticket: &str) -> Vec<pb::Firing> {
        self.admin()
            .list_firings(pb::ListFiringsRequest {
                parent: "triggers/-".into(),
                ticket: ticket.into(),
                page_size: 100,
                ..Default::default()
            })
            .await
            .expect("list firings")
            .into_inner()
            .firings
    }

    /// Waits for `ticket`'s one firing and asserts it FAILED for `reason`.
    pub async fn failed_firing(&self, ticket: &str, reason: &str) -> pb::Firing {
        let mut firings = self.settled_firings(ticket, 1).await;
        let firing = firings.remove(0);
        assert_eq!(firing.state, pb::FiringState::Failed as i32, "{firing:?}");
        assert!(
            firing.error.contains(reason),
            "not for {reason:?}: {firing:?}"
        );
        firing
    }

    /// Waits until `ticket` has `count` firings, none pending; newest first.
    pub async fn settled_firings(&self, ticket: &str, count: usize) -> Vec<pb::Firing> {
        eventually_showing(&format!("{count} settled firings of {ticket}"), || async {
            let firings = self.firings_of(ticket).await;
            let settled = firings
                .iter()
                .all(|f| f.state != pb::FiringState::Pending as i32);
            if firings.len() >= count && settled {
                Ok(firings)
            } else {
                Err(firings)
            }
        })
        .await
    }
}

pub fn condition(field: &str, operator: pb::Operator, value: &str) -> pb::Condition {
    pb::Condition {
        field: field.into(),
        operator: operator as i32,
        value: value.into(),
    }
}

pub fn set_field(field: &str, value: &str) -> pb::Action {
    pb::Action {
        action: Some(pb::action::Action::SetField(pb::SetField {
            field: field.into(),
            value: value.into(),
        })),
    }
}

pub fn add_tags(tags: &[&str]) -> pb::Action {
    pb::Action {
        action: Some(pb::action::Action::AddTags(pb::Tags {
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        })),
    }
}

pub fn remove_tags(tags: &[&str]) -> pb::Action {
    pb::Action {
        action: Some(pb::action::Action::RemoveTags(pb::Tags {
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        })),
    }
}

pub fn reply(body: &str, public: bool) -> pb::Action {
    pb::Action {
        action: Some(pb::action::Action::Reply(pb::Reply {
            body: body.into(),
            public,
        })),
    }
}

/// An active trigger on `events` doing `actions` when `all` hold.
pub fn trigger(
    name: &str,
    events: &[pb::TriggerEvent],
    all: Vec<pb::Condition>,
    actions: Vec<pb::Action>,
) -> pb::Trigger {
    pb::Trigger {
        display_name: name.into(),
        active: true,
        events: events.iter().map(|e| *e as i32).collect(),
        all_conditions: all,
        actions,
        ..Default::default()
    }
}

/// Switches macro `name` (at `etag`) off as `client`; the macro as it is then.
pub async fn switch_off_macro(client: &mut Client, name: &str, etag: &str) -> pb::Macro {
    client
        .update_macro(pb::UpdateMacroRequest {
            r#macro: Some(pb::Macro {
                name: name.into(),
                active: false,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["active".into()],
            }),
            etag: etag.into(),
        })
        .await
        .expect("switch the macro off")
        .into_inner()
}
