//! The customers service, as feedback uses it beyond the shared client: reading an NPS
//! campaign's segment.

use std::time::Duration;

use kefu_proto::customers::v1 as customers_pb;
use kefu_server::ServiceError;
use kefu_server::common::{LifecycleStage, Tier};
use kefu_server::customers::{Customers, LOOKUP_CAP};
use kefu_server::outgoing::Caller;
use kefu_server::remote::dependency_error;

use crate::domain::records::SegmentRecord;

/// Longest reading a whole campaign segment may take.
pub const SEGMENT_CAP: Duration = Duration::from_secs(60);
/// Most customers one NPS campaign asks.
pub const MAX_SEGMENT: usize = 100_000;
/// Names per BatchGetCustomers (the customers service's limit).
const BATCH: usize = 100;

/// Whether a customer can still be asked: not erased, not merged into another.
fn reachable(customer: &customers_pb::Customer) -> bool {
    customer.erase_time.is_none() && customer.merged_into.is_empty()
}

/// The ids of the customers in a segment, as the caller reads them: listed ids must all
/// exist; erased and merged customers are left out.
pub async fn segment(
    customers: &Customers,
    caller: &Caller,
    segment: &SegmentRecord,
) -> Result<Vec<String>, ServiceError> {
    let mut ids = Vec::new();
    if !segment.customers.is_empty() {
        for chunk in segment.customers.chunks(BATCH) {
            let names: Vec<String> = chunk.iter().map(|id| format!("customers/{id}")).collect();
            let request =
                caller.request(customers_pb::BatchGetCustomersRequest { names }, LOOKUP_CAP);
            let found = customers
                .client()
                .batch_get_customers(request)
                .await
                .map_err(|status| {
                    // The customers service names the unknown customer in its message.
                    let unknown = status.message().trim_end_matches(" not found").to_owned();
                    dependency_error("customers", &unknown, &status)
                })?
                .into_inner();
            ids.extend(
                found
                    .customers
                    .iter()
                    .filter(|c| reachable(c))
                    .filter_map(|c| c.name.strip_prefix("customers/").map(str::to_owned)),
            );
        }
        return Ok(ids);
    }
    let tier = segment.tier.map_or(0, Tier::number);
    let stage = segment.lifecycle_stage.map_or(0, LifecycleStage::number);
    let mut page_token = String::new();
    loop {
        let request = caller.request(
            customers_pb::ListCustomersRequest {
                page_size: 1000,
                page_token: page_token.clone(),
                tag: segment.tag.clone(),
                tier,
                lifecycle_stage: stage,
                organization: if segment.organization.is_empty() {
                    String::new()
                } else {
                    format!("organizations/{}", segment.organization)
                },
                query: String::new(),
                show_merged: false,
            },
            SEGMENT_CAP,
        );
        let page = customers
            .client()
            .list_customers(request)
            .await
            .map_err(|status| dependency_error("customers", "the segment", &status))?
            .into_inner();
        ids.extend(
            page.customers
                .iter()
                .filter(|c| reachable(c))
                .filter_map(|c| c.name.strip_prefix("customers/").map(str::to_owned)),
        );
        if ids.len() > MAX_SEGMENT {
            return Err(ServiceError::FailedPrecondition(format!(
                "the segment has more than {MAX_SEGMENT} customers: narrow the filter"
            )));
        }
        if page.next_page_token.is_empty() {
            return Ok(ids);
        }
        page_token = page.next_page_token;
    }
}
