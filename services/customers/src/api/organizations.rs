//! Organizations: create, read, list, update, delete.

use kefu_db::idempotency::RequestKey;
use kefu_proto::customers::v1 as pb;
use kefu_server::paging::Page;
use kefu_server::{Violations, mask, principal_of};
use tonic::{Request, Response};

use super::{CustomerApi, Rpc, allow, convert, organization_id};
use crate::domain::organization::UPDATABLE_FIELDS;
use crate::domain::{Action, validate};
use crate::ops::{NewOrganization, OrganizationUpdate};
use crate::store;

pub(super) async fn create(
    api: &CustomerApi,
    request: Request<pb::CreateOrganizationRequest>,
) -> Rpc<pb::Organization> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::CreateOrganization, None)?;
    let r = request.into_inner();
    let mut v = Violations::new();
    let fields = match &r.organization {
        Some(input) => {
            convert::organization_fields(input, UPDATABLE_FIELDS, "organization", &mut v)
        }
        None => {
            v.add("organization", "is required");
            convert::organization_fields(&Default::default(), &[], "organization", &mut v)
        }
    };
    let request_id = validate::request_id(&r.request_id, "request_id", &mut v);
    v.into_result()?;
    let command = NewOrganization {
        fields,
        request: RequestKey::new(request_id, "CreateOrganization", &r),
    };
    let record = api.ops.create_organization(&principal.id, command).await?;
    Ok(Response::new(convert::organization(&record)))
}

pub(super) async fn get(
    api: &CustomerApi,
    request: Request<pb::GetOrganizationRequest>,
) -> Rpc<pb::Organization> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::GetOrganization, None)?;
    let id = organization_id(&request.get_ref().name, "name")?;
    let record = api.ops.get_organization(&id).await?;
    Ok(Response::new(convert::organization(&record)))
}

pub(super) async fn list(
    api: &CustomerApi,
    request: Request<pb::ListOrganizationsRequest>,
) -> Rpc<pb::ListOrganizationsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ListOrganizations, None)?;
    let r = request.into_inner();
    let mut v = Violations::new();
    let filter = store::OrganizationFilter {
        query: validate::query(&r.query, "query", &mut v),
    };
    let page: Page<String> = Page::filtered(r.page_size, &r.page_token, &filter, &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_organizations(&filter, page.after.as_deref(), page.fetch())
        .await?;
    let (records, next_page_token) = page.finish(rows, |o| o.id.clone());
    Ok(Response::new(pb::ListOrganizationsResponse {
        organizations: records.iter().map(convert::organization).collect(),
        next_page_token,
    }))
}

pub(super) async fn update(
    api: &CustomerApi,
    request: Request<pb::UpdateOrganizationRequest>,
) -> Rpc<pb::Organization> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::UpdateOrganization, None)?;
    let r = request.into_inner();
    let input = r.organization.unwrap_or_default();
    let id = organization_id(&input.name, "organization.name")?;
    let mut v = Violations::new();
    let paths = mask::update_mask(r.update_mask.as_ref(), UPDATABLE_FIELDS, &mut v);
    let fields = convert::organization_fields(&input, &paths, "organization", &mut v);
    v.into_result()?;
    let update = OrganizationUpdate {
        id,
        fields,
        paths,
        etag: r.etag,
    };
    let record = api.ops.update_organization(&principal.id, update).await?;
    Ok(Response::new(convert::organization(&record)))
}

pub(super) async fn delete(
    api: &CustomerApi,
    request: Request<pb::DeleteOrganizationRequest>,
) -> Rpc<pb::DeleteOrganizationResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::DeleteOrganization, None)?;
    let r = request.get_ref();
    let target = validate::target(&r.name, "organizations", &r.etag)?;
    api.ops.delete_organization(&principal.id, &target).await?;
    Ok(Response::new(pb::DeleteOrganizationResponse {}))
}
