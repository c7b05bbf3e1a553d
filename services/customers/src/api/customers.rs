//! Customers: create, read, list, update, delete.

use kefu_db::idempotency::RequestKey;
use kefu_principal::Role;
use kefu_proto::customers::v1 as pb;
use kefu_server::common::{LifecycleStage, Tier};
use kefu_server::paging::Page;
use kefu_server::{Violations, mask, principal_of, validate as common_validate};
use tonic::{Request, Response};

use super::{CustomerApi, Rpc, allow, convert, customer_id};
use crate::domain::access::SELF_SERVICE_FIELDS;
use crate::domain::customer::UPDATABLE_FIELDS;
use crate::domain::{Action, validate};
use crate::ops::{CustomerUpdate, NewCustomer};
use crate::store;

/// Most names in one BatchGetCustomers.
pub(super) const MAX_BATCH_GET: usize = 100;

/// Every field of a customer for create, upsert and import.
pub(super) fn all_fields(
    input: Option<&pb::Customer>,
    v: &mut Violations,
) -> crate::domain::customer::CustomerFields {
    match input {
        Some(input) => convert::customer_fields(input, UPDATABLE_FIELDS, "customer", v),
        None => {
            v.add("customer", "is required");
            Default::default()
        }
    }
}

pub(super) async fn create(
    api: &CustomerApi,
    request: Request<pb::CreateCustomerRequest>,
) -> Rpc<pb::Customer> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::CreateCustomer, None)?;
    let r = request.into_inner();
    let mut v = Violations::new();
    let fields = all_fields(r.customer.as_ref(), &mut v);
    let request_id = validate::request_id(&r.request_id, "request_id", &mut v);
    v.into_result()?;
    let command = NewCustomer {
        fields,
        request: RequestKey::new(request_id, "CreateCustomer", &r),
    };
    let record = api.ops.create_customer(&principal.id, command).await?;
    Ok(Response::new(convert::customer(&record)))
}

pub(super) async fn get(
    api: &CustomerApi,
    request: Request<pb::GetCustomerRequest>,
) -> Rpc<pb::Customer> {
    let principal = principal_of(&request)?;
    let id = customer_id(&request.get_ref().name, "name")?;
    allow(&principal, Action::GetCustomer, Some(&id))?;
    let record = api.ops.get_customer(&id).await?;
    Ok(Response::new(convert::customer(&record)))
}

pub(super) async fn batch_get(
    api: &CustomerApi,
    request: Request<pb::BatchGetCustomersRequest>,
) -> Rpc<pb::BatchGetCustomersResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::BatchGetCustomers, None)?;
    let names = &request.get_ref().names;
    let mut v = Violations::new();
    if names.is_empty() || names.len() > MAX_BATCH_GET {
        v.add("names", format!("must hold 1 to {MAX_BATCH_GET} names"));
    }
    let ids: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| validate::resource_id(name, "customers", &format!("names[{i}]"), &mut v))
        .collect();
    v.into_result()?;
    let records = api.ops.batch_get_customers(&ids).await?;
    Ok(Response::new(pb::BatchGetCustomersResponse {
        customers: records.iter().map(convert::customer).collect(),
    }))
}

pub(super) async fn list(
    api: &CustomerApi,
    request: Request<pb::ListCustomersRequest>,
) -> Rpc<pb::ListCustomersResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ListCustomers, None)?;
    let r = request.into_inner();
    let mut v = Violations::new();
    let tag = if r.tag.is_empty() {
        None
    } else {
        let tag = r.tag.trim().to_lowercase();
        if !validate::is_tag(&tag) {
            v.add("tag", "must be 1 to 64 characters of a-z 0-9 _ - : .");
        }
        Some(tag)
    };
    let filter = store::CustomerFilter {
        tag,
        tier: common_validate::optional_enum(r.tier, Tier::from_number, "tier", &mut v),
        lifecycle_stage: common_validate::optional_enum(
            r.lifecycle_stage,
            LifecycleStage::from_number,
            "lifecycle_stage",
            &mut v,
        ),
        organization_id: validate::optional_resource_id(
            &r.organization,
            "organizations",
            "organization",
            &mut v,
        ),
        query: validate::query(&r.query, "query", &mut v),
        show_merged: r.show_merged,
    };
    let page: Page<String> = Page::filtered(r.page_size, &r.page_token, &filter, &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_customers(&filter, page.after.as_deref(), page.fetch())
        .await?;
    let (records, next_page_token) = page.finish(rows, |c| c.id.clone());
    Ok(Response::new(pb::ListCustomersResponse {
        customers: records.iter().map(convert::customer).collect(),
        next_page_token,
    }))
}

pub(super) async fn update(
    api: &CustomerApi,
    request: Request<pb::UpdateCustomerRequest>,
) -> Rpc<pb::Customer> {
    let principal = principal_of(&request)?;
    let r = request.into_inner();
    let input = r.customer.unwrap_or_default();
    let id = customer_id(&input.name, "customer.name")?;
    allow(&principal, Action::UpdateCustomer, Some(&id))?;
    let allowed = if principal.role == Role::Customer {
        SELF_SERVICE_FIELDS
    } else {
        UPDATABLE_FIELDS
    };
    let mut v = Violations::new();
    let paths = mask::update_mask(r.update_mask.as_ref(), allowed, &mut v);
    let fields = convert::customer_fields(&input, &paths, "customer", &mut v);
    v.into_result()?;
    let update = CustomerUpdate {
        id,
        fields,
        paths,
        etag: r.etag,
    };
    let record = api.ops.update_customer(&principal.id, update).await?;
    Ok(Response::new(convert::customer(&record)))
}

pub(super) async fn delete(
    api: &CustomerApi,
    request: Request<pb::DeleteCustomerRequest>,
) -> Rpc<pb::DeleteCustomerResponse> {
    let principal = principal_of(&request)?;
    let r = request.get_ref();
    let target = validate::target(&r.name, "customers", &r.etag)?;
    allow(&principal, Action::DeleteCustomer, Some(&target.id))?;
    api.ops.delete_customer(&principal.id, &target).await?;
    Ok(Response::new(pb::DeleteCustomerResponse {}))
}
