//! Typed custom fields and forms: their definitions, and the checks every ticket write and
//! every solve makes against them.

use kefu_db::Write;
use kefu_db::idempotency::Replay;
use kefu_server::{ServiceError, Violations};

use super::{Tickets, check_etag, new_id, still_as_read};
use crate::domain::fields::{self, FieldRecord, FormRecord};
use crate::domain::ticket::{TicketFields, TicketRecord, ticket_name};
use crate::store;

/// The prefix every custom field violation is named under.
const VALUES_AT: &str = "ticket.custom_fields";

impl Tickets {
    /// Defines a field under its own id.
    pub async fn create_field(&self, mut field: FieldRecord) -> Result<FieldRecord, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if store::find::<FieldRecord>(&mut tx, &field.id)
            .await?
            .is_some()
        {
            return Err(ServiceError::AlreadyExists {
                reason: "TICKET_FIELD_EXISTS",
                message: format!("ticketFields/{} exists", field.id),
            });
        }
        field.create_time = self.ctx.now();
        field.version = 1;
        store::insert_field(&mut tx, &field).await?;
        tx.commit().await?;
        Ok(field)
    }

    /// One field.
    pub async fn get_field(&self, id: &str) -> Result<FieldRecord, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        store::find::<FieldRecord>(&mut conn, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("ticketFields/{id}")))
    }

    /// A page of fields by id.
    pub async fn list_fields(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FieldRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(store::list_fields(&mut conn, after, limit).await?)
    }

    /// Writes `after`, a change of the field as read at `after.version`.
    pub async fn update_field(
        &self,
        etag: &str,
        mut after: FieldRecord,
    ) -> Result<FieldRecord, ServiceError> {
        let name = format!("ticketFields/{}", after.id);
        let mut tx = self.ctx.db.begin_write().await?;
        tx.lock_in_order("ticket_fields", [after.id.as_str()])
            .await?;
        let before = store::find::<FieldRecord>(&mut tx, &after.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(name.clone()))?;
        still_as_read(&name, before.version, etag, after.version)?;
        if after == before {
            return Ok(before);
        }
        after.version = before.version + 1;
        if !store::update_field(&mut tx, &after).await? {
            return Err(ServiceError::Conflict(name));
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a field no form shows.
    pub async fn delete_field(&self, id: &str, etag: &str) -> Result<(), ServiceError> {
        let name = format!("ticketFields/{id}");
        let mut tx = self.ctx.db.begin_write().await?;
        tx.lock_in_order("ticket_fields", [id]).await?;
        let field = store::find::<FieldRecord>(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(name.clone()))?;
        check_etag(&name, field.version, etag)?;
        if let Some(form_id) = store::form_showing(&mut tx, id).await? {
            return Err(ServiceError::FailedPrecondition(format!(
                "ticketForms/{form_id} shows {name}: take it off the form first"
            )));
        }
        if !store::delete_definition(&mut tx, "ticket_fields", id).await? {
            return Err(ServiceError::Conflict(name));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Creates the form of a ticket type, showing fields that exist.
    pub async fn create_form<A: prost::Message + Default>(
        &self,
        mut form: FormRecord,
        replay: &Replay<FormRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, "ticketForms", self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        if let Some(existing) = store::form_for(&mut tx, form.ticket_type).await? {
            return Err(ServiceError::AlreadyExists {
                reason: "TICKET_FORM_EXISTS",
                message: format!(
                    "ticketForms/{} is the form of {} tickets",
                    existing.id,
                    form.ticket_type.label()
                ),
            });
        }
        check_form_fields(&mut tx, &form).await?;
        form.id = new_id();
        form.create_time = self.ctx.now();
        form.version = 1;
        store::insert_form(&mut tx, &form).await?;
        let answer = replay.answer(&mut tx, &form).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// One form.
    pub async fn get_form(&self, id: &str) -> Result<FormRecord, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        store::find::<FormRecord>(&mut conn, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("ticketForms/{id}")))
    }

    /// A page of forms by ticket type.
    pub async fn list_forms(
        &self,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<FormRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(store::list_forms(&mut conn, after, limit).await?)
    }

    /// Writes `after`, a change of the form as read at `after.version`.
    pub async fn update_form(
        &self,
        etag: &str,
        mut after: FormRecord,
    ) -> Result<FormRecord, ServiceError> {
        let name = format!("ticketForms/{}", after.id);
        let mut tx = self.ctx.db.begin_write().await?;
        tx.lock_in_order("ticket_forms", [after.id.as_str()])
            .await?;
        let before = store::find::<FormRecord>(&mut tx, &after.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(name.clone()))?;
        still_as_read(&name, before.version, etag, after.version)?;
        if after == before {
            return Ok(before);
        }
        check_form_fields(&mut tx, &after).await?;
        after.version = before.version + 1;
        if !store::update_form(&mut tx, &after).await? {
            return Err(ServiceError::Conflict(name));
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a form.
    pub async fn delete_form(&self, id: &str, etag: &str) -> Result<(), ServiceError> {
        let name = format!("ticketForms/{id}");
        let mut tx = self.ctx.db.begin_write().await?;
        tx.lock_in_order("ticket_forms", [id]).await?;
        let form = store::find::<FormRecord>(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(name.clone()))?;
        check_etag(&name, form.version, etag)?;
        if !store::delete_definition(&mut tx, "ticket_forms", id).await? {
            return Err(ServiceError::Conflict(name));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Checks a ticket's custom field values against the fields and its type's form, and
    /// writes them in canonical form (INVALID_ARGUMENT naming each bad one).
    pub(super) async fn check_custom_fields(
        &self,
        tx: &mut Write,
        values: &mut TicketFields,
    ) -> Result<(), ServiceError> {
        if values.custom_fields.is_empty() {
            return Ok(());
        }
        let defined = store::all_fields(tx).await?;
        let form = store::form_for(tx, values.ticket_type).await?;
        let mut v = Violations::new();
        let canonical = fields::check_values(
            &values.custom_fields,
            &defined,
            form.as_ref(),
            VALUES_AT,
            &mut v,
        );
        v.into_result()?;
        values.custom_fields = canonical;
        Ok(())
    }

    /// FAILED_PRECONDITION naming the required fields `t` holds no value for.
    pub(super) async fn check_solvable(
        &self,
        tx: &mut Write,
        t: &TicketRecord,
    ) -> Result<(), ServiceError> {
        let defined = store::all_fields(tx).await?;
        let form = store::form_for(tx, t.fields.ticket_type).await?;
        let missing = fields::missing_to_solve(&t.fields.custom_fields, &defined, form.as_ref());
        if missing.is_empty() {
            return Ok(());
        }
        Err(ServiceError::FailedPrecondition(format!(
            "{} needs a value for {} before it is solved",
            ticket_name(&t.id),
            missing
                .iter()
                .map(|id| format!("ticketFields/{id}"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

/// NOT_FOUND for a form naming a field that does not exist.
async fn check_form_fields(tx: &mut Write, form: &FormRecord) -> Result<(), ServiceError> {
    let defined = store::find_all::<FieldRecord>(tx, &form.fields).await?;
    match form
        .fields
        .iter()
        .find(|id| !defined.iter().any(|f| &f.id == *id))
    {
        Some(missing) => Err(ServiceError::NotFound(format!("ticketFields/{missing}"))),
        None => Ok(()),
    }
}
