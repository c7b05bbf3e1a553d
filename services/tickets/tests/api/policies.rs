//! SLA policies change and go: UpdateSlaPolicy (masked, etags, validated as on create) and
//! DeleteSlaPolicy (deleted when no ticket holds the policy, archived when one does).

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    a_policy_is_updated_by_mask_and_checked_whole,
    a_policy_in_use_is_archived_not_deleted
);

async fn create_policy(admin: &mut Client, display_name: &str, minutes: i32) -> pb::SlaPolicy {
    admin
        .create_sla_policy(pb::CreateSlaPolicyRequest {
            request_id: String::new(),
            sla_policy: Some(pb::SlaPolicy {
                display_name: display_name.into(),
                first_response_minutes: minutes,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn update(
    admin: &mut Client,
    policy: pb::SlaPolicy,
    paths: &[&str],
    etag: &str,
) -> Result<pb::SlaPolicy, tonic::Status> {
    admin
        .update_sla_policy(pb::UpdateSlaPolicyRequest {
            sla_policy: Some(policy),
            update_mask: mask(paths),
            etag: etag.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn delete(admin: &mut Client, name: &str) -> Result<bool, tonic::Status> {
    admin
        .delete_sla_policy(pb::DeleteSlaPolicyRequest {
            name: name.into(),
            etag: String::new(),
        })
        .await
        .map(|r| r.into_inner().archived)
}

async fn listed(admin: &mut Client, show_archived: bool) -> Vec<pb::SlaPolicy> {
    admin
        .list_sla_policies(pb::ListSlaPoliciesRequest {
            show_archived,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .sla_policies
}

fn first_response_minutes(t: &pb::Ticket) -> i64 {
    let sla = t.sla.clone().unwrap();
    let due = micros(sla.first_response.unwrap().due_time.as_ref());
    (due - micros(t.create_time.as_ref())) / (60 * 1_000_000)
}

async fn a_policy_is_updated_by_mask_and_checked_whole(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Lin", common::Tier::Standard).await;
    let mut admin = app.admin();
    let created = create_policy(&mut admin, "Standard", 30).await;
    assert!(!created.etag.is_empty());

    // Only what the mask names changes.
    let changes = pb::SlaPolicy {
        name: created.name.clone(),
        display_name: "Standard (extended)".into(),
        first_response_minutes: 60,
        resolution_minutes: 999,
        ..Default::default()
    };
    let updated = update(
        &mut admin,
        changes.clone(),
        &["display_name", "first_response_minutes"],
        &created.etag,
    )
    .await
    .unwrap();
    assert_eq!(updated.display_name, "Standard (extended)");
    assert_eq!(updated.first_response_minutes, 60);
    assert_eq!(updated.resolution_minutes, 0, "not in the mask");
    assert_ne!(updated.etag, created.etag);
    assert_eq!(updated.create_time, created.create_time);

    // Refused, with nothing written: a stale etag, an unknown path, a bad value, no target left,
    // an unknown group, an unknown policy.
    assert_status(
        update(
            &mut admin,
            changes.clone(),
            &["display_name"],
            &created.etag,
        )
        .await,
        Code::Aborted,
        &[],
    );
    assert_status(
        update(&mut admin, changes.clone(), &["create_time"], "").await,
        Code::InvalidArgument,
        &["update_mask"],
    );
    let bad = pb::SlaPolicy {
        name: created.name.clone(),
        display_name: String::new(),
        first_response_minutes: -5,
        ..Default::default()
    };
    assert_status(
        update(
            &mut admin,
            bad,
            &["display_name", "first_response_minutes"],
            "",
        )
        .await,
        Code::InvalidArgument,
        &[
            "sla_policy.display_name",
            "sla_policy.first_response_minutes",
        ],
    );
    let unknown_group = pb::SlaPolicy {
        name: created.name.clone(),
        groups: vec!["groups/nowhere".into()],
        ..Default::default()
    };
    assert_status(
        update(&mut admin, unknown_group, &["groups"], "").await,
        Code::NotFound,
        &[],
    );
    assert_status(
        update(
            &mut admin,
            pb::SlaPolicy {
                name: "slaPolicies/nope".into(),
                ..Default::default()
            },
            &["position"],
            "",
        )
        .await,
        Code::NotFound,
        &[],
    );
    let stored = listed(&mut admin, false).await;
    assert_eq!(stored, std::slice::from_ref(&updated));

    // The same values again change nothing; new tickets get the new target.
    let same = update(
        &mut admin,
        changes,
        &["display_name", "first_response_minutes"],
        "",
    )
    .await
    .unwrap();
    assert_eq!(same.etag, updated.etag);
    let ticket = create(&mut admin, new_ticket(&customer, "Where is my parcel")).await;
    assert_eq!(ticket.sla.clone().unwrap().policy, created.name);
    assert_eq!(first_response_minutes(&ticket), 60);
}

async fn a_policy_in_use_is_archived_not_deleted(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Lin", common::Tier::Standard).await;
    let mut admin = app.admin();
    let unused = create_policy(&mut admin, "Unused", 10).await;
    let held = create_policy(&mut admin, "Held", 30).await;
    // Two policies match every ticket: the older is tried first, and it is the unused one until
    // it goes.
    assert!(!delete(&mut admin, &unused.name).await.unwrap(), "deleted");
    assert_status(delete(&mut admin, &unused.name).await, Code::NotFound, &[]);
    let ticket = create(&mut admin, new_ticket(&customer, "Broken kettle")).await;
    assert_eq!(ticket.sla.clone().unwrap().policy, held.name);

    assert_status(
        admin
            .delete_sla_policy(pb::DeleteSlaPolicyRequest {
                name: held.name.clone(),
                etag: "\"stale\"".into(),
            })
            .await,
        Code::Aborted,
        &[],
    );
    assert!(delete(&mut admin, &held.name).await.unwrap(), "archived");
    assert!(
        delete(&mut admin, &held.name).await.unwrap(),
        "again: the same"
    );
    assert!(listed(&mut admin, false).await.is_empty());
    let archived = listed(&mut admin, true).await;
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0].name, held.name);
    assert!(archived[0].archive_time.is_some());

    // The ticket keeps it; new tickets no longer get it; it cannot change.
    let kept = get(&mut admin, &ticket.name).await;
    assert_eq!(kept.sla.clone().unwrap().policy, held.name);
    assert_eq!(first_response_minutes(&kept), 30);
    let later = create(&mut admin, new_ticket(&customer, "Broken lid")).await;
    assert_eq!(later.sla.unwrap().policy, "");
    assert_status(
        update(
            &mut admin,
            pb::SlaPolicy {
                name: held.name.clone(),
                position: 5,
                ..Default::default()
            },
            &["position"],
            "",
        )
        .await,
        Code::FailedPrecondition,
        &[],
    );
}
