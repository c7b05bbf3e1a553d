use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    every_filter_narrows_the_list,
    orders_and_pages_see_each_ticket_once,
    batch_get_keeps_the_order_asked
);

async fn names(client: &mut Client, request: pb::ListTicketsRequest) -> Vec<String> {
    client
        .list_tickets(request)
        .await
        .unwrap()
        .into_inner()
        .tickets
        .into_iter()
        .map(|t| t.subject)
        .collect()
}

async fn every_filter_narrows_the_list(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let ada = app.customer_record("Ada", common::Tier::Standard).await;
    let bob = app.customer_record("Bob", common::Tier::Standard).await;
    let mut admin = app.admin();
    let team = group(&mut admin, "Team").await;
    agent(&mut admin, "agent-3", &[&team]).await;
    let mut a = new_ticket(&ada, "Refund 100% please");
    a.priority = pb::TicketPriority::High as i32;
    a.tags = vec!["billing".into()];
    a.category = "billing/refunds".into();
    let a = create(&mut admin, a).await;
    // The service's clock moves only when told: b is created a second after a.
    app.clock.advance(std::time::Duration::from_secs(1));
    let mut b = new_ticket(&bob, "Printer jam");
    b.r#type = pb::TicketType::Incident as i32;
    b.channel = common::Channel::Phone as i32;
    b.group = team.name.clone();
    let b = create(&mut admin, b).await;
    assign(&mut admin, &b.name, "agents/agent-3", "")
        .await
        .unwrap();
    let request = |f: &dyn Fn(&mut pb::ListTicketsRequest)| {
        let mut r = pb::ListTicketsRequest::default();
        f(&mut r);
        r
    };
    assert_eq!(
        names(
            &mut admin,
            request(&|r| r.priority = pb::TicketPriority::High as i32)
        )
        .await,
        vec![a.subject.clone()]
    );
    assert_eq!(
        names(
            &mut admin,
            request(&|r| r.r#type = pb::TicketType::Incident as i32)
        )
        .await,
        vec![b.subject.clone()]
    );
    assert_eq!(
        names(
            &mut admin,
            request(&|r| r.channel = common::Channel::Phone as i32)
        )
        .await,
        vec![b.subject.clone()]
    );
    assert_eq!(
        names(
            &mut admin,
            request(&|r| r.category = "billing/refunds".into())
        )
        .await,
        vec![a.subject.clone()]
    );
    assert_eq!(
        names(&mut admin, request(&|r| r.tag = "billing".into())).await,
        vec![a.subject.clone()]
    );
    assert_eq!(
        names(
            &mut admin,
            request(&|r| r.assignee = "agents/agent-3".into())
        )
        .await,
        vec![b.subject.clone()]
    );
    assert_eq!(
        names(&mut admin, request(&|r| r.assignee = "agents/-".into())).await,
        vec![a.subject.clone()]
    );
    assert_eq!(
        names(&mut admin, request(&|r| r.group = team.name.clone())).await,
        vec![b.subject.clone()]
    );
    assert_eq!(
        names(
            &mut admin,
            request(&|r| r.requester = format!("customers/{ada}"))
        )
        .await,
        vec![a.subject.clone()]
    );
    assert_eq!(
        names(
            &mut admin,
            request(&|r| r.statuses = vec![pb::TicketStatus::Open as i32])
        )
        .await,
        vec![b.subject.clone()]
    );
    // Text matches case-insensitively, and % is a literal, not a wildcard.
    assert_eq!(
        names(&mut admin, request(&|r| r.text = "PRINTER".into())).await,
        vec![b.subject.clone()]
    );
    assert_eq!(
        names(&mut admin, request(&|r| r.text = "100%".into())).await,
        vec![a.subject.clone()]
    );
    assert!(
        names(&mut admin, request(&|r| r.text = "%".into()))
            .await
            .len()
            == 1
    );
    let created_b = b.create_time;
    assert_eq!(
        names(&mut admin, request(&|r| r.create_time_from = created_b)).await,
        vec![b.subject.clone()]
    );
    assert_eq!(
        names(&mut admin, request(&|r| r.create_time_to = created_b)).await,
        vec![a.subject.clone()]
    );
    // Filters combine.
    assert!(
        names(
            &mut admin,
            request(&|r| {
                r.tag = "billing".into();
                r.channel = common::Channel::Phone as i32;
            })
        )
        .await
        .is_empty()
    );
    assert_status(
        admin
            .list_tickets(request(&|r| {
                r.statuses = vec![0, 42];
                r.order_by = "random()".into();
                r.text = "x".repeat(201);
                r.assignee = "people/1".into();
            }))
            .await,
        Code::InvalidArgument,
        &["statuses[0]", "statuses[1]", "order_by", "text", "assignee"],
    );
}

async fn orders_and_pages_see_each_ticket_once(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Many", common::Tier::Standard).await;
    let mut admin = app.admin();
    let priorities = [
        pb::TicketPriority::Low,
        pb::TicketPriority::Urgent,
        pb::TicketPriority::Normal,
        pb::TicketPriority::High,
        pb::TicketPriority::Urgent,
        pb::TicketPriority::Low,
        pb::TicketPriority::Normal,
    ];
    for (i, priority) in priorities.iter().enumerate() {
        let mut t = new_ticket(&customer, &format!("t{i}"));
        t.priority = *priority as i32;
        create(&mut admin, t).await;
    }
    for (order, expected) in [
        (
            "create_time",
            vec!["t0", "t1", "t2", "t3", "t4", "t5", "t6"],
        ),
        (
            "create_time desc",
            vec!["t6", "t5", "t4", "t3", "t2", "t1", "t0"],
        ),
        (
            "priority desc",
            vec!["t4", "t1", "t3", "t6", "t2", "t5", "t0"],
        ),
    ] {
        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let page = admin
                .list_tickets(pb::ListTicketsRequest {
                    order_by: order.into(),
                    page_size: 3,
                    page_token: token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            assert!(page.tickets.len() <= 3);
            seen.extend(page.tickets.into_iter().map(|t| t.subject));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        assert_eq!(seen, expected, "order {order}");
    }
    // A token is only good for the filters it was issued for.
    let page = admin
        .list_tickets(pb::ListTicketsRequest {
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_status(
        admin
            .list_tickets(pb::ListTicketsRequest {
                page_size: 2,
                page_token: page.next_page_token,
                priority: pb::TicketPriority::Low as i32,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        &["page_token"],
    );
}

async fn batch_get_keeps_the_order_asked(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Batch", common::Tier::Standard).await;
    let mut admin = app.admin();
    let a = create(&mut admin, new_ticket(&customer, "a")).await;
    let b = create(&mut admin, new_ticket(&customer, "b")).await;
    let got = admin
        .batch_get_tickets(pb::BatchGetTicketsRequest {
            names: vec![b.name.clone(), a.name.clone()],
        })
        .await
        .unwrap()
        .into_inner()
        .tickets;
    assert_eq!(
        got.iter().map(|t| t.subject.as_str()).collect::<Vec<_>>(),
        vec!["b", "a"]
    );
    assert_status(
        admin
            .batch_get_tickets(pb::BatchGetTicketsRequest {
                names: vec![a.name.clone(), "tickets/missing".into()],
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        admin
            .batch_get_tickets(pb::BatchGetTicketsRequest { names: vec![] })
            .await,
        Code::InvalidArgument,
        &["names"],
    );
}
