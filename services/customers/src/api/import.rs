//! What a CRM sync or a bulk load calls: UpsertCustomerByExternalId and ImportCustomers.

use kefu_db::idempotency::RequestKey;
use kefu_proto::customers::v1 as pb;
use kefu_server::{ServiceError, Violations, mask, principal_of};
use tonic::{Request, Response, Status, Streaming};

use super::customers::all_fields;
use super::{CustomerApi, Rpc, allow, convert};
use crate::domain::customer::UPDATABLE_FIELDS;
use crate::domain::{Action, validate};
use crate::ops::NewCustomer;

/// Most rows one ImportCustomers stream may carry.
pub(super) const MAX_IMPORT_ROWS: usize = 10_000;

pub(super) async fn upsert(
    api: &CustomerApi,
    request: Request<pb::UpsertCustomerByExternalIdRequest>,
) -> Rpc<pb::UpsertCustomerByExternalIdResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::UpsertCustomerByExternalId, None)?;
    let r = request.into_inner();
    let mut v = Violations::new();
    let fields = all_fields(r.customer.as_ref(), &mut v);
    if r.customer.is_some() && fields.external_id.is_none() {
        v.add("customer.external_id", "is required for an upsert");
    }
    let paths = mask::resolve(
        r.update_mask.as_ref(),
        UPDATABLE_FIELDS,
        false,
        "update_mask",
        &mut v,
    );
    v.into_result()?;
    let (record, created) = api
        .ops
        .upsert_by_external_id(&principal.id, fields, &paths)
        .await?;
    Ok(Response::new(pb::UpsertCustomerByExternalIdResponse {
        customer: Some(convert::customer(&record)),
        created,
    }))
}

pub(super) async fn import(
    api: &CustomerApi,
    request: Request<Streaming<pb::ImportCustomersRequest>>,
) -> Rpc<pb::ImportCustomersResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ImportCustomers, None)?;
    let mut rows = request.into_inner();
    let mut response = pb::ImportCustomersResponse::default();
    let mut index: i32 = 0;
    while let Some(row) = rows.message().await? {
        let row_number = index;
        index = index.saturating_add(1);
        if usize::try_from(row_number).unwrap_or(usize::MAX) >= MAX_IMPORT_ROWS {
            response.failures.push(pb::ImportFailure {
                row: row_number,
                code: tonic::Code::ResourceExhausted as i32,
                message: format!(
                    "an import holds at most {MAX_IMPORT_ROWS} rows: start another import"
                ),
                field_violations: Vec::new(),
            });
            continue;
        }
        match import_row(api, &principal.id, &row).await {
            Ok((name, created)) => {
                if created {
                    response.created_count += 1
                } else {
                    response.updated_count += 1
                }
                response.imported.push(pb::ImportedRow {
                    row: row_number,
                    name,
                    created,
                });
            }
            // The database itself failing is not the row's fault: stop and tell the caller.
            Err(error @ (ServiceError::Unavailable(_) | ServiceError::Database(_))) => {
                return Err(error.into());
            }
            Err(error) => response.failures.push(failure(row_number, error)),
        }
    }
    response.failed_count = i32::try_from(response.failures.len()).unwrap_or(i32::MAX);
    Ok(Response::new(response))
}

/// One row: an upsert when it carries an external id, else a create (idempotent by its request
/// id). Returns the customer's name and whether it was created.
async fn import_row(
    api: &CustomerApi,
    actor: &str,
    row: &pb::ImportCustomersRequest,
) -> Result<(String, bool), ServiceError> {
    let mut v = Violations::new();
    let fields = all_fields(row.customer.as_ref(), &mut v);
    let request_id = validate::request_id(&row.request_id, "request_id", &mut v);
    v.into_result()?;
    let (record, created) = if fields.external_id.is_some() {
        api.ops
            .upsert_by_external_id(actor, fields, UPDATABLE_FIELDS)
            .await?
    } else {
        let command = NewCustomer {
            fields,
            request: RequestKey::new(request_id, "ImportCustomers", row),
        };
        (api.ops.create_customer(actor, command).await?, true)
    };
    Ok((record.name(), created))
}

/// A row's failure as the response reports it: its code, message and bad fields.
fn failure(row: i32, error: ServiceError) -> pb::ImportFailure {
    let field_violations = match &error {
        ServiceError::Invalid(violations) => violations
            .iter()
            .map(|(field, description)| pb::FieldViolation {
                field: field.to_owned(),
                description: description.to_owned(),
            })
            .collect(),
        _ => Vec::new(),
    };
    let message = error.to_string();
    let status = Status::from(error);
    pb::ImportFailure {
        row,
        code: status.code() as i32,
        message,
        field_violations,
    }
}
