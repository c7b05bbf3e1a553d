use kefu_server::customers::FollowsCustomers;
use std::time::Duration;

use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as cpb;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    creation_is_idempotent_by_request_id,
    unknown_requesters_and_bad_input_write_nothing,
    customers_down_means_unavailable_and_nothing_written,
    erased_customers_are_anonymized_on_their_tickets
);

async fn creation_is_idempotent_by_request_id(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer_id = app.customer_record("Ida", common::Tier::Standard).await;
    let mut agent = app.agent("agent-1");
    let request = pb::CreateTicketRequest {
        ticket: Some(new_ticket(&customer_id, "Charged twice")),
        request_id: "mail-4711".into(),
    };
    let first = agent
        .create_ticket(request.clone())
        .await
        .unwrap()
        .into_inner();
    let retry = agent
        .create_ticket(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.name, retry.name);
    let mut different = request;
    different.ticket.as_mut().unwrap().subject = "Something else".into();
    assert_status(
        agent.create_ticket(different).await,
        Code::AlreadyExists,
        &[],
    );
    let all = agent
        .list_tickets(pb::ListTicketsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .tickets;
    assert_eq!(all.len(), 1);
}

async fn unknown_requesters_and_bad_input_write_nothing(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer_id = app.customer_record("Jo", common::Tier::Standard).await;
    let mut admin = app.admin();
    assert_status(
        admin
            .create_ticket(pb::CreateTicketRequest {
                ticket: Some(new_ticket("no-such-customer", "Hello")),
                request_id: String::new(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    let bad = pb::Ticket {
        subject: "x".repeat(251),
        requester: "people/1".into(),
        channel: 0,
        priority: 42,
        r#type: pb::TicketType::AfterSales as i32,
        tags: vec!["no spaces allowed".into()],
        group: "groups/../../etc".into(),
        ..Default::default()
    };
    assert_status(
        admin
            .create_ticket(pb::CreateTicketRequest {
                ticket: Some(bad),
                request_id: "bad id with spaces".into(),
            })
            .await,
        Code::InvalidArgument,
        &[
            "ticket.subject",
            "ticket.requester",
            "ticket.channel",
            "ticket.priority",
            "ticket.after_sales_kind",
            "ticket.tags[0]",
            "ticket.group",
            "request_id",
        ],
    );
    let mut not_after_sales = new_ticket(&customer_id, "Repair");
    not_after_sales.after_sales_kind = pb::AfterSalesKind::Repair as i32;
    assert_status(
        admin
            .create_ticket(pb::CreateTicketRequest {
                ticket: Some(not_after_sales.clone()),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
        &["ticket.after_sales_kind"],
    );
    not_after_sales.r#type = pb::TicketType::AfterSales as i32;
    let repair = create(&mut admin, not_after_sales).await;
    assert_eq!(repair.after_sales_kind, pb::AfterSalesKind::Repair as i32);
    let mut unknown_group = new_ticket(&customer_id, "Group?");
    unknown_group.group = "groups/nope".into();
    assert_status(
        admin
            .create_ticket(pb::CreateTicketRequest {
                ticket: Some(unknown_group),
                request_id: String::new(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        comment(&mut admin, &repair.name, "", true).await,
        Code::InvalidArgument,
        &["comment.body"],
    );
    assert_status(
        comment(&mut admin, &repair.name, &"y".repeat(65_537), true).await,
        Code::InvalidArgument,
        &["comment.body"],
    );
    let listed = admin
        .list_tickets(pb::ListTicketsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .tickets;
    assert_eq!(
        listed.len(),
        1,
        "only the valid AFTER_SALES ticket was written"
    );
}

async fn customers_down_means_unavailable_and_nothing_written(backend: Backend) {
    let Some(mut app) = spawn(backend).await else {
        return;
    };
    let customer_id = app.customer_record("Kim", common::Tier::Standard).await;
    let mut admin = app.admin();
    create(&mut admin, new_ticket(&customer_id, "Before")).await;
    let retried = pb::CreateTicketRequest {
        ticket: Some(new_ticket(&customer_id, "Sent twice")),
        request_id: "mail-9".into(),
    };
    let first = admin
        .create_ticket(retried.clone())
        .await
        .unwrap()
        .into_inner();
    let customers = app.customers.take().unwrap();
    customers.stop().await.unwrap();
    // A retry of a create that already happened needs no customers service.
    let again = admin.create_ticket(retried).await.unwrap().into_inner();
    assert_eq!(again.name, first.name);
    let started = std::time::Instant::now();
    let status = assert_status(
        admin
            .create_ticket(pb::CreateTicketRequest {
                ticket: Some(new_ticket(&customer_id, "During the outage")),
                request_id: String::new(),
            })
            .await,
        Code::Unavailable,
        &[],
    );
    assert!(
        status.message().contains("customers"),
        "{}",
        status.message()
    );
    assert!(started.elapsed() < Duration::from_secs(8), "no hang");
    let listed = admin
        .list_tickets(pb::ListTicketsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .tickets;
    assert_eq!(listed.len(), 2);
    // Reading tickets does not need the customers service.
    assert_eq!(listed[0].subject, "Before");
}

async fn erased_customers_are_anonymized_on_their_tickets(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let erased = app.customer_record("Lee Private", common::Tier::Vip).await;
    let kept = app
        .customer_record("Max Kept", common::Tier::Standard)
        .await;
    let mut admin = app.admin();
    let t1 = create(&mut admin, new_ticket(&erased, "One")).await;
    let t2 = create(&mut admin, new_ticket(&erased, "Two")).await;
    let t3 = create(&mut admin, new_ticket(&kept, "Three")).await;
    app.customers_admin()
        .erase_customer(cpb::EraseCustomerRequest {
            name: format!("customers/{erased}"),
            etag: String::new(),
        })
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let a = get(&mut admin, &t1.name).await;
        let b = get(&mut admin, &t2.name).await;
        if a.requester_snapshot.as_ref().unwrap().erased
            && b.requester_snapshot.as_ref().unwrap().erased
        {
            for t in [a, b] {
                let snapshot = t.requester_snapshot.unwrap();
                assert_eq!(snapshot.display_name, "");
                assert_eq!(
                    t.requester,
                    format!("customers/{erased}"),
                    "the reference stays"
                );
            }
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "tickets not anonymized in time"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let other = get(&mut admin, &t3.name).await;
    assert_eq!(other.requester_snapshot.unwrap().display_name, "Max Kept");
    // One audit entry by the service, not repeated.
    let audits = admin
        .list_ticket_audits(pb::ListTicketAuditsRequest {
            parent: t1.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .audits;
    let by_service: Vec<_> = audits
        .iter()
        .filter(|a| a.via == "customer-erased")
        .collect();
    assert_eq!(by_service.len(), 1);
    assert_eq!(by_service[0].actor, "tickets");
    // The same erasure applied again (a redelivery after a restart) changes nothing.
    let db = app.db().await;
    let mut tx = db.begin_write().await.unwrap();
    app.ops()
        .await
        .erase(&mut tx, &erased, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let audits_after = admin
        .list_ticket_audits(pb::ListTicketAuditsRequest {
            parent: t1.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .audits;
    assert_eq!(audits_after.len(), audits.len(), "no second audit entry");
}
