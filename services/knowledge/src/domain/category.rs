//! The category tree.

use kefu_server::{Violations, validate};

/// Paths `update_mask` may name.
pub const UPDATABLE_FIELDS: &[&str] = &[
    "parent",
    "position",
    "display_name",
    "description",
    "locale",
];
/// How deep the tree may go.
pub const MAX_DEPTH: usize = 10;

/// Client-set fields, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CategoryFields {
    /// Parent id or none for top level.
    pub parent_id: Option<String>,
    /// Order among siblings.
    pub position: i64,
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: String,
    /// Locale.
    pub locale: String,
}

/// A stored category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRecord {
    /// Id.
    pub id: String,
    /// Fields.
    pub fields: CategoryFields,
    /// Creation, UTC microseconds.
    pub create_time: i64,
    /// Last change, UTC microseconds.
    pub update_time: i64,
    /// Row version.
    pub version: i64,
}

/// `categories/{id}`.
pub fn category_name(id: &str) -> String {
    format!("categories/{id}")
}

/// Checks a description: at most 2,000 characters.
pub fn description(value: &str, v: &mut Violations) -> String {
    if value.chars().count() > 2000 {
        v.add("category.description", "must be at most 2,000 characters");
    }
    value.trim().to_owned()
}

/// Checks a position among siblings: 0 to 1,000,000.
pub fn position(value: i32, v: &mut Violations) -> i64 {
    if !(0..=1_000_000).contains(&value) {
        v.add("category.position", "must be 0 to 1,000,000");
    }
    i64::from(value)
}

/// Lays `input`'s fields named in `paths` over `fields`; returns the paths whose value changed.
pub fn overlay(fields: &mut CategoryFields, input: &CategoryFields, paths: &[&str]) -> Vec<String> {
    use super::article::replace;
    let mut changed = Vec::new();
    for path in paths {
        let differs = match *path {
            "parent" => replace(&mut fields.parent_id, &input.parent_id),
            "position" => replace(&mut fields.position, &input.position),
            "display_name" => replace(&mut fields.display_name, &input.display_name),
            "description" => replace(&mut fields.description, &input.description),
            "locale" => replace(&mut fields.locale, &input.locale),
            _ => false,
        };
        if differs {
            changed.push((*path).to_owned());
        }
    }
    changed
}

/// A BCP 47 locale, `en` when empty.
pub fn locale_or_default(value: &str, field: &str, v: &mut Violations) -> String {
    let locale = validate::locale(value, field, v);
    if locale.is_empty() {
        "en".to_owned()
    } else {
        locale
    }
}

/// Why a move is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeError {
    /// The new parent is the category itself or one of its descendants.
    Cycle,
    /// The tree would be deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// Checks putting `id` under a parent whose ancestors (nearest first, the parent included) are
/// `parent_chain`.
pub fn check_parent(id: &str, parent_chain: &[String]) -> Result<(), TreeError> {
    if parent_chain.iter().any(|ancestor| ancestor == id) {
        return Err(TreeError::Cycle);
    }
    if parent_chain.len() >= MAX_DEPTH {
        return Err(TreeError::TooDeep);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_category_cannot_move_under_itself_or_a_descendant() {
        let chain = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(check_parent("a", &chain(&["a"])), Err(TreeError::Cycle));
        assert_eq!(
            check_parent("a", &chain(&["c", "b", "a"])),
            Err(TreeError::Cycle)
        );
        assert_eq!(check_parent("a", &chain(&["c", "b"])), Ok(()));
        assert_eq!(
            check_parent(
                "z",
                &chain(&["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"])
            ),
            Err(TreeError::TooDeep)
        );
    }
}
