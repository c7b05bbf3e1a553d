//! The customers service, as tickets use it: looking a requester up on create (as the caller,
//! within the caller's deadline), and the customers event stream that reports erasures.

use std::time::Duration;

use kefu_proto::customers::v1 as customers_pb;
use kefu_server::common::Tier;
use kefu_server::outgoing::Caller;
use kefu_server::remote;
use kefu_server::{ConfigError, ServiceError};
use tonic::transport::Channel;

use crate::domain::ticket::Requester;

/// The generated client of the service.
pub type Client = customers_pb::customer_service_client::CustomerServiceClient<Channel>;

/// The cursor source name of the customers event stream.
pub const SOURCE: &str = "customers";
/// Longest a lookup may take, whatever the caller's deadline.
pub const LOOKUP_CAP: Duration = Duration::from_secs(5);

/// A lazily connected client of the customers service.
#[derive(Debug, Clone)]
pub struct Customers {
    client: Client,
}

impl Customers {
    /// A client for `url` (`KEFU_CUSTOMERS_URL`); connects on first use.
    pub fn new(url: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            client: Client::new(remote::channel("KEFU_CUSTOMERS_URL", url)?),
        })
    }

    /// Reads the requester as `caller`: NOT_FOUND for an unknown customer, FAILED_PRECONDITION
    /// for an erased or merged-away one, UNAVAILABLE when the customers service does not answer.
    pub async fn lookup(
        &self,
        caller: &Caller,
        customer_id: &str,
    ) -> Result<Requester, ServiceError> {
        let name = format!("customers/{customer_id}");
        let request = caller.request(
            customers_pb::GetCustomerRequest { name: name.clone() },
            LOOKUP_CAP,
        );
        let customer = self
            .client
            .clone()
            .get_customer(request)
            .await
            .map_err(|status| remote::dependency_error("customers", &name, &status))?
            .into_inner();
        if customer.erase_time.is_some() {
            return Err(ServiceError::FailedPrecondition(format!(
                "{name} was erased"
            )));
        }
        if !customer.merged_into.is_empty() {
            return Err(ServiceError::FailedPrecondition(format!(
                "{name} was merged into {}: use that customer",
                customer.merged_into
            )));
        }
        Ok(Requester {
            id: customer_id.to_owned(),
            display_name: customer.display_name,
            tier: Tier::from_number(customer.tier).unwrap_or(Tier::Standard),
            organization_id: customer
                .organization
                .strip_prefix("organizations/")
                .map(str::to_owned),
        })
    }

    /// The generated client, whose `WatchEvents` the tickets service follows.
    pub fn client(&self) -> Client {
        self.client.clone()
    }
}
