//! The tickets service, as feedback uses it: opening follow-up and complaint tickets, checking a
//! ticket a customer's feedback is about, and the event stream (solves make CSAT surveys,
//! complaint tickets move complaints).

use std::time::Duration;

use kefu_principal::InternalKey;
use kefu_proto::tickets::v1 as tickets_pb;
use kefu_server::outgoing::Caller;
use kefu_server::remote::{self, dependency_error, is_retryable};
use kefu_server::{ConfigError, ServiceError};
use tonic::transport::Channel;

use crate::domain::access::TicketScope;
use crate::domain::records::FollowUpRecord;

/// How long the principal of a follow-up request stays valid.
const REQUEST_PRINCIPAL_TTL: Duration = Duration::from_secs(300);

/// The generated client of the service.
pub type Client = tickets_pb::ticket_service_client::TicketServiceClient<Channel>;

/// The cursor source name of the tickets event stream.
pub const SOURCE: &str = "tickets";
/// Longest a call to the tickets service may take, whatever the caller's deadline.
pub const CALL_CAP: Duration = Duration::from_secs(5);

/// How opening a ticket went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// The tickets service refused the ticket; trying again would not help.
    Refused(String),
    /// The tickets service could not take it now; try again later.
    Unavailable(String),
}

/// A ticket the tickets service opened (or, for a retried request id, had opened) for a follow-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedTicket {
    /// `tickets/{ticket}`.
    pub name: String,
    /// Its status enum name now: a retry after a long outage may find it already worked.
    pub status: String,
}

/// A lazily connected client of the tickets service.
#[derive(Debug, Clone)]
pub struct Tickets {
    client: Client,
}

impl Tickets {
    /// A client for `url` (`KEFU_TICKETS_URL`); connects on first use.
    pub fn new(url: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            client: Client::new(remote::channel("KEFU_TICKETS_URL", url)?),
        })
    }

    /// The ticket scope of agent `agent_id`, asked as that agent: ALL when the tickets service
    /// has no agent record for them (see the tickets service's contract).
    pub async fn scope_of(
        &self,
        caller: &Caller,
        agent_id: &str,
    ) -> Result<TicketScope, ServiceError> {
        let name = format!("agents/{agent_id}");
        let request = caller.request(tickets_pb::GetAgentRequest { name: name.clone() }, CALL_CAP);
        let agent = match self.client.clone().get_agent(request).await {
            Ok(answer) => answer.into_inner(),
            Err(status) if status.code() == tonic::Code::NotFound => return Ok(TicketScope::All),
            Err(status) => return Err(dependency_error("tickets", &name, &status)),
        };
        Ok(
            match tickets_pb::TicketScope::try_from(agent.ticket_scope) {
                Ok(tickets_pb::TicketScope::Groups) => TicketScope::Groups {
                    agent: name,
                    groups: agent.groups,
                },
                Ok(tickets_pb::TicketScope::Assigned) => TicketScope::Assigned(name),
                Ok(tickets_pb::TicketScope::All | tickets_pb::TicketScope::Unspecified) => {
                    TicketScope::All
                }
                // A scope newer than this service: see only what is surely theirs.
                Err(_) => TicketScope::Assigned(name),
            },
        )
    }

    /// Checks, as the caller, that `tickets/{ticket_id}` exists, is visible to the caller, and
    /// belongs to `customer_id`; answers the ticket's assignee and group names ("" for none).
    pub async fn check_ticket(
        &self,
        caller: &Caller,
        ticket_id: &str,
        customer_id: &str,
    ) -> Result<(String, String), ServiceError> {
        let name = format!("tickets/{ticket_id}");
        let request = caller.request(
            tickets_pb::GetTicketRequest { name: name.clone() },
            CALL_CAP,
        );
        let ticket = self
            .client
            .clone()
            .get_ticket(request)
            .await
            .map_err(|status| dependency_error("tickets", &name, &status))?
            .into_inner();
        if ticket.requester != format!("customers/{customer_id}") {
            return Err(ServiceError::FailedPrecondition(format!(
                "{name} is not a ticket of customers/{customer_id}"
            )));
        }
        Ok((ticket.assignee, ticket.group))
    }

    /// Opens the ticket a follow-up asks for, as the feedback service, with the follow-up's id as
    /// request id: a retry after a lost answer gets the same ticket back, never a second one.
    pub async fn open(
        &self,
        key: &InternalKey,
        follow_up: &FollowUpRecord,
    ) -> Result<OpenedTicket, OpenError> {
        let r = &follow_up.request;
        let ticket = tickets_pb::Ticket {
            subject: r.subject.clone(),
            description: r.description.clone(),
            requester: format!("customers/{}", r.requester),
            channel: r.channel,
            r#type: tickets_pb::TicketType::from_str_name(&format!(
                "TICKET_TYPE_{}",
                r.ticket_type
            ))
            .map_or(0, |t| t as i32),
            priority: tickets_pb::TicketPriority::from_str_name(&format!(
                "TICKET_PRIORITY_{}",
                r.priority
            ))
            .map_or(0, |p| p as i32),
            group: r.group.clone(),
            follow_up_of: if r.follow_up_of.is_empty() {
                String::new()
            } else {
                format!("tickets/{}", r.follow_up_of)
            },
            tags: r.tags.clone(),
            ..Default::default()
        };
        let mut request = remote::as_service(
            key,
            crate::ops::SERVICE_ACTOR,
            REQUEST_PRINCIPAL_TTL,
            tickets_pb::CreateTicketRequest {
                ticket: Some(ticket),
                request_id: format!("feedback-{}", follow_up.id),
            },
        );
        request.set_timeout(CALL_CAP);
        match self.client.clone().create_ticket(request).await {
            Ok(response) => {
                let ticket = response.into_inner();
                let status = tickets_pb::TicketStatus::try_from(ticket.status)
                    .unwrap_or(tickets_pb::TicketStatus::Unspecified)
                    .as_str_name()
                    .to_owned();
                Ok(OpenedTicket {
                    name: ticket.name,
                    status,
                })
            }
            Err(status) => {
                let detail = format!("{:?}: {}", status.code(), status.message());
                if is_retryable(&status) {
                    Err(OpenError::Unavailable(detail))
                } else {
                    Err(OpenError::Refused(detail))
                }
            }
        }
    }

    /// The generated client, whose `WatchEvents` the feedback service follows.
    pub fn client(&self) -> Client {
        self.client.clone()
    }
}
