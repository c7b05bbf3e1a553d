//! Purchases and interactions: the customer's history.

use kefu_proto::customers::v1 as pb;
use kefu_server::Violations;

use super::validate;

/// How far in the future a purchase or interaction time may be (clock skew between systems).
pub const MAX_FUTURE_MICROS: i64 = 24 * 3600 * 1_000_000;

/// A validated purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseRecord {
    /// Id.
    pub id: String,
    /// The customer's id.
    pub customer_id: String,
    /// Product name.
    pub product: String,
    /// SKU or empty.
    pub sku: String,
    /// Quantity, at least 1.
    pub quantity: i64,
    /// Amount in micros.
    pub amount_micros: i64,
    /// ISO 4217 code.
    pub currency_code: String,
    /// Shop order id or empty.
    pub order_reference: String,
    /// When bought, UTC microseconds.
    pub purchase_time: i64,
    /// When recorded, UTC microseconds.
    pub create_time: i64,
}

/// A validated interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionRecord {
    /// Id.
    pub id: String,
    /// The customer's id.
    pub customer_id: String,
    /// `pb::Channel`.
    pub channel: i32,
    /// `pb::Direction`.
    pub direction: i32,
    /// Summary.
    pub summary: String,
    /// When it happened, UTC microseconds.
    pub interaction_time: i64,
    /// `tickets/{id}` or empty.
    pub ticket: String,
    /// The principal who logged it.
    pub logged_by: String,
    /// When logged, UTC microseconds.
    pub create_time: i64,
}

/// Microseconds of a proto timestamp, or `None` when it is out of range.
pub fn timestamp_micros(ts: &prost_types::Timestamp) -> Option<i64> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return None;
    }
    ts.seconds
        .checked_mul(1_000_000)?
        .checked_add(i64::from(ts.nanos / 1000))
}

fn time_or_now(
    ts: Option<&prost_types::Timestamp>,
    now: i64,
    field: &str,
    v: &mut Violations,
) -> i64 {
    match ts {
        None => now,
        Some(ts) => match timestamp_micros(ts) {
            Some(micros) if micros > now + MAX_FUTURE_MICROS => {
                v.add(field, "must not be more than a day in the future");
                now
            }
            Some(micros) if micros < 0 => {
                v.add(field, "must be after 1970");
                now
            }
            Some(micros) => micros,
            None => {
                v.add(field, "is not a valid timestamp");
                now
            }
        },
    }
}

/// Validates a purchase for `customer_id`.
pub fn parse_purchase(
    input: &pb::Purchase,
    id: String,
    customer_id: String,
    now: i64,
    v: &mut Violations,
) -> PurchaseRecord {
    let product = input.product.trim();
    if product.is_empty() || product.chars().count() > 200 {
        v.add("purchase.product", "is required, at most 200 characters");
    }
    if input.sku.chars().count() > 64 {
        v.add("purchase.sku", "must be at most 64 characters");
    }
    if !(1..=1_000_000).contains(&input.quantity) {
        v.add("purchase.quantity", "must be 1 to 1,000,000");
    }
    if input.amount_micros < 0 {
        v.add("purchase.amount_micros", "must not be negative");
    }
    if input.currency_code.len() != 3
        || !input.currency_code.chars().all(|c| c.is_ascii_uppercase())
    {
        v.add(
            "purchase.currency_code",
            "must be an ISO 4217 code such as USD or CNY",
        );
    }
    if input.order_reference.chars().count() > 128 {
        v.add("purchase.order_reference", "must be at most 128 characters");
    }
    let purchase_time = time_or_now(
        input.purchase_time.as_ref(),
        now,
        "purchase.purchase_time",
        v,
    );
    PurchaseRecord {
        id,
        customer_id,
        product: product.to_owned(),
        sku: input.sku.trim().to_owned(),
        quantity: input.quantity,
        amount_micros: input.amount_micros,
        currency_code: input.currency_code.clone(),
        order_reference: input.order_reference.trim().to_owned(),
        purchase_time,
        create_time: now,
    }
}

/// Validates an interaction for `customer_id`, logged by `logged_by`.
pub fn parse_interaction(
    input: &pb::Interaction,
    id: String,
    customer_id: String,
    logged_by: String,
    now: i64,
    v: &mut Violations,
) -> InteractionRecord {
    let channel_known = pb::Channel::try_from(input.channel).is_ok();
    validate::enum_value(input.channel, channel_known, true, "interaction.channel", v);
    let direction_known = pb::Direction::try_from(input.direction).is_ok();
    validate::enum_value(
        input.direction,
        direction_known,
        true,
        "interaction.direction",
        v,
    );
    let summary = input.summary.trim();
    if summary.is_empty() || summary.chars().count() > 2000 {
        v.add(
            "interaction.summary",
            "is required, at most 2000 characters",
        );
    }
    if !input.ticket.is_empty() {
        validate::resource_id(&input.ticket, "tickets", "interaction.ticket", v);
    }
    let interaction_time = time_or_now(
        input.interaction_time.as_ref(),
        now,
        "interaction.interaction_time",
        v,
    );
    InteractionRecord {
        id,
        customer_id,
        channel: input.channel,
        direction: input.direction,
        summary: summary.to_owned(),
        interaction_time,
        ticket: input.ticket.clone(),
        logged_by,
        create_time: now,
    }
}
