//! Field checks every service shares. Each records a violation on the named field and returns the
//! normalized value, so one pass reports every bad field at once.

use kefu_db::idempotency::{Replay, RequestKey};
use kefu_principal::Principal;

use crate::Violations;

/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest free-text query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// A required, trimmed name of 1..=200 characters.
pub fn display_name(value: &str, field: &str, v: &mut Violations) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        v.add(field, "is required");
    } else if trimmed.chars().count() > MAX_NAME_CHARS {
        v.add(
            field,
            format!("must be at most {MAX_NAME_CHARS} characters"),
        );
    } else if trimmed.chars().any(char::is_control) {
        v.add(field, "must not contain control characters");
    }
    trimmed.to_owned()
}

/// Lower-cased, de-duplicated, sorted tags.
/// At most `max` of them.
pub fn tags(values: &[String], max: usize, field: &str, v: &mut Violations) -> Vec<String> {
    if values.len() > max {
        v.add(field, format!("at most {max} tags"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, raw) in values.iter().enumerate() {
        let tag = raw.trim().to_lowercase();
        if !is_tag(&tag) {
            v.add(
                format!("{field}[{i}]"),
                "must be 1 to 64 characters of a-z 0-9 _ - : .",
            );
        } else if !out.contains(&tag) {
            out.push(tag);
        }
    }
    out.sort();
    out
}

/// True for a valid (already lower-cased) tag.
pub fn is_tag(tag: &str) -> bool {
    (1..=64).contains(&tag.len())
        && tag.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | ':' | '.')
        })
}

/// A BCP 47 language tag (`en`, `en-US`, `zh-Hans-CN`), or empty.
pub fn locale(value: &str, field: &str, v: &mut Violations) -> String {
    let value = value.trim();
    if value.is_empty() {
        return String::new();
    }
    let mut parts = value.split(['-', '_']);
    let language_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic()));
    let rest_ok =
        parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if value.len() > 35 || !language_ok || !rest_ok {
        v.add(
            field,
            "must be a BCP 47 language tag such as en, en-US or zh-Hans-CN",
        );
        return String::new();
    }
    value.replace('_', "-")
}

/// Longest AIP-155 request id, in characters.
pub const MAX_REQUEST_ID_CHARS: usize = 100;

/// An AIP-155 request id: 1 to 100 of `A-Z a-z 0-9 - _`, or empty for none.
pub fn request_id(value: &str, field: &str, v: &mut Violations) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    if value.len() > MAX_REQUEST_ID_CHARS
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        v.add(
            field,
            format!("must be 1 to {MAX_REQUEST_ID_CHARS} characters of A-Z a-z 0-9 - _"),
        );
    }
    Some(value.to_owned())
}

/// The request id in `request` (its `request_id`, checked into `v`) and how a retry of
/// `operation` by the same `caller` gets the first answer back: `answer` makes it from the use
/// case's result. Another caller sending the same id and request gets REQUEST_ID_REUSED, never
/// the first caller's answer (the replay comes before the use case's access checks).
pub fn replay<R, A: prost::Message + Default>(
    caller: &Principal,
    request_id: &str,
    operation: &'static str,
    request: &impl prost::Message,
    answer: impl Fn(&R) -> A + Send + Sync + 'static,
    v: &mut Violations,
) -> Replay<R, A> {
    let request_id = self::request_id(request_id, "request_id", v);
    let key = RequestKey::new(request_id, operation, request).map(|key| key.of(&caller.id));
    Replay::new(key, answer)
}

/// [`replay`] checked on its own, for a request whose other fields are checked elsewhere.
pub fn replay_alone<R, A: prost::Message + Default>(
    caller: &Principal,
    request_id: &str,
    operation: &'static str,
    request: &impl prost::Message,
    answer: impl Fn(&R) -> A + Send + Sync + 'static,
) -> Result<Replay<R, A>, Violations> {
    let mut v = Violations::new();
    let replay = replay(caller, request_id, operation, request, answer, &mut v);
    v.into_result().map(|()| replay)
}

/// An optional free-text query, lower-cased.
pub fn query(value: &str, field: &str, v: &mut Violations) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.chars().count() > MAX_QUERY_CHARS {
        v.add(
            field,
            format!("must be at most {MAX_QUERY_CHARS} characters"),
        );
    }
    Some(value.to_lowercase())
}

/// The id in a resource name `collection/{id}`, with ids of 1 to 64 of `A-Z a-z 0-9 - _`.
pub fn resource_id(name: &str, collection: &str, field: &str, v: &mut Violations) -> String {
    match name
        .strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
    {
        Some(id) if is_id(id) => id.to_owned(),
        _ if name.is_empty() => {
            v.add(field, "is required");
            String::new()
        }
        _ => {
            v.add(
                field,
                format!("must be a resource name like {collection}/{{id}}"),
            );
            String::new()
        }
    }
}

/// The id in a required resource name `collection/{id}`, on its own: INVALID_ARGUMENT naming
/// `field` when it is missing or malformed.
pub fn required_id(name: &str, collection: &str, field: &str) -> Result<String, Violations> {
    let mut v = Violations::new();
    let id = resource_id(name, collection, field, &mut v);
    v.into_result().map(|()| id)
}

/// The target of a change to the resource `name` (`collection/{id}`, on `name`) conditional on
/// `etag`: INVALID_ARGUMENT when the name is missing or malformed.
pub fn target(
    name: &str,
    collection: &str,
    etag: &str,
) -> Result<crate::records::Target, Violations> {
    Ok(crate::records::Target {
        id: required_id(name, collection, "name")?,
        etag: etag.to_owned(),
    })
}

/// The id in an optional resource name; `None` when empty.
pub fn optional_resource_id(
    name: &str,
    collection: &str,
    field: &str,
    v: &mut Violations,
) -> Option<String> {
    if name.is_empty() {
        None
    } else {
        Some(resource_id(name, collection, field, v))
    }
}

/// A proto enum value that must be one of the known values, other than UNSPECIFIED when `required`.
pub fn enum_value(value: i32, known: bool, required: bool, field: &str, v: &mut Violations) -> i32 {
    if !known {
        v.add(field, format!("unknown value {value}"));
    } else if required && value == 0 {
        v.add(field, "is required");
    }
    value
}

/// A required enum field as a domain value: a violation when unset (0) or unknown.
pub fn required_enum<T>(
    number: i32,
    from_number: impl Fn(i32) -> Option<T>,
    field: &str,
    v: &mut Violations,
) -> Option<T> {
    let value = from_number(number);
    if value.is_none() {
        v.add(
            field,
            if number == 0 {
                "is required".to_owned()
            } else {
                format!("unknown value {number}")
            },
        );
    }
    value
}

/// An optional enum field as a domain value: `None` when unset (0), a violation when unknown.
pub fn optional_enum<T>(
    number: i32,
    from_number: impl Fn(i32) -> Option<T>,
    field: &str,
    v: &mut Violations,
) -> Option<T> {
    if number == 0 {
        return None;
    }
    required_enum(number, from_number, field, v)
}

/// A repeated enum field: every value known and set, duplicates dropped, in the order given.
pub fn enum_list<T: PartialEq>(
    numbers: &[i32],
    from_number: impl Fn(i32) -> Option<T>,
    field: &str,
    v: &mut Violations,
) -> Vec<T> {
    let mut out = Vec::new();
    for (i, number) in numbers.iter().enumerate() {
        if let Some(value) = required_enum(*number, &from_number, &format!("{field}[{i}]"), v)
            && !out.contains(&value)
        {
            out.push(value);
        }
    }
    out
}

fn is_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A map of custom values: at most `max` entries, keys 1 to 64 characters of `a-z 0-9 _` starting
/// with a letter, values at most `max_value_chars` characters.
pub fn string_map(
    values: &std::collections::BTreeMap<String, String>,
    max: usize,
    max_value_chars: usize,
    field: &str,
    v: &mut Violations,
) -> std::collections::BTreeMap<String, String> {
    if values.len() > max {
        v.add(field, format!("at most {max} entries"));
    }
    let mut out = std::collections::BTreeMap::new();
    for (key, value) in values {
        let key_ok = (1..=64).contains(&key.len())
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            v.add(
                format!("{field}[{key:?}]"),
                "key must be 1 to 64 characters of a-z 0-9 _, starting with a letter",
            );
        } else if value.chars().count() > max_value_chars {
            v.add(
                format!("{field}[{key:?}]"),
                format!("value must be at most {max_value_chars} characters"),
            );
        } else {
            out.insert(key.clone(), value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_1_to_100_characters_as_the_protos_say() {
        let mut v = Violations::new();
        assert_eq!(request_id("", "request_id", &mut v), None);
        let longest = "a".repeat(100);
        assert_eq!(
            request_id(&longest, "request_id", &mut v).as_deref(),
            Some(longest.as_str())
        );
        assert_eq!(
            request_id("9d1c5c1e-0001_B", "request_id", &mut v).as_deref(),
            Some("9d1c5c1e-0001_B")
        );
        assert!(v.is_empty());
        request_id(&"a".repeat(101), "request_id", &mut v);
        request_id("has space", "request_id", &mut v);
        request_id("日本", "request_id", &mut v);
        assert_eq!(v.iter().count(), 3);
    }

    #[test]
    fn resource_names_are_checked() {
        let mut v = Violations::new();
        assert_eq!(
            resource_id("customers/abc-1", "customers", "name", &mut v),
            "abc-1"
        );
        assert!(v.is_empty());
        resource_id("orders/abc", "customers", "name", &mut v);
        resource_id("customers/a/b", "customers", "name", &mut v);
        resource_id("", "customers", "name", &mut v);
        assert_eq!(v.iter().count(), 3);
    }

    #[test]
    fn enums_are_required_known_and_deduplicated() {
        let from = |n: i32| (1..=3).contains(&n).then_some(n);
        let mut v = Violations::new();
        assert_eq!(required_enum(2, from, "a", &mut v), Some(2));
        assert_eq!(optional_enum(0, from, "b", &mut v), None);
        assert_eq!(enum_list(&[1, 3, 1], from, "c", &mut v), vec![1, 3]);
        assert!(v.is_empty());
        required_enum(0, from, "d", &mut v);
        optional_enum(9, from, "e", &mut v);
        enum_list(&[1, 0], from, "f", &mut v);
        let fields: Vec<&str> = v.iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["d", "e", "f[1]"]);
    }

    #[test]
    fn tags_and_locales() {
        let mut v = Violations::new();
        let tags_in: Vec<String> = vec!["VIP".into(), "vip".into(), "b2b:retail".into()];
        assert_eq!(
            tags(&tags_in, 50, "tags", &mut v),
            vec!["b2b:retail", "vip"]
        );
        assert_eq!(locale("zh-Hans-CN", "locale", &mut v), "zh-Hans-CN");
        assert!(v.is_empty());
        tags(&["has space".to_owned()], 50, "tags", &mut v);
        locale("english please", "locale", &mut v);
        assert_eq!(v.iter().count(), 2);
    }
}
