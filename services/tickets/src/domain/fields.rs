//! Typed custom fields and the forms that say which fields a ticket type shows: what a valid
//! definition is, what a valid value is (and its canonical form), and what a ticket needs before
//! it can be solved.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kefu_server::Violations;

use crate::domain::kinds::TicketType;

kefu_server::numbered_enum! {
    /// What a custom field holds.
    pub enum FieldType : "TICKET_FIELD_TYPE_" {
        /// Free text.
        Text = 1 "TEXT",
        /// A decimal number.
        Number = 2 "NUMBER",
        /// One of the options.
        Dropdown = 3 "DROPDOWN",
        /// Some of the options.
        MultiSelect = 4 "MULTI_SELECT",
        /// True or false.
        Checkbox = 5 "CHECKBOX",
        /// A calendar date.
        Date = 6 "DATE",
    }
}

/// Most options of a dropdown or multi-select field.
pub const MAX_OPTIONS: usize = 100;
/// Most fields on a form.
pub const MAX_FORM_FIELDS: usize = 50;
/// Longest text value, in characters.
const MAX_TEXT_CHARS: usize = 1024;

/// A field definition as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRecord {
    /// Id, the `custom_fields` key.
    pub id: String,
    /// Name shown to people.
    pub display_name: String,
    /// What it holds.
    pub field_type: FieldType,
    /// Dropdown and multi-select options, in order.
    pub options: Vec<String>,
    /// Whether a ticket needs a value before it is solved.
    pub required_to_solve: bool,
    /// Micros.
    pub create_time: i64,
    /// Version, for etags.
    pub version: i64,
}

/// A form as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FormRecord {
    /// Id.
    pub id: String,
    /// Name shown to people.
    pub display_name: String,
    /// The ticket type it is for.
    pub ticket_type: TicketType,
    /// Field ids, in order.
    pub fields: Vec<String>,
    /// Micros.
    pub create_time: i64,
    /// Version, for etags.
    pub version: i64,
}

/// A field id: 1–64 characters of `a-z 0-9 _` starting with a letter.
pub fn field_id(value: &str, field: &str, v: &mut Violations) -> String {
    let ok = (1..=64).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        v.add(
            field,
            "must be 1 to 64 characters of a-z 0-9 _ starting with a letter",
        );
    }
    value.to_owned()
}

/// Checks a field's options against its type (each violation on `<prefix>.options`): choice
/// fields need 1–100 distinct options without commas, others none. Returns them trimmed.
pub fn check_options(
    field_type: FieldType,
    options: &[String],
    prefix: &str,
    v: &mut Violations,
) -> Vec<String> {
    let field = format!("{prefix}.options");
    let trimmed: Vec<String> = options.iter().map(|o| o.trim().to_owned()).collect();
    let choice = matches!(field_type, FieldType::Dropdown | FieldType::MultiSelect);
    if !choice {
        if !trimmed.is_empty() {
            v.add(field, "only DROPDOWN and MULTI_SELECT fields have options");
        }
        return trimmed;
    }
    if trimmed.is_empty() || trimmed.len() > MAX_OPTIONS {
        v.add(&field, format!("must hold 1 to {MAX_OPTIONS} options"));
    }
    for (i, option) in trimmed.iter().enumerate() {
        if option.is_empty() || option.chars().count() > 100 || option.contains(',') {
            v.add(
                format!("{field}[{i}]"),
                "must be 1 to 100 characters without a comma",
            );
        } else if trimmed[..i].contains(option) {
            v.add(format!("{field}[{i}]"), format!("repeats {option:?}"));
        }
    }
    trimmed
}

/// Checks every value of `values` (each violation on `<prefix>[key]`) against the field it
/// names in `fields` and, when the ticket's type has a `form`, against the form; returns the
/// values in canonical form.
pub fn check_values(
    values: &BTreeMap<String, String>,
    fields: &[FieldRecord],
    form: Option<&FormRecord>,
    prefix: &str,
    v: &mut Violations,
) -> BTreeMap<String, String> {
    let mut canonical = BTreeMap::new();
    for (key, value) in values {
        let at = format!("{prefix}[{key}]");
        let Some(field) = fields.iter().find(|f| &f.id == key) else {
            v.add(at, format!("no ticket field {key:?}: define it first"));
            continue;
        };
        if let Some(form) = form
            && !form.fields.contains(key)
        {
            v.add(
                at,
                format!(
                    "the form of {} tickets does not show it",
                    form.ticket_type.label()
                ),
            );
            continue;
        }
        match canonical_value(field, value) {
            Ok(value) => {
                canonical.insert(key.clone(), value);
            }
            Err(why) => v.add(at, why),
        }
    }
    canonical
}

/// `value` in the canonical form of `field`'s type, or why it is not one.
fn canonical_value(field: &FieldRecord, value: &str) -> Result<String, String> {
    let value = value.trim();
    match field.field_type {
        FieldType::Text => {
            if value.chars().count() > MAX_TEXT_CHARS {
                return Err(format!("must be at most {MAX_TEXT_CHARS} characters"));
            }
            Ok(value.to_owned())
        }
        FieldType::Number => {
            let number = value.strip_prefix('+').unwrap_or(value);
            if number.len() <= 30 && is_decimal(number) {
                Ok(number.to_owned())
            } else {
                Err("must be a decimal number such as -12.5".to_owned())
            }
        }
        FieldType::Dropdown => {
            if field.options.iter().any(|o| o == value) {
                Ok(value.to_owned())
            } else {
                Err(format!("must be one of {:?}", field.options))
            }
        }
        FieldType::MultiSelect => {
            let chosen: Vec<&str> = value.split(',').map(str::trim).collect();
            if let Some(unknown) = chosen
                .iter()
                .find(|c| !field.options.iter().any(|o| o == *c))
            {
                return Err(format!("{unknown:?} is not one of {:?}", field.options));
            }
            let ordered: Vec<&str> = field
                .options
                .iter()
                .map(String::as_str)
                .filter(|o| chosen.contains(o))
                .collect();
            Ok(ordered.join(","))
        }
        FieldType::Checkbox => match value {
            "true" | "false" => Ok(value.to_owned()),
            _ => Err("must be true or false".to_owned()),
        },
        FieldType::Date => NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map(|d| d.format("%Y-%m-%d").to_string())
            .map_err(|_| "must be a YYYY-MM-DD date".to_owned()),
    }
}

/// Whether `text` is `-`?digits, optionally `.`digits.
fn is_decimal(text: &str) -> bool {
    let body = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = body.split_once('.').unwrap_or((body, "0"));
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    digits(whole) && digits(fraction)
}

/// The ids of the fields a ticket must hold before it is solved and does not: those required,
/// among the `form`'s fields when its type has one.
pub fn missing_to_solve(
    values: &BTreeMap<String, String>,
    fields: &[FieldRecord],
    form: Option<&FormRecord>,
) -> Vec<String> {
    fields
        .iter()
        .filter(|f| f.required_to_solve)
        .filter(|f| form.is_none_or(|form| form.fields.contains(&f.id)))
        .filter(|f| values.get(&f.id).is_none_or(|v| v.is_empty()))
        .map(|f| f.id.clone())
        .collect()
}

/// The `(key, value)` pairs a ticket is found by: each value whole and, when it lists several
/// (a multi-select), each part.
pub fn index_entries(values: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut entries = Vec::new();
    for (key, value) in values {
        entries.push((key.clone(), value.clone()));
        if value.contains(',') {
            for part in value.split(',') {
                let pair = (key.clone(), part.to_owned());
                if !part.is_empty() && !entries.contains(&pair) {
                    entries.push(pair);
                }
            }
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn field(id: &str, field_type: FieldType, options: &[&str], required: bool) -> FieldRecord {
        FieldRecord {
            id: id.into(),
            display_name: id.into(),
            field_type,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            required_to_solve: required,
            create_time: 0,
            version: 1,
        }
    }

    fn defs() -> Vec<FieldRecord> {
        vec![
            field("order_id", FieldType::Text, &[], true),
            field("amount", FieldType::Number, &[], false),
            field("region", FieldType::Dropdown, &["north", "south"], false),
            field(
                "products",
                FieldType::MultiSelect,
                &["phone", "tablet", "watch"],
                false,
            ),
            field("urgent", FieldType::Checkbox, &[], false),
            field("purchased", FieldType::Date, &[], true),
        ]
    }

    fn check(
        pairs: &[(&str, &str)],
        form: Option<&FormRecord>,
    ) -> (BTreeMap<String, String>, Violations) {
        let values = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut v = Violations::new();
        let out = check_values(&values, &defs(), form, "ticket.custom_fields", &mut v);
        (out, v)
    }

    #[test]
    fn good_values_come_out_canonical() {
        let (out, v) = check(
            &[
                ("order_id", "  SO-1 "),
                ("amount", "+12.50"),
                ("region", "south"),
                ("products", "watch, phone"),
                ("urgent", "true"),
                ("purchased", "2026-12-01"),
            ],
            None,
        );
        assert!(v.is_empty(), "{v:?}");
        assert_eq!(out["order_id"], "SO-1");
        assert_eq!(out["amount"], "12.50");
        assert_eq!(out["products"], "phone,watch", "in the options' order");
    }

    #[test]
    fn each_bad_value_is_named() {
        let (_, v) = check(
            &[
                ("amount", "12,5"),
                ("region", "east"),
                ("products", "phone,laptop"),
                ("urgent", "yes"),
                ("purchased", "2026-13-01"),
                ("colour", "red"),
            ],
            None,
        );
        let fields: Vec<&str> = v.iter().map(|(f, _)| f).collect();
        for key in [
            "amount",
            "region",
            "products",
            "urgent",
            "purchased",
            "colour",
        ] {
            assert!(
                fields.contains(&format!("ticket.custom_fields[{key}]").as_str()),
                "{key} in {fields:?}"
            );
        }
        for bad in ["1e5", "", ".5", "-", "NaN", "inf"] {
            let (_, v) = check(&[("amount", bad)], None);
            assert!(!v.is_empty(), "{bad:?} is not a decimal");
        }
    }

    #[test]
    fn a_form_limits_the_fields_and_what_solving_needs() {
        let form = FormRecord {
            id: "f1".into(),
            display_name: "Orders".into(),
            ticket_type: TicketType::AfterSales,
            fields: vec!["order_id".into(), "region".into()],
            create_time: 0,
            version: 1,
        };
        let (_, v) = check(&[("amount", "3")], Some(&form));
        assert!(!v.is_empty(), "not on the form");
        let values = BTreeMap::new();
        assert_eq!(
            missing_to_solve(&values, &defs(), Some(&form)),
            ["order_id"]
        );
        assert_eq!(
            missing_to_solve(&values, &defs(), None),
            ["order_id", "purchased"]
        );
        let held = BTreeMap::from([("order_id".to_owned(), "SO-1".to_owned())]);
        assert!(missing_to_solve(&held, &defs(), Some(&form)).is_empty());
    }

    #[test]
    fn options_are_checked_by_type() {
        let mut v = Violations::new();
        check_options(FieldType::Text, &["a".into()], "ticket_field", &mut v);
        check_options(FieldType::Dropdown, &[], "ticket_field", &mut v);
        check_options(
            FieldType::MultiSelect,
            &["a".into(), "a".into(), "b,c".into()],
            "ticket_field",
            &mut v,
        );
        let fields: Vec<&str> = v.iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "ticket_field.options",
                "ticket_field.options",
                "ticket_field.options[1]",
                "ticket_field.options[2]"
            ]
        );
    }

    #[test]
    fn multi_select_values_are_found_by_each_option() {
        let values = BTreeMap::from([("products".to_owned(), "phone,watch".to_owned())]);
        let entries = index_entries(&values);
        assert_eq!(entries.len(), 3);
        assert!(entries.contains(&("products".to_owned(), "watch".to_owned())));
    }
}
