//! What a customer is, and the rules for changing one.

use std::collections::BTreeMap;

use kefu_server::common::{LifecycleStage, Tier};

/// Paths `update_mask` may name.
pub const UPDATABLE_FIELDS: &[&str] = &[
    "display_name",
    "emails",
    "phones",
    "organization",
    "external_id",
    "tier",
    "lifecycle_stage",
    "tags",
    "attributes",
    "locale",
    "time_zone",
    "account_owner",
];

/// The fields a client sets, validated and normalized.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomerFields {
    /// Display name.
    pub display_name: String,
    /// Lower-cased emails, the first is primary.
    pub emails: Vec<String>,
    /// `+digits` phone numbers.
    pub phones: Vec<String>,
    /// Organization id (not name).
    pub organization_id: Option<String>,
    /// CRM id.
    pub external_id: Option<String>,
    /// Service tier; `None` only in input that leaves it to the defaults.
    pub tier: Option<Tier>,
    /// Lifecycle stage; `None` only in input that leaves it to the defaults.
    pub lifecycle_stage: Option<LifecycleStage>,
    /// Sorted tags.
    pub tags: Vec<String>,
    /// Custom attributes.
    pub attributes: BTreeMap<String, String>,
    /// BCP 47 tag or empty.
    pub locale: String,
    /// IANA zone or empty.
    pub time_zone: String,
    /// Dedicated agent's id.
    pub account_owner: Option<String>,
}

/// A stored customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    /// Id (the `{customer}` of the name).
    pub id: String,
    /// Client-set fields.
    pub fields: CustomerFields,
    /// The customer this one was merged into.
    pub merged_into: Option<String>,
    /// When personal data was erased, UTC microseconds.
    pub erase_time: Option<i64>,
    /// Creation time, UTC microseconds.
    pub create_time: i64,
    /// Last change, UTC microseconds.
    pub update_time: i64,
    /// Row version, bumped on every change; the etag derives from it.
    pub version: i64,
}

impl CustomerRecord {
    /// `customers/{id}`.
    pub fn name(&self) -> String {
        customer_name(&self.id)
    }
}

/// `customers/{id}`.
pub fn customer_name(id: &str) -> String {
    format!("customers/{id}")
}

/// Fills what the client left unspecified: tier from the organization (else STANDARD), stage NEW.
pub fn apply_defaults(fields: &mut CustomerFields, organization_default_tier: Option<Tier>) {
    fields.tier = fields
        .tier
        .or(organization_default_tier)
        .or(Some(Tier::Standard));
    fields.lifecycle_stage = fields.lifecycle_stage.or(Some(LifecycleStage::New));
}

/// The domain of the primary email, used to find the customer's organization.
pub fn primary_email_domain(fields: &CustomerFields) -> Option<&str> {
    fields
        .emails
        .first()
        .and_then(|email| email.rsplit_once('@'))
        .map(|(_, domain)| domain)
}

/// The paths whose values differ between two versions of a customer.
pub fn changed_fields(before: &CustomerFields, after: &CustomerFields) -> Vec<String> {
    let mut changed = Vec::new();
    let mut check = |name: &str, differs: bool| {
        if differs {
            changed.push(name.to_owned());
        }
    };
    check("display_name", before.display_name != after.display_name);
    check("emails", before.emails != after.emails);
    check("phones", before.phones != after.phones);
    check(
        "organization",
        before.organization_id != after.organization_id,
    );
    check("external_id", before.external_id != after.external_id);
    check("tier", before.tier != after.tier);
    check(
        "lifecycle_stage",
        before.lifecycle_stage != after.lifecycle_stage,
    );
    check("tags", before.tags != after.tags);
    check("attributes", before.attributes != after.attributes);
    check("locale", before.locale != after.locale);
    check("time_zone", before.time_zone != after.time_zone);
    check("account_owner", before.account_owner != after.account_owner);
    changed
}

/// Why a state-dependent operation is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition(pub String);

/// A merged-away or erased customer cannot be edited: changes belong on the surviving record.
pub fn check_editable(record: &CustomerRecord) -> Result<(), Precondition> {
    if let Some(target) = &record.merged_into {
        return Err(Precondition(format!(
            "{} was merged into {}: change that customer, or unmerge first",
            record.name(),
            customer_name(target)
        )));
    }
    if record.erase_time.is_some() {
        return Err(Precondition(format!(
            "{} was erased and can no longer be changed",
            record.name()
        )));
    }
    Ok(())
}

/// Checks that `source` may be merged into `target`.
pub fn check_merge(
    source: &CustomerRecord,
    target: &CustomerRecord,
    source_has_merged_children: bool,
) -> Result<(), Precondition> {
    check_editable(source)?;
    check_editable(target)?;
    if source_has_merged_children {
        return Err(Precondition(format!(
            "other customers were merged into {}: unmerge them first",
            source.name()
        )));
    }
    Ok(())
}

/// Checks that `record` can be unmerged.
pub fn check_unmerge(record: &CustomerRecord) -> Result<(), Precondition> {
    if record.merged_into.is_none() {
        return Err(Precondition(format!("{} is not merged", record.name())));
    }
    Ok(())
}

/// The text that `query` filters match: name and emails, lower-cased.
pub fn search_text(fields: &CustomerFields) -> String {
    let mut text = fields.display_name.to_lowercase();
    for email in &fields.emails {
        text.push(' ');
        text.push_str(email);
    }
    text
}

/// The record with personal data removed (right to erasure). Tier, stage and organization stay:
/// they are not personal and keep statistics meaningful.
pub fn erase(record: &CustomerRecord, now: i64) -> CustomerRecord {
    let mut erased = record.clone();
    erased.fields = CustomerFields {
        display_name: "Erased customer".to_owned(),
        emails: Vec::new(),
        phones: Vec::new(),
        organization_id: record.fields.organization_id.clone(),
        external_id: None,
        tier: record.fields.tier,
        lifecycle_stage: record.fields.lifecycle_stage,
        tags: Vec::new(),
        attributes: BTreeMap::new(),
        locale: String::new(),
        time_zone: String::new(),
        account_owner: record.fields.account_owner.clone(),
    };
    erased.erase_time = Some(now);
    erased
}

/// What an erased interaction's summary becomes.
pub const ERASED_SUMMARY: &str = "[erased]";

/// Copies the fields named in `paths` from `input` onto `fields`.
pub fn overlay(fields: &mut CustomerFields, input: &CustomerFields, paths: &[&str]) {
    for path in paths {
        match *path {
            "display_name" => fields.display_name.clone_from(&input.display_name),
            "emails" => fields.emails.clone_from(&input.emails),
            "phones" => fields.phones.clone_from(&input.phones),
            "organization" => fields.organization_id.clone_from(&input.organization_id),
            "external_id" => fields.external_id.clone_from(&input.external_id),
            "tier" if input.tier.is_some() => fields.tier = input.tier,
            "lifecycle_stage" if input.lifecycle_stage.is_some() => {
                fields.lifecycle_stage = input.lifecycle_stage
            }
            "tags" => fields.tags.clone_from(&input.tags),
            "attributes" => fields.attributes.clone_from(&input.attributes),
            "locale" => fields.locale.clone_from(&input.locale),
            "time_zone" => fields.time_zone.clone_from(&input.time_zone),
            "account_owner" => fields.account_owner.clone_from(&input.account_owner),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> CustomerRecord {
        CustomerRecord {
            id: id.to_owned(),
            fields: CustomerFields {
                display_name: "Ann".into(),
                emails: vec!["ann@x.com".into()],
                ..Default::default()
            },
            merged_into: None,
            erase_time: None,
            create_time: 1,
            update_time: 1,
            version: 1,
        }
    }

    #[test]
    fn defaults_take_the_organization_tier() {
        let mut fields = CustomerFields::default();
        apply_defaults(&mut fields, Some(Tier::Gold));
        assert_eq!(fields.tier, Some(Tier::Gold));
        assert_eq!(fields.lifecycle_stage, Some(LifecycleStage::New));
        let mut fields = CustomerFields {
            tier: Some(Tier::Vip),
            ..Default::default()
        };
        apply_defaults(&mut fields, Some(Tier::Gold));
        assert_eq!(fields.tier, Some(Tier::Vip));
        let mut fields = CustomerFields::default();
        apply_defaults(&mut fields, None);
        assert_eq!(fields.tier, Some(Tier::Standard));
    }

    #[test]
    fn merge_rules() {
        let a = record("a");
        let b = record("b");
        assert!(check_merge(&a, &b, false).is_ok());
        assert!(check_merge(&a, &b, true).is_err());
        let mut merged = record("c");
        merged.merged_into = Some("b".into());
        assert!(check_merge(&merged, &b, false).is_err());
        assert!(check_merge(&a, &merged, false).is_err());
        assert!(check_unmerge(&merged).is_ok());
        assert!(check_unmerge(&a).is_err());
    }

    #[test]
    fn erasure_removes_personal_data_and_keeps_the_id() {
        let mut a = record("a");
        a.fields.phones = vec!["+8613800138000".into()];
        a.fields.external_id = Some("crm-1".into());
        a.fields.tier = Some(Tier::Vip);
        let erased = erase(&a, 99);
        assert_eq!(erased.id, "a");
        assert!(erased.fields.emails.is_empty() && erased.fields.phones.is_empty());
        assert_eq!(erased.fields.external_id, None);
        assert_eq!(erased.fields.tier, Some(Tier::Vip));
        assert_ne!(erased.fields.display_name, "Ann");
        assert_eq!(erased.erase_time, Some(99));
        assert!(check_editable(&erased).is_err());
    }

    #[test]
    fn changed_fields_lists_only_differences() {
        let a = record("a");
        let mut b = a.fields.clone();
        b.tier = Some(Tier::Vip);
        b.tags = vec!["x".into()];
        assert_eq!(changed_fields(&a.fields, &b), vec!["tier", "tags"]);
    }
}
