use kefu_principal::Principal;
use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, CallAs, backend_tests};
use pb::ticket_service_client::TicketServiceClient;
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    integrations_create_and_update_tickets_for_any_requester,
    customers_see_and_touch_only_their_own_tickets,
    configuration_is_for_admins,
    calls_without_a_valid_principal_are_unauthenticated
);

async fn customers_see_and_touch_only_their_own_tickets(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let ada = app.customer_record("Ada", common::Tier::Standard).await;
    let bob = app.customer_record("Bob", common::Tier::Standard).await;
    let mut as_ada = app.customer(&ada);
    let mut as_bob = app.customer(&bob);
    let ada_ticket = create(&mut as_ada, new_ticket(&ada, "Ada's problem")).await;
    create(&mut as_bob, new_ticket(&bob, "Bob's problem")).await;

    // Opening a ticket for someone else is refused, and writes nothing.
    assert_status(
        as_ada
            .create_ticket(pb::CreateTicketRequest {
                ticket: Some(new_ticket(&bob, "On Bob's behalf")),
                request_id: String::new(),
            })
            .await,
        Code::PermissionDenied,
        &[],
    );
    // Someone else's ticket does not exist for a customer.
    assert_status(
        as_bob
            .get_ticket(pb::GetTicketRequest {
                name: ada_ticket.name.clone(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        comment(&mut as_bob, &ada_ticket.name, "hi", true).await,
        Code::NotFound,
        &[],
    );
    assert_status(
        as_bob
            .batch_get_tickets(pb::BatchGetTicketsRequest {
                names: vec![ada_ticket.name.clone()],
            })
            .await,
        Code::NotFound,
        &[],
    );
    // Listing gives their own only, whatever filter they pass.
    let listed = as_bob
        .list_tickets(pb::ListTicketsRequest {
            requester: format!("customers/{ada}"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tickets;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].subject, "Bob's problem");
    // Customers write public replies only, and do not work tickets.
    assert_status(
        comment(&mut as_ada, &ada_ticket.name, "secret", false).await,
        Code::InvalidArgument,
        &["comment.public"],
    );
    assert_status(
        as_ada
            .solve_ticket(pb::SolveTicketRequest {
                request_id: String::new(),
                name: ada_ticket.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::PermissionDenied,
        &[],
    );
    assert_status(
        as_ada
            .list_ticket_audits(pb::ListTicketAuditsRequest {
                parent: ada_ticket.name.clone(),
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        &[],
    );
    let mut admin = app.admin();
    let all = admin
        .list_tickets(pb::ListTicketsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .tickets;
    assert_eq!(all.len(), 2, "the refused create wrote nothing");
}

async fn configuration_is_for_admins(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Cy", common::Tier::Standard).await;
    for mut client in [
        app.agent("agent-1"),
        app.integration(),
        app.customer(&customer),
    ] {
        assert_status(
            client
                .create_group(pb::CreateGroupRequest {
                    request_id: String::new(),
                    group: Some(pb::Group {
                        display_name: "Nope".into(),
                        ..Default::default()
                    }),
                })
                .await,
            Code::PermissionDenied,
            &[],
        );
        assert_status(
            client
                .create_sla_policy(pb::CreateSlaPolicyRequest {
                    request_id: String::new(),
                    sla_policy: Some(pb::SlaPolicy {
                        display_name: "Nope".into(),
                        first_response_minutes: 10,
                        ..Default::default()
                    }),
                })
                .await,
            Code::PermissionDenied,
            &[],
        );
    }
    // Agents and integrations read the team; customers do not.
    let mut admin = app.admin();
    group(&mut admin, "Support").await;
    for mut client in [app.agent("agent-1"), app.integration()] {
        let groups = client
            .list_groups(pb::ListGroupsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .groups;
        assert_eq!(groups.len(), 1);
    }
    assert_status(
        app.customer(&customer)
            .list_groups(pb::ListGroupsRequest::default())
            .await,
        Code::PermissionDenied,
        &[],
    );
    // Integrations follow events; agents and customers do not.
    assert!(
        app.integration()
            .watch_events(pb::WatchEventsRequest::default())
            .await
            .is_ok()
    );
}

async fn calls_without_a_valid_principal_are_unauthenticated(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let forged = kefu_principal::InternalKey::generate();
    for interceptor in [
        CallAs::anonymous(),
        CallAs::raw("v1.garbage.sig"),
        CallAs::new(&forged, &Principal::new("x", kefu_principal::Role::Admin)),
    ] {
        let mut client = TicketServiceClient::with_interceptor(app.tickets.channel(), interceptor);
        assert_status(
            client.list_tickets(pb::ListTicketsRequest::default()).await,
            Code::Unauthenticated,
            &[],
        );
    }
}

async fn integrations_create_and_update_tickets_for_any_requester(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app
        .customer_record("From the shop", common::Tier::Gold)
        .await;
    define_field(
        &mut app.admin(),
        "order_id",
        pb::TicketFieldType::Text,
        &[],
        false,
    )
    .await
    .unwrap();
    let mut integration = app.integration();
    let mut request = new_ticket(&customer, "Order 991 arrived damaged");
    request.channel = common::Channel::Api as i32;
    request.r#type = pb::TicketType::AfterSales as i32;
    request.after_sales_kind = pb::AfterSalesKind::Return as i32;
    request.custom_fields = [("order_id".to_owned(), "991".to_owned())]
        .into_iter()
        .collect();
    let ticket = create(&mut integration, request).await;
    assert_eq!(
        ticket.custom_fields.get("order_id").map(String::as_str),
        Some("991")
    );
    let updated = integration
        .update_ticket(pb::UpdateTicketRequest {
            request_id: String::new(),
            ticket: Some(pb::Ticket {
                name: ticket.name.clone(),
                category: "shipping/damage".into(),
                ..Default::default()
            }),
            update_mask: mask(&["category"]),
            etag: ticket.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.category, "shipping/damage");
    // The integration's reply is a system comment.
    let reply = comment(&mut integration, &ticket.name, "Return label sent", true)
        .await
        .unwrap();
    assert_eq!(reply.author_kind, pb::AuthorKind::System as i32);
    assert_eq!(reply.author, "crm-sync");
    // Agents work tickets but do not configure teams or SLAs.
    let mut agent = app.agent("agent-x");
    assert_status(
        agent
            .create_business_schedule(pb::CreateBusinessScheduleRequest::default())
            .await,
        Code::PermissionDenied,
        &[],
    );
    assert_status(
        agent
            .add_group_member(pb::AddGroupMemberRequest {
                group: "groups/g".into(),
                agent: "agents/agent-x".into(),
            })
            .await,
        Code::PermissionDenied,
        &[],
    );
}
