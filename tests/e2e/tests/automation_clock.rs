//! Time-based rules through the gateway, on a test clock: a VIP's pending ticket is reminded
//! after 48 hours, solved after 96, and visited (回访) a week after the solve.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

use std::time::Duration;

use kefu_e2e::{Authed, Clients, Platform};
use kefu_principal::{Principal, Role};
use kefu_proto::automation::v1 as apb;
use kefu_proto::tickets::v1 as tpb;
use kefu_server::Clock;
use kefu_testkit::{Backend, backend_tests, eventually};

type Automation = apb::automation_service_client::AutomationServiceClient<Authed>;
type Tickets = tpb::ticket_service_client::TicketServiceClient<Authed>;

const HOUR: Duration = Duration::from_secs(3600);

backend_tests!(
    a_pending_vip_ticket_is_reminded_solved_and_visited_on_time_once_through_the_gateway
);

fn rule(
    name: &str,
    since: apb::TimeSince,
    status: &str,
    hours: i32,
    action: apb::Action,
) -> apb::Automation {
    apb::Automation {
        display_name: name.into(),
        active: true,
        time: Some(apb::TimeCondition {
            since: since as i32,
            status: status.into(),
            hours,
        }),
        actions: vec![action],
        ..Default::default()
    }
}

fn condition(field: &str, operator: apb::Operator, value: &str) -> apb::Condition {
    apb::Condition {
        field: field.into(),
        operator: operator as i32,
        value: value.into(),
    }
}

/// Moves the clock on by `by` and waits until every rule was checked at the new time.
async fn advance(automation: &Automation, clock: &Clock, by: Duration) {
    clock.advance(by);
    let now = clock.now_micros();
    eventually("every rule checked at the new time", || {
        let mut automation = automation.clone();
        async move {
            let rules = automation
                .list_automations(apb::ListAutomationsRequest::default())
                .await
                .ok()?
                .into_inner()
                .automations;
            rules
                .iter()
                .all(|a| {
                    a.check_time
                        .as_ref()
                        .and_then(kefu_server::time::micros_of)
                        .is_some_and(|t| t >= now)
                })
                .then_some(())
        }
    })
    .await;
}

/// Waits until the automation service has seen what starts `rule`'s hours on `ticket` (a
/// dry run shows its due time): the tickets event may reach it after a moment, and the test's
/// clock must not jump ahead of it.
async fn clock_runs(automation: &Automation, rule: &str, ticket: &str) {
    eventually("the rule's clock running on the ticket", || {
        let mut automation = automation.clone();
        let (rule, ticket) = (rule.to_owned(), ticket.to_owned());
        async move {
            let answer = automation
                .test_automation(apb::TestAutomationRequest {
                    name: rule,
                    ticket,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner();
            answer.due_time.map(drop)
        }
    })
    .await;
}

/// The settled firings of `rule` on `ticket`.
async fn firings(automation: &Automation, rule: &str, ticket: &str) -> Vec<apb::Firing> {
    eventually("settled firings", || {
        let mut automation = automation.clone();
        let (rule, ticket) = (rule.to_owned(), ticket.to_owned());
        async move {
            let firings = automation
                .list_firings(apb::ListFiringsRequest {
                    parent: rule,
                    ticket,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner()
                .firings;
            firings
                .iter()
                .all(|f| f.state != apb::FiringState::Pending as i32)
                .then_some(firings)
        }
    })
    .await
}

async fn status(tickets: &mut Tickets, name: &str) -> tpb::TicketStatus {
    tickets
        .get_ticket(tpb::GetTicketRequest { name: name.into() })
        .await
        .unwrap()
        .into_inner()
        .status()
}

async fn a_pending_vip_ticket_is_reminded_solved_and_visited_on_time_once_through_the_gateway(
    backend: Backend,
) {
    let clock = Clock::manual_from_now();
    let Some(platform) = Platform::start_with_clock(backend, clock.clone(), |_| {})
        .await
        .unwrap()
    else {
        return;
    };
    let mut clients = Clients::new(&platform, &Principal::new("ops", Role::Admin))
        .await
        .unwrap();
    let (automation, mut tickets) = (clients.automation.clone(), clients.tickets.clone());
    let reply = |body: &str| apb::Action {
        action: Some(apb::action::Action::Reply(apb::Reply {
            body: body.into(),
            public: true,
        })),
    };
    let pending = apb::TimeSince::Status;
    let mut visit = rule(
        "VIP 回访",
        apb::TimeSince::Solved,
        "",
        168,
        apb::Action {
            action: Some(apb::action::Action::FollowUp(apb::FollowUp {
                subject: "回访：{{ ticket.subject }}".into(),
                description: "{{ requester.name }}的工单已解决一周，请电话回访。".into(),
                group: String::new(),
                tags: vec!["return-visit".into()],
            })),
        },
    );
    visit.all_conditions = vec![
        condition("requester.tier", apb::Operator::Is, "VIP"),
        condition("tags", apb::Operator::NotIncludes, "return-visit"),
    ];
    let mut names = Vec::new();
    for r in [
        rule(
            "Remind after 48 h",
            pending,
            "PENDING",
            48,
            reply("{{ requester.name }}您好，请问问题解决了吗？"),
        ),
        rule(
            "Solve after 96 h",
            pending,
            "PENDING",
            96,
            apb::Action {
                action: Some(apb::action::Action::SetField(apb::SetField {
                    field: "status".into(),
                    value: "SOLVED".into(),
                })),
            },
        ),
        visit,
    ] {
        let created = clients
            .automation
            .create_automation(apb::CreateAutomationRequest {
                automation: Some(r),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        names.push(created.name);
    }
    let [remind, solve, visit] = [&names[0], &names[1], &names[2]];

    clients.agent("agent-1", "林").await.unwrap();
    let (customer, ticket) = clients
        .vip_ticket("王芳", "发票抬头错了", "请重开发票")
        .await
        .unwrap();
    let ticket = ticket.name;
    tickets
        .assign_ticket(tpb::AssignTicketRequest {
            name: ticket.clone(),
            assignee: "agents/agent-1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    tickets
        .set_ticket_pending(tpb::SetTicketPendingRequest {
            name: ticket.clone(),
            ..Default::default()
        })
        .await
        .unwrap();

    clock_runs(&automation, solve, &ticket).await;
    advance(&automation, &clock, 47 * HOUR).await;
    assert!(
        firings(&automation, remind, &ticket).await.is_empty(),
        "not yet at 47 h"
    );
    advance(&automation, &clock, 2 * HOUR).await;
    let reminded = firings(&automation, remind, &ticket).await;
    assert_eq!(reminded.len(), 1, "{reminded:?}");
    assert_eq!(reminded[0].state, apb::FiringState::Applied as i32);
    let comments = tickets
        .list_comments(tpb::ListCommentsRequest {
            parent: ticket.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .comments;
    let reminder = comments
        .iter()
        .find(|c| c.body == "王芳您好，请问问题解决了吗？")
        .expect("the reminder");
    assert_eq!(reminder.author, format!("automation:{remind}"));
    assert_eq!(
        status(&mut tickets, &ticket).await,
        tpb::TicketStatus::Pending
    );

    advance(&automation, &clock, 48 * HOUR).await;
    assert_eq!(firings(&automation, solve, &ticket).await.len(), 1);
    assert_eq!(
        status(&mut tickets, &ticket).await,
        tpb::TicketStatus::Solved
    );
    assert_eq!(
        firings(&automation, remind, &ticket).await.len(),
        1,
        "reminded once"
    );

    clock_runs(&automation, visit, &ticket).await;
    advance(&automation, &clock, 167 * HOUR).await;
    assert!(
        firings(&automation, visit, &ticket).await.is_empty(),
        "not a week yet"
    );
    advance(&automation, &clock, 2 * HOUR).await;
    let visited = firings(&automation, visit, &ticket).await;
    assert_eq!(visited.len(), 1, "{visited:?}");
    assert_eq!(visited[0].state, apb::FiringState::Applied as i32);
    let visits = tickets
        .list_tickets(tpb::ListTicketsRequest {
            tag: "return-visit".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tickets;
    assert_eq!(visits.len(), 1, "{visits:?}");
    assert_eq!(visits[0].subject, "回访：发票抬头错了");
    assert_eq!(visits[0].follow_up_of, ticket);
    assert_eq!(visits[0].requester, customer.name);

    advance(&automation, &clock, 24 * HOUR).await;
    assert_eq!(
        firings(&automation, visit, &ticket).await.len(),
        1,
        "visited once"
    );
}
