//! The team's configuration changes and goes: UpdateBusinessSchedule and DeleteBusinessSchedule,
//! DeleteGroup and DeleteAgent (soft: tickets, audits and statistics keep naming them).

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    a_schedule_changes_by_mask_and_goes_once_no_policy_counts_by_it,
    a_group_is_deleted_only_once_nothing_needs_it,
    a_deleted_agent_leaves_the_team_and_their_tickets_are_routed_again
);

/// Every day of the week, `start`–`end` minutes.
fn every_day(start: i32, end: i32) -> Vec<pb::WorkingInterval> {
    (1..=7)
        .map(|day_of_week| pb::WorkingInterval {
            day_of_week,
            start_minute: start,
            end_minute: end,
        })
        .collect()
}

async fn update_schedule(
    admin: &mut Client,
    schedule: pb::BusinessSchedule,
    paths: &[&str],
    etag: &str,
) -> Result<pb::BusinessSchedule, tonic::Status> {
    admin
        .update_business_schedule(pb::UpdateBusinessScheduleRequest {
            business_schedule: Some(schedule),
            update_mask: mask(paths),
            etag: etag.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn delete_schedule(admin: &mut Client, name: &str) -> Result<(), tonic::Status> {
    admin
        .delete_business_schedule(pb::DeleteBusinessScheduleRequest {
            name: name.into(),
            etag: String::new(),
        })
        .await
        .map(|_| ())
}

async fn policy(admin: &mut Client, policy: pb::SlaPolicy) -> pb::SlaPolicy {
    admin
        .create_sla_policy(pb::CreateSlaPolicyRequest {
            request_id: String::new(),
            sla_policy: Some(policy),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn delete_policy(admin: &mut Client, name: &str) {
    admin
        .delete_sla_policy(pb::DeleteSlaPolicyRequest {
            name: name.into(),
            etag: String::new(),
        })
        .await
        .unwrap();
}

/// Minutes from a ticket's creation to its first-response due time.
fn first_response_due_minutes(t: &pb::Ticket) -> i64 {
    let sla = t.sla.clone().unwrap();
    let due = micros(sla.first_response.unwrap().due_time.as_ref());
    (due - micros(t.create_time.as_ref())) / (60 * 1_000_000)
}

async fn a_schedule_changes_by_mask_and_goes_once_no_policy_counts_by_it(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Lin", common::Tier::Standard).await;
    let mut admin = app.admin();
    let created = admin
        .create_business_schedule(pb::CreateBusinessScheduleRequest {
            request_id: String::new(),
            business_schedule: Some(pb::BusinessSchedule {
                display_name: "Around the clock".into(),
                time_zone: "Asia/Shanghai".into(),
                intervals: every_day(0, 1440),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!created.etag.is_empty());
    let hourly = policy(
        &mut admin,
        pb::SlaPolicy {
            display_name: "One working hour".into(),
            first_response_minutes: 60,
            business_schedule: created.name.clone(),
            ..Default::default()
        },
    )
    .await;
    let before = create(&mut admin, new_ticket(&customer, "Printer jammed")).await;
    assert_eq!(first_response_due_minutes(&before), 60);

    // Refused, nothing written: a stale etag, a path not in the mask's list, a bad interval, a
    // zone that does not exist, an unknown schedule.
    let one_minute_a_day = pb::BusinessSchedule {
        name: created.name.clone(),
        display_name: "One minute a day".into(),
        intervals: every_day(0, 1),
        time_zone: "Mars/Olympus".into(),
        ..Default::default()
    };
    let stale = format!("{}x", created.etag);
    assert_status(
        update_schedule(&mut admin, one_minute_a_day.clone(), &["intervals"], &stale).await,
        Code::Aborted,
        &[],
    );
    assert_status(
        update_schedule(&mut admin, one_minute_a_day.clone(), &["create_time"], "").await,
        Code::InvalidArgument,
        &["update_mask"],
    );
    assert_status(
        update_schedule(
            &mut admin,
            pb::BusinessSchedule {
                intervals: vec![pb::WorkingInterval {
                    day_of_week: 9,
                    start_minute: 0,
                    end_minute: 60,
                }],
                ..one_minute_a_day.clone()
            },
            &["intervals"],
            "",
        )
        .await,
        Code::InvalidArgument,
        &["business_schedule.intervals[0].day_of_week"],
    );
    assert_status(
        update_schedule(&mut admin, one_minute_a_day.clone(), &["time_zone"], "").await,
        Code::InvalidArgument,
        &["business_schedule"],
    );
    assert_status(
        update_schedule(
            &mut admin,
            pb::BusinessSchedule {
                name: "businessSchedules/nope".into(),
                ..one_minute_a_day.clone()
            },
            &["display_name"],
            "",
        )
        .await,
        Code::NotFound,
        &[],
    );
    let listed = admin
        .list_business_schedules(pb::ListBusinessSchedulesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .business_schedules;
    assert_eq!(listed, vec![created.clone()], "nothing written");

    // Only the named fields change; clocks count by the new hours from then on, due times
    // already set stay.
    let updated = update_schedule(
        &mut admin,
        one_minute_a_day.clone(),
        &["display_name", "intervals"],
        &created.etag,
    )
    .await
    .unwrap();
    assert_eq!(updated.display_name, "One minute a day");
    assert_eq!(updated.intervals, every_day(0, 1));
    assert_eq!(updated.time_zone, "Asia/Shanghai", "not in the mask");
    assert_ne!(updated.etag, created.etag);
    let after = create(&mut admin, new_ticket(&customer, "Printer jammed again")).await;
    assert!(
        first_response_due_minutes(&after) > 50 * 24 * 60,
        "60 working minutes at one a day take about two months"
    );
    assert_eq!(
        first_response_due_minutes(&get(&mut admin, &before.name).await),
        60
    );

    // A policy counts by it, even once archived (its ticket still does): it stays.
    assert_status(
        delete_schedule(&mut admin, &created.name).await,
        Code::FailedPrecondition,
        &[],
    );
    delete_policy(&mut admin, &hourly.name).await;
    let status = delete_schedule(&mut admin, &created.name)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains(&hourly.name),
        "{}",
        status.message()
    );

    // A schedule nobody counts by goes; a stale etag first changes nothing.
    let spare = admin
        .create_business_schedule(pb::CreateBusinessScheduleRequest {
            request_id: String::new(),
            business_schedule: Some(pb::BusinessSchedule {
                display_name: "Weekends".into(),
                time_zone: "Europe/Berlin".into(),
                intervals: vec![pb::WorkingInterval {
                    day_of_week: 6,
                    start_minute: 600,
                    end_minute: 900,
                }],
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_status(
        admin
            .delete_business_schedule(pb::DeleteBusinessScheduleRequest {
                name: spare.name.clone(),
                etag: stale,
            })
            .await,
        Code::Aborted,
        &[],
    );
    delete_schedule(&mut admin, &spare.name).await.unwrap();
    assert_status(
        delete_schedule(&mut admin, &spare.name).await,
        Code::NotFound,
        &[],
    );
    assert_status(
        admin
            .create_sla_policy(pb::CreateSlaPolicyRequest {
                request_id: String::new(),
                sla_policy: Some(pb::SlaPolicy {
                    display_name: "On weekends".into(),
                    first_response_minutes: 60,
                    business_schedule: spare.name.clone(),
                    ..Default::default()
                }),
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        app.agent("a1")
            .delete_business_schedule(pb::DeleteBusinessScheduleRequest {
                name: created.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::PermissionDenied,
        &[],
    );
}

async fn delete_group(admin: &mut Client, name: &str) -> Result<pb::Group, tonic::Status> {
    admin
        .delete_group(pb::DeleteGroupRequest {
            name: name.into(),
            etag: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn groups_listed(admin: &mut Client, show_deleted: bool) -> Vec<String> {
    admin
        .list_groups(pb::ListGroupsRequest {
            show_deleted,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .groups
        .into_iter()
        .map(|g| g.display_name)
        .collect()
}

async fn solve(client: &mut Client, ticket: &str) {
    client
        .solve_ticket(pb::SolveTicketRequest {
            name: ticket.into(),
            ..Default::default()
        })
        .await
        .unwrap();
}

async fn a_group_is_deleted_only_once_nothing_needs_it(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app
        .customer_record("Wang Fang", common::Tier::Standard)
        .await;
    let mut admin = app.admin();
    let billing = group(&mut admin, "Billing").await;
    let _support = group(&mut admin, "Support").await;
    agent(&mut admin, "a1", &[&billing]).await;
    let ticket = create(&mut admin, in_group(&customer, "Refund", &billing)).await;
    assign(&mut admin, &ticket.name, "agents/a1", "")
        .await
        .unwrap();

    // An unsolved ticket holds it; then a policy names it (an escalation level's group).
    let status = delete_group(&mut admin, &billing.name).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains(&ticket.name),
        "{}",
        status.message()
    );
    solve(&mut admin, &ticket.name).await;
    let escalating = policy(
        &mut admin,
        pb::SlaPolicy {
            display_name: "Escalate to billing".into(),
            first_response_minutes: 60,
            escalation_levels: vec![pb::EscalationLevel {
                percent: 100,
                group: billing.name.clone(),
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .await;
    let status = delete_group(&mut admin, &billing.name).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains(&escalating.name),
        "{}",
        status.message()
    );
    assert_status(
        admin
            .delete_group(pb::DeleteGroupRequest {
                name: billing.name.clone(),
                etag: format!("{}x", billing.etag),
            })
            .await,
        Code::Aborted,
        &[],
    );
    assert_eq!(
        groups_listed(&mut admin, false).await,
        ["Billing", "Support"]
    );
    delete_policy(&mut admin, &escalating.name).await;

    let deleted = delete_group(&mut admin, &billing.name).await.unwrap();
    assert!(deleted.delete_time.is_some());
    assert_eq!(deleted.display_name, "Billing");
    let again = delete_group(&mut admin, &billing.name).await.unwrap();
    assert_eq!(again, deleted, "a retry answers the same");
    assert_eq!(groups_listed(&mut admin, false).await, ["Support"]);
    assert_eq!(
        groups_listed(&mut admin, true).await,
        ["Billing", "Support"]
    );
    let member = admin
        .get_agent(pb::GetAgentRequest {
            name: "agents/a1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(member.groups.is_empty(), "its members left it");
    assert_eq!(
        get(&mut admin, &ticket.name).await.group,
        billing.name,
        "its solved ticket keeps naming it"
    );

    // It takes nothing new.
    assert_status(
        admin
            .create_ticket(pb::CreateTicketRequest {
                ticket: Some(in_group(&customer, "Another refund", &billing)),
                request_id: String::new(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    let other = create(&mut admin, new_ticket(&customer, "Invoice")).await;
    assert_status(
        assign(&mut admin, &other.name, "", &billing.name).await,
        Code::NotFound,
        &[],
    );
    assert_status(
        admin
            .add_group_member(pb::AddGroupMemberRequest {
                group: billing.name.clone(),
                agent: "agents/a1".into(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        admin
            .update_group(pb::UpdateGroupRequest {
                group: Some(pb::Group {
                    name: billing.name.clone(),
                    description: "back".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["description"]),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
    assert_status(
        admin
            .create_sla_policy(pb::CreateSlaPolicyRequest {
                request_id: String::new(),
                sla_policy: Some(pb::SlaPolicy {
                    display_name: "For billing".into(),
                    first_response_minutes: 60,
                    groups: vec![billing.name.clone()],
                    ..Default::default()
                }),
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        delete_group(&mut admin, "groups/nope").await,
        Code::NotFound,
        &[],
    );
    assert_status(
        delete_group(&mut app.agent("a1"), &billing.name).await,
        Code::PermissionDenied,
        &[],
    );
}

async fn delete_agent(admin: &mut Client, id: &str) -> Result<pb::Agent, tonic::Status> {
    admin
        .delete_agent(pb::DeleteAgentRequest {
            name: format!("agents/{id}"),
            etag: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn a_deleted_agent_leaves_the_team_and_their_tickets_are_routed_again(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Lin", common::Tier::Standard).await;
    let mut admin = app.admin();
    let desk = group(&mut admin, "Front desk").await;
    agent(&mut admin, "a1", &[&desk]).await;
    agent(&mut admin, "a2", &[&desk]).await;
    let desk = admin
        .update_group(pb::UpdateGroupRequest {
            group: Some(pb::Group {
                name: desk.name.clone(),
                lead: "agents/a1".into(),
                ..Default::default()
            }),
            update_mask: mask(&["lead"]),
            etag: desk.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let open = create(&mut admin, in_group(&customer, "Cannot log in", &desk)).await;
    assign(&mut admin, &open.name, "agents/a1", "")
        .await
        .unwrap();
    let waiting = create(&mut admin, in_group(&customer, "Need a receipt", &desk)).await;
    assign(&mut admin, &waiting.name, "agents/a1", "")
        .await
        .unwrap();
    admin
        .set_ticket_pending(pb::SetTicketPendingRequest {
            name: waiting.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let done = create(&mut admin, in_group(&customer, "Thanks", &desk)).await;
    assign(&mut admin, &done.name, "agents/a1", "")
        .await
        .unwrap();
    solve(&mut admin, &done.name).await;
    // The desk starts routing only now, so the tickets above were assigned by hand.
    admin
        .update_group(pb::UpdateGroupRequest {
            group: Some(pb::Group {
                name: desk.name.clone(),
                routing: pb::RoutingMethod::RoundRobin as i32,
                ..Default::default()
            }),
            update_mask: mask(&["routing"]),
            etag: desk.etag.clone(),
        })
        .await
        .unwrap();

    // An escalation level reassigning to them holds them.
    let escalating = policy(
        &mut admin,
        pb::SlaPolicy {
            display_name: "Escalate to a1".into(),
            first_response_minutes: 60,
            escalation_levels: vec![pb::EscalationLevel {
                percent: 100,
                assignee: "agents/a1".into(),
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .await;
    let status = delete_agent(&mut admin, "a1").await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains(&escalating.name),
        "{}",
        status.message()
    );
    assert_eq!(get(&mut admin, &open.name).await.assignee, "agents/a1");
    delete_policy(&mut admin, &escalating.name).await;

    let deleted = delete_agent(&mut admin, "a1").await.unwrap();
    assert!(deleted.delete_time.is_some());
    assert!(!deleted.active);
    assert!(deleted.groups.is_empty());
    assert_eq!(
        delete_agent(&mut admin, "a1").await.unwrap(),
        deleted,
        "a retry answers the same"
    );

    // Their open ticket is routed to the other member; the pending one waits unassigned; the
    // solved one keeps them.
    let open = get(&mut admin, &open.name).await;
    assert_eq!(open.assignee, "agents/a2");
    let by: Vec<String> = audited(&mut admin, &open.name, "assignee")
        .await
        .into_iter()
        .map(|(via, _)| via)
        .collect();
    assert_eq!(by, ["AssignTicket", "DeleteAgent", "Routing"]);
    assert_eq!(get(&mut admin, &waiting.name).await.assignee, "");
    assert_eq!(get(&mut admin, &done.name).await.assignee, "agents/a1");
    let assigned = events_of(&app, pb::EventType::TicketAssigned, 6).await;
    let unassigned: Vec<&str> = assigned[3..5]
        .iter()
        .map(|e| e.resource.as_str())
        .collect();
    assert_eq!(unassigned, [open.name.as_str(), waiting.name.as_str()]);
    let desk = admin
        .list_groups(pb::ListGroupsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .groups
        .remove(0);
    assert_eq!(desk.lead, "", "they lead no group");

    // Still known by name, listed only with show_deleted, refused as an assignee and on every
    // ticket call made as them.
    let listed = |show_deleted| pb::ListAgentsRequest {
        show_deleted,
        ..Default::default()
    };
    let live = admin.list_agents(listed(false)).await.unwrap().into_inner();
    assert_eq!(live.agents.len(), 1);
    let all = admin.list_agents(listed(true)).await.unwrap().into_inner();
    assert_eq!(all.agents.len(), 2);
    let got = admin
        .get_agent(pb::GetAgentRequest {
            name: "agents/a1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, deleted);
    assert_status(
        assign(&mut admin, &waiting.name, "agents/a1", "").await,
        Code::FailedPrecondition,
        &[],
    );
    assert_status(
        app.agent("a1")
            .get_ticket(pb::GetTicketRequest {
                name: done.name.clone(),
            })
            .await,
        Code::PermissionDenied,
        &[],
    );
    assert_status(
        availability(&mut app.agent("a1"), "a1", pb::AgentAvailability::Online).await,
        Code::FailedPrecondition,
        &[],
    );
    assert_status(
        admin
            .update_agent(pb::UpdateAgentRequest {
                agent: Some(pb::Agent {
                    name: "agents/a1".into(),
                    active: true,
                    ..Default::default()
                }),
                update_mask: mask(&["active"]),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
    assert_status(
        delete_agent(&mut admin, "nobody").await,
        Code::NotFound,
        &[],
    );
    assert_status(
        delete_agent(&mut app.agent("a2"), "a2").await,
        Code::PermissionDenied,
        &[],
    );
}
