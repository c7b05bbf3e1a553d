//! Clients of the platform, through the gateway, as one principal.

use kefu_principal::Principal;
use kefu_proto::automation::v1::automation_service_client::AutomationServiceClient;
use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as cpb;
use kefu_proto::tickets::v1 as tpb;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::{Bearer, Platform, StartError};

/// A channel to the gateway carrying one API key.
pub type Authed = InterceptedService<Channel, Bearer>;

/// The customers, tickets and automation APIs as one principal.
#[derive(Clone)]
pub struct Clients {
    /// `kefu.customers.v1.CustomerService`.
    pub customers: cpb::customer_service_client::CustomerServiceClient<Authed>,
    /// `kefu.tickets.v1.TicketService`.
    pub tickets: tpb::ticket_service_client::TicketServiceClient<Authed>,
    /// `kefu.automation.v1.AutomationService`.
    pub automation: AutomationServiceClient<Authed>,
}

impl Clients {
    /// Clients calling the gateway of `platform` with a new API key of `principal`.
    pub async fn new(platform: &Platform, principal: &Principal) -> Result<Self, StartError> {
        let key = platform.key(principal).await?;
        let channel = platform.channel().await?;
        let bearer = Bearer::new(&key)?;
        Ok(Self {
            customers: cpb::customer_service_client::CustomerServiceClient::with_interceptor(
                channel.clone(),
                bearer.clone(),
            ),
            tickets: tpb::ticket_service_client::TicketServiceClient::with_interceptor(
                channel.clone(),
                bearer.clone(),
            ),
            automation: AutomationServiceClient::with_interceptor(channel, bearer),
        })
    }

    /// A VIP customer named `name` and a web ticket of theirs.
    pub async fn vip_ticket(
        &mut self,
        name: &str,
        subject: &str,
        description: &str,
    ) -> Result<(cpb::Customer, tpb::Ticket), tonic::Status> {
        let customer = self
            .customers
            .create_customer(cpb::CreateCustomerRequest {
                customer: Some(cpb::Customer {
                    display_name: name.into(),
                    tier: common::Tier::Vip as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await?
            .into_inner();
        let ticket = self
            .tickets
            .create_ticket(tpb::CreateTicketRequest {
                ticket: Some(tpb::Ticket {
                    subject: subject.into(),
                    description: description.into(),
                    requester: customer.name.clone(),
                    channel: common::Channel::Web as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await?
            .into_inner();
        Ok((customer, ticket))
    }

    /// Agent `agent_id` (`agents/{agent_id}`), active with room for 10 tickets.
    pub async fn agent(&mut self, agent_id: &str, name: &str) -> Result<(), tonic::Status> {
        self.tickets
            .create_agent(tpb::CreateAgentRequest {
                agent: Some(tpb::Agent {
                    display_name: name.into(),
                    email: format!("{agent_id}@example.com"),
                    active: true,
                    capacity: 10,
                    ..Default::default()
                }),
                agent_id: agent_id.into(),
                request_id: String::new(),
            })
            .await
            .map(drop)
    }
}
