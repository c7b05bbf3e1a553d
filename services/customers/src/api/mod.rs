//! The gRPC surface: decode, authorize, validate, call `ops`, convert back. Thin on purpose.

mod convert;

use kefu_principal::Principal;
use kefu_proto::customers::v1 as pb;
use kefu_server::{Violations, events, mask, paging, principal_of};
use pb::customer_service_server::CustomerService;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::domain::access::SELF_SERVICE_FIELDS;
use crate::domain::activity::{parse_interaction, parse_purchase, timestamp_micros};
use crate::domain::customer::{self, CustomerFields};
use crate::domain::organization::{self, OrganizationFields};
use crate::domain::{Action, authorize, validate};
use crate::error::CustomersError;
use crate::ops::{Customers, decode_event, new_id};
use crate::store;

/// Most rows one ImportCustomers stream may carry.
pub const MAX_IMPORT_ROWS: usize = 10_000;
/// Most names in one BatchGetCustomers.
pub const MAX_BATCH_GET: usize = 100;

/// The `kefu.customers.v1.CustomerService` implementation.
#[derive(Clone, Debug)]
pub struct CustomerApi {
    ops: Customers,
    shutdown: CancellationToken,
}

impl CustomerApi {
    /// Serves `ops`; open event streams end when `shutdown` fires.
    pub fn new(ops: Customers, shutdown: CancellationToken) -> Self {
        Self { ops, shutdown }
    }
}

type ApiResult<T> = Result<Response<T>, Status>;

fn allow(
    principal: &Principal,
    action: Action,
    customer_id: Option<&str>,
) -> Result<(), CustomersError> {
    authorize(principal, action, customer_id)
        .map_err(|denied| CustomersError::PermissionDenied(denied.0))
}

fn check(violations: Violations) -> Result<(), CustomersError> {
    violations.into_result().map_err(CustomersError::Invalid)
}

fn customer_id(name: &str, field: &str) -> Result<String, CustomersError> {
    let mut v = Violations::new();
    let id = validate::resource_id(name, "customers", field, &mut v);
    check(v)?;
    Ok(id)
}

fn organization_id(name: &str, field: &str) -> Result<String, CustomersError> {
    let mut v = Violations::new();
    let id = validate::resource_id(name, "organizations", field, &mut v);
    check(v)?;
    Ok(id)
}

/// Validates every field of a customer for create, upsert and import.
fn all_customer_fields(
    input: Option<&pb::Customer>,
    prefix: &str,
    v: &mut Violations,
) -> CustomerFields {
    let mut fields = CustomerFields::default();
    match input {
        Some(input) => {
            customer::apply_input(input, customer::UPDATABLE_FIELDS, prefix, &mut fields, v)
        }
        None => v.add(prefix, "is required"),
    }
    fields
}

#[tonic::async_trait]
impl CustomerService for CustomerApi {
    #[tracing::instrument(skip_all)]
    async fn create_customer(
        &self,
        request: Request<pb::CreateCustomerRequest>,
    ) -> ApiResult<pb::Customer> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::CreateCustomer, None)?;
        let request = request.into_inner();
        let mut v = Violations::new();
        let fields = all_customer_fields(request.customer.as_ref(), "customer", &mut v);
        let request_id = validate::request_id(&request.request_id, "request_id", &mut v);
        check(v)?;
        let record = self
            .ops
            .create_customer(&principal.id, fields, request_id.as_deref())
            .await?;
        Ok(Response::new(convert::customer(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_customer(
        &self,
        request: Request<pb::GetCustomerRequest>,
    ) -> ApiResult<pb::Customer> {
        let principal = principal_of(&request)?;
        let id = customer_id(&request.get_ref().name, "name")?;
        allow(&principal, Action::GetCustomer, Some(&id))?;
        let record = self.ops.get_customer(&id).await?;
        Ok(Response::new(convert::customer(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn batch_get_customers(
        &self,
        request: Request<pb::BatchGetCustomersRequest>,
    ) -> ApiResult<pb::BatchGetCustomersResponse> {
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
            .map(|(i, name)| {
                validate::resource_id(name, "customers", &format!("names[{i}]"), &mut v)
            })
            .collect();
        check(v)?;
        let records = self.ops.batch_get_customers(&ids).await?;
        Ok(Response::new(pb::BatchGetCustomersResponse {
            customers: records.iter().map(convert::customer).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_customers(
        &self,
        request: Request<pb::ListCustomersRequest>,
    ) -> ApiResult<pb::ListCustomersResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ListCustomers, None)?;
        let r = request.into_inner();
        let mut v = Violations::new();
        let limit = paging::page_size(r.page_size, "page_size", &mut v);
        let tag = if r.tag.is_empty() {
            None
        } else {
            let tag = r.tag.trim().to_lowercase();
            if !validate::is_tag(&tag) {
                v.add("tag", "must be 1 to 64 characters of a-z 0-9 _ - : .");
            }
            Some(tag)
        };
        let tier_known = pb::Tier::try_from(r.tier).is_ok();
        validate::enum_value(r.tier, tier_known, false, "tier", &mut v);
        let stage_known = pb::LifecycleStage::try_from(r.lifecycle_stage).is_ok();
        validate::enum_value(
            r.lifecycle_stage,
            stage_known,
            false,
            "lifecycle_stage",
            &mut v,
        );
        let filter = store::CustomerFilter {
            tag,
            tier: (r.tier != 0).then_some(r.tier),
            lifecycle_stage: (r.lifecycle_stage != 0).then_some(r.lifecycle_stage),
            organization_id: validate::optional_resource_id(
                &r.organization,
                "organizations",
                "organization",
                &mut v,
            ),
            query: validate::query(&r.query, "query", &mut v),
            show_merged: r.show_merged,
        };
        let fingerprint = paging::fingerprint(&[&format!("{filter:?}")]);
        let after: Option<String> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut records = self
            .ops
            .list_customers(&filter, after.as_deref(), limit + 1)
            .await?;
        let next_page_token =
            paging::next_page_token(&mut records, limit, |c| c.id.clone(), &fingerprint);
        Ok(Response::new(pb::ListCustomersResponse {
            customers: records.iter().map(convert::customer).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_customer(
        &self,
        request: Request<pb::UpdateCustomerRequest>,
    ) -> ApiResult<pb::Customer> {
        let principal = principal_of(&request)?;
        let r = request.into_inner();
        let input = r.customer.unwrap_or_default();
        let id = customer_id(&input.name, "customer.name")?;
        allow(&principal, Action::UpdateCustomer, Some(&id))?;
        let mut v = Violations::new();
        let allowed = if principal.role == kefu_principal::Role::Customer {
            SELF_SERVICE_FIELDS
        } else {
            customer::UPDATABLE_FIELDS
        };
        let paths = mask::resolve(r.update_mask.as_ref(), allowed, true, "update_mask", &mut v);
        let mut fields = CustomerFields::default();
        customer::apply_input(&input, &paths, "customer", &mut fields, &mut v);
        check(v)?;
        let record = self
            .ops
            .update_customer(&principal.id, &id, &fields, &paths, &r.etag)
            .await?;
        Ok(Response::new(convert::customer(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_customer(
        &self,
        request: Request<pb::DeleteCustomerRequest>,
    ) -> ApiResult<pb::DeleteCustomerResponse> {
        let principal = principal_of(&request)?;
        let id = customer_id(&request.get_ref().name, "name")?;
        allow(&principal, Action::DeleteCustomer, Some(&id))?;
        self.ops
            .delete_customer(&principal.id, &id, &request.get_ref().etag)
            .await?;
        Ok(Response::new(pb::DeleteCustomerResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn upsert_customer_by_external_id(
        &self,
        request: Request<pb::UpsertCustomerByExternalIdRequest>,
    ) -> ApiResult<pb::UpsertCustomerByExternalIdResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::UpsertCustomerByExternalId, None)?;
        let r = request.into_inner();
        let mut v = Violations::new();
        let fields = all_customer_fields(r.customer.as_ref(), "customer", &mut v);
        if r.customer.is_some() && fields.external_id.is_none() {
            v.add("customer.external_id", "is required for an upsert");
        }
        let paths = mask::resolve(
            r.update_mask.as_ref(),
            customer::UPDATABLE_FIELDS,
            false,
            "update_mask",
            &mut v,
        );
        check(v)?;
        let (record, created) = self
            .ops
            .upsert_by_external_id(&principal.id, fields, &paths)
            .await?;
        Ok(Response::new(pb::UpsertCustomerByExternalIdResponse {
            customer: Some(convert::customer(&record)),
            created,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn import_customers(
        &self,
        request: Request<Streaming<pb::ImportCustomersRequest>>,
    ) -> ApiResult<pb::ImportCustomersResponse> {
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
            let mut v = Violations::new();
            let fields = all_customer_fields(row.customer.as_ref(), "customer", &mut v);
            let request_id = validate::request_id(&row.request_id, "request_id", &mut v);
            let outcome = match v.into_result() {
                Err(violations) => Err(CustomersError::Invalid(violations)),
                Ok(()) if fields.external_id.is_some() => {
                    self.ops
                        .upsert_by_external_id(&principal.id, fields, customer::UPDATABLE_FIELDS)
                        .await
                }
                Ok(()) => self
                    .ops
                    .create_customer(&principal.id, fields, request_id.as_deref())
                    .await
                    .map(|record| (record, true)),
            };
            match outcome {
                Ok((record, created)) => {
                    if created {
                        response.created_count += 1
                    } else {
                        response.updated_count += 1
                    }
                    response.imported.push(pb::ImportedRow {
                        row: row_number,
                        name: record.name(),
                        created,
                    });
                }
                // The database itself failing is not the row's fault: stop and tell the caller.
                Err(error @ (CustomersError::Unavailable(_) | CustomersError::Database(_))) => {
                    return Err(error.into());
                }
                Err(error) => {
                    let field_violations = match &error {
                        CustomersError::Invalid(violations) => violations
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
                    response.failures.push(pb::ImportFailure {
                        row: row_number,
                        code: status.code() as i32,
                        message,
                        field_violations,
                    });
                }
            }
        }
        response.failed_count = i32::try_from(response.failures.len()).unwrap_or(i32::MAX);
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn merge_customers(
        &self,
        request: Request<pb::MergeCustomersRequest>,
    ) -> ApiResult<pb::Customer> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::MergeCustomers, None)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let source = validate::resource_id(&r.source, "customers", "source", &mut v);
        let target = validate::resource_id(&r.target, "customers", "target", &mut v);
        if !source.is_empty() && source == target {
            v.add("target", "must differ from source");
        }
        check(v)?;
        let record = self
            .ops
            .merge(&principal.id, &source, &target, &r.source_etag)
            .await?;
        Ok(Response::new(convert::customer(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn unmerge_customer(
        &self,
        request: Request<pb::UnmergeCustomerRequest>,
    ) -> ApiResult<pb::Customer> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::UnmergeCustomer, None)?;
        let id = customer_id(&request.get_ref().name, "name")?;
        let record = self.ops.unmerge(&principal.id, &id).await?;
        Ok(Response::new(convert::customer(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn export_customer(
        &self,
        request: Request<pb::ExportCustomerRequest>,
    ) -> ApiResult<pb::ExportCustomerResponse> {
        let principal = principal_of(&request)?;
        let id = customer_id(&request.get_ref().name, "name")?;
        allow(&principal, Action::ExportCustomer, Some(&id))?;
        let export = self.ops.export(&principal.id, &id).await?;
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
            export_time: Some(crate::ops::timestamp(kefu_db::time::now_micros())),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn erase_customer(
        &self,
        request: Request<pb::EraseCustomerRequest>,
    ) -> ApiResult<pb::Customer> {
        let principal = principal_of(&request)?;
        let id = customer_id(&request.get_ref().name, "name")?;
        allow(&principal, Action::EraseCustomer, Some(&id))?;
        let record = self
            .ops
            .erase(&principal.id, &id, &request.get_ref().etag)
            .await?;
        Ok(Response::new(convert::customer(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn create_organization(
        &self,
        request: Request<pb::CreateOrganizationRequest>,
    ) -> ApiResult<pb::Organization> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::CreateOrganization, None)?;
        let r = request.into_inner();
        let mut v = Violations::new();
        let mut fields = OrganizationFields::default();
        match &r.organization {
            Some(input) => organization::apply_input(
                input,
                organization::UPDATABLE_FIELDS,
                "organization",
                &mut fields,
                &mut v,
            ),
            None => v.add("organization", "is required"),
        }
        let request_id = validate::request_id(&r.request_id, "request_id", &mut v);
        check(v)?;
        let record = self
            .ops
            .create_organization(&principal.id, fields, request_id.as_deref())
            .await?;
        Ok(Response::new(convert::organization(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_organization(
        &self,
        request: Request<pb::GetOrganizationRequest>,
    ) -> ApiResult<pb::Organization> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::GetOrganization, None)?;
        let id = organization_id(&request.get_ref().name, "name")?;
        Ok(Response::new(convert::organization(
            &self.ops.get_organization(&id).await?,
        )))
    }

    #[tracing::instrument(skip_all)]
    async fn list_organizations(
        &self,
        request: Request<pb::ListOrganizationsRequest>,
    ) -> ApiResult<pb::ListOrganizationsResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::ListOrganizations, None)?;
        let r = request.into_inner();
        let mut v = Violations::new();
        let limit = paging::page_size(r.page_size, "page_size", &mut v);
        let filter = store::OrganizationFilter {
            query: validate::query(&r.query, "query", &mut v),
        };
        let fingerprint = paging::fingerprint(&[&format!("{filter:?}")]);
        let after: Option<String> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut records = self
            .ops
            .list_organizations(&filter, after.as_deref(), limit + 1)
            .await?;
        let next_page_token =
            paging::next_page_token(&mut records, limit, |o| o.id.clone(), &fingerprint);
        Ok(Response::new(pb::ListOrganizationsResponse {
            organizations: records.iter().map(convert::organization).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_organization(
        &self,
        request: Request<pb::UpdateOrganizationRequest>,
    ) -> ApiResult<pb::Organization> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::UpdateOrganization, None)?;
        let r = request.into_inner();
        let input = r.organization.unwrap_or_default();
        let id = organization_id(&input.name, "organization.name")?;
        let mut v = Violations::new();
        let paths = mask::resolve(
            r.update_mask.as_ref(),
            organization::UPDATABLE_FIELDS,
            true,
            "update_mask",
            &mut v,
        );
        let mut fields = OrganizationFields::default();
        organization::apply_input(&input, &paths, "organization", &mut fields, &mut v);
        check(v)?;
        let record = self
            .ops
            .update_organization(&principal.id, &id, &fields, &paths, &r.etag)
            .await?;
        Ok(Response::new(convert::organization(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_organization(
        &self,
        request: Request<pb::DeleteOrganizationRequest>,
    ) -> ApiResult<pb::DeleteOrganizationResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::DeleteOrganization, None)?;
        let id = organization_id(&request.get_ref().name, "name")?;
        self.ops
            .delete_organization(&principal.id, &id, &request.get_ref().etag)
            .await?;
        Ok(Response::new(pb::DeleteOrganizationResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn record_purchase(
        &self,
        request: Request<pb::RecordPurchaseRequest>,
    ) -> ApiResult<pb::Purchase> {
        let principal = principal_of(&request)?;
        let r = request.into_inner();
        let customer = customer_id(&r.parent, "parent")?;
        allow(&principal, Action::RecordPurchase, Some(&customer))?;
        let mut v = Violations::new();
        let purchase = match &r.purchase {
            Some(input) => Some(parse_purchase(
                input,
                new_id(),
                customer,
                kefu_db::time::now_micros(),
                &mut v,
            )),
            None => {
                v.add("purchase", "is required");
                None
            }
        };
        let request_id = validate::request_id(&r.request_id, "request_id", &mut v);
        check(v)?;
        let Some(purchase) = purchase else {
            return Err(Status::invalid_argument("purchase is required"));
        };
        let record = self
            .ops
            .record_purchase(&principal.id, purchase, request_id.as_deref())
            .await?;
        Ok(Response::new(convert::purchase(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_purchases(
        &self,
        request: Request<pb::ListPurchasesRequest>,
    ) -> ApiResult<pb::ListPurchasesResponse> {
        let principal = principal_of(&request)?;
        let r = request.into_inner();
        let customer = customer_id(&r.parent, "parent")?;
        allow(&principal, Action::ListPurchases, Some(&customer))?;
        let mut v = Violations::new();
        let limit = paging::page_size(r.page_size, "page_size", &mut v);
        let fingerprint = paging::fingerprint(&[&customer]);
        let before: Option<(i64, String)> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut records = self
            .ops
            .list_purchases(&customer, before.as_ref(), limit + 1)
            .await?;
        let next_page_token = paging::next_page_token(
            &mut records,
            limit,
            |p| (p.purchase_time, p.id.clone()),
            &fingerprint,
        );
        Ok(Response::new(pb::ListPurchasesResponse {
            purchases: records.iter().map(convert::purchase).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn log_interaction(
        &self,
        request: Request<pb::LogInteractionRequest>,
    ) -> ApiResult<pb::Interaction> {
        let principal = principal_of(&request)?;
        let r = request.into_inner();
        let customer = customer_id(&r.parent, "parent")?;
        allow(&principal, Action::LogInteraction, Some(&customer))?;
        let mut v = Violations::new();
        let interaction = match &r.interaction {
            Some(input) => Some(parse_interaction(
                input,
                new_id(),
                customer,
                principal.id.clone(),
                kefu_db::time::now_micros(),
                &mut v,
            )),
            None => {
                v.add("interaction", "is required");
                None
            }
        };
        let request_id = validate::request_id(&r.request_id, "request_id", &mut v);
        check(v)?;
        let Some(interaction) = interaction else {
            return Err(Status::invalid_argument("interaction is required"));
        };
        let record = self
            .ops
            .log_interaction(&principal.id, interaction, request_id.as_deref())
            .await?;
        Ok(Response::new(convert::interaction(&record)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_interactions(
        &self,
        request: Request<pb::ListInteractionsRequest>,
    ) -> ApiResult<pb::ListInteractionsResponse> {
        let principal = principal_of(&request)?;
        let r = request.into_inner();
        let customer = customer_id(&r.parent, "parent")?;
        allow(&principal, Action::ListInteractions, Some(&customer))?;
        let mut v = Violations::new();
        let limit = paging::page_size(r.page_size, "page_size", &mut v);
        let channel_known = pb::Channel::try_from(r.channel).is_ok();
        validate::enum_value(r.channel, channel_known, false, "channel", &mut v);
        let mut time = |ts: Option<&prost_types::Timestamp>, field: &str| {
            ts.and_then(|ts| {
                let micros = timestamp_micros(ts);
                if micros.is_none() {
                    v.add(field, "is not a valid timestamp");
                }
                micros
            })
        };
        let filter = store::InteractionFilter {
            channel: (r.channel != 0).then_some(r.channel),
            start_time: time(r.start_time.as_ref(), "start_time"),
            end_time: time(r.end_time.as_ref(), "end_time"),
        };
        if let (Some(start), Some(end)) = (filter.start_time, filter.end_time)
            && start >= end
        {
            v.add("end_time", "must be after start_time");
        }
        let fingerprint = paging::fingerprint(&[&customer, &format!("{filter:?}")]);
        let before: Option<(i64, String)> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut records = self
            .ops
            .list_interactions(&customer, &filter, before.as_ref(), limit + 1)
            .await?;
        let next_page_token = paging::next_page_token(
            &mut records,
            limit,
            |i| (i.interaction_time, i.id.clone()),
            &fingerprint,
        );
        Ok(Response::new(pb::ListInteractionsResponse {
            interactions: records.iter().map(convert::interaction).collect(),
            next_page_token,
        }))
    }

    type WatchEventsStream = events::EventStream<pb::WatchEventsResponse>;

    #[tracing::instrument(skip_all)]
    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> ApiResult<Self::WatchEventsStream> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::WatchEvents, None)?;
        let after = events::parse_cursor(&request.get_ref().after_cursor)
            .map_err(CustomersError::Invalid)?;
        Ok(Response::new(events::watch(
            self.ops.db.clone(),
            after,
            &self.ops.signal,
            self.shutdown.clone(),
            |stored| {
                decode_event(stored).map(|event| pb::WatchEventsResponse { event: Some(event) })
            },
            |error| Status::from(CustomersError::from(error)),
        )))
    }
}
