//! The customers service, as automation uses it: a requester's locale and time zone, which the
//! ticket does not carry, for conditions on the locale and replies that name a local time; and
//! the requester changes rules make (lifecycle stage, tags).

use std::time::Duration;

use kefu_principal::InternalKey;
use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as pb;
use kefu_server::remote::{self, dependency_error};
use kefu_server::{ConfigError, ServiceError};
use tonic::Code;

use crate::domain::trigger::RequesterChange;
use crate::remote::tickets::ApplyError;
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
        let request = self.signed(
            crate::ops::SERVICE_ACTOR,
            pb::GetCustomerRequest { name: name.clone() },
        );
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

    /// Applies `change` to its customer as `principal_id` (a rule's principal): a read, then an
    /// UpdateCustomer of the stage and tags conditional on the etag read, so a concurrent edit
    /// is never overwritten (it is ABORTED, and the firing retried). A customer already as the
    /// change would leave them counts as applied; one who is gone refuses it.
    pub async fn update_requester(
        &self,
        principal_id: &str,
        change: &RequesterChange,
    ) -> Result<(), ApplyError> {
        let name = format!("customers/{}", change.customer);
        let get = self.signed(principal_id, pb::GetCustomerRequest { name: name.clone() });
        let mut customer = match self.client.clone().get_customer(get).await {
            Ok(answer) => answer.into_inner(),
            Err(status) if status.code() == Code::NotFound => {
                return Err(ApplyError::Refused(format!("{name} is gone")));
            }
            Err(status) => return Err(ApplyError::of(&status)),
        };
        let mut paths = Vec::new();
        if !change.lifecycle_stage.is_empty() {
            let stage = common::LifecycleStage::from_str_name(&format!(
                "LIFECYCLE_STAGE_{}",
                change.lifecycle_stage
            ))
            .map_or(0, |s| s as i32);
            if std::mem::replace(&mut customer.lifecycle_stage, stage) != stage {
                paths.push("lifecycle_stage".to_owned());
            }
        }
        let tags_before = customer.tags.clone();
        customer.tags.retain(|t| !change.remove_tags.contains(t));
        for tag in &change.add_tags {
            if !customer.tags.contains(tag) {
                customer.tags.push(tag.clone());
            }
        }
        if customer.tags != tags_before {
            paths.push("tags".to_owned());
        }
        if paths.is_empty() {
            return Ok(());
        }
        let etag = std::mem::take(&mut customer.etag);
        let update = self.signed(
            principal_id,
            pb::UpdateCustomerRequest {
                customer: Some(customer),
                update_mask: Some(prost_types::FieldMask { paths }),
                etag,
            },
        );
        match self.client.clone().update_customer(update).await {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::NotFound => {
                Err(ApplyError::Refused(format!("{name} is gone")))
            }
            Err(status) => Err(ApplyError::of(&status)),
        }
    }

    fn signed<T>(&self, principal_id: &str, message: T) -> tonic::Request<T> {
        let mut request =
            remote::as_service(&self.key, principal_id, REQUEST_PRINCIPAL_TTL, message);
        request.set_timeout(CALL_CAP);
        request
    }
}
