//! The feedback service's side of the tickets service: following its event stream (solves make
//! CSAT surveys, complaint tickets move complaints), opening follow-up and complaint tickets, and
//! checking a ticket a customer's feedback is about.

use std::time::Duration;

use kefu_principal::InternalKey;
use kefu_proto::tickets::v1 as tickets_pb;
use kefu_server::outgoing;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request};

use crate::domain::records::FollowUpRecord;
use crate::error::FeedbackError;
use crate::ops::Feedback;
use crate::remote::{dependency_error, service_request};

type Client = tickets_pb::ticket_service_client::TicketServiceClient<Channel>;

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
    /// A client for `url` (`http://host:port`); connects on first use.
    pub fn new(url: &str) -> Result<Self, tonic::transport::Error> {
        let channel = Endpoint::from_shared(url.to_owned())?
            .connect_timeout(Duration::from_secs(2))
            .tcp_nodelay(true)
            .connect_lazy();
        Ok(Self {
            client: Client::new(channel),
        })
    }

    /// Checks, as the caller, that `tickets/{ticket_id}` exists, is visible to the caller, and
    /// belongs to `customer_id`.
    pub async fn check_ticket<U>(
        &self,
        incoming: &Request<U>,
        ticket_id: &str,
        customer_id: &str,
    ) -> Result<(), FeedbackError> {
        let name = format!("tickets/{ticket_id}");
        let request = outgoing::forward(
            incoming,
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
            return Err(FeedbackError::FailedPrecondition(format!(
                "{name} is not a ticket of customers/{customer_id}"
            )));
        }
        Ok(())
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
            r#type: r.ticket_type,
            priority: r.priority,
            group: r.group.clone(),
            follow_up_of: if r.follow_up_of.is_empty() {
                String::new()
            } else {
                format!("tickets/{}", r.follow_up_of)
            },
            tags: r.tags.clone(),
            ..Default::default()
        };
        let request = service_request(
            key,
            tickets_pb::CreateTicketRequest {
                ticket: Some(ticket),
                request_id: format!("feedback-{}", follow_up.id),
            },
            CALL_CAP,
        )
        .map_err(OpenError::Unavailable)?;
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
                match status.code() {
                    Code::InvalidArgument
                    | Code::NotFound
                    | Code::FailedPrecondition
                    | Code::PermissionDenied
                    | Code::AlreadyExists
                    | Code::Unimplemented => Err(OpenError::Refused(detail)),
                    _ => Err(OpenError::Unavailable(detail)),
                }
            }
        }
    }

    /// Follows the tickets event stream from the stored cursor until `stop`; each event is
    /// handled in the transaction that stores the cursor after it. Reconnects with a backoff when
    /// the tickets service is down.
    pub async fn follow_events(
        self,
        feedback: Feedback,
        key: InternalKey,
        stop: CancellationToken,
    ) {
        let inner_stop = stop.clone();
        kefu_server::events::follow_with_retry(SOURCE, stop, || {
            self.follow_once(&feedback, &key, &inner_stop)
        })
        .await;
    }

    async fn follow_once(
        &self,
        feedback: &Feedback,
        key: &InternalKey,
        stop: &CancellationToken,
    ) -> Result<(), String> {
        let cursor = feedback
            .cursor(SOURCE)
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let request = kefu_server::events::as_service(
            key,
            crate::SERVICE,
            crate::remote::STREAM_PRINCIPAL_TTL,
            tickets_pb::WatchEventsRequest {
                after_cursor: cursor,
            },
        )?;
        let stream = self
            .client
            .clone()
            .watch_events(request)
            .await
            .map_err(|s| s.message().to_owned())?
            .into_inner();
        kefu_server::events::consume(stream, stop, |message| async move {
            let Some(event) = message.event else {
                return Ok(());
            };
            feedback
                .ticket_event(&event, SOURCE, &event.cursor)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .await
    }
}
