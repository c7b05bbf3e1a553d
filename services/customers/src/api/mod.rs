//! The gRPC surface, one file per resource: authorize, validate into domain values, call `ops`,
//! convert back. This file routes each RPC to its handler.

mod activity;
mod convert;
mod customers;
mod import;
mod merges;
mod organizations;
mod privacy;

use kefu_principal::Principal;
use kefu_proto::customers::v1 as pb;
use kefu_server::api::{Rpc, permission};
use kefu_server::events::{EventFeed, EventStream};
use kefu_server::{Violations, validate};
use pb::customer_service_server::CustomerService;
use tonic::{Request, Status, Streaming};

use crate::domain::{Action, authorize};
use crate::ops::Customers;

/// The stream `WatchEvents` answers with.
type Events = EventStream<pb::WatchEventsResponse>;

/// The `kefu.customers.v1.CustomerService` implementation.
#[derive(Clone, Debug)]
pub struct CustomerApi {
    ops: Customers,
    events: EventFeed,
}

impl CustomerApi {
    /// Serves `ops`, and `WatchEvents` from `events`.
    pub fn new(ops: Customers, events: EventFeed) -> Self {
        Self { ops, events }
    }
}

/// PERMISSION_DENIED unless `principal` may do `action` (on `customer_id`, when it concerns one).
fn allow(principal: &Principal, action: Action, customer_id: Option<&str>) -> Result<(), Status> {
    permission(authorize(principal, action, customer_id).map_err(|denied| denied.0))
}

/// The id in `customers/{id}`, or INVALID_ARGUMENT on `field`.
fn customer_id(name: &str, field: &str) -> Result<String, Violations> {
    validate::required_id(name, "customers", field)
}

/// The id in `organizations/{id}`, or INVALID_ARGUMENT on `field`.
fn organization_id(name: &str, field: &str) -> Result<String, Violations> {
    validate::required_id(name, "organizations", field)
}

#[tonic::async_trait]
impl CustomerService for CustomerApi {
    type WatchEventsStream = Events;

    async fn watch_events(&self, r: Request<pb::WatchEventsRequest>) -> Rpc<Events> {
        self.events
            .serve(&r, |p| allow(p, Action::WatchEvents, None))
    }

    async fn create_customer(&self, r: Request<pb::CreateCustomerRequest>) -> Rpc<pb::Customer> {
        customers::create(self, r).await
    }

    async fn get_customer(&self, r: Request<pb::GetCustomerRequest>) -> Rpc<pb::Customer> {
        customers::get(self, r).await
    }

    async fn batch_get_customers(
        &self,
        r: Request<pb::BatchGetCustomersRequest>,
    ) -> Rpc<pb::BatchGetCustomersResponse> {
        customers::batch_get(self, r).await
    }

    async fn list_customers(
        &self,
        r: Request<pb::ListCustomersRequest>,
    ) -> Rpc<pb::ListCustomersResponse> {
        customers::list(self, r).await
    }

    async fn update_customer(&self, r: Request<pb::UpdateCustomerRequest>) -> Rpc<pb::Customer> {
        customers::update(self, r).await
    }

    async fn delete_customer(
        &self,
        r: Request<pb::DeleteCustomerRequest>,
    ) -> Rpc<pb::DeleteCustomerResponse> {
        customers::delete(self, r).await
    }

    async fn upsert_customer_by_external_id(
        &self,
        r: Request<pb::UpsertCustomerByExternalIdRequest>,
    ) -> Rpc<pb::UpsertCustomerByExternalIdResponse> {
        import::upsert(self, r).await
    }

    async fn import_customers(
        &self,
        r: Request<Streaming<pb::ImportCustomersRequest>>,
    ) -> Rpc<pb::ImportCustomersResponse> {
        import::import(self, r).await
    }

    async fn merge_customers(&self, r: Request<pb::MergeCustomersRequest>) -> Rpc<pb::Customer> {
        merges::merge(self, r).await
    }

    async fn unmerge_customer(&self, r: Request<pb::UnmergeCustomerRequest>) -> Rpc<pb::Customer> {
        merges::unmerge(self, r).await
    }

    async fn export_customer(
        &self,
        r: Request<pb::ExportCustomerRequest>,
    ) -> Rpc<pb::ExportCustomerResponse> {
        privacy::export(self, r).await
    }

    async fn erase_customer(&self, r: Request<pb::EraseCustomerRequest>) -> Rpc<pb::Customer> {
        privacy::erase(self, r).await
    }

    async fn create_organization(
        &self,
        r: Request<pb::CreateOrganizationRequest>,
    ) -> Rpc<pb::Organization> {
        organizations::create(self, r).await
    }

    async fn get_organization(
        &self,
        r: Request<pb::GetOrganizationRequest>,
    ) -> Rpc<pb::Organization> {
        organizations::get(self, r).await
    }

    async fn list_organizations(
        &self,
        r: Request<pb::ListOrganizationsRequest>,
    ) -> Rpc<pb::ListOrganizationsResponse> {
        organizations::list(self, r).await
    }

    async fn update_organization(
        &self,
        r: Request<pb::UpdateOrganizationRequest>,
    ) -> Rpc<pb::Organization> {
        organizations::update(self, r).await
    }

    async fn delete_organization(
        &self,
        r: Request<pb::DeleteOrganizationRequest>,
    ) -> Rpc<pb::DeleteOrganizationResponse> {
        organizations::delete(self, r).await
    }

    async fn record_purchase(&self, r: Request<pb::RecordPurchaseRequest>) -> Rpc<pb::Purchase> {
        activity::record_purchase(self, r).await
    }

    async fn list_purchases(
        &self,
        r: Request<pb::ListPurchasesRequest>,
    ) -> Rpc<pb::ListPurchasesResponse> {
        activity::list_purchases(self, r).await
    }

    async fn log_interaction(&self, r: Request<pb::LogInteractionRequest>) -> Rpc<pb::Interaction> {
        activity::log_interaction(self, r).await
    }

    async fn list_interactions(
        &self,
        r: Request<pb::ListInteractionsRequest>,
    ) -> Rpc<pb::ListInteractionsResponse> {
        activity::list_interactions(self, r).await
    }
}
