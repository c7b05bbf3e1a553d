use kefu_db::Params;
use kefu_db::row::{self, int};
use kefu_server::common::Channel;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::activity::{
    Direction, InteractionRecord, NewInteraction, NewPurchase, PurchaseRecord,
};

const PURCHASE_COLUMNS: &str = "id, customer_id, product, sku, quantity, amount_micros, currency_code, order_reference, purchase_time, create_time";
const INTERACTION_COLUMNS: &str = "id, customer_id, channel, direction, summary, interaction_time, ticket, logged_by, create_time";

fn decode_purchase(row: &AnyRow) -> Result<PurchaseRecord, sqlx::Error> {
    let purchase_time = row.try_get("purchase_time")?;
    Ok(PurchaseRecord {
        id: row.try_get("id")?,
        customer_id: row.try_get("customer_id")?,
        purchase: NewPurchase {
            product: row.try_get("product")?,
            sku: row.try_get("sku")?,
            quantity: row.try_get("quantity")?,
            amount_micros: row.try_get("amount_micros")?,
            currency_code: row.try_get("currency_code")?,
            order_reference: row.try_get("order_reference")?,
            purchase_time: Some(purchase_time),
        },
        purchase_time,
        create_time: row.try_get("create_time")?,
    })
}

fn decode_interaction(row: &AnyRow) -> Result<InteractionRecord, sqlx::Error> {
    let bad = |column: &str| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: "unknown enum number".into(),
    };
    let interaction_time = row.try_get("interaction_time")?;
    Ok(InteractionRecord {
        id: row.try_get("id")?,
        customer_id: row.try_get("customer_id")?,
        interaction: NewInteraction {
            channel: Channel::from_number(int(row, "channel")?).ok_or_else(|| bad("channel"))?,
            direction: Direction::from_number(int(row, "direction")?)
                .ok_or_else(|| bad("direction"))?,
            summary: row.try_get("summary")?,
            interaction_time: Some(interaction_time),
            ticket: row.try_get("ticket")?,
        },
        interaction_time,
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
    .bind(&p.purchase.product)
    .bind(&p.purchase.sku)
    .bind(p.purchase.quantity)
    .bind(p.purchase.amount_micros)
    .bind(&p.purchase.currency_code)
    .bind(&p.purchase.order_reference)
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
    .bind(i64::from(i.interaction.channel.number()))
    .bind(i64::from(i.interaction.direction.number()))
    .bind(&i.interaction.summary)
    .bind(i.interaction_time)
    .bind(&i.interaction.ticket)
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
        clauses.push(params.keyset(("purchase_time", "id"), *time, id.clone(), true));
    }
    let limit = params.limit(limit);
    let sql = format!(
        "SELECT {PURCHASE_COLUMNS} FROM purchases WHERE {} ORDER BY purchase_time DESC, id DESC LIMIT {limit}",
        clauses.join(" AND ")
    );
    row::all(
        conn,
        sqlx::query_with(&sql, params.into_args()),
        decode_purchase,
    )
    .await
}

/// ListInteractions filters.
#[derive(Debug, Clone, Default)]
pub struct InteractionFilter {
    /// Channel.
    pub channel: Option<Channel>,
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
        clauses.push(format!(
            "channel = {}",
            params.bind(i64::from(channel.number()))
        ));
    }
    if let Some(start) = filter.start_time {
        clauses.push(format!("interaction_time >= {}", params.bind(start)));
    }
    if let Some(end) = filter.end_time {
        clauses.push(format!("interaction_time < {}", params.bind(end)));
    }
    if let Some((time, id)) = before {
        clauses.push(params.keyset(("interaction_time", "id"), *time, id.clone(), true));
    }
    let limit = params.limit(limit);
    let sql = format!(
        "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE {} ORDER BY interaction_time DESC, id DESC LIMIT {limit}",
        clauses.join(" AND ")
    );
    row::all(
        conn,
        sqlx::query_with(&sql, params.into_args()),
        decode_interaction,
    )
    .await
}

/// Every purchase stored on exactly this customer record (for export), newest first.
pub async fn purchases_of(
    conn: &mut AnyConnection,
    customer_id: &str,
) -> Result<Vec<PurchaseRecord>, sqlx::Error> {
    row::all(conn, sqlx::query(&format!(
        "SELECT {PURCHASE_COLUMNS} FROM purchases WHERE customer_id = $1 ORDER BY purchase_time DESC, id DESC"
    ))
    .bind(customer_id), decode_purchase).await
}

/// Every interaction stored on exactly this customer record (for export), newest first.
pub async fn interactions_of(
    conn: &mut AnyConnection,
    customer_id: &str,
) -> Result<Vec<InteractionRecord>, sqlx::Error> {
    row::all(conn, sqlx::query(&format!(
        "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE customer_id = $1 ORDER BY interaction_time DESC, id DESC"
    ))
    .bind(customer_id), decode_interaction).await
}
