//! A requester whose tier changes has the SLA of their unsolved tickets chosen again, from the
//! customers stream, once.

use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as cpb;
use kefu_proto::tickets::v1 as pb;
use kefu_server::common::Tier;
use kefu_server::customers::FollowsCustomers;
use kefu_testkit::{Backend, backend_tests};

use crate::helpers::*;

backend_tests!(a_tier_change_chooses_the_sla_of_open_tickets_again);

fn for_tiers(
    display_name: &str,
    position: i32,
    tiers: &[common::Tier],
    minutes: i32,
) -> pb::SlaPolicy {
    pb::SlaPolicy {
        display_name: display_name.into(),
        position,
        requester_tiers: tiers.iter().map(|t| *t as i32).collect(),
        first_response_minutes: minutes,
        ..Default::default()
    }
}

fn due_minutes(t: &pb::Ticket) -> i64 {
    let sla = t.sla.clone().unwrap();
    let due = micros(sla.first_response.unwrap().due_time.as_ref());
    (due - micros(t.create_time.as_ref())) / (60 * 1_000_000)
}

fn tier_of(t: &pb::Ticket) -> i32 {
    t.requester_snapshot.as_ref().unwrap().tier
}

async fn audit_count(admin: &mut Client, ticket: &str) -> usize {
    admin
        .list_ticket_audits(pb::ListTicketAuditsRequest {
            parent: ticket.to_owned(),
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .audits
        .len()
}

async fn a_tier_change_chooses_the_sla_of_open_tickets_again(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let vip = create_policy(&mut admin, for_tiers("VIP", 0, &[common::Tier::Vip], 15)).await;
    let standard = create_policy(&mut admin, for_tiers("Everyone", 1, &[], 240)).await;
    let customer = app
        .customer_record("Zhou Min", common::Tier::Standard)
        .await;
    let other = app.customer_record("Li Lei", common::Tier::Standard).await;
    let open = create(&mut admin, new_ticket(&customer, "Order not delivered")).await;
    let solved = create(&mut admin, new_ticket(&customer, "Invoice address")).await;
    agent(&mut admin, "a1", &[]).await;
    assign(&mut admin, &solved.name, "agents/a1", "")
        .await
        .unwrap();
    admin
        .solve_ticket(pb::SolveTicketRequest {
            name: solved.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let unrelated = create(&mut admin, new_ticket(&other, "Password reset")).await;
    assert_eq!(open.sla.as_ref().unwrap().policy, standard.name);
    assert_eq!(due_minutes(&open), 240);

    app.customers_admin()
        .update_customer(cpb::UpdateCustomerRequest {
            customer: Some(cpb::Customer {
                name: format!("customers/{customer}"),
                tier: common::Tier::Vip as i32,
                ..Default::default()
            }),
            update_mask: mask(&["tier"]),
            etag: String::new(),
        })
        .await
        .unwrap();

    // The stream's first ticket update is the re-choice, on the unsolved ticket only.
    let updated = events_of(&app, pb::EventType::TicketUpdated, 1).await;
    assert_eq!(updated[0].resource, open.name);
    assert!(
        updated[0]
            .changed_fields
            .iter()
            .any(|f| f == "requester_snapshot.tier"),
        "{:?}",
        updated[0].changed_fields
    );
    assert!(updated[0].changed_fields.iter().any(|f| f == "sla.policy"));
    let open = get(&mut admin, &open.name).await;
    assert_eq!(tier_of(&open), common::Tier::Vip as i32);
    assert_eq!(open.sla.as_ref().unwrap().policy, vip.name);
    assert_eq!(due_minutes(&open), 15, "same start, the VIP target");
    let by: Vec<String> = audited(&mut admin, &open.name, "sla.policy")
        .await
        .into_iter()
        .map(|(via, policy)| format!("{via} {policy}"))
        .collect();
    assert_eq!(
        by.last().unwrap(),
        &format!("customer-tier-changed {}", vip.name)
    );
    let solved = get(&mut admin, &solved.name).await;
    assert_eq!(
        tier_of(&solved),
        common::Tier::Standard as i32,
        "solved keeps its facts"
    );
    assert_eq!(solved.sla.as_ref().unwrap().policy, standard.name);
    assert_eq!(
        get(&mut admin, &unrelated.name).await.sla.unwrap().policy,
        standard.name
    );

    // Delivered again (after a restart), the same tier changes nothing.
    let audits = audit_count(&mut admin, &open.name).await;
    let db = app.db().await;
    let mut tx = db.begin_write().await.unwrap();
    app.ops()
        .await
        .tier_changed(&mut tx, &customer, Tier::Vip, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(audit_count(&mut admin, &open.name).await, audits);
}
