//! The tickets service's side of the customers service: looking a requester up on create (with
//! the caller's principal, deadline and trace), and following its event stream to anonymize the
//! tickets of erased customers.

use std::time::Duration;

use kefu_principal::InternalKey;
use kefu_proto::customers::v1 as customers_pb;
use kefu_server::outgoing;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};

use crate::error::TicketsError;
use crate::ops::{Requester, Tickets};

type Client = customers_pb::customer_service_client::CustomerServiceClient<Channel>;

/// The cursor source name of the customers event stream.
pub const SOURCE: &str = "customers";
/// Longest a lookup may take, whatever the caller's deadline.
pub const LOOKUP_CAP: Duration = Duration::from_secs(5);
/// How long the principal of an event stream request stays valid (the stream itself may run longer).
const STREAM_PRINCIPAL_TTL: Duration = Duration::from_secs(24 * 3600);

/// A lazily connected client of the customers service.
#[derive(Debug, Clone)]
pub struct Customers {
    client: Client,
}

impl Customers {
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

    /// Reads the requester as the caller, within the caller's deadline.
    pub async fn lookup<U>(
        &self,
        incoming: &Request<U>,
        customer_id: &str,
    ) -> Result<Requester, TicketsError> {
        let request = outgoing::forward(
            incoming,
            customers_pb::GetCustomerRequest {
                name: format!("customers/{customer_id}"),
            },
            LOOKUP_CAP,
        );
        let customer = self
            .client
            .clone()
            .get_customer(request)
            .await
            .map_err(|status| lookup_error(customer_id, &status))?
            .into_inner();
        if customer.erase_time.is_some() {
            return Err(TicketsError::FailedPrecondition(format!(
                "customers/{customer_id} was erased"
            )));
        }
        if !customer.merged_into.is_empty() {
            return Err(TicketsError::FailedPrecondition(format!(
                "customers/{customer_id} was merged into {}: use that customer",
                customer.merged_into
            )));
        }
        let tier = customers_pb::Tier::try_from(customer.tier)
            .ok()
            .and_then(|t| t.as_str_name().strip_prefix("TIER_"))
            .filter(|t| *t != "UNSPECIFIED")
            .unwrap_or("STANDARD")
            .to_owned();
        Ok(Requester {
            id: customer_id.to_owned(),
            display_name: customer.display_name,
            tier,
            organization_id: customer
                .organization
                .strip_prefix("organizations/")
                .map(str::to_owned),
        })
    }

    /// Follows the customers event stream from the stored cursor until `stop`, anonymizing the
    /// tickets of each erased customer in the same transaction that stores the new cursor.
    /// Reconnects with a backoff when the customers service is down.
    pub async fn follow_erasures(
        self,
        tickets: Tickets,
        key: InternalKey,
        stop: CancellationToken,
    ) {
        let inner_stop = stop.clone();
        kefu_server::events::follow_with_retry("customers", stop, || {
            self.follow_once(&tickets, &key, &inner_stop)
        })
        .await;
    }

    async fn follow_once(
        &self,
        tickets: &Tickets,
        key: &InternalKey,
        stop: &CancellationToken,
    ) -> Result<(), String> {
        let cursor = tickets
            .cursor(SOURCE)
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let request = kefu_server::events::as_service(
            key,
            crate::SERVICE,
            STREAM_PRINCIPAL_TTL,
            customers_pb::WatchEventsRequest {
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
            let erased = event.r#type == customers_pb::EventType::CustomerErased as i32;
            let customer_id = erased
                .then(|| event.customer.strip_prefix("customers/"))
                .flatten();
            tickets
                .requester_erased(customer_id, SOURCE, &event.cursor)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .await
    }
}

fn lookup_error(customer_id: &str, status: &Status) -> TicketsError {
    match status.code() {
        Code::NotFound => TicketsError::NotFound(format!("customers/{customer_id}")),
        Code::PermissionDenied => TicketsError::PermissionDenied(format!(
            "the caller may not read customers/{customer_id}"
        )),
        Code::DeadlineExceeded => TicketsError::Dependency {
            service: "customers",
            detail: "no answer before the deadline".to_owned(),
            deadline: true,
        },
        code => TicketsError::Dependency {
            service: "customers",
            detail: format!("lookup failed with {code:?}"),
            deadline: false,
        },
    }
}
