//! The feedback service's side of the customers service: checking the customer feedback comes
//! from, reading an NPS campaign's segment, and following its event stream to anonymize the
//! surveys and feedback of erased customers.

use std::time::Duration;

use kefu_principal::InternalKey;
use kefu_proto::customers::v1 as customers_pb;
use kefu_server::outgoing;
use tokio_util::sync::CancellationToken;
use tonic::Request;
use tonic::transport::{Channel, Endpoint};

use crate::domain::records::SegmentRecord;
use crate::error::FeedbackError;
use crate::ops::Feedback;
use crate::remote::dependency_error;

type Client = customers_pb::customer_service_client::CustomerServiceClient<Channel>;

/// The cursor source name of the customers event stream.
pub const SOURCE: &str = "customers";
/// Longest a lookup may take, whatever the caller's deadline.
pub const LOOKUP_CAP: Duration = Duration::from_secs(5);
/// Longest reading a whole campaign segment may take.
pub const SEGMENT_CAP: Duration = Duration::from_secs(60);
/// Most customers one NPS campaign asks.
pub const MAX_SEGMENT: usize = 100_000;
/// Names per BatchGetCustomers (the customers service's limit).
const BATCH: usize = 100;

/// A lazily connected client of the customers service.
#[derive(Debug, Clone)]
pub struct Customers {
    client: Client,
}

/// Whether a customer can still be asked: not erased, not merged into another.
fn reachable(customer: &customers_pb::Customer) -> bool {
    customer.erase_time.is_none() && customer.merged_into.is_empty()
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

    /// Checks, as the caller, that the customer exists and was neither erased nor merged.
    pub async fn check_customer<U>(
        &self,
        incoming: &Request<U>,
        customer_id: &str,
    ) -> Result<(), FeedbackError> {
        let name = format!("customers/{customer_id}");
        let request = outgoing::forward(
            incoming,
            customers_pb::GetCustomerRequest { name: name.clone() },
            LOOKUP_CAP,
        );
        let customer = self
            .client
            .clone()
            .get_customer(request)
            .await
            .map_err(|status| dependency_error("customers", &name, &status))?
            .into_inner();
        if !reachable(&customer) {
            return Err(FeedbackError::FailedPrecondition(format!(
                "{name} was erased or merged into another customer"
            )));
        }
        Ok(())
    }

    /// The ids of the customers in a segment, as the caller reads them: listed ids must all
    /// exist; erased and merged customers are left out.
    pub async fn segment<U>(
        &self,
        incoming: &Request<U>,
        segment: &SegmentRecord,
    ) -> Result<Vec<String>, FeedbackError> {
        let mut ids = Vec::new();
        if !segment.customers.is_empty() {
            for chunk in segment.customers.chunks(BATCH) {
                let names: Vec<String> = chunk.iter().map(|id| format!("customers/{id}")).collect();
                let request = outgoing::forward(
                    incoming,
                    customers_pb::BatchGetCustomersRequest { names },
                    LOOKUP_CAP,
                );
                let found = self
                    .client
                    .clone()
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
        let tier = customers_pb::Tier::from_str_name(&segment.tier).map_or(0, |t| t as i32);
        let stage = customers_pb::LifecycleStage::from_str_name(&segment.lifecycle_stage)
            .map_or(0, |s| s as i32);
        let mut page_token = String::new();
        loop {
            let request = outgoing::forward(
                incoming,
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
            let page = self
                .client
                .clone()
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
                return Err(FeedbackError::FailedPrecondition(format!(
                    "the segment has more than {MAX_SEGMENT} customers: narrow the filter"
                )));
            }
            if page.next_page_token.is_empty() {
                return Ok(ids);
            }
            page_token = page.next_page_token;
        }
    }

    /// Follows the customers event stream from the stored cursor until `stop`, anonymizing the
    /// surveys and feedback of each erased customer in the transaction that stores the cursor.
    pub async fn follow_erasures(
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
            feedback
                .customer_erased(customer_id, SOURCE, &event.cursor)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .await
    }
}
