//! Wire ↔ domain: the client's messages validated into domain values (each bad field a
//! violation), and records back into messages.

use kefu_proto::tickets::v1 as pb;
use kefu_server::common::Channel;
use kefu_server::etag::etag;
use kefu_server::time::timestamp;
use kefu_server::{Violations, validate};

use crate::domain::kinds::{AfterSalesKind, Level, Priority, PrioritySource, TicketType};
use crate::domain::policy::{PolicyRecord, ScheduleRecord};
use crate::domain::sla::Target;
use crate::domain::team::{AgentRecord, GroupRecord};
use crate::domain::ticket::{
    self, AttachmentRecord, CommentRecord, MAX_CUSTOM_FIELD_CHARS, MAX_CUSTOM_FIELDS, MAX_TAGS,
    TicketFields, TicketRecord, ticket_name,
};
use crate::store::{AuditRecord, Dimension, LinkRecord, StatsRow};

/// The fields of `input` named in `paths` (every field on create), validated; an unset
/// priority or type is the default (NORMAL, QUESTION).
pub(super) fn ticket_fields(
    input: &pb::Ticket,
    paths: &[&str],
    v: &mut Violations,
) -> TicketFields {
    let f = |name: &str| format!("ticket.{name}");
    let mut fields = TicketFields::default();
    for path in paths {
        match *path {
            "subject" => fields.subject = ticket::subject(&input.subject, &f("subject"), v),
            "description" => {
                fields.description = ticket::text(&input.description, false, &f("description"), v)
            }
            "priority" => {
                // Sent: by hand; unset: the matrix's or the default, settled later.
                let given = validate::optional_enum(
                    input.priority,
                    Priority::from_number,
                    &f("priority"),
                    v,
                );
                fields.priority = given.unwrap_or(Priority::Normal);
                if given.is_some() {
                    fields.priority_source = PrioritySource::Manual;
                }
            }
            "urgency" => {
                fields.urgency =
                    validate::optional_enum(input.urgency, Level::from_number, &f("urgency"), v)
            }
            "impact" => {
                fields.impact =
                    validate::optional_enum(input.impact, Level::from_number, &f("impact"), v)
            }
            "type" => {
                fields.ticket_type =
                    validate::optional_enum(input.r#type, TicketType::from_number, &f("type"), v)
                        .unwrap_or(TicketType::Question)
            }
            "after_sales_kind" => {
                fields.after_sales_kind = validate::optional_enum(
                    input.after_sales_kind,
                    AfterSalesKind::from_number,
                    &f("after_sales_kind"),
                    v,
                )
            }
            "category" => fields.category = ticket::category(&input.category, &f("category"), v),
            "tags" => fields.tags = validate::tags(&input.tags, MAX_TAGS, &f("tags"), v),
            "custom_fields" => {
                fields.custom_fields = validate::string_map(
                    &input.custom_fields,
                    MAX_CUSTOM_FIELDS,
                    MAX_CUSTOM_FIELD_CHARS,
                    &f("custom_fields"),
                    v,
                )
            }
            other => v.add("update_mask", format!("{other:?} cannot be updated")),
        }
    }
    fields
}

/// Attachment metadata as the client sent it, checked and normalized.
pub(super) fn attachments(
    input: &[pb::Attachment],
    field: &str,
    v: &mut Violations,
) -> Vec<AttachmentRecord> {
    let raw: Vec<AttachmentRecord> = input
        .iter()
        .map(|a| AttachmentRecord {
            file_name: a.file_name.clone(),
            size_bytes: a.size_bytes,
            content_type: a.content_type.clone(),
            storage_key: a.storage_key.clone(),
        })
        .collect();
    ticket::attachments(&raw, field, v)
}

/// A channel field: `required`, or unset meaning `default`.
pub(super) fn channel(
    number: i32,
    default: Option<Channel>,
    field: &str,
    v: &mut Violations,
) -> Option<Channel> {
    match default {
        Some(default) => {
            Some(validate::optional_enum(number, Channel::from_number, field, v).unwrap_or(default))
        }
        None => validate::required_enum(number, Channel::from_number, field, v),
    }
}

fn target(t: &Target) -> pb::SlaTarget {
    pb::SlaTarget {
        due_time: t.due.map(timestamp),
        achieve_time: t.achieved.map(timestamp),
        breached: t.breached,
        escalated_percents: t
            .escalated
            .iter()
            .map(|p| i32::try_from(*p).unwrap_or(i32::MAX))
            .collect(),
    }
}

/// A ticket as clients see it.
pub(super) fn ticket(t: &TicketRecord) -> pb::Ticket {
    let name = ticket_name(&t.id);
    pb::Ticket {
        etag: etag(&name, t.version),
        name,
        subject: t.fields.subject.clone(),
        description: t.fields.description.clone(),
        requester: format!("customers/{}", t.requester_id),
        requester_snapshot: Some(pb::RequesterSnapshot {
            display_name: t.requester_name.clone(),
            tier: t.requester_tier.number(),
            erased: t.requester_erased,
        }),
        organization: t
            .organization_id
            .as_ref()
            .map(|o| format!("organizations/{o}"))
            .unwrap_or_default(),
        assignee: t
            .assignee_id
            .as_ref()
            .map(|a| format!("agents/{a}"))
            .unwrap_or_default(),
        group: t
            .group_id
            .as_ref()
            .map(|g| format!("groups/{g}"))
            .unwrap_or_default(),
        status: t.status.number(),
        priority: t.fields.priority.number(),
        priority_source: t.fields.priority_source.number(),
        urgency: t.fields.urgency.map_or(0, Level::number),
        impact: t.fields.impact.map_or(0, Level::number),
        r#type: t.fields.ticket_type.number(),
        after_sales_kind: t.fields.after_sales_kind.map_or(0, AfterSalesKind::number),
        category: t.fields.category.clone(),
        channel: t.channel.number(),
        tags: t.fields.tags.clone(),
        custom_fields: t.fields.custom_fields.clone(),
        sla: Some(pb::SlaState {
            policy: t
                .sla
                .policy_id
                .as_ref()
                .map(|p| format!("slaPolicies/{p}"))
                .unwrap_or_default(),
            first_response: Some(target(&t.sla.first_response)),
            next_response: Some(target(&t.sla.next_response)),
            resolution: Some(target(&t.sla.resolution)),
            paused: t.sla.paused(),
        }),
        metrics: Some(pb::TicketMetrics {
            first_response_seconds: t.first_response_seconds.unwrap_or_default(),
            resolution_seconds: t.resolution_seconds.unwrap_or_default(),
            reopen_count: t.reopen_count,
            agent_replies: t.agent_replies,
        }),
        create_time: Some(timestamp(t.create_time)),
        update_time: Some(timestamp(t.update_time)),
        solve_time: t.solve_time.map(timestamp),
        close_time: t.close_time.map(timestamp),
        follow_up_of: t
            .follow_up_of
            .as_ref()
            .map(|f| ticket_name(f))
            .unwrap_or_default(),
        merged_into: t
            .merged_into
            .as_ref()
            .map(|m| ticket_name(m))
            .unwrap_or_default(),
        followers: t.followers.iter().map(|a| format!("agents/{a}")).collect(),
    }
}

/// A comment.
pub(super) fn comment(c: &CommentRecord) -> pb::Comment {
    pb::Comment {
        name: format!("tickets/{}/comments/{}", c.ticket_id, c.id),
        body: c.body.clone(),
        public: c.public,
        author: c.author.clone(),
        author_kind: c.author_kind.number(),
        channel: c.channel.number(),
        attachments: c
            .attachments
            .iter()
            .map(|a| pb::Attachment {
                file_name: a.file_name.clone(),
                size_bytes: a.size_bytes,
                content_type: a.content_type.clone(),
                storage_key: a.storage_key.clone(),
            })
            .collect(),
        create_time: Some(timestamp(c.create_time)),
    }
}

/// An audit entry.
pub(super) fn audit(a: &AuditRecord) -> pb::TicketAudit {
    pb::TicketAudit {
        name: format!("tickets/{}/audits/{}", a.ticket_id, a.id),
        actor: a.actor.clone(),
        actor_role: a.actor_role.clone(),
        via: a.via.clone(),
        changes: a
            .changes
            .iter()
            .map(|c| pb::FieldChange {
                field: c.field.clone(),
                old_value: c.old.clone(),
                new_value: c.new.clone(),
            })
            .collect(),
        create_time: Some(timestamp(a.create_time)),
    }
}

/// A group.
pub(super) fn group(g: &GroupRecord) -> pb::Group {
    let name = format!("groups/{}", g.id);
    pb::Group {
        etag: etag(&name, g.version),
        name,
        display_name: g.display_name.clone(),
        description: g.description.clone(),
        create_time: Some(timestamp(g.create_time)),
        routing: g.routing.number(),
        skill_rules: g.skill_rules.iter().map(super::routing::rule_out).collect(),
        reassign_when_offline: g.reassign_offline,
        lead: g
            .lead_id
            .as_ref()
            .map(|a| format!("agents/{a}"))
            .unwrap_or_default(),
        delete_time: g.delete_time.map(timestamp),
        business_schedule: g
            .schedule_id
            .as_ref()
            .map(|s| format!("businessSchedules/{s}"))
            .unwrap_or_default(),
    }
}

/// An agent.
pub(super) fn agent(a: &AgentRecord) -> pb::Agent {
    let name = format!("agents/{}", a.id);
    pb::Agent {
        etag: etag(&name, a.version),
        name,
        display_name: a.display_name.clone(),
        email: a.email.clone(),
        skills: a.skills.clone(),
        capacity: a.capacity,
        active: a.active,
        groups: a.groups.iter().map(|g| format!("groups/{g}")).collect(),
        create_time: Some(timestamp(a.create_time)),
        availability: a.availability.number(),
        ticket_scope: a.ticket_scope.number(),
        delete_time: a.delete_time.map(timestamp),
    }
}

/// A business schedule.
pub(super) fn schedule(s: &ScheduleRecord) -> pb::BusinessSchedule {
    let name = format!("businessSchedules/{}", s.id);
    pb::BusinessSchedule {
        etag: etag(&name, s.version),
        name,
        display_name: s.display_name.clone(),
        time_zone: s.time_zone.clone(),
        intervals: s
            .intervals
            .iter()
            .map(|&(day, start, end)| pb::WorkingInterval {
                day_of_week: i32::from(day),
                start_minute: i32::from(start),
                end_minute: i32::from(end),
            })
            .collect(),
        holidays: s.holidays.clone(),
        create_time: Some(timestamp(s.create_time)),
    }
}

/// An SLA policy.
pub(super) fn policy(p: &PolicyRecord) -> pb::SlaPolicy {
    pb::SlaPolicy {
        etag: etag(&format!("slaPolicies/{}", p.id), p.version),
        archive_time: p.archive_time.map(timestamp),
        name: format!("slaPolicies/{}", p.id),
        display_name: p.display_name.clone(),
        position: p.position,
        priorities: p.priorities.iter().map(|x| x.number()).collect(),
        requester_tiers: p.tiers.iter().map(|x| x.number()).collect(),
        types: p.types.iter().map(|x| x.number()).collect(),
        channels: p.channels.iter().map(|x| x.number()).collect(),
        groups: p.groups.iter().map(|g| format!("groups/{g}")).collect(),
        first_response_minutes: p.first_response_minutes,
        next_response_minutes: p.next_response_minutes,
        resolution_minutes: p.resolution_minutes,
        business_schedule: p
            .schedule_id
            .as_ref()
            .map(|s| format!("businessSchedules/{s}"))
            .unwrap_or_default(),
        create_time: Some(timestamp(p.create_time)),
        escalation_levels: p
            .escalations
            .iter()
            .map(|l| pb::EscalationLevel {
                percent: i32::try_from(l.percent).unwrap_or(i32::MAX),
                raise_priority: l.raise_priority.map_or(0, |x| x.number()),
                group: l
                    .group_id
                    .as_ref()
                    .map(|g| format!("groups/{g}"))
                    .unwrap_or_default(),
                assignee: l
                    .assignee_id
                    .as_ref()
                    .map(|a| format!("agents/{a}"))
                    .unwrap_or_default(),
                notify_lead: l.notify_lead,
            })
            .collect(),
    }
}

/// One row of GetTicketStats, its key rendered as clients see it.
pub(super) fn stats_row(dimension: Dimension, key: &str, row: &StatsRow) -> pb::TicketStatsRow {
    let number = key.parse::<i32>().unwrap_or_default();
    let key =
        match dimension {
            Dimension::None => String::new(),
            Dimension::Agent if !key.is_empty() => format!("agents/{key}"),
            Dimension::Group if !key.is_empty() => format!("groups/{key}"),
            Dimension::Agent | Dimension::Group => String::new(),
            Dimension::Channel => {
                Channel::from_number(number).map_or_else(|| key.to_owned(), |e| e.name().to_owned())
            }
            Dimension::Priority => Priority::from_number(number)
                .map_or_else(|| key.to_owned(), |e| e.name().to_owned()),
            Dimension::Type => TicketType::from_number(number)
                .map_or_else(|| key.to_owned(), |e| e.name().to_owned()),
        };
    let (first_response_median_seconds, first_response_p90_seconds) =
        row.first_response.unwrap_or_default();
    let (resolution_median_seconds, resolution_p90_seconds) = row.resolution.unwrap_or_default();
    pb::TicketStatsRow {
        key,
        created: row.created,
        solved: row.solved,
        reopened: row.reopened,
        backlog: row.backlog,
        first_response_median_seconds,
        first_response_p90_seconds,
        resolution_median_seconds,
        resolution_p90_seconds,
        sla_measured: row.sla_measured,
        sla_compliance_percent: if row.sla_measured == 0 {
            0.0
        } else {
            row.sla_met as f64 * 100.0 / row.sla_measured as f64
        },
    }
}

/// A link.
pub(super) fn link(l: &LinkRecord) -> pb::TicketLink {
    pb::TicketLink {
        ticket: ticket_name(&l.ticket_id),
        other: ticket_name(&l.other_id),
        kind: l.kind.number(),
        create_time: Some(timestamp(l.create_time)),
    }
}

#[cfg(test)]
mod tests {
    use kefu_server::numbered::assert_matches_contract;
    use kefu_server::numbered_pairs;

    use super::*;
    use crate::domain::kinds::{AuthorKind, LinkKind, TicketStatus};
    use kefu_server::common::Tier;

    #[test]
    fn domain_enums_match_the_contract() {
        let name = |n| pb::TicketStatus::try_from(n).ok().map(|e| e.as_str_name());
        assert_matches_contract(&numbered_pairs!(TicketStatus), name);
        let name = |n| {
            pb::TicketPriority::try_from(n)
                .ok()
                .map(|e| e.as_str_name())
        };
        assert_matches_contract(&numbered_pairs!(Priority), name);
        let name = |n| pb::TicketType::try_from(n).ok().map(|e| e.as_str_name());
        assert_matches_contract(&numbered_pairs!(TicketType), name);
        let name = |n| {
            pb::AfterSalesKind::try_from(n)
                .ok()
                .map(|e| e.as_str_name())
        };
        assert_matches_contract(&numbered_pairs!(AfterSalesKind), name);
        let name = |n| pb::AuthorKind::try_from(n).ok().map(|e| e.as_str_name());
        assert_matches_contract(&numbered_pairs!(AuthorKind), name);
        let name = |n| pb::LinkKind::try_from(n).ok().map(|e| e.as_str_name());
        assert_matches_contract(&numbered_pairs!(LinkKind), name);
        let name = |n| pb::Level::try_from(n).ok().map(|e| e.as_str_name());
        assert_matches_contract(&numbered_pairs!(Level), name);
        let name = |n| {
            pb::PrioritySource::try_from(n)
                .ok()
                .map(|e| e.as_str_name())
        };
        assert_matches_contract(&numbered_pairs!(PrioritySource), name);
    }

    #[test]
    fn ticket_fields_are_checked_with_every_violation_reported() {
        let input = pb::Ticket {
            subject: " ".into(),
            priority: 99,
            tags: vec!["Bad Tag!".into()],
            description: "x".repeat(ticket::MAX_TEXT_CHARS + 1),
            ..pb::Ticket::default()
        };
        let mut v = Violations::new();
        let fields = ticket_fields(&input, crate::domain::ticket::UPDATABLE, &mut v);
        let bad: Vec<&str> = v.iter().map(|(f, _)| f).collect();
        assert_eq!(
            bad,
            vec![
                "ticket.subject",
                "ticket.description",
                "ticket.priority",
                "ticket.tags[0]"
            ]
        );
        assert_eq!(
            fields.ticket_type,
            TicketType::Question,
            "unset type is the default"
        );
        assert_eq!(Tier::from_number(0), None);
    }
}
