//! SLA escalation: a policy's levels fire once per ticket per target at their share of it —
//! a warning, then at and after the breach raising priority, moving and reassigning the
//! ticket — each shown on the ticket, audited and emitted as an event.

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    levels_fire_once_each_raise_move_and_reassign,
    bad_escalation_levels_are_refused_and_write_nothing
);

const MINUTE: i64 = 60 * 1_000_000;

fn level(percent: i32) -> pb::EscalationLevel {
    pb::EscalationLevel {
        percent,
        ..Default::default()
    }
}

async fn create_policy(
    admin: &mut Client,
    policy: pb::SlaPolicy,
) -> Result<pb::SlaPolicy, tonic::Status> {
    admin
        .create_sla_policy(pb::CreateSlaPolicyRequest {
            request_id: String::new(),
            sla_policy: Some(policy),
        })
        .await
        .map(tonic::Response::into_inner)
}

fn first_response(t: &pb::Ticket) -> pb::SlaTarget {
    t.sla.clone().unwrap().first_response.unwrap()
}

/// The SLA_ESCALATED events of the stream, as (ticket, target, percent, agents to notify), once
/// `count` came.
async fn escalations(app: &App, count: usize) -> Vec<(String, String, i32, Vec<String>)> {
    events_of(app, pb::EventType::SlaEscalated, count)
        .await
        .into_iter()
        .map(|e| {
            (
                e.resource,
                e.sla_target,
                e.escalation_percent,
                e.notify_agents,
            )
        })
        .collect()
}

async fn levels_fire_once_each_raise_move_and_reassign(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Lin", common::Tier::Standard).await;
    let mut admin = app.admin();
    let front = group(&mut admin, "Front line").await;
    let escalations_group = group(&mut admin, "Escalations").await;
    agent(&mut admin, "agent-1", &[&front]).await;
    agent(&mut admin, "lead-1", &[&escalations_group]).await;
    agent(&mut admin, "supervisor", &[]).await;
    // Escalations' lead need not be a member; an unknown or inactive one is refused.
    let set_lead = |lead: &str| pb::UpdateGroupRequest {
        group: Some(pb::Group {
            name: escalations_group.name.clone(),
            lead: lead.into(),
            ..Default::default()
        }),
        update_mask: mask(&["lead"]),
        etag: String::new(),
    };
    assert_status(
        admin.update_group(set_lead("agents/nobody")).await,
        Code::InvalidArgument,
        &["group.lead"],
    );
    let led = admin
        .update_group(set_lead("agents/supervisor"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(led.lead, "agents/supervisor");
    let policy = create_policy(
        &mut admin,
        pb::SlaPolicy {
            display_name: "Escalating".into(),
            first_response_minutes: 10,
            resolution_minutes: 600,
            // Given out of order: stored ascending.
            escalation_levels: vec![
                pb::EscalationLevel {
                    percent: 150,
                    raise_priority: pb::TicketPriority::Urgent as i32,
                    group: escalations_group.name.clone(),
                    assignee: "agents/lead-1".into(),
                    notify_lead: true,
                },
                level(50),
                pb::EscalationLevel {
                    percent: 100,
                    raise_priority: pb::TicketPriority::High as i32,
                    ..Default::default()
                },
            ],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let percents: Vec<i32> = policy.escalation_levels.iter().map(|l| l.percent).collect();
    assert_eq!(percents, [50, 100, 150]);
    let ticket = create(
        &mut admin,
        in_group(&customer, "Where is my refund", &front),
    )
    .await;
    assign(&mut admin, &ticket.name, "agents/agent-1", &front.name)
        .await
        .unwrap();
    let ops = app.ops().await;
    let start = app.now();

    // Four minutes in, nothing; at five (50% of the first response) the warning, alone.
    assert_eq!(ops.sweep_breaches(start + 4 * MINUTE).await.unwrap(), 0);
    assert_eq!(ops.sweep_breaches(start + 5 * MINUTE).await.unwrap(), 1);
    assert_eq!(
        ops.sweep_breaches(start + 5 * MINUTE).await.unwrap(),
        0,
        "once"
    );
    let warned = get(&mut admin, &ticket.name).await;
    assert_eq!(first_response(&warned).escalated_percents, [50]);
    assert!(!first_response(&warned).breached);
    assert_eq!(warned.priority, pb::TicketPriority::Normal as i32);
    assert_eq!(warned.assignee, "agents/agent-1");

    // At the breach: HIGH, held against the matrix.
    assert_eq!(ops.sweep_breaches(start + 10 * MINUTE).await.unwrap(), 1);
    let breached = get(&mut admin, &ticket.name).await;
    assert!(first_response(&breached).breached);
    assert_eq!(first_response(&breached).escalated_percents, [50, 100]);
    assert_eq!(breached.priority, pb::TicketPriority::High as i32);
    assert_eq!(
        breached.priority_source,
        pb::PrioritySource::Escalation as i32
    );

    // Half a target past it: URGENT, moved to the escalations group and its lead.
    assert_eq!(ops.sweep_breaches(start + 15 * MINUTE).await.unwrap(), 1);
    assert_eq!(ops.sweep_breaches(start + 20 * MINUTE).await.unwrap(), 0);
    let escalated = get(&mut admin, &ticket.name).await;
    assert_eq!(
        first_response(&escalated).escalated_percents,
        [50, 100, 150]
    );
    assert_eq!(escalated.priority, pb::TicketPriority::Urgent as i32);
    assert_eq!(escalated.group, escalations_group.name);
    assert_eq!(escalated.assignee, "agents/lead-1");
    assert_eq!(
        escalated
            .sla
            .clone()
            .unwrap()
            .resolution
            .unwrap()
            .escalated_percents,
        Vec::<i32>::new(),
        "the resolution target has its own levels, not yet due"
    );

    // Audited, by the sweeper.
    assert_eq!(
        audited(&mut admin, &ticket.name, "sla.first_response.escalated").await,
        [
            ("sla-sweeper".to_owned(), "50%".to_owned()),
            ("sla-sweeper".to_owned(), "50%,100%".to_owned()),
            ("sla-sweeper".to_owned(), "50%,100%,150%".to_owned()),
        ]
    );
    let priorities = audited(&mut admin, &ticket.name, "priority").await;
    assert_eq!(
        priorities.last().unwrap(),
        &(
            "sla-sweeper".to_owned(),
            "TICKET_PRIORITY_URGENT".to_owned()
        )
    );
    assert_eq!(
        audited(&mut admin, &ticket.name, "assignee")
            .await
            .last()
            .unwrap(),
        &("sla-sweeper".to_owned(), "agents/lead-1".to_owned())
    );

    // And emitted: one event per level; the last tells the lead of the group it moved to.
    let target = "first_response".to_owned();
    assert_eq!(
        escalations(&app, 3).await,
        [
            (ticket.name.clone(), target.clone(), 50, vec![]),
            (ticket.name.clone(), target.clone(), 100, vec![]),
            (
                ticket.name.clone(),
                target,
                150,
                vec!["agents/supervisor".to_owned()]
            ),
        ]
    );

    // A reply meets the first response: no level of it is left; the resolution's still run.
    comment(&mut admin, &ticket.name, "On it", true)
        .await
        .unwrap();
    assert_eq!(ops.sweep_breaches(start + 299 * MINUTE).await.unwrap(), 0);
    assert_eq!(ops.sweep_breaches(start + 300 * MINUTE).await.unwrap(), 1);
    let later = get(&mut admin, &ticket.name).await;
    assert_eq!(
        later.sla.unwrap().resolution.unwrap().escalated_percents,
        [50]
    );
}

async fn bad_escalation_levels_are_refused_and_write_nothing(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let front = group(&mut admin, "Front line").await;
    agent(&mut admin, "agent-1", &[&front]).await;
    let base = pb::SlaPolicy {
        display_name: "Bad".into(),
        first_response_minutes: 10,
        ..Default::default()
    };
    let status = assert_status(
        create_policy(
            &mut admin,
            pb::SlaPolicy {
                escalation_levels: vec![
                    level(0),
                    level(75),
                    level(75),
                    pb::EscalationLevel {
                        percent: 120,
                        raise_priority: 42,
                        group: "teams/x".into(),
                        assignee: "agent-1".into(),
                        notify_lead: false,
                    },
                ],
                ..base.clone()
            },
        )
        .await,
        Code::InvalidArgument,
        &[
            "sla_policy.escalation_levels[0].percent",
            "sla_policy.escalation_levels[2].percent",
            "sla_policy.escalation_levels[3].raise_priority",
            "sla_policy.escalation_levels[3].group",
            "sla_policy.escalation_levels[3].assignee",
        ],
    );
    assert!(!status.message().is_empty());
    assert_status(
        create_policy(
            &mut admin,
            pb::SlaPolicy {
                escalation_levels: (1..=11).map(level).collect(),
                ..base.clone()
            },
        )
        .await,
        Code::InvalidArgument,
        &["sla_policy.escalation_levels"],
    );
    assert_status(
        create_policy(
            &mut admin,
            pb::SlaPolicy {
                escalation_levels: vec![pb::EscalationLevel {
                    percent: 100,
                    group: "groups/none".into(),
                    ..Default::default()
                }],
                ..base.clone()
            },
        )
        .await,
        Code::NotFound,
        &[],
    );
    // An agent who is not in the level's group could never take the ticket there.
    let other = group(&mut admin, "Other").await;
    assert_status(
        create_policy(
            &mut admin,
            pb::SlaPolicy {
                escalation_levels: vec![pb::EscalationLevel {
                    percent: 100,
                    group: other.name.clone(),
                    assignee: "agents/agent-1".into(),
                    ..Default::default()
                }],
                ..base
            },
        )
        .await,
        Code::FailedPrecondition,
        &[],
    );
    let policies = admin
        .list_sla_policies(pb::ListSlaPoliciesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .sla_policies;
    assert!(policies.is_empty(), "nothing written: {policies:?}");
}
