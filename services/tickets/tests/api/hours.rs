//! A group routes only in its business hours: outside them tickets wait in its queue; when they
//! begin (the sweep) or change to include now (UpdateBusinessSchedule), the queue goes out.

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(a_group_routes_only_in_its_business_hours);

/// Saturday 2026-12-05 12:00 in Shanghai (04:00 UTC), in micros.
const SATURDAY_NOON_SHANGHAI: i64 = 1_796_443_200_000_000;
/// Monday 2026-12-07 09:30 in Shanghai (01:30 UTC), in micros.
const MONDAY_MORNING_SHANGHAI: i64 = 1_796_607_000_000_000;

async fn schedule(admin: &mut Client, name: &str, days: &[i32]) -> pb::BusinessSchedule {
    admin
        .create_business_schedule(pb::CreateBusinessScheduleRequest {
            request_id: String::new(),
            business_schedule: Some(pb::BusinessSchedule {
                display_name: name.into(),
                time_zone: "Asia/Shanghai".into(),
                intervals: days
                    .iter()
                    .map(|&day_of_week| pb::WorkingInterval {
                        day_of_week,
                        start_minute: 9 * 60,
                        end_minute: 18 * 60,
                    })
                    .collect(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn keep_hours(
    admin: &mut Client,
    group: &pb::Group,
    schedule: &str,
) -> Result<pb::Group, tonic::Status> {
    admin
        .update_group(pb::UpdateGroupRequest {
            group: Some(pb::Group {
                name: group.name.clone(),
                business_schedule: schedule.into(),
                ..Default::default()
            }),
            update_mask: mask(&["business_schedule"]),
            etag: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn a_group_routes_only_in_its_business_hours(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    app.clock.set(SATURDAY_NOON_SHANGHAI);
    let customer = app
        .customer_record("Chen Jing", common::Tier::Standard)
        .await;
    let mut admin = app.admin();
    let weekdays = schedule(&mut admin, "Weekdays", &[1, 2, 3, 4, 5]).await;
    let desk = routed_group(&mut admin, "Front desk", pb::RoutingMethod::RoundRobin).await;
    agent(&mut admin, "a1", &[&desk]).await;

    // Refused, nothing written: an unknown schedule, a malformed name.
    assert_status(
        keep_hours(&mut admin, &desk, "businessSchedules/nope").await,
        Code::NotFound,
        &[],
    );
    assert_status(
        keep_hours(&mut admin, &desk, "schedules/x").await,
        Code::InvalidArgument,
        &["group.business_schedule"],
    );
    let desk = keep_hours(&mut admin, &desk, &weekdays.name).await.unwrap();
    assert_eq!(desk.business_schedule, weekdays.name);

    // Saturday: the ticket waits; the sweep hands nothing out.
    let weekend = create(&mut admin, in_group(&customer, "Parcel lost", &desk)).await;
    assert_eq!(weekend.assignee, "");
    assert_eq!(app.ops().await.route_in_hours(app.now()).await.unwrap(), 0);
    assert_eq!(get(&mut admin, &weekend.name).await.assignee, "");

    // Monday morning: the sweep hands the queue out, and new tickets go out at once.
    app.clock.set(MONDAY_MORNING_SHANGHAI);
    app.ops().await.route_in_hours(app.now()).await.unwrap();
    let weekend = get(&mut admin, &weekend.name).await;
    assert_eq!(weekend.assignee, "agents/a1");
    assert_eq!(
        routed_how(&mut admin, &weekend.name).await,
        "agents/a1 (routed ROUTING_METHOD_ROUND_ROBIN)"
    );
    let monday = create(&mut admin, in_group(&customer, "Wrong size", &desk)).await;
    assert_eq!(monday.assignee, "agents/a1");

    // Weekend hours: closed on a Monday; changing those hours to include today hands the queue
    // out at once.
    let weekends = schedule(&mut admin, "Weekends", &[6, 7]).await;
    keep_hours(&mut admin, &desk, &weekends.name).await.unwrap();
    let waiting = create(&mut admin, in_group(&customer, "Refund", &desk)).await;
    assert_eq!(waiting.assignee, "");
    admin
        .update_business_schedule(pb::UpdateBusinessScheduleRequest {
            business_schedule: Some(pb::BusinessSchedule {
                name: weekends.name.clone(),
                intervals: (1..=7)
                    .map(|day_of_week| pb::WorkingInterval {
                        day_of_week,
                        start_minute: 0,
                        end_minute: 1440,
                    })
                    .collect(),
                ..Default::default()
            }),
            update_mask: mask(&["intervals"]),
            etag: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(get(&mut admin, &waiting.name).await.assignee, "agents/a1");

    // A schedule a group keeps stays.
    let status = admin
        .delete_business_schedule(pb::DeleteBusinessScheduleRequest {
            name: weekends.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains(&desk.name),
        "{}",
        status.message()
    );
}
