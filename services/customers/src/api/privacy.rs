//! Data protection: a customer's data exported, or erased on request.

use kefu_proto::customers::v1 as pb;
use kefu_server::principal_of;
use kefu_server::time::timestamp;
use tonic::{Request, Response};

use super::{CustomerApi, Rpc, allow, convert, customer_id};
use crate::domain::Action;

pub(super) async fn export(
    api: &CustomerApi,
    request: Request<pb::ExportCustomerRequest>,
) -> Rpc<pb::ExportCustomerResponse> {
    let principal = principal_of(&request)?;
    let id = customer_id(&request.get_ref().name, "name")?;
    allow(&principal, Action::ExportCustomer, Some(&id))?;
    let export = api.ops.export(&principal.id, &id).await?;
    Ok(Response::new(pb::ExportCustomerResponse {
        customer: Some(convert::customer(&export.customer)),
        organization: export.organization.as_ref().map(convert::organization),
        purchases: export.purchases.iter().map(convert::purchase).collect(),
        interactions: export
            .interactions
            .iter()
            .map(convert::interaction)
            .collect(),
        events: export.events,
        export_time: Some(timestamp(export.export_time)),
    }))
}

pub(super) async fn erase(
    api: &CustomerApi,
    request: Request<pb::EraseCustomerRequest>,
) -> Rpc<pb::Customer> {
    let principal = principal_of(&request)?;
    let id = customer_id(&request.get_ref().name, "name")?;
    allow(&principal, Action::EraseCustomer, Some(&id))?;
    let record = api
        .ops
        .erase(&principal.id, &id, &request.get_ref().etag)
        .await?;
    Ok(Response::new(convert::customer(&record)))
}
