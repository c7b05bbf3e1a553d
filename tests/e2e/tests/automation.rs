//! Automation through the gateway: an admin's trigger acts on a VIP customer's new ticket.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

use kefu_e2e::{Bearer, Clients, Platform};
use kefu_principal::{Principal, Role};
use kefu_proto::automation::v1 as apb;
use kefu_proto::tickets::v1 as tpb;
use kefu_testkit::{Backend, assert_status, backend_tests, eventually};
use tonic::Code;
use tonic::transport::Channel;

backend_tests!(
    a_trigger_acknowledges_a_new_vip_ticket_in_chinese_and_an_agent_solves_it_with_a_macro_through_the_gateway
);

async fn authed(platform: &Platform, principal: &Principal) -> (Channel, Bearer) {
    let key = platform.key(principal).await.unwrap();
    (
        platform.channel().await.unwrap(),
        Bearer::new(&key).unwrap(),
    )
}

async fn a_trigger_acknowledges_a_new_vip_ticket_in_chinese_and_an_agent_solves_it_with_a_macro_through_the_gateway(
    backend: Backend,
) {
    let Some(platform) = Platform::start(backend, |_| {}).await.unwrap() else {
        return;
    };
    let mut clients = Clients::new(&platform, &Principal::new("ops", Role::Admin))
        .await
        .unwrap();
    let (mut automation, mut tickets) = (clients.automation.clone(), clients.tickets.clone());
    let acknowledge = apb::Trigger {
        display_name: "VIP 受理确认".into(),
        active: true,
        events: vec![apb::TriggerEvent::TicketCreated as i32],
        all_conditions: vec![apb::Condition {
            field: "requester.tier".into(),
            operator: apb::Operator::Is as i32,
            value: "VIP".into(),
        }],
        actions: vec![
            apb::Action {
                action: Some(apb::action::Action::Reply(apb::Reply {
                    body:
                        "{{ requester.name }}您好，我们已收到您的工单 {{ ticket.id }}，会尽快回复。"
                            .into(),
                    public: true,
                })),
            },
            apb::Action {
                action: Some(apb::action::Action::SetField(apb::SetField {
                    field: "priority".into(),
                    value: "HIGH".into(),
                })),
            },
        ],
        ..Default::default()
    };
    let trigger = automation
        .create_trigger(apb::CreateTriggerRequest {
            trigger: Some(acknowledge.clone()),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let (agent_channel, agent) = authed(&platform, &Principal::new("agent-1", Role::Agent)).await;
    let mut agent_automation =
        apb::automation_service_client::AutomationServiceClient::with_interceptor(
            agent_channel,
            agent,
        );
    let refused = agent_automation
        .clone()
        .create_trigger(apb::CreateTriggerRequest {
            trigger: Some(acknowledge),
            request_id: String::new(),
        })
        .await;
    assert_status(refused, Code::PermissionDenied, &[]);
    let (_, ticket) = clients
        .vip_ticket("王芳", "订单没有收到", "快递显示已签收")
        .await
        .unwrap();
    let ticket_id = ticket.name.trim_start_matches("tickets/").to_owned();
    let expected = format!("王芳您好，我们已收到您的工单 {ticket_id}，会尽快回复。");
    let reply = eventually("the acknowledgement", || {
        let mut tickets = tickets.clone();
        let name = ticket.name.clone();
        let expected = expected.clone();
        async move {
            let comments = tickets
                .list_comments(tpb::ListCommentsRequest {
                    parent: name,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner()
                .comments;
            comments
                .into_iter()
                .find(|c| c.public && c.body == expected)
        }
    })
    .await;
    assert_eq!(reply.author, format!("automation:{}", trigger.name));
    let firings = eventually("the applied firing", || {
        let mut automation = automation.clone();
        let name = trigger.name.clone();
        async move {
            let firings = automation
                .list_firings(apb::ListFiringsRequest {
                    parent: name,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner()
                .firings;
            firings
                .first()
                .is_some_and(|f| f.state == apb::FiringState::Applied as i32)
                .then_some(firings)
        }
    })
    .await;
    assert_eq!(firings.len(), 1);
    let after = tickets
        .get_ticket(tpb::GetTicketRequest {
            name: ticket.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.priority, tpb::TicketPriority::High as i32);

    // The agent solves it with a shared macro, previewed first; the change is the agent's.
    let solved = automation
        .create_macro(apb::CreateMacroRequest {
            r#macro: Some(apb::Macro {
                display_name: "已解决".into(),
                active: true,
                visibility: apb::MacroVisibility::Shared as i32,
                actions: vec![
                    apb::Action {
                        action: Some(apb::action::Action::Reply(apb::Reply {
                            body: "{{ requester.name }}您好，工单 {{ ticket.id }} 已处理完毕。"
                                .into(),
                            public: true,
                        })),
                    },
                    apb::Action {
                        action: Some(apb::action::Action::SetField(apb::SetField {
                            field: "status".into(),
                            value: "SOLVED".into(),
                        })),
                    },
                ],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    clients.agent("agent-1", "林").await.unwrap();
    tickets
        .assign_ticket(tpb::AssignTicketRequest {
            name: ticket.name.clone(),
            assignee: "agents/agent-1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let preview = agent_automation
        .preview_macro(apb::PreviewMacroRequest {
            name: solved.name.clone(),
            ticket: ticket.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let text = format!("王芳您好，工单 {ticket_id} 已处理完毕。");
    let fields: Vec<(&str, &str)> = preview
        .changes
        .iter()
        .map(|c| (c.field.as_str(), c.after.as_str()))
        .collect();
    assert_eq!(
        fields,
        vec![("comment", text.as_str()), ("status", "SOLVED")]
    );
    let results = agent_automation
        .apply_macro(apb::ApplyMacroRequest {
            name: solved.name.clone(),
            tickets: vec![ticket.name.clone()],
            request_id: "solve-1".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    assert!(results[0].applied, "{results:?}");
    let done = tickets
        .get_ticket(tpb::GetTicketRequest {
            name: ticket.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.status(), tpb::TicketStatus::Solved);
    let comments = tickets
        .list_comments(tpb::ListCommentsRequest {
            parent: ticket.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .comments;
    let by_agent = comments.iter().find(|c| c.body == text).unwrap();
    assert_eq!(by_agent.author, "agent-1");
}
