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
    let replay = kefu_server::validate::replay(
        &principal,
        &r.request_id,
        "MergeCustomers",
        r,
        convert::customer,
        &mut v,
    );
    v.into_result()?;
    let source = api
        .ops
        .merge(&principal.id, &source, &target, &r.source_etag, &replay)
        .await?;
    Ok(Response::new(source))
}

pub(super) async fn unmerge(
    api: &CustomerApi,
    request: Request<pb::UnmergeCustomerRequest>,
) -> Rpc<pb::Customer> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::UnmergeCustomer, None)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let replay = kefu_server::validate::replay(
        &principal,
        &r.request_id,
        "UnmergeCustomer",
        r,
        convert::customer,
        &mut v,
    );
    v.into_result()?;
    let id = customer_id(&r.name, "name")?;
    let restored = api.ops.unmerge(&principal.id, &id, &replay).await?;
    Ok(Response::new(restored))
}
