//! The category tree.

use kefu_proto::knowledge::v1 as pb;
use tonic::{Request, Response};

use kefu_server::paging::Page;
use kefu_server::{Violations, mask, principal_of, validate};

use super::{KnowledgeApi, Rpc, allow, convert, optional_locale};
use crate::domain::access::Action;
use crate::domain::category::{CategoryFields, UPDATABLE_FIELDS};

pub(super) async fn create(
    api: &KnowledgeApi,
    request: Request<pb::CreateCategoryRequest>,
) -> Rpc<pb::Category> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Write)?;
    let body = request.get_ref();
    let mut v = Violations::new();
    let replay = validate::replay(
        &principal,
        &body.request_id,
        "CreateCategory",
        body,
        convert::category,
        &mut v,
    );
    let fields = match &body.category {
        Some(input) => convert::category_fields(input, UPDATABLE_FIELDS, &mut v),
        None => {
            v.add("category", "is required");
            CategoryFields::default()
        }
    };
    v.into_result()?;
    let category = api
        .ops
        .create_category(&principal.id, fields, &replay)
        .await?;
    Ok(Response::new(category))
}

pub(super) async fn get(
    api: &KnowledgeApi,
    request: Request<pb::GetCategoryRequest>,
) -> Rpc<pb::Category> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let id = validate::required_id(&request.get_ref().name, "categories", "name")?;
    Ok(Response::new(convert::category(
        &api.ops.get_category(&id).await?,
    )))
}

pub(super) async fn list(
    api: &KnowledgeApi,
    request: Request<pb::ListCategoriesRequest>,
) -> Rpc<pb::ListCategoriesResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let r = request.into_inner();
    let mut v = Violations::new();
    let parent = validate::optional_resource_id(&r.parent, "categories", "parent", &mut v);
    let locale = optional_locale(&r.locale, "locale", &mut v);
    let page: Page<(i64, String)> =
        Page::read(r.page_size, &r.page_token, &[&r.parent, &r.locale], &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_categories(
            parent.as_deref(),
            locale.as_deref(),
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
    let (records, next_page_token) = page.finish(rows, |c| (c.fields.position, c.id.clone()));
    Ok(Response::new(pb::ListCategoriesResponse {
        categories: records.iter().map(convert::category).collect(),
        next_page_token,
    }))
}

pub(super) async fn update(
    api: &KnowledgeApi,
    request: Request<pb::UpdateCategoryRequest>,
) -> Rpc<pb::Category> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Write)?;
    let r = request.into_inner();
    let input = r.category.unwrap_or_default();
    let id = validate::required_id(&input.name, "categories", "category.name")?;
    let mut v = Violations::new();
    let paths = mask::update_mask(r.update_mask.as_ref(), UPDATABLE_FIELDS, &mut v);
    let fields = convert::category_fields(&input, &paths, &mut v);
    v.into_result()?;
    let record = api
        .ops
        .update_category(&principal.id, &id, &fields, &paths, &r.etag)
        .await?;
    Ok(Response::new(convert::category(&record)))
}

pub(super) async fn delete(
    api: &KnowledgeApi,
    request: Request<pb::DeleteCategoryRequest>,
) -> Rpc<pb::DeleteCategoryResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Write)?;
    let r = request.get_ref();
    let target = validate::target(&r.name, "categories", &r.etag)?;
    api.ops.delete_category(&principal.id, &target).await?;
    Ok(Response::new(pb::DeleteCategoryResponse {}))
}
