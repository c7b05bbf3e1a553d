use chrono::{Datelike, Timelike};
use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    the_requesters_tier_and_priority_choose_the_policy,
    waiting_pauses_the_clock_and_priority_changes_recompute,
    the_sweeper_marks_breaches_once_and_auto_close_closes,
    business_schedules_and_policies_are_validated
);

const MINUTE: i64 = 60 * 1_000_000;

async fn policy(admin: &mut Client, policy: pb::SlaPolicy) -> pb::SlaPolicy {
    admin
        .create_sla_policy(pb::CreateSlaPolicyRequest {
            request_id: String::new(),
            sla_policy: Some(policy),
        })
        .await
        .expect("create policy")
        .into_inner()
}

fn sla(t: &pb::Ticket) -> pb::SlaState {
    t.sla.clone().unwrap()
}

async fn the_requesters_tier_and_priority_choose_the_policy(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let vip = app
        .customer_record("Very Important", common::Tier::Vip)
        .await;
    let standard = app.customer_record("Regular", common::Tier::Standard).await;
    let mut admin = app.admin();
    let vip_policy = policy(
        &mut admin,
        pb::SlaPolicy {
            display_name: "VIP".into(),
            position: 1,
            requester_tiers: vec![common::Tier::Vip as i32],
            first_response_minutes: 15,
            resolution_minutes: 240,
            ..Default::default()
        },
    )
    .await;
    let urgent_policy = policy(
        &mut admin,
        pb::SlaPolicy {
            display_name: "Urgent".into(),
            position: 2,
            priorities: vec![pb::TicketPriority::Urgent as i32],
            first_response_minutes: 30,
            ..Default::default()
        },
    )
    .await;
    let default_policy = policy(
        &mut admin,
        pb::SlaPolicy {
            display_name: "Everyone".into(),
            position: 100,
            first_response_minutes: 480,
            next_response_minutes: 240,
            resolution_minutes: 2880,
            ..Default::default()
        },
    )
    .await;
    let listed: Vec<String> = admin
        .list_sla_policies(pb::ListSlaPoliciesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .sla_policies
        .into_iter()
        .map(|p| p.display_name)
        .collect();
    assert_eq!(listed, vec!["VIP", "Urgent", "Everyone"]);

    let vip_ticket = create(&mut admin, new_ticket(&vip, "VIP issue")).await;
    let state = sla(&vip_ticket);
    assert_eq!(state.policy, vip_policy.name);
    let created = micros(vip_ticket.create_time.as_ref());
    assert_eq!(
        micros(state.first_response.unwrap().due_time.as_ref()) - created,
        15 * MINUTE
    );
    assert_eq!(
        micros(state.resolution.unwrap().due_time.as_ref()) - created,
        240 * MINUTE
    );
    assert!(
        state.next_response.unwrap().due_time.is_none(),
        "VIP policy has no next-response target"
    );

    let mut urgent = new_ticket(&standard, "Site down");
    urgent.priority = pb::TicketPriority::Urgent as i32;
    let urgent_ticket = create(&mut admin, urgent).await;
    assert_eq!(sla(&urgent_ticket).policy, urgent_policy.name);

    let normal_ticket = create(&mut admin, new_ticket(&standard, "Question")).await;
    assert_eq!(sla(&normal_ticket).policy, default_policy.name);
    // The first public agent reply meets the first-response target and records the time.
    comment(&mut admin, &normal_ticket.name, "Here you go", true)
        .await
        .unwrap();
    let replied = get(&mut admin, &normal_ticket.name).await;
    let first = sla(&replied).first_response.unwrap();
    assert!(first.achieve_time.is_some());
    assert!(first.due_time.is_none());
    assert!(!first.breached);
    // The customer answers: the next-response clock starts.
    comment(
        &mut app.customer(&standard),
        &normal_ticket.name,
        "Thanks, but",
        true,
    )
    .await
    .unwrap();
    let waiting = get(&mut admin, &normal_ticket.name).await;
    let next = sla(&waiting).next_response.unwrap();
    assert!(next.due_time.is_some());
    let filtered = admin
        .list_tickets(pb::ListTicketsRequest {
            order_by: "due_time".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tickets;
    assert_eq!(filtered[0].name, vip_ticket.name, "soonest due first");
}

async fn waiting_pauses_the_clock_and_priority_changes_recompute(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Pat", common::Tier::Standard).await;
    let mut admin = app.admin();
    policy(
        &mut admin,
        pb::SlaPolicy {
            display_name: "Urgent".into(),
            position: 1,
            priorities: vec![pb::TicketPriority::Urgent as i32],
            first_response_minutes: 10,
            resolution_minutes: 60,
            ..Default::default()
        },
    )
    .await;
    let normal = policy(
        &mut admin,
        pb::SlaPolicy {
            display_name: "Normal".into(),
            position: 2,
            first_response_minutes: 600,
            resolution_minutes: 6000,
            ..Default::default()
        },
    )
    .await;
    let ticket = create(&mut admin, new_ticket(&customer, "Slow")).await;
    assert_eq!(sla(&ticket).policy, normal.name);
    let created = micros(ticket.create_time.as_ref());
    let urgent = admin
        .update_ticket(pb::UpdateTicketRequest {
            request_id: String::new(),
            ticket: Some(pb::Ticket {
                name: ticket.name.clone(),
                priority: pb::TicketPriority::Urgent as i32,
                ..Default::default()
            }),
            update_mask: mask(&["priority"]),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let state = sla(&urgent);
    assert_eq!(
        micros(state.first_response.unwrap().due_time.as_ref()) - created,
        10 * MINUTE,
        "a priority change recomputes from creation"
    );
    let on_hold = admin
        .set_ticket_on_hold(pb::SetTicketOnHoldRequest {
            request_id: String::new(),
            name: ticket.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let paused = sla(&on_hold);
    assert!(paused.paused);
    assert!(
        paused.resolution.unwrap().due_time.is_none(),
        "no due time while paused"
    );
    let held_at = micros(on_hold.update_time.as_ref());
    app.clock.advance(std::time::Duration::from_secs(3600));
    let resumed = admin
        .reopen_ticket(pb::ReopenTicketRequest {
            request_id: String::new(),
            name: ticket.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let resumed_at = micros(resumed.update_time.as_ref());
    let due = micros(sla(&resumed).resolution.unwrap().due_time.as_ref());
    assert_eq!(
        due - created,
        60 * MINUTE + (resumed_at - held_at),
        "the paused time is added to the due time"
    );
    assert!(!sla(&resumed).paused);
}

async fn the_sweeper_marks_breaches_once_and_auto_close_closes(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Quinn", common::Tier::Standard).await;
    let mut admin = app.admin();
    let team = group(&mut admin, "Team").await;
    agent(&mut admin, "agent-9", &[&team]).await;
    policy(
        &mut admin,
        pb::SlaPolicy {
            display_name: "Tight".into(),
            first_response_minutes: 5,
            resolution_minutes: 60,
            ..Default::default()
        },
    )
    .await;
    let late = create(&mut admin, new_ticket(&customer, "Forgotten")).await;
    let ops = app.ops().await;
    // Nothing is due yet.
    assert_eq!(ops.sweep_breaches(app.now()).await.unwrap(), 0);
    // Ten minutes later the first response is late; two hours later the resolution too.
    let in_ten_minutes = app.now() + 10 * MINUTE;
    assert_eq!(ops.sweep_breaches(in_ten_minutes).await.unwrap(), 1);
    assert_eq!(ops.sweep_breaches(in_ten_minutes).await.unwrap(), 0, "once");
    let breached = get(&mut admin, &late.name).await;
    assert!(sla(&breached).first_response.unwrap().breached);
    assert!(!sla(&breached).resolution.unwrap().breached);
    assert_eq!(
        ops.sweep_breaches(app.now() + 120 * MINUTE).await.unwrap(),
        1
    );
    let listed = admin
        .list_tickets(pb::ListTicketsRequest {
            sla_breached: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tickets;
    assert_eq!(listed.len(), 1);
    let audits = admin
        .list_ticket_audits(pb::ListTicketAuditsRequest {
            parent: late.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .audits;
    let sweeps: Vec<_> = audits.iter().filter(|a| a.via == "sla-sweeper").collect();
    assert_eq!(sweeps.len(), 2);
    assert!(
        sweeps[0]
            .changes
            .iter()
            .any(|c| c.field == "sla.first_response.breached" && c.new_value == "true")
    );

    // Solved tickets close by themselves once old enough.
    assign(&mut admin, &late.name, "agents/agent-9", &team.name)
        .await
        .unwrap();
    admin
        .solve_ticket(pb::SolveTicketRequest {
            request_id: String::new(),
            name: late.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(
        ops.auto_close(app.now(), app.now() - 60 * MINUTE)
            .await
            .unwrap(),
        0
    );
    assert_eq!(ops.auto_close(app.now(), app.now()).await.unwrap(), 1);
    let closed = get(&mut admin, &late.name).await;
    assert_eq!(status(&closed), pb::TicketStatus::Closed);
    let last_audit = admin
        .list_ticket_audits(pb::ListTicketAuditsRequest {
            parent: late.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .audits
        .pop()
        .unwrap();
    assert_eq!(
        (last_audit.via.as_str(), last_audit.actor.as_str()),
        ("auto-close", "tickets")
    );
}

async fn business_schedules_and_policies_are_validated(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Ray", common::Tier::Standard).await;
    let mut admin = app.admin();
    let interval = |day, start, end| pb::WorkingInterval {
        day_of_week: day,
        start_minute: start,
        end_minute: end,
    };
    let bad = pb::BusinessSchedule {
        display_name: "Bad".into(),
        time_zone: "Mars/Olympus".into(),
        intervals: vec![
            interval(8, 540, 1020),
            interval(1, 600, 500),
            interval(2, -1, 1441),
        ],
        ..Default::default()
    };
    assert_status(
        admin
            .create_business_schedule(pb::CreateBusinessScheduleRequest {
                request_id: String::new(),
                business_schedule: Some(bad),
            })
            .await,
        Code::InvalidArgument,
        &[
            "business_schedule.intervals[0].day_of_week",
            "business_schedule.intervals[2].start_minute",
            "business_schedule.intervals[2].end_minute",
        ],
    );
    let overlapping = pb::BusinessSchedule {
        display_name: "Overlap".into(),
        time_zone: "Asia/Shanghai".into(),
        intervals: vec![interval(1, 540, 720), interval(1, 700, 1080)],
        ..Default::default()
    };
    assert_status(
        admin
            .create_business_schedule(pb::CreateBusinessScheduleRequest {
                request_id: String::new(),
                business_schedule: Some(overlapping),
            })
            .await,
        Code::InvalidArgument,
        &["business_schedule"],
    );
    let bad_holiday = pb::BusinessSchedule {
        display_name: "Holiday".into(),
        time_zone: "Asia/Shanghai".into(),
        intervals: vec![interval(1, 540, 1080)],
        holidays: vec!["2026-13-01".into()],
        ..Default::default()
    };
    assert_status(
        admin
            .create_business_schedule(pb::CreateBusinessScheduleRequest {
                request_id: String::new(),
                business_schedule: Some(bad_holiday),
            })
            .await,
        Code::InvalidArgument,
        &["business_schedule"],
    );
    // A good one: Mon–Fri 09:00–18:00 in Shanghai, and a policy counting in it.
    let schedule = admin
        .create_business_schedule(pb::CreateBusinessScheduleRequest {
            request_id: String::new(),
            business_schedule: Some(pb::BusinessSchedule {
                display_name: "Shanghai office".into(),
                time_zone: "Asia/Shanghai".into(),
                intervals: (1..=5).map(|d| interval(d, 540, 1080)).collect(),
                holidays: vec!["2026-10-01".into()],
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_status(
        admin
            .create_sla_policy(pb::CreateSlaPolicyRequest {
                request_id: String::new(),
                sla_policy: Some(pb::SlaPolicy {
                    display_name: "No targets".into(),
                    priorities: vec![99],
                    requester_tiers: vec![99],
                    resolution_minutes: -5,
                    ..Default::default()
                }),
            })
            .await,
        Code::InvalidArgument,
        &[
            "sla_policy.priorities[0]",
            "sla_policy.requester_tiers[0]",
            "sla_policy.resolution_minutes",
        ],
    );
    assert_status(
        admin
            .create_sla_policy(pb::CreateSlaPolicyRequest {
                request_id: String::new(),
                sla_policy: Some(pb::SlaPolicy {
                    display_name: "Unknown schedule".into(),
                    first_response_minutes: 60,
                    business_schedule: "businessSchedules/nope".into(),
                    ..Default::default()
                }),
            })
            .await,
        Code::NotFound,
        &[],
    );
    let office = policy(
        &mut admin,
        pb::SlaPolicy {
            display_name: "Office hours".into(),
            first_response_minutes: 9 * 60,
            business_schedule: schedule.name.clone(),
            ..Default::default()
        },
    )
    .await;
    let ticket = create(&mut admin, new_ticket(&customer, "Counted in office hours")).await;
    assert_eq!(sla(&ticket).policy, office.name);
    let created = micros(ticket.create_time.as_ref());
    let due = micros(sla(&ticket).first_response.unwrap().due_time.as_ref());
    // An independent, brute-force count: step minute by minute in Shanghai time.
    let zone = chrono_tz::Asia::Shanghai;
    let holiday = chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    let mut working_minutes = 0;
    let mut at = created;
    while at < due {
        let local = chrono::DateTime::from_timestamp_micros(at)
            .unwrap()
            .with_timezone(&zone);
        let minute = local.hour() * 60 + local.minute();
        let weekday = local.weekday().number_from_monday();
        if weekday <= 5 && (540..1080).contains(&minute) && local.date_naive() != holiday {
            working_minutes += 1;
        }
        at += MINUTE;
    }
    assert!(
        (539..=541).contains(&working_minutes),
        "9 working hours between creation and due, counted {working_minutes} minutes"
    );
    let due_local = chrono::DateTime::from_timestamp_micros(due)
        .unwrap()
        .with_timezone(&zone);
    let due_minute = due_local.hour() * 60 + due_local.minute();
    assert!(
        (540..=1080).contains(&due_minute),
        "due inside working hours: {due_local}"
    );
}
