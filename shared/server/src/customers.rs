//! The customers service as every other service uses it: reading a customer as the caller, and
//! following the customers stream to erase the service's copies of a customer's data when they
//! were erased, and to re-derive what depends on a customer's tier when it changed.

use std::future::Future;
use std::time::Duration;

use kefu_db::Write;
use kefu_proto::customers::v1 as pb;
use tonic::transport::Channel;

use crate::common::Tier;
use crate::consumer::Handled;
use crate::kit::Runtime;
use crate::outgoing::Caller;
use crate::{ConfigError, ServiceError, remote};
use kefu_principal::InternalKey;

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

/// A service that keeps copies of customers' data: it must erase them when a customer is, and
/// may re-derive what depends on a customer's tier when it changes.
pub trait FollowsCustomers: Clone + Send + Sync + 'static {
    /// Whether [`FollowsCustomers::tier_changed`] does anything, so the follower reads a
    /// customer's tier only for services that use it.
    const FOLLOWS_TIERS: bool = false;

    /// Erases or anonymizes what the service keeps of `customer` (an id), in `tx`, at `now`.
    /// Runs again for the same customer after a crash, so it must be idempotent.
    fn erase(
        &self,
        tx: &mut Write,
        customer: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// `customer` (an id) has `tier` now, read after an event said it changed: re-derives what
    /// depends on it, in `tx`, at `now`. Runs again after a crash, so it must be idempotent.
    fn tier_changed(
        &self,
        tx: &mut Write,
        customer: &str,
        tier: Tier,
        now: i64,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send {
        let _ = (tx, customer, tier, now);
        async { Ok(()) }
    }
}

/// The tier `customer_id` has now, read as the service itself; `None` when the customer is
/// gone, erased or merged into another (their tickets are no longer theirs to re-derive).
async fn current_tier(
    client: &mut Client,
    key: &InternalKey,
    service: &'static str,
    customer_id: &str,
) -> Result<Option<Tier>, ServiceError> {
    let name = format!("customers/{customer_id}");
    let request = remote::as_service(
        key,
        service,
        LOOKUP_CAP,
        pb::GetCustomerRequest { name: name.clone() },
    );
    let customer = match client.get_customer(request).await {
        Ok(response) => response.into_inner(),
        Err(status) if status.code() == tonic::Code::NotFound => return Ok(None),
        Err(status) => return Err(remote::dependency_error("customers", &name, &status)),
    };
    if customer.erase_time.is_some() || !customer.merged_into.is_empty() {
        return Ok(None);
    }
    Ok(Tier::from_number(customer.tier))
}

impl Runtime {
    /// Follows the customers stream: for every erasure, runs `service`'s
    /// [`FollowsCustomers::erase`], and for every tier change (when the service follows tiers)
    /// its [`FollowsCustomers::tier_changed`] with the tier read back, each in the transaction
    /// that stores the cursor, so each is applied once, across restarts.
    pub fn follow_customers<S: FollowsCustomers>(&mut self, customers: &Customers, service: S) {
        let ctx = self.context();
        let (key, name) = (self.key().clone(), self.name());
        let client = customers.client();
        self.follow(SOURCE, customers.client(), move |delivery| {
            let (service, ctx, key, mut client) =
                (service.clone(), ctx.clone(), key.clone(), client.clone());
            async move {
                let event = &delivery.event;
                if let Some(customer_id) = event.erased_customer() {
                    let mut tx = ctx.db.begin_write().await?;
                    let now = ctx.now();
                    service.erase(&mut tx, customer_id, now).await?;
                    delivery.ack(&mut tx, now).await?;
                    tx.commit().await?;
                    return Ok(Handled::Acked);
                }
                let Some(customer_id) = event.retiered_customer().filter(|_| S::FOLLOWS_TIERS)
                else {
                    return Ok(Handled::Ignored);
                };
                // Read before the transaction: no write lock is held across a network call.
                let Some(tier) = current_tier(&mut client, &key, name, customer_id).await? else {
                    return Ok(Handled::Ignored);
                };
                let mut tx = ctx.db.begin_write().await?;
                let now = ctx.now();
                service
                    .tier_changed(&mut tx, customer_id, tier, now)
                    .await?;
                delivery.ack(&mut tx, now).await?;
                tx.commit().await?;
                Ok(Handled::Acked)
            }
        });
    }
}
