use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use kefu_db::Params;

use super::int;
use crate::domain::activity::{InteractionRecord, PurchaseRecord};

const PURCHASE_COLUMNS: &str = "id, customer_id, product, sku, quantity, amount_micros, currency_code, order_reference, purchase_time, create_time";
const INTERACTION_COLUMNS: &str = "id, customer_id, channel, direction, summary, interaction_time, ticket, logged_by, create_time";

fn decode_purchase(row: &AnyRow) -> Result<PurchaseRecord, sqlx::Error> {
    Ok(PurchaseRecord {
        id: row.try_get("id")?,
        customer_id: row.try_get("customer_id")?,
        product: row.try_get("product")?,
        sku: row.try_get("sku")?,
        quantity: row.try_get("quantity")?,
        amount_micros: row.try_get("amount_micros")?,
        currency_code: row.try_get("currency_code")?,
        order_reference: row.try_get("order_reference")?,
        purchase_time: row.try_get("purchase_time")?,
        create_time: row.try_get("create_time")?,
    })
}

fn decode_interaction(row: &AnyRow) -> Result<InteractionRecord, sqlx::Error> {
    Ok(InteractionRecord {
        id: row.try_get("id")?,
        customer_id: row.try_get("customer_id")?,
        channel: int(row, "channel")?,
        direction: int(row, "direction")?,
        summary: row.try_get("summary")?,
        interaction_time: row.try_get("interaction_time")?,
        ticket: row.try_get("ticket")?,
        logged_by: row.try_get("logged_by")?,
        create_time: row.try_get("create_time")?,
    })
}

/// Records a purchase.
pub async fn insert_purchase(
    conn: &mut AnyConnection,
    p: &PurchaseRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO purchases ({PURCHASE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(&p.id)
    .bind(&p.customer_id)
    .bind(&p.product)
    .bind(&p.sku)
    .bind(p.quantity)
    .bind(p.amount_micros)
    .bind(&p.currency_code)
    .bind(&p.order_reference)
    .bind(p.purchase_time)
    .bind(p.create_time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Logs an interaction.
pub async fn insert_interaction(
    conn: &mut AnyConnection,
    i: &InteractionRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO interactions ({INTERACTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&i.id)
    .bind(&i.customer_id)
    .bind(i64::from(i.channel))
    .bind(i64::from(i.direction))
    .bind(&i.summary)
    .bind(i.interaction_time)
    .bind(&i.ticket)
    .bind(&i.logged_by)
    .bind(i.create_time)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `customer_id IN (…)` for the customer and those merged into it.
fn owners_clause(params: &mut Params, customer_id: &str) -> String {
    let id = params.bind(customer_id.to_owned());
    let again = params.bind(customer_id.to_owned());
    format!("customer_id IN (SELECT id FROM customers WHERE id = {id} OR merged_into = {again})")
}

/// A page of purchases, newest first, before the `(purchase_time, id)` key `before`.
pub async fn list_purchases(
    conn: &mut AnyConnection,
    customer_id: &str,
    before: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<PurchaseRecord>, sqlx::Error> {
    let mut params = Params::new();
    let mut clauses = vec![owners_clause(&mut params, customer_id)];
    if let Some((time, id)) = before {
        let t1 = params.bind(*time);
        let t2 = params.bind(*time);
        let id = params.bind(id.clone());
        clauses.push(format!(
            "(purchase_time < {t1} OR (purchase_time = {t2} AND id < {id}))"
        ));
    }
    let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let sql = format!(
        "SELECT {PURCHASE_COLUMNS} FROM purchases WHERE {} ORDER BY purchase_time DESC, id DESC LIMIT {limit}",
        clauses.join(" AND ")
    );
    let rows = sqlx::query_with(&sql, params.into_args())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(decode_purchase).collect()
}

/// ListInteractions filters.
#[derive(Debug, Clone, Default)]
pub struct InteractionFilter {
    /// Channel value.
    pub channel: Option<i32>,
    /// Inclusive lower bound, UTC microseconds.
    pub start_time: Option<i64>,
    /// Exclusive upper bound, UTC microseconds.
    pub end_time: Option<i64>,
}

/// A page of the timeline, newest first, before the `(interaction_time, id)` key `before`.
pub async fn list_interactions(
    conn: &mut AnyConnection,
    customer_id: &str,
    filter: &InteractionFilter,
    before: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<InteractionRecord>, sqlx::Error> {
    let mut params = Params::new();
    let mut clauses = vec![owners_clause(&mut params, customer_id)];
    if let Some(channel) = filter.channel {
        clauses.push(format!("channel = {}", params.bind(i64::from(channel))));
    }
    if let Some(start) = filter.start_time {
        clauses.push(format!("interaction_time >= {}", params.bind(start)));
    }
    if let Some(end) = filter.end_time {
        clauses.push(format!("interaction_time < {}", params.bind(end)));
    }
    if let Some((time, id)) = before {
        let t1 = params.bind(*time);
        let t2 = params.bind(*time);
        let id = params.bind(id.clone());
        clauses.push(format!(
            "(interaction_time < {t1} OR (interaction_time = {t2} AND id < {id}))"
        ));
    }
    let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let sql = format!(
        "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE {} ORDER BY interaction_time DESC, id DESC LIMIT {limit}",
        clauses.join(" AND ")
    );
    let rows = sqlx::query_with(&sql, params.into_args())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(decode_interaction).collect()
}

/// Every purchase stored on exactly this customer record (for export), newest first.
pub async fn purchases_of(
    conn: &mut AnyConnection,
    customer_id: &str,
) -> Result<Vec<PurchaseRecord>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {PURCHASE_COLUMNS} FROM purchases WHERE customer_id = $1 ORDER BY purchase_time DESC, id DESC"
    ))
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(decode_purchase).collect()
}

/// Every interaction stored on exactly this customer record (for export), newest first.
pub async fn interactions_of(
    conn: &mut AnyConnection,
    customer_id: &str,
) -> Result<Vec<InteractionRecord>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE customer_id = $1 ORDER BY interaction_time DESC, id DESC"
    ))
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(decode_interaction).collect()
}
