//! AIP-134 update masks checked against an allow-list of paths.

use prost_types::FieldMask;

use crate::Violations;

/// The paths an Update call's required `update_mask` names (see [`resolve`]).
pub fn update_mask(
    mask: Option<&FieldMask>,
    allowed: &[&'static str],
    violations: &mut Violations,
) -> Vec<&'static str> {
    resolve(mask, allowed, true, "update_mask", violations)
}

/// The paths to update: the mask's paths when all are allowed, every allowed path for `*`.
/// An empty mask is a violation when `required`, and means "all paths" otherwise.
pub fn resolve(
    mask: Option<&FieldMask>,
    allowed: &[&'static str],
    required: bool,
    field: &str,
    violations: &mut Violations,
) -> Vec<&'static str> {
    let paths = mask.map(|m| m.paths.as_slice()).unwrap_or_default();
    if paths.is_empty() {
        if required {
            violations.add(
                field,
                format!("is required; allowed paths: {}", allowed.join(", ")),
            );
            return Vec::new();
        }
        return allowed.to_vec();
    }
    if paths.iter().any(|p| p == "*") {
        if paths.len() > 1 {
            violations.add(field, "`*` must be the only path");
        }
        return allowed.to_vec();
    }
    let mut resolved = Vec::new();
    for path in paths {
        match allowed.iter().find(|a| **a == path.as_str()) {
            Some(known) if !resolved.contains(known) => resolved.push(*known),
            Some(_) => {}
            None => violations.add(
                field,
                format!(
                    "unknown or read-only path `{path}`; allowed: {}",
                    allowed.join(", ")
                ),
            ),
        }
    }
    resolved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(paths: &[&str]) -> FieldMask {
        FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    #[test]
    fn resolves_known_paths_and_star() {
        let allowed = ["a", "b", "c"];
        let mut v = Violations::new();
        assert_eq!(
            resolve(Some(&mask(&["b", "a", "b"])), &allowed, true, "m", &mut v),
            vec!["b", "a"]
        );
        assert_eq!(
            resolve(Some(&mask(&["*"])), &allowed, true, "m", &mut v),
            vec!["a", "b", "c"]
        );
        assert_eq!(
            resolve(None, &allowed, false, "m", &mut v),
            vec!["a", "b", "c"]
        );
        assert!(v.is_empty());
    }

    #[test]
    fn refuses_unknown_paths_and_a_missing_required_mask() {
        let allowed = ["a"];
        let mut v = Violations::new();
        resolve(Some(&mask(&["name"])), &allowed, true, "m", &mut v);
        resolve(None, &allowed, true, "m", &mut v);
        resolve(Some(&mask(&["*", "a"])), &allowed, true, "m", &mut v);
        assert_eq!(v.iter().count(), 3);
    }
}
