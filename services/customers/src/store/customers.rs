use kefu_db::Params;
use kefu_db::row::{self, Stored, Versioned, int, json, json_text, opt_i64};
use kefu_server::common::{LifecycleStage, Tier};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::like_pattern;
use crate::domain::customer::{CustomerFields, CustomerRecord, search_text};

const COLUMNS: &str = "id, display_name, emails, phones, organization_id, external_id, tier, lifecycle_stage, \
                       tags, attributes, locale, time_zone, account_owner, merged_into, erase_time, create_time, update_time, version";

impl Stored for CustomerRecord {
    const COLLECTION: &'static str = "customers";
    const TABLE: &'static str = "customers";
    const COLUMNS: &'static str = COLUMNS;

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(CustomerRecord {
            id: row.try_get("id")?,
            fields: CustomerFields {
                display_name: row.try_get("display_name")?,
                emails: json(row, "emails")?,
                phones: json(row, "phones")?,
                organization_id: row.try_get("organization_id")?,
                external_id: row.try_get("external_id")?,
                tier: Tier::from_number(int(row, "tier")?),
                lifecycle_stage: LifecycleStage::from_number(int(row, "lifecycle_stage")?),
                tags: json(row, "tags")?,
                attributes: json(row, "attributes")?,
                locale: row.try_get("locale")?,
                time_zone: row.try_get("time_zone")?,
                account_owner: row.try_get("account_owner")?,
            },
            merged_into: row.try_get("merged_into")?,
            erase_time: opt_i64(row, "erase_time")?,
            create_time: row.try_get("create_time")?,
            update_time: row.try_get("update_time")?,
            version: row.try_get("version")?,
        })
    }
}

impl Versioned for CustomerRecord {
    fn id_and_version(&self) -> (&str, i64) {
        (&self.id, self.version)
    }
}

/// The customer with this external id.
pub async fn find_by_external_id(
    conn: &mut AnyConnection,
    external_id: &str,
) -> Result<Option<CustomerRecord>, sqlx::Error> {
    row::find_by(conn, "external_id", external_id).await
}

/// Which of these emails belong to a customer other than `except_id`: (email, owner id).
pub async fn email_owners(
    conn: &mut AnyConnection,
    emails: &[String],
    except_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = Params::new();
    let emails = params.list(emails.to_vec());
    let except = params.bind(except_id.to_owned());
    let sql = format!(
        "SELECT email, customer_id FROM customer_emails WHERE email IN ({emails}) AND customer_id <> {except}"
    );
    row::all(conn, sqlx::query_with(&sql, params.into_args()), |r| {
        Ok((r.try_get("email")?, r.try_get("customer_id")?))
    })
    .await
}

/// True when some customer is merged into `id`.
pub async fn has_merged_children(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    row::exists(
        conn,
        sqlx::query("SELECT id FROM customers WHERE merged_into = $1 LIMIT 1").bind(id),
    )
    .await
}

async fn write_children(
    conn: &mut AnyConnection,
    record: &CustomerRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM customer_emails WHERE customer_id = $1")
        .bind(&record.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM customer_tags WHERE customer_id = $1")
        .bind(&record.id)
        .execute(&mut *conn)
        .await?;
    for email in &record.fields.emails {
        sqlx::query("INSERT INTO customer_emails (email, customer_id) VALUES ($1, $2)")
            .bind(email)
            .bind(&record.id)
            .execute(&mut *conn)
            .await?;
    }
    for tag in &record.fields.tags {
        sqlx::query("INSERT INTO customer_tags (customer_id, tag) VALUES ($1, $2)")
            .bind(&record.id)
            .bind(tag)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Inserts a new customer with its email and tag index rows.
pub async fn insert_customer(
    conn: &mut AnyConnection,
    record: &CustomerRecord,
) -> Result<(), sqlx::Error> {
    let f = &record.fields;
    sqlx::query(
        "INSERT INTO customers (id, display_name, emails, phones, organization_id, external_id, tier, lifecycle_stage, \
         tags, attributes, locale, time_zone, search_text, merged_into, erase_time, create_time, update_time, version, account_owner) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
    )
    .bind(&record.id)
    .bind(&f.display_name)
    .bind(json_text(&f.emails)?)
    .bind(json_text(&f.phones)?)
    .bind(f.organization_id.as_deref())
    .bind(f.external_id.as_deref())
    .bind(i64::from(f.tier.map_or(0, Tier::number)))
    .bind(i64::from(f.lifecycle_stage.map_or(0, LifecycleStage::number)))
    .bind(json_text(&f.tags)?)
    .bind(json_text(&f.attributes)?)
    .bind(&f.locale)
    .bind(&f.time_zone)
    .bind(search_text(f))
    .bind(record.merged_into.as_deref())
    .bind(record.erase_time)
    .bind(record.create_time)
    .bind(record.update_time)
    .bind(record.version)
    .bind(f.account_owner.as_deref())
    .execute(&mut *conn)
    .await?;
    write_children(conn, record).await
}

/// Writes `record` if the stored version is still `expected_version`; false when it moved on.
pub async fn update_customer(
    conn: &mut AnyConnection,
    record: &CustomerRecord,
    expected_version: i64,
) -> Result<bool, sqlx::Error> {
    let f = &record.fields;
    let statement = sqlx::query(
        "UPDATE customers SET display_name = $1, emails = $2, phones = $3, organization_id = $4, external_id = $5, \
         tier = $6, lifecycle_stage = $7, tags = $8, attributes = $9, locale = $10, time_zone = $11, search_text = $12, \
         merged_into = $13, erase_time = $14, update_time = $15, version = $16, account_owner = $19 WHERE id = $17 AND version = $18",
    )
    .bind(&f.display_name)
    .bind(json_text(&f.emails)?)
    .bind(json_text(&f.phones)?)
    .bind(f.organization_id.as_deref())
    .bind(f.external_id.as_deref())
    .bind(i64::from(f.tier.map_or(0, Tier::number)))
    .bind(i64::from(f.lifecycle_stage.map_or(0, LifecycleStage::number)))
    .bind(json_text(&f.tags)?)
    .bind(json_text(&f.attributes)?)
    .bind(&f.locale)
    .bind(&f.time_zone)
    .bind(search_text(f))
    .bind(record.merged_into.as_deref())
    .bind(record.erase_time)
    .bind(record.update_time)
    .bind(record.version)
    .bind(&record.id)
    .bind(expected_version)
    .bind(f.account_owner.as_deref());
    let updated = row::changed(conn, statement).await?;
    if !updated {
        return Ok(false);
    }
    write_children(conn, record).await?;
    Ok(true)
}

/// Sets or clears `merged_into`, bumping the version, if the version is still `expected_version`.
pub async fn set_merged_into(
    conn: &mut AnyConnection,
    id: &str,
    merged_into: Option<&str>,
    now: i64,
    expected_version: i64,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "UPDATE customers SET merged_into = $1, update_time = $2, version = version + 1 WHERE id = $3 AND version = $4",
    )
    .bind(merged_into)
    .bind(now)
    .bind(id)
    .bind(expected_version);
    let updated = row::changed(conn, statement).await?;
    Ok(updated)
}

/// Replaces the summaries of a customer's interactions (erasure).
pub async fn erase_interactions(
    conn: &mut AnyConnection,
    customer_id: &str,
    summary: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE interactions SET summary = $1 WHERE customer_id = $2")
        .bind(summary)
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE purchases SET order_reference = '' WHERE customer_id = $1")
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// ListCustomers filters.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Tag.
    pub tag: Option<String>,
    /// Tier.
    pub tier: Option<Tier>,
    /// Lifecycle stage.
    pub lifecycle_stage: Option<LifecycleStage>,
    /// Organization id.
    pub organization_id: Option<String>,
    /// Lower-cased substring of name or email.
    pub query: Option<String>,
    /// Include merged-away customers.
    pub show_merged: bool,
}

/// A page of customers in id (creation) order after `after_id`; `limit` rows at most.
pub async fn list_customers(
    conn: &mut AnyConnection,
    filter: &CustomerFilter,
    after_id: Option<&str>,
    limit: usize,
) -> Result<Vec<CustomerRecord>, sqlx::Error> {
    let mut params = Params::new();
    let mut clauses: Vec<String> = Vec::new();
    if let Some(after) = after_id {
        clauses.push(format!("id > {}", params.bind(after.to_owned())));
    }
    if let Some(tag) = &filter.tag {
        clauses.push(format!(
            "id IN (SELECT customer_id FROM customer_tags WHERE tag = {})",
            params.bind(tag.clone())
        ));
    }
    if let Some(tier) = filter.tier {
        clauses.push(format!("tier = {}", params.bind(i64::from(tier.number()))));
    }
    if let Some(stage) = filter.lifecycle_stage {
        clauses.push(format!(
            "lifecycle_stage = {}",
            params.bind(i64::from(stage.number()))
        ));
    }
    if let Some(org) = &filter.organization_id {
        clauses.push(format!("organization_id = {}", params.bind(org.clone())));
    }
    if let Some(query) = &filter.query {
        clauses.push(format!(
            "search_text LIKE {} ESCAPE '\\'",
            params.bind(like_pattern(query))
        ));
    }
    if !filter.show_merged {
        clauses.push("merged_into IS NULL".to_owned());
    }
    let where_clause = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let limit = params.limit(limit);
    let sql = format!("SELECT {COLUMNS} FROM customers {where_clause} ORDER BY id LIMIT {limit}");
    row::all(
        conn,
        sqlx::query_with(&sql, params.into_args()),
        CustomerRecord::decode,
    )
    .await
}

/// The customers merged into `id`.
pub async fn merged_children(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Vec<CustomerRecord>, sqlx::Error> {
    let query = format!("SELECT {COLUMNS} FROM customers WHERE merged_into = $1 ORDER BY id");
    row::all(conn, sqlx::query(&query).bind(id), CustomerRecord::decode).await
}
