//! Field rules shared by customers and organizations. Each check records a violation on the named
//! field and returns the normalized value, so one pass reports every bad field at once.

use std::collections::BTreeMap;
use std::str::FromStr;

use kefu_server::Violations;
pub use kefu_server::validate::*;

/// Most emails or phones on one customer.
pub const MAX_CONTACTS: usize = 10;
/// Most tags on one customer or organization.
pub const MAX_TAGS: usize = 50;
/// Most custom attributes on one customer.
pub const MAX_ATTRIBUTES: usize = 50;
/// Longest attribute value, in characters.
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 1024;

/// Lower-cased, de-duplicated email addresses.
pub fn emails(values: &[String], field: &str, v: &mut Violations) -> Vec<String> {
    if values.len() > MAX_CONTACTS {
        v.add(field, format!("at most {MAX_CONTACTS} addresses"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, raw) in values.iter().enumerate() {
        let email = raw.trim().to_lowercase();
        if !is_email(&email) {
            v.add(
                format!("{field}[{i}]"),
                "is not an email address like name@example.com",
            );
        } else if !out.contains(&email) {
            out.push(email);
        }
    }
    out
}

fn is_email(email: &str) -> bool {
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty() && local.len() <= 64 && !local.contains('@') && is_domain(domain)
}

/// True for a host name with at least two labels, such as `example.com`.
pub fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(char::is_alphabetic) && tld.len() >= 2)
}

/// Phone numbers normalized to `+` and digits.
pub fn phones(values: &[String], field: &str, v: &mut Violations) -> Vec<String> {
    if values.len() > MAX_CONTACTS {
        v.add(field, format!("at most {MAX_CONTACTS} numbers"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, raw) in values.iter().enumerate() {
        let trimmed = raw.trim();
        let digits: String = trimmed.chars().filter(|c| c.is_ascii_digit()).collect();
        let only_separators = trimmed
            .chars()
            .skip(1)
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
        if !trimmed.starts_with('+') || !only_separators || !(7..=15).contains(&digits.len()) {
            v.add(
                format!("{field}[{i}]"),
                "must be an international number: + and 7 to 15 digits",
            );
            continue;
        }
        let phone = format!("+{digits}");
        if !out.contains(&phone) {
            out.push(phone);
        }
    }
    out
}

/// Custom attributes with valid keys and bounded values.
pub fn attributes(
    values: &BTreeMap<String, String>,
    field: &str,
    v: &mut Violations,
) -> BTreeMap<String, String> {
    kefu_server::validate::string_map(values, MAX_ATTRIBUTES, MAX_ATTRIBUTE_VALUE_CHARS, field, v)
}

/// An IANA time zone name, or empty.
pub fn time_zone(value: &str, field: &str, v: &mut Violations) -> String {
    let value = value.trim();
    if value.is_empty() {
        return String::new();
    }
    match chrono_tz::Tz::from_str(value) {
        Ok(tz) => tz.name().to_owned(),
        Err(_) => {
            v.add(
                field,
                "must be an IANA time zone such as Asia/Shanghai or UTC",
            );
            String::new()
        }
    }
}

/// An optional external id: at most 128 printable characters.
pub fn external_id(value: &str, field: &str, v: &mut Violations) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.chars().count() > 128 || value.chars().any(char::is_control) {
        v.add(field, "must be at most 128 printable characters");
    }
    Some(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn emails_are_normalized_and_bad_ones_reported_by_index() {
        let mut v = Violations::new();
        let out = emails(
            &strings(&[
                " Ann@Example.COM",
                "ann@example.com",
                "nope",
                "a@b",
                "x@例子.中国",
            ]),
            "emails",
            &mut v,
        );
        assert_eq!(out, vec!["ann@example.com", "x@例子.中国"]);
        let fields: Vec<&str> = v.iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["emails[2]", "emails[3]"]);
    }

    #[test]
    fn phones_keep_plus_and_digits() {
        let mut v = Violations::new();
        let out = phones(
            &strings(&["+86 138-0013-8000", "+1 (555) 010.9999", "555-1234", "+12"]),
            "phones",
            &mut v,
        );
        assert_eq!(out, vec!["+8613800138000", "+15550109999"]);
        assert_eq!(v.iter().count(), 2);
    }

    #[test]
    fn tags_locales_and_time_zones() {
        let mut v = Violations::new();
        assert_eq!(
            tags(
                &strings(&["VIP", "vip", "b2b:retail"]),
                MAX_TAGS,
                "tags",
                &mut v
            ),
            vec!["b2b:retail", "vip"]
        );
        assert_eq!(locale("zh-Hans-CN", "locale", &mut v), "zh-Hans-CN");
        assert_eq!(time_zone("Asia/Shanghai", "tz", &mut v), "Asia/Shanghai");
        assert!(v.is_empty());
        tags(&strings(&["has space"]), MAX_TAGS, "tags", &mut v);
        locale("english please", "locale", &mut v);
        time_zone("Mars/Olympus", "tz", &mut v);
        assert_eq!(v.iter().count(), 3);
    }
}
