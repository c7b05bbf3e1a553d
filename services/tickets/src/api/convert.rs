//! Records to proto messages.

use kefu_proto::tickets::v1 as pb;
use kefu_server::etag::etag;

use crate::domain::sla::{PolicyRecord, ScheduleRecord, Target};
use crate::domain::ticket::{AgentRecord, CommentRecord, GroupRecord, TicketRecord, ticket_name};
use crate::ops::timestamp;
use crate::store::{AuditRecord, Dimension, LinkRecord, StatsRow};

fn target(t: &Target) -> pb::SlaTarget {
    pb::SlaTarget {
        due_time: t.due.map(timestamp),
        achieve_time: t.achieved.map(timestamp),
        breached: t.breached,
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
            tier: t.requester_tier.clone(),
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
        status: t.status,
        priority: t.fields.priority,
        r#type: t.fields.ticket_type,
        after_sales_kind: t.fields.after_sales_kind,
        category: t.fields.category.clone(),
        channel: t.channel,
        tags: t.fields.tags.clone(),
        custom_fields: t
            .fields
            .custom_fields
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
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
    }
}

/// A comment.
pub(super) fn comment(c: &CommentRecord) -> pb::Comment {
    pb::Comment {
        name: format!("tickets/{}/comments/{}", c.ticket_id, c.id),
        body: c.body.clone(),
        public: c.public,
        author: c.author.clone(),
        author_kind: c.author_kind,
        channel: c.channel,
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
    }
}

/// A business schedule.
pub(super) fn schedule(s: &ScheduleRecord) -> pb::BusinessSchedule {
    pb::BusinessSchedule {
        name: format!("businessSchedules/{}", s.id),
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
        name: format!("slaPolicies/{}", p.id),
        display_name: p.display_name.clone(),
        position: p.position,
        priorities: p.priorities.clone(),
        requester_tiers: p.tiers.clone(),
        types: p.types.clone(),
        channels: p.channels.clone(),
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
    }
}

/// One row of GetTicketStats, its key rendered as clients see it.
pub(super) fn stats_row(dimension: Dimension, key: &str, row: &StatsRow) -> pb::TicketStatsRow {
    let number = key.parse::<i32>().unwrap_or_default();
    let key = match dimension {
        Dimension::None => String::new(),
        Dimension::Agent if !key.is_empty() => format!("agents/{key}"),
        Dimension::Group if !key.is_empty() => format!("groups/{key}"),
        Dimension::Agent | Dimension::Group => String::new(),
        Dimension::Channel => pb::Channel::try_from(number)
            .map(|e| e.as_str_name().to_owned())
            .unwrap_or_else(|_| key.to_owned()),
        Dimension::Priority => pb::TicketPriority::try_from(number)
            .map(|e| e.as_str_name().to_owned())
            .unwrap_or_else(|_| key.to_owned()),
        Dimension::Type => pb::TicketType::try_from(number)
            .map(|e| e.as_str_name().to_owned())
            .unwrap_or_else(|_| key.to_owned()),
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
        kind: l.kind,
        create_time: Some(timestamp(l.create_time)),
    }
}
