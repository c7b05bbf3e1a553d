//! Business schedules change and go: UpdateBusinessSchedule (masked, etags, checked whole as on
//! create; clocks count by the new hours from then on) and DeleteBusinessSchedule (refused while
//! any policy counts by the schedule).

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(a_schedule_changes_by_mask_and_goes_once_no_policy_counts_by_it);

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
    let hourly = create_policy(
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
