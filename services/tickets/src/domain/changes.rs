//! The field-by-field difference between two versions of a ticket that becomes an audit entry.

use super::kinds::Level;
use super::ticket::{TicketRecord, ticket_name};

/// One field's old and new value, rendered as text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    /// Field path.
    pub field: String,
    /// Before.
    pub old: String,
    /// After.
    pub new: String,
}

/// A level's name for the audit trail, or empty.
fn level(value: Option<Level>) -> String {
    value.map(|l| l.name().to_owned()).unwrap_or_default()
}

/// The audit lines between two versions of a ticket: every field whose rendering differs.
pub fn diff(before: Option<&TicketRecord>, after: &TicketRecord) -> Vec<Change> {
    let render = |t: &TicketRecord| -> Vec<(&'static str, String)> {
        vec![
            ("subject", t.fields.subject.clone()),
            ("description", t.fields.description.clone()),
            ("requester", format!("customers/{}", t.requester_id)),
            (
                "requester_snapshot.tier",
                t.requester_tier.name().to_owned(),
            ),
            ("status", t.status.name().to_owned()),
            ("priority", t.fields.priority.name().to_owned()),
            (
                "priority_source",
                t.fields.priority_source.name().to_owned(),
            ),
            ("urgency", level(t.fields.urgency)),
            ("impact", level(t.fields.impact)),
            ("type", t.fields.ticket_type.name().to_owned()),
            (
                "after_sales_kind",
                t.fields
                    .after_sales_kind
                    .map(|k| k.name().to_owned())
                    .unwrap_or_default(),
            ),
            ("category", t.fields.category.clone()),
            ("channel", t.channel.name().to_owned()),
            ("tags", t.fields.tags.join(",")),
            (
                "followers",
                t.followers
                    .iter()
                    .map(|a| format!("agents/{a}"))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "custom_fields",
                t.fields
                    .custom_fields
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "assignee",
                t.assignee_id
                    .as_ref()
                    .map(|a| format!("agents/{a}"))
                    .unwrap_or_default(),
            ),
            (
                "group",
                t.group_id
                    .as_ref()
                    .map(|g| format!("groups/{g}"))
                    .unwrap_or_default(),
            ),
            (
                "sla.policy",
                t.sla
                    .policy_id
                    .as_ref()
                    .map(|p| format!("slaPolicies/{p}"))
                    .unwrap_or_default(),
            ),
            (
                "sla.first_response.breached",
                t.sla.first_response.breached.to_string(),
            ),
            (
                "sla.next_response.breached",
                t.sla.next_response.breached.to_string(),
            ),
            (
                "sla.resolution.breached",
                t.sla.resolution.breached.to_string(),
            ),
            (
                "sla.first_response.escalated",
                percents(&t.sla.first_response.escalated),
            ),
            (
                "sla.next_response.escalated",
                percents(&t.sla.next_response.escalated),
            ),
            (
                "sla.resolution.escalated",
                percents(&t.sla.resolution.escalated),
            ),
            ("requester_snapshot.erased", t.requester_erased.to_string()),
            (
                "merged_into",
                t.merged_into
                    .as_ref()
                    .map(|m| ticket_name(m))
                    .unwrap_or_default(),
            ),
        ]
    };
    let new = render(after);
    match before.map(render) {
        // On creation: every field that has a value.
        None => new
            .into_iter()
            .filter(|(_, value)| !value.is_empty() && value != "false")
            .map(|(field, value)| Change {
                field: field.to_owned(),
                old: String::new(),
                new: value,
            })
            .collect(),
        Some(old) => old
            .into_iter()
            .zip(new)
            .filter(|((_, old_value), (_, new_value))| old_value != new_value)
            .map(|((field, old_value), (_, new_value))| Change {
                field: field.to_owned(),
                old: old_value,
                new: new_value,
            })
            .collect(),
    }
}

/// Fired escalation levels as an audit value: `75%,100%`, "" for none.
fn percents(levels: &[u32]) -> String {
    levels
        .iter()
        .map(|p| format!("{p}%"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::domain::kinds::*;
    use crate::domain::ticket::*;
    use kefu_server::Violations;
    use kefu_server::common::{Channel, Tier};

    fn record() -> TicketRecord {
        let fields = TicketFields {
            subject: "Printer on fire".into(),
            priority: Priority::Normal,
            ticket_type: TicketType::Incident,
            ..TicketFields::default()
        };
        TicketRecord::new(
            "t1".into(),
            fields,
            requester("c1", Tier::Vip),
            Channel::Email,
            0,
        )
    }

    #[test]
    fn creation_audits_every_set_field_and_updates_only_the_changes() {
        let created = record();
        let fields: Vec<String> = diff(None, &created).into_iter().map(|c| c.field).collect();
        assert_eq!(
            fields,
            vec![
                "subject",
                "requester",
                "requester_snapshot.tier",
                "status",
                "priority",
                "priority_source",
                "type",
                "channel"
            ]
        );
        let mut next = created.clone();
        next.status = TicketStatus::Open;
        next.assignee_id = Some("a1".into());
        let changes = diff(Some(&created), &next);
        assert_eq!(
            changes,
            vec![
                Change {
                    field: "status".into(),
                    old: "TICKET_STATUS_NEW".into(),
                    new: "TICKET_STATUS_OPEN".into()
                },
                Change {
                    field: "assignee".into(),
                    old: String::new(),
                    new: "agents/a1".into()
                },
            ]
        );
        assert!(diff(Some(&next), &next).is_empty());
    }

    #[test]
    fn after_sales_tickets_and_only_they_have_a_kind() {
        let mut v = Violations::new();
        let mut fields = TicketFields {
            ticket_type: TicketType::AfterSales,
            ..TicketFields::default()
        };
        fields.check_after_sales(&mut v);
        assert_eq!(v.iter().count(), 1);
        fields.after_sales_kind = Some(AfterSalesKind::Repair);
        let mut v = Violations::new();
        fields.check_after_sales(&mut v);
        assert!(v.is_empty());
        fields.ticket_type = TicketType::Question;
        fields.check_after_sales(&mut v);
        assert_eq!(v.iter().count(), 1);
    }

    #[test]
    fn overlay_copies_only_the_masked_fields() {
        let mut current = record().fields;
        let input = TicketFields {
            subject: "New subject".into(),
            priority: Priority::Urgent,
            ..TicketFields::default()
        };
        current.overlay(&input, &["priority"]);
        assert_eq!(current.priority, Priority::Urgent);
        assert_eq!(current.subject, "Printer on fire");
    }

    #[test]
    fn attachment_metadata_is_checked() {
        let good = AttachmentRecord {
            file_name: "photo.png".into(),
            size_bytes: 1024,
            content_type: "image/png".into(),
            storage_key: "s3://bucket/key".into(),
        };
        let mut v = Violations::new();
        assert_eq!(
            attachments(std::slice::from_ref(&good), "a", &mut v).len(),
            1
        );
        assert!(v.is_empty());
        let bad = AttachmentRecord {
            file_name: String::new(),
            size_bytes: -1,
            content_type: "png".into(),
            storage_key: String::new(),
        };
        attachments(&[bad], "a", &mut v);
        assert_eq!(v.iter().count(), 4);
    }
}
