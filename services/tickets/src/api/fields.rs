//! Typed custom fields and forms.

use kefu_proto::tickets::v1 as pb;
use kefu_server::etag::etag;
use kefu_server::paging::Page;
use kefu_server::time::timestamp;
use kefu_server::{Violations, mask, principal_of, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow};
use crate::domain::access::Action;
use crate::domain::fields::{self, FieldRecord, FieldType, FormRecord, MAX_FORM_FIELDS};
use crate::domain::kinds::TicketType;

/// A field on the wire.
pub(super) fn field_out(f: &FieldRecord) -> pb::TicketField {
    let name = format!("ticketFields/{}", f.id);
    pb::TicketField {
        etag: etag(&name, f.version),
        name,
        display_name: f.display_name.clone(),
        r#type: f.field_type.number(),
        options: f.options.clone(),
        required_to_solve: f.required_to_solve,
        create_time: Some(timestamp(f.create_time)),
    }
}

/// A form on the wire.
pub(super) fn form_out(f: &FormRecord) -> pb::TicketForm {
    let name = format!("ticketForms/{}", f.id);
    pb::TicketForm {
        etag: etag(&name, f.version),
        name,
        display_name: f.display_name.clone(),
        ticket_type: f.ticket_type.number(),
        fields: f
            .fields
            .iter()
            .map(|id| format!("ticketFields/{id}"))
            .collect(),
        create_time: Some(timestamp(f.create_time)),
    }
}

/// A field from the wire (id, time and version for the caller to set).
fn field_record(input: &pb::TicketField, v: &mut Violations) -> FieldRecord {
    let display_name = validate::display_name(&input.display_name, "ticket_field.display_name", v);
    let field_type =
        validate::optional_enum(input.r#type, FieldType::from_number, "ticket_field.type", v);
    if input.r#type == 0 {
        v.add("ticket_field.type", "is required");
    }
    let field_type = field_type.unwrap_or(FieldType::Text);
    let options = fields::check_options(field_type, &input.options, "ticket_field", v);
    FieldRecord {
        id: String::new(),
        display_name,
        field_type,
        options,
        required_to_solve: input.required_to_solve,
        create_time: 0,
        version: 1,
    }
}

pub(super) async fn create_field(
    api: &TicketsApi,
    request: Request<pb::CreateTicketFieldRequest>,
) -> Rpc<pb::TicketField> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let id = fields::field_id(&r.ticket_field_id, "ticket_field_id", &mut v);
    let mut field = field_record(&r.ticket_field.clone().unwrap_or_default(), &mut v);
    v.into_result()?;
    field.id = id;
    let field = api.ops.create_field(field).await?;
    Ok(Response::new(field_out(&field)))
}

pub(super) async fn list_fields(
    api: &TicketsApi,
    request: Request<pb::ListTicketFieldsRequest>,
) -> Rpc<pb::ListTicketFieldsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTeam)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let page: Page<String> = Page::read(r.page_size, &r.page_token, &["ticketFields"], &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_fields(page.after.as_deref(), page.fetch())
        .await?;
    let (records, next_page_token) = page.finish(rows, |f| f.id.clone());
    Ok(Response::new(pb::ListTicketFieldsResponse {
        ticket_fields: records.iter().map(field_out).collect(),
        next_page_token,
    }))
}

pub(super) async fn update_field(
    api: &TicketsApi,
    request: Request<pb::UpdateTicketFieldRequest>,
) -> Rpc<pb::TicketField> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let input = r.ticket_field.clone().unwrap_or_default();
    let id = validate::required_id(&input.name, "ticketFields", "ticket_field.name")?;
    let mut v = Violations::new();
    let paths = mask::update_mask(
        r.update_mask.as_ref(),
        &["display_name", "options", "required_to_solve"],
        &mut v,
    );
    v.into_result()?;
    let current = api.ops.get_field(&id).await?;
    let mut merged = field_out(&current);
    for path in &paths {
        match *path {
            "display_name" => merged.display_name = input.display_name.clone(),
            "options" => merged.options = input.options.clone(),
            _ => merged.required_to_solve = input.required_to_solve,
        }
    }
    let mut v = Violations::new();
    let mut after = field_record(&merged, &mut v);
    v.into_result()?;
    after.id = current.id;
    after.create_time = current.create_time;
    after.version = current.version;
    let field = api.ops.update_field(&r.etag, after).await?;
    Ok(Response::new(field_out(&field)))
}

pub(super) async fn delete_field(
    api: &TicketsApi,
    request: Request<pb::DeleteTicketFieldRequest>,
) -> Rpc<pb::DeleteTicketFieldResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let id = validate::required_id(&r.name, "ticketFields", "name")?;
    api.ops.delete_field(&id, &r.etag).await?;
    Ok(Response::new(pb::DeleteTicketFieldResponse {}))
}

/// A form from the wire (id, time and version for the caller to set).
fn form_record(input: &pb::TicketForm, v: &mut Violations) -> FormRecord {
    let display_name = validate::display_name(&input.display_name, "ticket_form.display_name", v);
    let ticket_type = validate::optional_enum(
        input.ticket_type,
        TicketType::from_number,
        "ticket_form.ticket_type",
        v,
    );
    if input.ticket_type == 0 {
        v.add("ticket_form.ticket_type", "is required");
    }
    if input.fields.len() > MAX_FORM_FIELDS {
        v.add(
            "ticket_form.fields",
            format!("at most {MAX_FORM_FIELDS} fields"),
        );
    }
    let mut ids: Vec<String> = Vec::new();
    for (i, name) in input.fields.iter().enumerate() {
        let at = format!("ticket_form.fields[{i}]");
        let id = validate::resource_id(name, "ticketFields", &at, v);
        if ids.contains(&id) {
            v.add(at, format!("repeats {name}"));
        } else {
            ids.push(id);
        }
    }
    FormRecord {
        id: String::new(),
        display_name,
        ticket_type: ticket_type.unwrap_or(TicketType::Question),
        fields: ids,
        create_time: 0,
        version: 1,
    }
}

pub(super) async fn create_form(
    api: &TicketsApi,
    request: Request<pb::CreateTicketFormRequest>,
) -> Rpc<pb::TicketForm> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let body = request.get_ref();
    let mut v = Violations::new();
    let replay = validate::replay(
        &principal,
        &body.request_id,
        "CreateTicketForm",
        body,
        form_out,
        &mut v,
    );
    let form = form_record(&body.ticket_form.clone().unwrap_or_default(), &mut v);
    v.into_result()?;
    Ok(Response::new(api.ops.create_form(form, &replay).await?))
}

pub(super) async fn list_forms(
    api: &TicketsApi,
    request: Request<pb::ListTicketFormsRequest>,
) -> Rpc<pb::ListTicketFormsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTeam)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let page: Page<i64> = Page::read(r.page_size, &r.page_token, &["ticketForms"], &mut v);
    v.into_result()?;
    let rows = api.ops.list_forms(page.after, page.fetch()).await?;
    let (records, next_page_token) = page.finish(rows, |f| i64::from(f.ticket_type.number()));
    Ok(Response::new(pb::ListTicketFormsResponse {
        ticket_forms: records.iter().map(form_out).collect(),
        next_page_token,
    }))
}

pub(super) async fn update_form(
    api: &TicketsApi,
    request: Request<pb::UpdateTicketFormRequest>,
) -> Rpc<pb::TicketForm> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let input = r.ticket_form.clone().unwrap_or_default();
    let id = validate::required_id(&input.name, "ticketForms", "ticket_form.name")?;
    let mut v = Violations::new();
    let paths = mask::update_mask(r.update_mask.as_ref(), &["display_name", "fields"], &mut v);
    v.into_result()?;
    let current = api.ops.get_form(&id).await?;
    let mut merged = form_out(&current);
    for path in &paths {
        match *path {
            "display_name" => merged.display_name = input.display_name.clone(),
            _ => merged.fields = input.fields.clone(),
        }
    }
    let mut v = Violations::new();
    let mut after = form_record(&merged, &mut v);
    v.into_result()?;
    after.id = current.id;
    after.create_time = current.create_time;
    after.version = current.version;
    let form = api.ops.update_form(&r.etag, after).await?;
    Ok(Response::new(form_out(&form)))
}

pub(super) async fn delete_form(
    api: &TicketsApi,
    request: Request<pb::DeleteTicketFormRequest>,
) -> Rpc<pb::DeleteTicketFormResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let id = validate::required_id(&r.name, "ticketForms", "name")?;
    api.ops.delete_form(&id, &r.etag).await?;
    Ok(Response::new(pb::DeleteTicketFormResponse {}))
}
