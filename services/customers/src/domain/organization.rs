//! What an organization is.

use kefu_proto::customers::v1 as pb;
use kefu_server::Violations;

use super::validate;

/// Paths `update_mask` may name.
pub const UPDATABLE_FIELDS: &[&str] = &["display_name", "domains", "default_tier", "tags"];
/// Most email domains on one organization.
pub const MAX_DOMAINS: usize = 20;

/// Client-set fields, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrganizationFields {
    /// Display name.
    pub display_name: String,
    /// Lower-cased email domains.
    pub domains: Vec<String>,
    /// `pb::Tier` for new members.
    pub default_tier: i32,
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

/// Validates the fields of `input` named in `paths` into `fields`.
pub fn apply_input(
    input: &pb::Organization,
    paths: &[&str],
    prefix: &str,
    fields: &mut OrganizationFields,
    v: &mut Violations,
) {
    let f = |name: &str| format!("{prefix}.{name}");
    for path in paths {
        match *path {
            "display_name" => {
                fields.display_name =
                    validate::display_name(&input.display_name, &f("display_name"), v)
            }
            "domains" => {
                if input.domains.len() > MAX_DOMAINS {
                    v.add(f("domains"), format!("at most {MAX_DOMAINS} domains"));
                }
                let mut domains: Vec<String> = Vec::new();
                for (i, raw) in input.domains.iter().enumerate() {
                    let domain = raw.trim().trim_start_matches('@').to_lowercase();
                    if !validate::is_domain(&domain) {
                        v.add(
                            format!("{}[{i}]", f("domains")),
                            "must be a domain such as example.com",
                        );
                    } else if !domains.contains(&domain) {
                        domains.push(domain);
                    }
                }
                fields.domains = domains;
            }
            "default_tier" => {
                let known = pb::Tier::try_from(input.default_tier).is_ok();
                fields.default_tier =
                    validate::enum_value(input.default_tier, known, false, &f("default_tier"), v);
                if fields.default_tier == pb::Tier::Unspecified as i32 {
                    fields.default_tier = pb::Tier::Standard as i32;
                }
            }
            "tags" => fields.tags = validate::tags(&input.tags, validate::MAX_TAGS, &f("tags"), v),
            other => v.add(format!("{prefix}.{other}"), "cannot be set"),
        }
    }
}
