//! The customers service, as automation uses it: a requester's locale and time zone, which the
//! ticket does not carry, for conditions on the locale and replies that name a local time.

use std::time::Duration;

use kefu_principal::InternalKey;
use kefu_proto::customers::v1 as pb;
use kefu_server::remote::{self, dependency_error};
use kefu_server::{ConfigError, ServiceError};
use tonic::Code;
use tonic::transport::Channel;

/// The generated client of the service.
type Client = pb::customer_service_client::CustomerServiceClient<Channel>;

/// Longest a call to the customers service may take.
const CALL_CAP: Duration = Duration::from_secs(5);
/// How long the principal of one request stays valid.
const REQUEST_PRINCIPAL_TTL: Duration = Duration::from_secs(300);

/// Where and how a requester reads: their locale (`zh-CN`) and IANA time zone, either empty
/// when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// BCP 47 locale.
    pub locale: String,
    /// IANA time zone.
    pub time_zone: String,
}

/// A lazily connected client of the customers service.
#[derive(Debug, Clone)]
pub struct Customers {
    client: Client,
    key: InternalKey,
}

impl Customers {
    /// A client for `url` (`KEFU_CUSTOMERS_URL`), signing its own requests with `key`.
    pub fn new(url: &str, key: InternalKey) -> Result<Self, ConfigError> {
        Ok(Self {
            client: Client::new(remote::channel("KEFU_CUSTOMERS_URL", url)?),
            key,
        })
    }

    /// The profile of customer `id` (bare); the default when the customer is gone.
    pub async fn profile(&self, id: &str) -> Result<Profile, ServiceError> {
        let name = format!("customers/{id}");
        let mut request = remote::as_service(
            &self.key,
            crate::ops::SERVICE_ACTOR,
            REQUEST_PRINCIPAL_TTL,
            pb::GetCustomerRequest { name: name.clone() },
        );
        request.set_timeout(CALL_CAP);
        match self.client.clone().get_customer(request).await {
            Ok(answer) => {
                let customer = answer.into_inner();
                Ok(Profile {
                    locale: customer.locale,
                    time_zone: customer.time_zone,
                })
            }
            Err(status) if status.code() == Code::NotFound => Ok(Profile::default()),
            Err(status) => Err(dependency_error("customers", &name, &status)),
        }
    }
}
