//! Merging duplicate customers and taking a merge back.

use kefu_proto::customers::v1 as pb;
use kefu_server::{Violations, principal_of};
use tonic::{Request, Response};

use super::{CustomerApi, Rpc, allow, convert, customer_id};
use crate::domain::{Action, validate};

pub(super) async fn merge(
    api: &CustomerApi,
    request: Request<pb::MergeCustomersRequest>,
) -> Rpc<pb::Customer> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::MergeCustomers, None)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let source = validate::resource_id(&r.source, "customers", "source", &mut v);
    let target = validate::resource_id(&r.target, "customers", "target", &mut v);
    if !source.is_empty() && source == target {
        v.add("target", "must differ from source");
    }
    v.into_result()?;
    let record = api
        .ops
        .merge(&principal.id, &source, &target, &r.source_etag)
        .await?;
    Ok(Response::new(convert::customer(&record)))
}

pub(super) async fn unmerge(
    api: &CustomerApi,
    request: Request<pb::UnmergeCustomerRequest>,
) -> Rpc<pb::Customer> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::UnmergeCustomer, None)?;
    let id = customer_id(&request.get_ref().name, "name")?;
    let record = api.ops.unmerge(&principal.id, &id).await?;
    Ok(Response::new(convert::customer(&record)))
}
