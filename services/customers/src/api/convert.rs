//! Wire ↔ domain: the client's messages validated into domain values (each bad field a
//! violation), and records back into messages.

use kefu_proto::customers::v1 as pb;
use kefu_server::common::{Channel, LifecycleStage, Tier};
use kefu_server::etag::etag;
use kefu_server::time::{optional_micros, timestamp};
use kefu_server::{Violations, validate as common_validate};

use crate::domain::activity::{
    self, Direction, InteractionRecord, NewInteraction, NewPurchase, PurchaseRecord,
};
use crate::domain::customer::{CustomerFields, CustomerRecord, customer_name};
use crate::domain::organization::{
    MAX_DOMAINS, OrganizationFields, OrganizationRecord, organization_name,
};
use crate::domain::validate;

/// The fields of `input` named in `paths` (every field on create), validated; violations are
/// named `<prefix>.<field>`.
pub(crate) fn customer_fields(
    input: &pb::Customer,
    paths: &[&str],
    prefix: &str,
    v: &mut Violations,
) -> CustomerFields {
    let mut fields = CustomerFields::default();
    let f = |name: &str| format!("{prefix}.{name}");
    for path in paths {
        match *path {
            "display_name" => {
                fields.display_name =
                    validate::display_name(&input.display_name, &f("display_name"), v)
            }
            "emails" => fields.emails = validate::emails(&input.emails, &f("emails"), v),
            "phones" => fields.phones = validate::phones(&input.phones, &f("phones"), v),
            "organization" => {
                fields.organization_id = validate::optional_resource_id(
                    &input.organization,
                    "organizations",
                    &f("organization"),
                    v,
                )
            }
            "external_id" => {
                fields.external_id = validate::external_id(&input.external_id, &f("external_id"), v)
            }
            "tier" => {
                fields.tier =
                    common_validate::optional_enum(input.tier, Tier::from_number, &f("tier"), v)
            }
            "lifecycle_stage" => {
                fields.lifecycle_stage = common_validate::optional_enum(
                    input.lifecycle_stage,
                    LifecycleStage::from_number,
                    &f("lifecycle_stage"),
                    v,
                )
            }
            "tags" => fields.tags = validate::tags(&input.tags, validate::MAX_TAGS, &f("tags"), v),
            "attributes" => {
                fields.attributes = validate::attributes(&input.attributes, &f("attributes"), v)
            }
            "locale" => fields.locale = validate::locale(&input.locale, &f("locale"), v),
            "time_zone" => {
                fields.time_zone = validate::time_zone(&input.time_zone, &f("time_zone"), v)
            }
            "account_owner" => {
                fields.account_owner = validate::optional_resource_id(
                    &input.account_owner,
                    "agents",
                    &f("account_owner"),
                    v,
                )
            }
            other => v.add(format!("{prefix}.{other}"), "cannot be set"),
        }
    }
    fields
}

/// The fields of `input` named in `paths`, validated.
pub(crate) fn organization_fields(
    input: &pb::Organization,
    paths: &[&str],
    prefix: &str,
    v: &mut Violations,
) -> OrganizationFields {
    let f = |name: &str| format!("{prefix}.{name}");
    let mut fields = OrganizationFields {
        display_name: String::new(),
        domains: Vec::new(),
        default_tier: Tier::Standard,
        tags: Vec::new(),
    };
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
                for (i, raw) in input.domains.iter().enumerate() {
                    let domain = raw.trim().trim_start_matches('@').to_lowercase();
                    if !validate::is_domain(&domain) {
                        v.add(
                            format!("{}[{i}]", f("domains")),
                            "must be a domain such as example.com",
                        );
                    } else if !fields.domains.contains(&domain) {
                        fields.domains.push(domain);
                    }
                }
            }
            "default_tier" => {
                fields.default_tier = common_validate::optional_enum(
                    input.default_tier,
                    Tier::from_number,
                    &f("default_tier"),
                    v,
                )
                .unwrap_or(Tier::Standard)
            }
            "tags" => fields.tags = validate::tags(&input.tags, validate::MAX_TAGS, &f("tags"), v),
            other => v.add(format!("{prefix}.{other}"), "cannot be set"),
        }
    }
    fields
}

/// A history time the client gave, checked against `now` (not too far ahead, not before 1970).
fn history_time(
    ts: Option<&prost_types::Timestamp>,
    now: i64,
    field: &str,
    v: &mut Violations,
) -> Option<i64> {
    let at = optional_micros(ts, field, v)?;
    if let Err(why) = activity::event_time(Some(at), now) {
        v.add(field, why);
    }
    Some(at)
}

/// A purchase as the client sent it, its fields checked; `now` bounds its time.
pub(crate) fn new_purchase(input: &pb::Purchase, now: i64, v: &mut Violations) -> NewPurchase {
    let purchase = NewPurchase {
        product: input.product.clone(),
        sku: input.sku.clone(),
        quantity: input.quantity,
        amount_micros: input.amount_micros,
        currency_code: input.currency_code.clone(),
        order_reference: input.order_reference.clone(),
        purchase_time: history_time(
            input.purchase_time.as_ref(),
            now,
            "purchase.purchase_time",
            v,
        ),
    };
    activity::check_purchase(purchase, v)
}

/// An interaction as the client sent it, its fields checked; `None` when a required enum is bad.
pub(crate) fn new_interaction(
    input: &pb::Interaction,
    now: i64,
    v: &mut Violations,
) -> Option<NewInteraction> {
    let channel = common_validate::required_enum(
        input.channel,
        Channel::from_number,
        "interaction.channel",
        v,
    );
    let direction = common_validate::required_enum(
        input.direction,
        Direction::from_number,
        "interaction.direction",
        v,
    );
    let summary = activity::check_summary(&input.summary, v);
    if !input.ticket.is_empty() {
        validate::resource_id(&input.ticket, "tickets", "interaction.ticket", v);
    }
    let interaction_time = history_time(
        input.interaction_time.as_ref(),
        now,
        "interaction.interaction_time",
        v,
    );
    Some(NewInteraction {
        channel: channel?,
        direction: direction?,
        summary,
        interaction_time,
        ticket: input.ticket.clone(),
    })
}

pub(crate) fn customer(record: &CustomerRecord) -> pb::Customer {
    let name = record.name();
    let f = &record.fields;
    pb::Customer {
        etag: etag(&name, record.version),
        name,
        display_name: f.display_name.clone(),
        emails: f.emails.clone(),
        phones: f.phones.clone(),
        organization: f
            .organization_id
            .as_deref()
            .map(organization_name)
            .unwrap_or_default(),
        external_id: f.external_id.clone().unwrap_or_default(),
        tier: f.tier.map_or(0, Tier::number),
        lifecycle_stage: f.lifecycle_stage.map_or(0, LifecycleStage::number),
        tags: f.tags.clone(),
        attributes: f.attributes.clone(),
        locale: f.locale.clone(),
        time_zone: f.time_zone.clone(),
        create_time: Some(timestamp(record.create_time)),
        update_time: Some(timestamp(record.update_time)),
        merged_into: record
            .merged_into
            .as_deref()
            .map(customer_name)
            .unwrap_or_default(),
        erase_time: record.erase_time.map(timestamp),
        account_owner: f
            .account_owner
            .as_deref()
            .map(|id| format!("agents/{id}"))
            .unwrap_or_default(),
    }
}

pub(crate) fn organization(record: &OrganizationRecord) -> pb::Organization {
    let name = record.name();
    pb::Organization {
        etag: etag(&name, record.version),
        name,
        display_name: record.fields.display_name.clone(),
        domains: record.fields.domains.clone(),
        default_tier: record.fields.default_tier.number(),
        tags: record.fields.tags.clone(),
        create_time: Some(timestamp(record.create_time)),
        update_time: Some(timestamp(record.update_time)),
    }
}

pub(crate) fn purchase(record: &PurchaseRecord) -> pb::Purchase {
    let p = &record.purchase;
    pb::Purchase {
        name: format!(
            "{}/purchases/{}",
            customer_name(&record.customer_id),
            record.id
        ),
        product: p.product.clone(),
        sku: p.sku.clone(),
        quantity: p.quantity,
        amount_micros: p.amount_micros,
        currency_code: p.currency_code.clone(),
        order_reference: p.order_reference.clone(),
        purchase_time: Some(timestamp(record.purchase_time)),
        create_time: Some(timestamp(record.create_time)),
    }
}

pub(crate) fn interaction(record: &InteractionRecord) -> pb::Interaction {
    let i = &record.interaction;
    pb::Interaction {
        name: format!(
            "{}/interactions/{}",
            customer_name(&record.customer_id),
            record.id
        ),
        channel: i.channel.number(),
        direction: i.direction.number(),
        summary: i.summary.clone(),
        interaction_time: Some(timestamp(record.interaction_time)),
        ticket: i.ticket.clone(),
        logged_by: record.logged_by.clone(),
        create_time: Some(timestamp(record.create_time)),
    }
}

#[cfg(test)]
mod tests {
    use kefu_server::numbered::assert_matches_contract;

    use super::*;

    #[test]
    fn domain_enums_match_the_contract() {
        let name = |n: i32| pb::Direction::try_from(n).ok().map(|d| d.as_str_name());
        assert_matches_contract(&kefu_server::numbered_pairs!(Direction), name);
    }
}
