//! Purchases and interactions: the customer's history.

use kefu_server::Violations;
use kefu_server::common::Channel;

/// How far in the future a purchase or interaction time may be (clock skew between systems).
pub const MAX_FUTURE_MICROS: i64 = 24 * 3600 * 1_000_000;

kefu_server::numbered_enum! {
    /// Who started an interaction.
    pub enum Direction : "DIRECTION_" {
        /// The customer contacted the company.
        Inbound = 1 "INBOUND",
        /// The company contacted the customer.
        Outbound = 2 "OUTBOUND",
    }
}

/// A purchase as a client sends it, its fields checked one by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPurchase {
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
    /// When bought, if the client says; otherwise when recorded.
    pub purchase_time: Option<i64>,
}

/// A stored purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseRecord {
    /// Id.
    pub id: String,
    /// The customer's id.
    pub customer_id: String,
    /// What was bought.
    pub purchase: NewPurchase,
    /// When bought, UTC microseconds.
    pub purchase_time: i64,
    /// When recorded, UTC microseconds.
    pub create_time: i64,
}

/// An interaction as a client sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInteraction {
    /// Channel.
    pub channel: Channel,
    /// Who started it.
    pub direction: Direction,
    /// Summary.
    pub summary: String,
    /// When it happened, if the client says; otherwise when logged.
    pub interaction_time: Option<i64>,
    /// `tickets/{id}` or empty.
    pub ticket: String,
}

/// A stored interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionRecord {
    /// Id.
    pub id: String,
    /// The customer's id.
    pub customer_id: String,
    /// What happened.
    pub interaction: NewInteraction,
    /// When it happened, UTC microseconds.
    pub interaction_time: i64,
    /// The principal who logged it.
    pub logged_by: String,
    /// When logged, UTC microseconds.
    pub create_time: i64,
}

/// Checks and normalizes a purchase's fields, each violation on `purchase.<field>`.
pub fn check_purchase(mut p: NewPurchase, v: &mut Violations) -> NewPurchase {
    p.product = p.product.trim().to_owned();
    if p.product.is_empty() || p.product.chars().count() > 200 {
        v.add("purchase.product", "is required, at most 200 characters");
    }
    p.sku = p.sku.trim().to_owned();
    if p.sku.chars().count() > 64 {
        v.add("purchase.sku", "must be at most 64 characters");
    }
    if !(1..=1_000_000).contains(&p.quantity) {
        v.add("purchase.quantity", "must be 1 to 1,000,000");
    }
    if p.amount_micros < 0 {
        v.add("purchase.amount_micros", "must not be negative");
    }
    if p.currency_code.len() != 3 || !p.currency_code.chars().all(|c| c.is_ascii_uppercase()) {
        v.add(
            "purchase.currency_code",
            "must be an ISO 4217 code such as USD or CNY",
        );
    }
    p.order_reference = p.order_reference.trim().to_owned();
    if p.order_reference.chars().count() > 128 {
        v.add("purchase.order_reference", "must be at most 128 characters");
    }
    p
}

/// Checks and normalizes an interaction's summary.
pub fn check_summary(summary: &str, v: &mut Violations) -> String {
    let summary = summary.trim();
    if summary.is_empty() || summary.chars().count() > 2000 {
        v.add(
            "interaction.summary",
            "is required, at most 2000 characters",
        );
    }
    summary.to_owned()
}

/// When something in the history happened: the time given, or `now`. Refused when more than a
/// day in the future (beyond clock skew) or before 1970.
pub fn event_time(given: Option<i64>, now: i64) -> Result<i64, &'static str> {
    match given {
        None => Ok(now),
        Some(at) if at > now.saturating_add(MAX_FUTURE_MICROS) => {
            Err("must not be more than a day in the future")
        }
        Some(at) if at < 0 => Err("must be after 1970"),
        Some(at) => Ok(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_times_default_to_now_and_refuse_the_far_future_and_before_1970() {
        assert_eq!(event_time(None, 50), Ok(50));
        assert_eq!(event_time(Some(10), 50), Ok(10));
        assert!(event_time(Some(50 + MAX_FUTURE_MICROS + 1), 50).is_err());
        assert!(event_time(Some(-1), 50).is_err());
        assert!(event_time(Some(i64::MAX), i64::MAX - 1).is_ok());
    }

    #[test]
    fn purchases_are_normalized_and_each_bad_field_is_named() {
        let mut v = Violations::new();
        let good = check_purchase(
            NewPurchase {
                product: " Kettle ".into(),
                sku: "K-1".into(),
                quantity: 2,
                amount_micros: 199_000_000,
                currency_code: "CNY".into(),
                order_reference: String::new(),
                purchase_time: None,
            },
            &mut v,
        );
        assert_eq!(good.product, "Kettle");
        assert!(v.is_empty());
        check_purchase(
            NewPurchase {
                product: String::new(),
                quantity: 0,
                amount_micros: -1,
                currency_code: "cny".into(),
                ..good
            },
            &mut v,
        );
        let fields: Vec<&str> = v.iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "purchase.product",
                "purchase.quantity",
                "purchase.amount_micros",
                "purchase.currency_code"
            ]
        );
    }
}
