//! Records to proto messages.

use kefu_proto::customers::v1 as pb;
use kefu_server::etag::etag;

use crate::domain::activity::{InteractionRecord, PurchaseRecord};
use crate::domain::customer::{CustomerRecord, customer_name};
use crate::domain::organization::{OrganizationRecord, organization_name};
use crate::ops::timestamp;

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
        tier: f.tier,
        lifecycle_stage: f.lifecycle_stage,
        tags: f.tags.clone(),
        attributes: f
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
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
    }
}

pub(crate) fn organization(record: &OrganizationRecord) -> pb::Organization {
    let name = record.name();
    pb::Organization {
        etag: etag(&name, record.version),
        name,
        display_name: record.fields.display_name.clone(),
        domains: record.fields.domains.clone(),
        default_tier: record.fields.default_tier,
        tags: record.fields.tags.clone(),
        create_time: Some(timestamp(record.create_time)),
        update_time: Some(timestamp(record.update_time)),
    }
}

pub(crate) fn purchase(record: &PurchaseRecord) -> pb::Purchase {
    pb::Purchase {
        name: format!(
            "{}/purchases/{}",
            customer_name(&record.customer_id),
            record.id
        ),
        product: record.product.clone(),
        sku: record.sku.clone(),
        quantity: record.quantity,
        amount_micros: record.amount_micros,
        currency_code: record.currency_code.clone(),
        order_reference: record.order_reference.clone(),
        purchase_time: Some(timestamp(record.purchase_time)),
        create_time: Some(timestamp(record.create_time)),
    }
}

pub(crate) fn interaction(record: &InteractionRecord) -> pb::Interaction {
    pb::Interaction {
        name: format!(
            "{}/interactions/{}",
            customer_name(&record.customer_id),
            record.id
        ),
        channel: record.channel,
        direction: record.direction,
        summary: record.summary.clone(),
        interaction_time: Some(timestamp(record.interaction_time)),
        ticket: record.ticket.clone(),
        logged_by: record.logged_by.clone(),
        create_time: Some(timestamp(record.create_time)),
    }
}
