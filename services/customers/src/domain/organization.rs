//! What an organization is.

use kefu_server::common::Tier;

/// Paths `update_mask` may name.
pub const UPDATABLE_FIELDS: &[&str] = &["display_name", "domains", "default_tier", "tags"];
/// Most email domains on one organization.
pub const MAX_DOMAINS: usize = 20;

/// Client-set fields, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationFields {
    /// Display name.
    pub display_name: String,
    /// Lower-cased email domains.
    pub domains: Vec<String>,
    /// The tier new members get.
    pub default_tier: Tier,
    /// Sorted tags.
    pub tags: Vec<String>,
}

/// A stored organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationRecord {
    /// Id.
    pub id: String,
    /// Client-set fields.
    pub fields: OrganizationFields,
    /// Creation time, UTC microseconds.
    pub create_time: i64,
    /// Last change, UTC microseconds.
    pub update_time: i64,
    /// Row version.
    pub version: i64,
}

impl OrganizationRecord {
    /// `organizations/{id}`.
    pub fn name(&self) -> String {
        organization_name(&self.id)
    }
}

/// `organizations/{id}`.
pub fn organization_name(id: &str) -> String {
    format!("organizations/{id}")
}

/// The paths whose values differ between two versions of an organization.
pub fn changed_fields(before: &OrganizationFields, after: &OrganizationFields) -> Vec<String> {
    [
        ("display_name", before.display_name != after.display_name),
        ("domains", before.domains != after.domains),
        ("default_tier", before.default_tier != after.default_tier),
        ("tags", before.tags != after.tags),
    ]
    .into_iter()
    .filter(|(_, differs)| *differs)
    .map(|(name, _)| name.to_owned())
    .collect()
}

/// Copies the fields named in `paths` from `input` onto `fields`.
pub fn overlay(fields: &mut OrganizationFields, input: &OrganizationFields, paths: &[&str]) {
    for path in paths {
        match *path {
            "display_name" => fields.display_name.clone_from(&input.display_name),
            "domains" => fields.domains.clone_from(&input.domains),
            "default_tier" => fields.default_tier = input.default_tier,
            "tags" => fields.tags.clone_from(&input.tags),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_masked_fields_change_and_differences_are_named() {
        let before = OrganizationFields {
            display_name: "ACME".into(),
            domains: vec!["acme.com".into()],
            default_tier: Tier::Standard,
            tags: Vec::new(),
        };
        let input = OrganizationFields {
            display_name: "ACME Corp".into(),
            domains: Vec::new(),
            default_tier: Tier::Gold,
            tags: vec!["b2b".into()],
        };
        let mut after = before.clone();
        overlay(&mut after, &input, &["display_name", "default_tier"]);
        assert_eq!(after.domains, before.domains);
        assert_eq!(
            changed_fields(&before, &after),
            ["display_name", "default_tier"]
        );
    }
}
