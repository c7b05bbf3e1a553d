//! The tickets service, as automation uses it: the ticket an event is about, the comment it
//! added, whether its actor is an agent, and the actions triggers apply, each sent as the
//! trigger's principal with a request id derived from the firing.

use std::time::Duration;

use kefu_principal::InternalKey;
use kefu_proto::tickets::v1 as pb;
use kefu_server::outgoing::Caller;
use kefu_server::remote::{self, dependency_error, is_retryable};
use kefu_server::status::reason_of;
use kefu_server::{ConfigError, ServiceError};
use tonic::Code;
use tonic::transport::Channel;

use crate::domain::evaluate::TicketFacts;
use crate::domain::firing::request_id;
use crate::domain::trigger::{Action, SetTarget};

/// The generated client of the service.
pub type Client = pb::ticket_service_client::TicketServiceClient<Channel>;

/// The cursor source name of the tickets event stream.
pub const SOURCE: &str = "tickets";
/// Longest a call to the tickets service may take.
const CALL_CAP: Duration = Duration::from_secs(5);
/// How long the principal of one request stays valid.
const REQUEST_PRINCIPAL_TTL: Duration = Duration::from_secs(300);
/// Comments read per page when looking for the one an event added.
const COMMENT_PAGE: i32 = 1000;

/// How applying an action went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// The service refused it; trying again would not help.
    Refused(String),
    /// It could not take it now; try again later.
    Unavailable(String),
}

impl ApplyError {
    /// A failed call's status as an outcome: retryable or refused for good.
    pub fn of(status: &tonic::Status) -> Self {
        let detail = format!("{:?}: {}", status.code(), status.message());
        if is_retryable(status) {
            Self::Unavailable(detail)
        } else {
            Self::Refused(detail)
        }
    }
}

/// In whose name an action goes to the tickets service.
#[derive(Debug, Clone, Copy)]
pub enum Acting<'a> {
    /// A principal this service signs for: a rule's, or its own.
    Signed(&'a str),
    /// The caller of this service, whose signed principal is passed on: the agent applying a
    /// macro, so the tickets service checks the agent's own rights and audits the agent.
    Forwarded(&'a Caller),
}

/// A lazily connected client of the tickets service.
#[derive(Debug, Clone)]
pub struct Tickets {
    client: Client,
    key: InternalKey,
}

impl Tickets {
    /// A client for `url` (`KEFU_TICKETS_URL`), signing its own requests with `key`.
    pub fn new(url: &str, key: InternalKey) -> Result<Self, ConfigError> {
        Ok(Self {
            client: Client::new(remote::channel("KEFU_TICKETS_URL", url)?),
            key,
        })
    }

    /// The generated client, whose `WatchEvents` the service follows.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    fn signed<T>(&self, principal_id: &str, message: T) -> tonic::Request<T> {
        let mut request =
            remote::as_service(&self.key, principal_id, REQUEST_PRINCIPAL_TTL, message);
        request.set_timeout(CALL_CAP);
        request
    }

    fn request<T>(&self, acting: Acting<'_>, message: T) -> tonic::Request<T> {
        match acting {
            Acting::Signed(principal_id) => self.signed(principal_id, message),
            Acting::Forwarded(caller) => caller.request(message, CALL_CAP),
        }
    }

    /// The ticket as the service sees it; `None` when it is gone.
    pub async fn ticket(&self, id: &str) -> Result<Option<pb::Ticket>, ServiceError> {
        let name = format!("tickets/{id}");
        let request = self.signed(
            crate::ops::SERVICE_ACTOR,
            pb::GetTicketRequest { name: name.clone() },
        );
        match self.client.clone().get_ticket(request).await {
            Ok(answer) => Ok(Some(answer.into_inner())),
            Err(status) if status.code() == Code::NotFound => Ok(None),
            Err(status) => Err(dependency_error("tickets", &name, &status)),
        }
    }

    /// The ticket as `caller` may read it (a dry run reads within the caller's scope).
    pub async fn ticket_as(&self, caller: &Caller, id: &str) -> Result<pb::Ticket, ServiceError> {
        let name = format!("tickets/{id}");
        let request = caller.request(pb::GetTicketRequest { name: name.clone() }, CALL_CAP);
        self.client
            .clone()
            .get_ticket(request)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| dependency_error("tickets", &name, &status))
    }

    /// The comment `name` (`tickets/{t}/comments/{c}`) of ticket `ticket_id`, if it still exists.
    pub async fn comment(
        &self,
        ticket_id: &str,
        name: &str,
    ) -> Result<Option<pb::Comment>, ServiceError> {
        let parent = format!("tickets/{ticket_id}");
        let mut page_token = String::new();
        loop {
            let request = self.signed(
                crate::ops::SERVICE_ACTOR,
                pb::ListCommentsRequest {
                    parent: parent.clone(),
                    page_size: COMMENT_PAGE,
                    page_token: page_token.clone(),
                },
            );
            let page = match self.client.clone().list_comments(request).await {
                Ok(answer) => answer.into_inner(),
                Err(status) if status.code() == Code::NotFound => return Ok(None),
                Err(status) => return Err(dependency_error("tickets", &parent, &status)),
            };
            if let Some(found) = page.comments.into_iter().find(|c| c.name == name) {
                return Ok(Some(found));
            }
            if page.next_page_token.is_empty() {
                return Ok(None);
            }
            page_token = page.next_page_token;
        }
    }

    /// Whether principal `actor_id` is an agent of the tickets service.
    pub async fn is_agent(&self, actor_id: &str) -> Result<bool, ServiceError> {
        let name = format!("agents/{actor_id}");
        let request = self.signed(
            crate::ops::SERVICE_ACTOR,
            pb::GetAgentRequest { name: name.clone() },
        );
        match self.client.clone().get_agent(request).await {
            Ok(_) => Ok(true),
            Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
                Ok(false)
            }
            Err(status) => Err(dependency_error("tickets", &name, &status)),
        }
    }

    /// Applies one step of firing `firing_id`, starting at action `index`, to ticket
    /// `ticket_id` as `acting`: a run of field changes goes as one UpdateTicket (one
    /// change, one event), any other action alone. A step already applied by an earlier attempt
    /// (its request id was used) counts as applied, and so does one the ticket already satisfies.
    pub async fn apply(
        &self,
        acting: Acting<'_>,
        firing_id: &str,
        index: usize,
        ticket_id: &str,
        step: &[Action],
    ) -> Result<(), ApplyError> {
        let request_id = request_id(firing_id, index);
        let name = format!("tickets/{ticket_id}");
        let mut client = self.client.clone();
        let Some(action) = step.first() else {
            return Ok(());
        };
        let result = match action {
            Action::Reply { body, public } => {
                let message = pb::CreateCommentRequest {
                    parent: name,
                    comment: Some(pb::Comment {
                        body: body.clone(),
                        public: *public,
                        ..Default::default()
                    }),
                    request_id,
                };
                client
                    .create_comment(self.request(acting, message))
                    .await
                    .map(drop)
            }
            Action::FollowUp {
                subject,
                description,
                group,
                tags,
            } => {
                let current = self.current(ticket_id).await?;
                let message = pb::CreateTicketRequest {
                    ticket: Some(pb::Ticket {
                        subject: subject.clone(),
                        description: description.clone(),
                        requester: current.requester,
                        channel: current.channel,
                        group: group.clone(),
                        tags: tags.clone(),
                        follow_up_of: name,
                        ..Default::default()
                    }),
                    request_id,
                };
                client
                    .create_ticket(self.request(acting, message))
                    .await
                    .map(drop)
            }
            Action::SetField {
                target: target @ (SetTarget::Group | SetTarget::Assignee),
                value,
            } => {
                let mut message = pb::AssignTicketRequest {
                    name,
                    request_id,
                    ..Default::default()
                };
                if *target == SetTarget::Group {
                    message.group.clone_from(value);
                } else {
                    message.assignee.clone_from(value);
                }
                client
                    .assign_ticket(self.request(acting, message))
                    .await
                    .map(drop)
            }
            Action::SetField {
                target: SetTarget::Status,
                value,
            } => {
                let current = self.current(ticket_id).await?;
                if status_name(current.status) == value.as_str() {
                    return Ok(());
                }
                match value.as_str() {
                    "PENDING" => client
                        .set_ticket_pending(self.request(
                            acting,
                            pb::SetTicketPendingRequest {
                                name,
                                etag: String::new(),
                                request_id,
                            },
                        ))
                        .await
                        .map(drop),
                    "ON_HOLD" => client
                        .set_ticket_on_hold(self.request(
                            acting,
                            pb::SetTicketOnHoldRequest {
                                name,
                                etag: String::new(),
                                request_id,
                            },
                        ))
                        .await
                        .map(drop),
                    _ => client
                        .solve_ticket(self.request(
                            acting,
                            pb::SolveTicketRequest {
                                name,
                                etag: String::new(),
                                request_id,
                            },
                        ))
                        .await
                        .map(drop),
                }
            }
            Action::UpdateRequester(_) => {
                return Err(ApplyError::Refused(
                    "a change to the requester goes to the customers service".to_owned(),
                ));
            }
            Action::ApplyMacro(id) => {
                return Err(ApplyError::Refused(format!(
                    "macros/{id} was not replaced by its actions when the rule matched"
                )));
            }
            _ => {
                let current = self.current(ticket_id).await?;
                let mut ticket = current.clone();
                let mut paths: Vec<String> = Vec::new();
                for change in step {
                    if let Some(path) = change_field(&mut ticket, change)
                        && !paths.iter().any(|p| p == path)
                    {
                        paths.push(path.to_owned());
                    }
                }
                if paths.is_empty() {
                    return Ok(());
                }
                let message = pb::UpdateTicketRequest {
                    ticket: Some(ticket),
                    update_mask: Some(prost_types::FieldMask { paths }),
                    etag: current.etag.clone(),
                    request_id,
                };
                client
                    .update_ticket(self.request(acting, message))
                    .await
                    .map(drop)
            }
        };
        match result {
            Ok(()) => Ok(()),
            Err(status)
                if status.code() == Code::AlreadyExists
                    && reason_of(&status).as_deref() == Some("REQUEST_ID_REUSED") =>
            {
                Ok(())
            }
            Err(status) => Err(ApplyError::of(&status)),
        }
    }

    async fn current(&self, ticket_id: &str) -> Result<pb::Ticket, ApplyError> {
        let name = format!("tickets/{ticket_id}");
        let request = self.signed(crate::ops::SERVICE_ACTOR, pb::GetTicketRequest { name });
        self.client
            .clone()
            .get_ticket(request)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| ApplyError::of(&status))
    }
}

/// Makes the change `action` asks of `ticket` (the UpdateTicket fields); answers its mask path,
/// or `None` when the ticket already is as the action would leave it.
fn change_field(ticket: &mut pb::Ticket, action: &Action) -> Option<&'static str> {
    match action {
        Action::AddTags(tags) => {
            let before = ticket.tags.len();
            for tag in tags {
                if !ticket.tags.contains(tag) {
                    ticket.tags.push(tag.clone());
                }
            }
            (ticket.tags.len() != before).then_some("tags")
        }
        Action::RemoveTags(tags) => {
            let before = ticket.tags.len();
            ticket.tags.retain(|t| !tags.contains(t));
            (ticket.tags.len() != before).then_some("tags")
        }
        Action::SetField {
            target: SetTarget::Priority,
            value,
        } => {
            let priority =
                pb::TicketPriority::from_str_name(&format!("TICKET_PRIORITY_{value}"))? as i32;
            (std::mem::replace(&mut ticket.priority, priority) != priority).then_some("priority")
        }
        Action::SetField {
            target: SetTarget::Type,
            value,
        } => {
            let kind = pb::TicketType::from_str_name(&format!("TICKET_TYPE_{value}"))? as i32;
            (std::mem::replace(&mut ticket.r#type, kind) != kind).then_some("type")
        }
        Action::SetField {
            target: SetTarget::Category,
            value,
        } => {
            (std::mem::replace(&mut ticket.category, value.clone()) != *value).then_some("category")
        }
        Action::SetField {
            target: SetTarget::CustomField(key),
            value,
        } => {
            let changed = if value.is_empty() {
                ticket.custom_fields.remove(key).is_some()
            } else {
                ticket
                    .custom_fields
                    .insert(key.clone(), value.clone())
                    .as_ref()
                    != Some(value)
            };
            changed.then_some("custom_fields")
        }
        Action::SetField { .. }
        | Action::Reply { .. }
        | Action::FollowUp { .. }
        | Action::UpdateRequester(_)
        | Action::ApplyMacro(_) => None,
    }
}

fn status_name(number: i32) -> &'static str {
    pb::TicketStatus::try_from(number)
        .unwrap_or_default()
        .as_str_name()
        .trim_start_matches("TICKET_STATUS_")
}

fn enum_name<'a>(name: &'a str, prefix: &str) -> &'a str {
    if name.ends_with("_UNSPECIFIED") {
        ""
    } else {
        name.strip_prefix(prefix).unwrap_or(name)
    }
}

/// What the evaluator reads of a ticket.
pub fn facts(ticket: &pb::Ticket) -> TicketFacts {
    let snapshot = ticket.requester_snapshot.clone().unwrap_or_default();
    let sla = ticket.sla.clone().unwrap_or_default();
    let first_response = sla.first_response.clone();
    let sla_due_time = [sla.first_response, sla.next_response, sla.resolution]
        .into_iter()
        .flatten()
        .filter(|target| target.achieve_time.is_none())
        .filter_map(|target| {
            target
                .due_time
                .as_ref()
                .and_then(kefu_server::time::micros_of)
        })
        .min();
    let first_response_due = first_response
        .as_ref()
        .filter(|target| target.achieve_time.is_none())
        .and_then(|target| target.due_time.as_ref())
        .and_then(kefu_server::time::micros_of);
    TicketFacts {
        id: ticket.name.trim_start_matches("tickets/").to_owned(),
        subject: ticket.subject.clone(),
        description: ticket.description.clone(),
        status: status_name(ticket.status).to_owned(),
        priority: enum_name(
            pb::TicketPriority::try_from(ticket.priority)
                .unwrap_or_default()
                .as_str_name(),
            "TICKET_PRIORITY_",
        )
        .to_owned(),
        ticket_type: enum_name(
            pb::TicketType::try_from(ticket.r#type)
                .unwrap_or_default()
                .as_str_name(),
            "TICKET_TYPE_",
        )
        .to_owned(),
        channel: enum_name(
            kefu_proto::common::v1::Channel::try_from(ticket.channel)
                .unwrap_or_default()
                .as_str_name(),
            "CHANNEL_",
        )
        .to_owned(),
        group: ticket.group.clone(),
        assignee: ticket.assignee.clone(),
        category: ticket.category.clone(),
        organization: ticket.organization.clone(),
        requester: ticket.requester.trim_start_matches("customers/").to_owned(),
        requester_name: snapshot.display_name,
        requester_tier: enum_name(
            kefu_proto::common::v1::Tier::try_from(snapshot.tier)
                .unwrap_or_default()
                .as_str_name(),
            "TIER_",
        )
        .to_owned(),
        tags: ticket.tags.clone(),
        custom_fields: ticket.custom_fields.clone().into_iter().collect(),
        sla_due_time,
        first_response_due,
        // The customers service knows these; see `Automation::facts_for`.
        requester_locale: String::new(),
        requester_time_zone: String::new(),
    }
}
