//! The team changes and goes: DeleteGroup and DeleteAgent (soft: tickets, audits and
//! statistics keep naming them).

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    a_group_is_deleted_only_once_nothing_needs_it,
    a_deleted_agent_leaves_the_team_and_their_tickets_are_routed_again
);

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
    let escalating = create_policy(
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
    let escalating = create_policy(
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
    let unassigned: Vec<&str> = assigned[3..5].iter().map(|e| e.resource.as_str()).collect();
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
