//! The customers service as every other service uses it: reading a customer as the caller, and
//! erasing the service's copies of a customer's data when the customers stream says they were
//! erased.

use std::future::Future;
use std::time::Duration;

use kefu_db::Write;
use kefu_proto::customers::v1 as pb;
use tonic::transport::Channel;

use crate::consumer::Handled;
use crate::kit::Runtime;
use crate::outgoing::Caller;
use crate::{ConfigError, ServiceError, remote};

/// The generated client of the customers service.
pub type Client = pb::customer_service_client::CustomerServiceClient<Channel>;

/// The name the customers stream's cursor is stored under.
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

    /// The generated client, for calls this module does not wrap.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The customer `customer_id`, read as `caller`, who must still be reachable: NOT_FOUND for
    /// an unknown customer, FAILED_PRECONDITION for one erased or merged into another,
    /// UNAVAILABLE when the customers service does not answer.
    pub async fn reachable(
        &self,
        caller: &Caller,
        customer_id: &str,
    ) -> Result<pb::Customer, ServiceError> {
        let name = format!("customers/{customer_id}");
        let request = caller.request(pb::GetCustomerRequest { name: name.clone() }, LOOKUP_CAP);
        let customer = self
            .client()
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
        Ok(customer)
    }
}

/// A service that keeps copies of customers' data and must erase them when a customer is.
pub trait ErasesCustomers: Clone + Send + Sync + 'static {
    /// Erases or anonymizes what the service keeps of `customer` (an id), in `tx`, at `now`.
    /// Runs again for the same customer after a crash, so it must be idempotent.
    fn erase(
        &self,
        tx: &mut Write,
        customer: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}

impl Runtime {
    /// Follows the customers stream and, for every erasure, runs `service`'s
    /// [`ErasesCustomers::erase`] in the transaction that stores the cursor: each
    /// erasure is applied once, across restarts.
    pub fn follow_erasures(&mut self, customers: &Customers, service: impl ErasesCustomers) {
        let ctx = self.context();
        self.follow(SOURCE, customers.client(), move |delivery| {
            let (service, ctx) = (service.clone(), ctx.clone());
            async move {
                let Some(customer_id) = delivery.event.erased_customer() else {
                    return Ok(Handled::Ignored);
                };
                let mut tx = ctx.db.begin_write().await?;
                let now = ctx.now();
                service.erase(&mut tx, customer_id, now).await?;
                delivery.ack(&mut tx, now).await?;
                tx.commit().await?;
                Ok(Handled::Acked)
            }
        });
    }
}
