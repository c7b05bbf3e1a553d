//! The customers service, as tickets use it: the requester of a new ticket, looked up as the
//! caller within the caller's deadline.

use kefu_server::ServiceError;
use kefu_server::common::Tier;
use kefu_server::customers::Customers;
use kefu_server::outgoing::Caller;

use crate::domain::ticket::Requester;

/// The requester `customer_id` as the customers service knows them now: NOT_FOUND for an
/// unknown customer, FAILED_PRECONDITION for an erased or merged-away one, UNAVAILABLE when the
/// customers service does not answer.
pub async fn requester(
    customers: &Customers,
    caller: &Caller,
    customer_id: &str,
) -> Result<Requester, ServiceError> {
    let customer = customers.reachable(caller, customer_id).await?;
    Ok(Requester {
        id: customer_id.to_owned(),
        display_name: customer.display_name,
        tier: Tier::from_number(customer.tier).unwrap_or(Tier::Standard),
        organization_id: customer
            .organization
            .strip_prefix("organizations/")
            .map(str::to_owned),
        locale: customer.locale,
        account_owner: customer
            .account_owner
            .strip_prefix("agents/")
            .map(str::to_owned),
    })
}
