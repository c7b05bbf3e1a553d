//! Ticket field definitions, forms, and the index of custom field values.

use kefu_db::row::{self, Stored, flag, json, json_text};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::fields::{FieldRecord, FieldType, FormRecord, index_entries};
use crate::domain::kinds::TicketType;
use crate::domain::ticket::TicketRecord;

const FIELD_COLUMNS: &str =
    "id, display_name, field_type, options, required_to_solve, create_time, version";

impl Stored for FieldRecord {
    const COLLECTION: &'static str = "ticketFields";
    const TABLE: &'static str = "ticket_fields";
    const COLUMNS: &'static str = FIELD_COLUMNS;

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(FieldRecord {
            id: row.try_get("id")?,
            display_name: row.try_get("display_name")?,
            field_type: row::enumerated(row, "field_type", FieldType::from_number)?,
            options: json(row, "options")?,
            required_to_solve: flag(row, "required_to_solve")?,
            create_time: row.try_get("create_time")?,
            version: row.try_get("version")?,
        })
    }
}

const FORM_COLUMNS: &str = "id, display_name, ticket_type, fields, create_time, version";

impl Stored for FormRecord {
    const COLLECTION: &'static str = "ticketForms";
    const TABLE: &'static str = "ticket_forms";
    const COLUMNS: &'static str = FORM_COLUMNS;

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(FormRecord {
            id: row.try_get("id")?,
            display_name: row.try_get("display_name")?,
            ticket_type: row::enumerated(row, "ticket_type", TicketType::from_number)?,
            fields: json(row, "fields")?,
            create_time: row.try_get("create_time")?,
            version: row.try_get("version")?,
        })
    }
}

/// Inserts a field definition.
pub async fn insert_field(conn: &mut AnyConnection, f: &FieldRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ticket_fields (id, display_name, field_type, options, required_to_solve, create_time, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&f.id)
    .bind(&f.display_name)
    .bind(i64::from(f.field_type.number()))
    .bind(json_text(&f.options)?)
    .bind(i64::from(f.required_to_solve))
    .bind(f.create_time)
    .bind(f.version)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes a field's changeable parts if the stored row is at `f.version - 1`.
pub async fn update_field(conn: &mut AnyConnection, f: &FieldRecord) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "UPDATE ticket_fields SET display_name = $1, options = $2, required_to_solve = $3, version = $4 \
         WHERE id = $5 AND version = $6",
    )
    .bind(&f.display_name)
    .bind(json_text(&f.options)?)
    .bind(i64::from(f.required_to_solve))
    .bind(f.version)
    .bind(&f.id)
    .bind(f.version - 1);
    row::changed(conn, statement).await
}

/// Every field definition, by id.
pub async fn all_fields(conn: &mut AnyConnection) -> Result<Vec<FieldRecord>, sqlx::Error> {
    let sql = format!("{} ORDER BY id", row::select::<FieldRecord>());
    row::all(conn, sqlx::query(&sql), FieldRecord::decode).await
}

/// A page of field definitions by id after `after`.
pub async fn list_fields(
    conn: &mut AnyConnection,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<FieldRecord>, sqlx::Error> {
    let sql = format!(
        "{} WHERE id > $1 ORDER BY id LIMIT $2",
        row::select::<FieldRecord>()
    );
    let query = sqlx::query(&sql).bind(after.unwrap_or("")).bind(limit);
    row::all(conn, query, FieldRecord::decode).await
}

/// Inserts a form.
pub async fn insert_form(conn: &mut AnyConnection, f: &FormRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ticket_forms (id, display_name, ticket_type, fields, create_time, version) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&f.id)
    .bind(&f.display_name)
    .bind(i64::from(f.ticket_type.number()))
    .bind(json_text(&f.fields)?)
    .bind(f.create_time)
    .bind(f.version)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes a form's changeable parts if the stored row is at `f.version - 1`.
pub async fn update_form(conn: &mut AnyConnection, f: &FormRecord) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "UPDATE ticket_forms SET display_name = $1, fields = $2, version = $3 WHERE id = $4 AND version = $5",
    )
    .bind(&f.display_name)
    .bind(json_text(&f.fields)?)
    .bind(f.version)
    .bind(&f.id)
    .bind(f.version - 1);
    row::changed(conn, statement).await
}

/// The form of a ticket type, if it has one.
pub async fn form_for(
    conn: &mut AnyConnection,
    ticket_type: TicketType,
) -> Result<Option<FormRecord>, sqlx::Error> {
    let sql = format!("{} WHERE ticket_type = $1", row::select::<FormRecord>());
    let query = sqlx::query(&sql).bind(i64::from(ticket_type.number()));
    row::one(conn, query, FormRecord::decode).await
}

/// A page of forms by ticket type after `after` (a type number).
pub async fn list_forms(
    conn: &mut AnyConnection,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<FormRecord>, sqlx::Error> {
    let sql = format!(
        "{} WHERE ticket_type > $1 ORDER BY ticket_type LIMIT $2",
        row::select::<FormRecord>()
    );
    let query = sqlx::query(&sql).bind(after.unwrap_or(0)).bind(limit);
    row::all(conn, query, FormRecord::decode).await
}

/// The first form (by type) showing `field_id`.
pub async fn form_showing(
    conn: &mut AnyConnection,
    field_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let forms = list_forms(conn, None, i64::MAX).await?;
    Ok(forms
        .into_iter()
        .find(|f| f.fields.iter().any(|id| id == field_id))
        .map(|f| f.id))
}

/// Deletes a row of `table` (`ticket_fields` or `ticket_forms`) by id; false if it was gone.
pub async fn delete_definition(
    conn: &mut AnyConnection,
    table: &'static str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let sql = format!("DELETE FROM {table} WHERE id = $1");
    row::changed(conn, sqlx::query(&sql).bind(id)).await
}

/// Rewrites the custom field index of `t`.
pub(super) async fn write_field_values(
    conn: &mut AnyConnection,
    t: &TicketRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM ticket_field_values WHERE ticket_id = $1")
        .bind(&t.id)
        .execute(&mut *conn)
        .await?;
    for (field_id, value) in index_entries(&t.fields.custom_fields) {
        sqlx::query(
            "INSERT INTO ticket_field_values (ticket_id, field_id, value) VALUES ($1, $2, $3)",
        )
        .bind(&t.id)
        .bind(field_id)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
