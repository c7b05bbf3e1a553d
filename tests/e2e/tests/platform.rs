//! The platform as a client sees it: every call through the gateway with an API key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

use std::time::Duration;

use kefu_e2e::{Bearer, Platform};
use kefu_principal::{Principal, Role};
use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as cpb;
use kefu_proto::feedback::v1 as fpb;
use kefu_proto::knowledge::v1 as kpb;
use kefu_proto::tickets::v1 as tpb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Authed = InterceptedService<Channel, Bearer>;

backend_tests!(
    the_support_story_through_the_gateway,
    every_role_against_every_service,
    an_event_stream_resumes_across_a_gateway_restart,
    a_killed_replica_costs_no_request,
    rate_limits_hold_per_principal,
);

async fn clients(
    platform: &Platform,
    principal: &Principal,
) -> (
    cpb::customer_service_client::CustomerServiceClient<Authed>,
    tpb::ticket_service_client::TicketServiceClient<Authed>,
    kpb::knowledge_service_client::KnowledgeServiceClient<Authed>,
) {
    let key = platform.key(principal).await.unwrap();
    let channel = platform.channel().await.unwrap();
    let bearer = Bearer::new(&key).unwrap();
    (
        cpb::customer_service_client::CustomerServiceClient::with_interceptor(
            channel.clone(),
            bearer.clone(),
        ),
        tpb::ticket_service_client::TicketServiceClient::with_interceptor(
            channel.clone(),
            bearer.clone(),
        ),
        kpb::knowledge_service_client::KnowledgeServiceClient::with_interceptor(channel, bearer),
    )
}

async fn feedback_client(
    platform: &Platform,
    principal: &Principal,
) -> fpb::feedback_service_client::FeedbackServiceClient<Authed> {
    let key = platform.key(principal).await.unwrap();
    let channel = platform.channel().await.unwrap();
    fpb::feedback_service_client::FeedbackServiceClient::with_interceptor(
        channel,
        Bearer::new(&key).unwrap(),
    )
}

async fn the_support_story_through_the_gateway(backend: Backend) {
    let Some(platform) = Platform::start(backend, |_| {}).await.unwrap() else {
        return;
    };
    let (_, mut admin_tickets, mut admin_kb) =
        clients(&platform, &Principal::new("ops", Role::Admin)).await;
    // The team, an SLA for VIPs, and an FAQ article.
    let team = admin_tickets
        .create_group(tpb::CreateGroupRequest {
            request_id: String::new(),
            group: Some(tpb::Group {
                display_name: "After-sales".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    admin_tickets
        .create_agent(tpb::CreateAgentRequest {
            request_id: String::new(),
            agent: Some(tpb::Agent {
                display_name: "Li Lei".into(),
                email: "li.lei@example.cn".into(),
                active: true,
                ..Default::default()
            }),
            agent_id: "li-lei".into(),
        })
        .await
        .unwrap();
    admin_tickets
        .add_group_member(tpb::AddGroupMemberRequest {
            group: team.name.clone(),
            agent: "agents/li-lei".into(),
        })
        .await
        .unwrap();
    let vip_policy = admin_tickets
        .create_sla_policy(tpb::CreateSlaPolicyRequest {
            request_id: String::new(),
            sla_policy: Some(tpb::SlaPolicy {
                display_name: "VIP".into(),
                requester_tiers: vec![common::Tier::Vip as i32],
                first_response_minutes: 30,
                resolution_minutes: 240,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let article = admin_kb
        .create_article(kpb::CreateArticleRequest {
            article: Some(kpb::Article {
                title: "How to return a leaking kettle".into(),
                body: "Open your order and choose Return.".into(),
                ..Default::default()
            }),
            translation_of: String::new(),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    admin_kb
        .publish_article(kpb::PublishArticleRequest {
            request_id: String::new(),
            name: article.name.clone(),
            revision: String::new(),
            etag: String::new(),
        })
        .await
        .unwrap();

    // A VIP customer, created by the CRM integration.
    let (mut crm, _, _) = clients(&platform, &Principal::new("crm", Role::Integration)).await;
    let customer = crm
        .create_customer(cpb::CreateCustomerRequest {
            customer: Some(cpb::Customer {
                display_name: "Wang Fang".into(),
                tier: common::Tier::Vip as i32,
                ..Default::default()
            }),
            request_id: "crm-1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let customer_id = customer.name.trim_start_matches("customers/").to_owned();

    // The customer finds the FAQ, then opens a ticket on the web.
    let (_, mut as_customer, mut customer_kb) =
        clients(&platform, &Principal::customer(&customer_id)).await;
    let found = customer_kb
        .search_articles(kpb::SearchArticlesRequest {
            query: "kettle return".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    assert_eq!(found.len(), 1);
    let ticket = as_customer
        .create_ticket(tpb::CreateTicketRequest {
            ticket: Some(tpb::Ticket {
                subject: "My kettle leaks".into(),
                description: "Water comes out of the base.".into(),
                requester: customer.name.clone(),
                channel: common::Channel::Web as i32,
                r#type: tpb::TicketType::AfterSales as i32,
                after_sales_kind: tpb::AfterSalesKind::Return as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let sla = ticket.sla.clone().unwrap();
    assert_eq!(sla.policy, vip_policy.name, "the VIP tier chose the policy");
    assert_eq!(
        ticket.requester_snapshot.as_ref().unwrap().tier,
        common::Tier::Vip as i32
    );

    // The agent takes it, answers, solves.
    let (_, mut agent, _) = clients(&platform, &Principal::new("li-lei", Role::Agent)).await;
    agent
        .assign_ticket(tpb::AssignTicketRequest {
            request_id: String::new(),
            name: ticket.name.clone(),
            assignee: "agents/li-lei".into(),
            group: team.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    agent
        .create_comment(tpb::CreateCommentRequest {
            request_id: String::new(),
            parent: ticket.name.clone(),
            comment: Some(tpb::Comment {
                body: "Sorry! A return label is on its way.".into(),
                public: true,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let solved = agent
        .solve_ticket(tpb::SolveTicketRequest {
            request_id: String::new(),
            name: ticket.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(solved.status, tpb::TicketStatus::Solved as i32);
    let first_response = solved.sla.unwrap().first_response.unwrap();
    assert!(first_response.achieve_time.is_some() && !first_response.breached);
    // The customer sees the reply; the integration sees the SOLVED event a survey would follow.
    let replies = as_customer
        .list_comments(tpb::ListCommentsRequest {
            parent: ticket.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .comments;
    assert_eq!(replies.len(), 1);
    let (_, mut integration_tickets, _) =
        clients(&platform, &Principal::new("surveys", Role::Integration)).await;
    let mut events = integration_tickets
        .watch_events(tpb::WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut solved_event = None;
    while solved_event.is_none() {
        let event = tokio::time::timeout(Duration::from_secs(10), events.message())
            .await
            .expect("events in time")
            .unwrap()
            .unwrap()
            .event
            .unwrap();
        if event.r#type == tpb::EventType::TicketSolved as i32 {
            solved_event = Some(event);
        }
    }
    let facts = solved_event.unwrap().ticket.unwrap();
    assert_eq!(
        (facts.assignee.as_str(), facts.channel),
        ("agents/li-lei", common::Channel::Web as i32)
    );

    // The solve sent the customer a CSAT survey about this ticket.
    let mut customer_feedback =
        feedback_client(&platform, &Principal::customer(&customer_id)).await;
    let survey = wait_for("the CSAT survey", || {
        let mut client = customer_feedback.clone();
        let ticket = ticket.name.clone();
        async move {
            client
                .list_surveys(fpb::ListSurveysRequest {
                    ticket,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .surveys
                .pop()
        }
    })
    .await;
    assert_eq!(survey.kind, fpb::SurveyKind::Csat as i32);
    let snapshot = survey.ticket_snapshot.clone().unwrap();
    assert_eq!(
        (snapshot.assignee.as_str(), snapshot.group.as_str()),
        ("agents/li-lei", team.name.as_str())
    );
    // A low score: the answer is stored and a follow-up ticket opens for the team.
    let answered = customer_feedback
        .submit_survey_response(fpb::SubmitSurveyResponseRequest {
            request_id: String::new(),
            token: survey.token.clone(),
            response: Some(fpb::SurveyResponse {
                score: Some(2),
                reason_codes: vec!["slow_refund".into()],
                comment: "The label never came.".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answered.state, fpb::SurveyState::Responded as i32);
    let (_, mut lead, _) = clients(&platform, &Principal::new("lead", Role::Agent)).await;
    let mut lead_feedback = feedback_client(&platform, &Principal::new("lead", Role::Agent)).await;
    let follow_up = wait_for("the follow-up ticket", || {
        let mut client = lead_feedback.clone();
        let name = survey.name.clone();
        async move {
            let survey = client
                .get_survey(fpb::GetSurveyRequest { name })
                .await
                .unwrap()
                .into_inner();
            survey
                .follow_up
                .filter(|f| f.state == fpb::FollowUpState::Opened as i32)
        }
    })
    .await;
    let follow_up_ticket = lead
        .get_ticket(tpb::GetTicketRequest {
            name: follow_up.ticket.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(follow_up_ticket.follow_up_of, ticket.name);
    assert_eq!(follow_up_ticket.group, team.name);
    assert_eq!(follow_up_ticket.requester, customer.name);
    assert_eq!(follow_up_ticket.r#type, tpb::TicketType::Task as i32);
    // The agent reads the comment on the survey, never the token.
    let seen = lead_feedback
        .get_survey(fpb::GetSurveyRequest {
            name: survey.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.response.unwrap().comment, "The label never came.");
    assert!(seen.token.is_empty());
}

/// Polls `check` until it gives a value, for up to 20 s.
async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What each role gets from one representative call per service: Ok or the error code.
async fn every_role_against_every_service(backend: Backend) {
    let Some(platform) = Platform::start(backend, |_| {}).await.unwrap() else {
        return;
    };
    let (mut admin_customers, _, _) = clients(&platform, &Principal::new("ops", Role::Admin)).await;
    let me = admin_customers
        .create_customer(cpb::CreateCustomerRequest {
            customer: Some(cpb::Customer {
                display_name: "Matrix".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let my_id = me.name.trim_start_matches("customers/").to_owned();
    let roles = [
        Principal::new("ops", Role::Admin),
        Principal::new("agent-1", Role::Agent),
        Principal::new("crm", Role::Integration),
        Principal::customer(&my_id),
    ];
    // (call, [admin, agent, integration, customer])
    let expected: [(&str, [Option<Code>; 4]); 8] = [
        (
            "customers.ListCustomers",
            [None, None, None, Some(Code::PermissionDenied)],
        ),
        (
            "customers.EraseCustomer(other)",
            [
                None,
                Some(Code::PermissionDenied),
                Some(Code::PermissionDenied),
                Some(Code::PermissionDenied),
            ],
        ),
        (
            "tickets.CreateGroup",
            [
                None,
                Some(Code::PermissionDenied),
                Some(Code::PermissionDenied),
                Some(Code::PermissionDenied),
            ],
        ),
        ("tickets.ListTickets", [None, None, None, None]),
        (
            "knowledge.CreateCategory",
            [
                None,
                None,
                Some(Code::PermissionDenied),
                Some(Code::PermissionDenied),
            ],
        ),
        ("knowledge.SearchArticles", [None, None, None, None]),
        ("feedback.ListSurveys", [None, None, None, None]),
        (
            "feedback.WatchEvents",
            [
                None,
                Some(Code::PermissionDenied),
                None,
                Some(Code::PermissionDenied),
            ],
        ),
    ];
    for (i, principal) in roles.iter().enumerate() {
        let (mut c, mut t, mut k) = clients(&platform, principal).await;
        let mut f = feedback_client(&platform, principal).await;
        let victim = admin_customers
            .create_customer(cpb::CreateCustomerRequest {
                customer: Some(cpb::Customer {
                    display_name: format!("Victim {i}"),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        let outcomes: [Result<(), tonic::Status>; 8] = [
            c.list_customers(cpb::ListCustomersRequest::default())
                .await
                .map(drop),
            c.erase_customer(cpb::EraseCustomerRequest {
                name: victim.name.clone(),
                etag: String::new(),
            })
            .await
            .map(drop),
            t.create_group(tpb::CreateGroupRequest {
                request_id: String::new(),
                group: Some(tpb::Group {
                    display_name: format!("Group {i}"),
                    ..Default::default()
                }),
            })
            .await
            .map(drop),
            t.list_tickets(tpb::ListTicketsRequest::default())
                .await
                .map(drop),
            k.create_category(kpb::CreateCategoryRequest {
                request_id: String::new(),
                category: Some(kpb::Category {
                    display_name: format!("Category {i}"),
                    ..Default::default()
                }),
            })
            .await
            .map(drop),
            k.search_articles(kpb::SearchArticlesRequest {
                query: "anything".into(),
                ..Default::default()
            })
            .await
            .map(drop),
            f.list_surveys(fpb::ListSurveysRequest::default())
                .await
                .map(drop),
            f.watch_events(fpb::WatchEventsRequest::default())
                .await
                .map(drop),
        ];
        for ((call, cells), outcome) in expected.iter().zip(outcomes) {
            match cells[i] {
                None => assert!(outcome.is_ok(), "{:?} {call}: {outcome:?}", principal.role),
                Some(code) => {
                    assert_status(outcome, code, &[]);
                }
            }
        }
    }
}

async fn an_event_stream_resumes_across_a_gateway_restart(backend: Backend) {
    let Some(mut platform) = Platform::start(backend, |config| {
        config.drain_timeout = Duration::from_millis(500);
    })
    .await
    .unwrap() else {
        return;
    };
    let admin = Principal::new("ops", Role::Admin);
    let (mut customers, _, _) = clients(&platform, &admin).await;
    let create = |name: String| cpb::CreateCustomerRequest {
        customer: Some(cpb::Customer {
            display_name: name,
            ..Default::default()
        }),
        request_id: String::new(),
    };
    customers
        .create_customer(create("before 1".into()))
        .await
        .unwrap();
    customers
        .create_customer(create("before 2".into()))
        .await
        .unwrap();
    let mut stream = customers
        .watch_events(cpb::WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let event = stream.message().await.unwrap().unwrap().event.unwrap();
        seen.push(event);
    }
    let cursor = seen.last().unwrap().cursor.clone();
    // The gateway goes away (the stream ends) and comes back; changes made meanwhile are not lost.
    platform.stop_gateway().await;
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.message().await {
                Ok(Some(_)) => continue,
                _ => return,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream ends when the gateway stops");
    platform.start_gateway().await.unwrap();
    let (mut customers, _, _) = clients(&platform, &admin).await;
    let after = customers
        .create_customer(create("after".into()))
        .await
        .unwrap()
        .into_inner();
    let mut resumed = customers
        .watch_events(cpb::WatchEventsRequest {
            after_cursor: cursor.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let next = tokio::time::timeout(Duration::from_secs(10), resumed.message())
        .await
        .expect("event in time")
        .unwrap()
        .unwrap()
        .event
        .unwrap();
    let position = |cursor: &str| kefu_db::outbox::Position::parse(cursor).unwrap();
    assert!(position(&next.cursor) > position(&cursor));
    // The first event after the cursor is the customer created while the stream was down.
    assert_eq!(next.resource, after.name);
    assert_eq!(next.r#type, cpb::EventType::CustomerCreated as i32);
}

/// Requests flow through the gateway to two tickets replicas, several at a time; one replica
/// shuts down mid-flow and none of the requests fails: calls it refused while draining go to the
/// other replica.
async fn a_killed_replica_costs_no_request(backend: Backend) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let Some(mut platform) = Platform::start(backend, |_| {}).await.unwrap() else {
        return;
    };
    let done = std::sync::Arc::new(AtomicUsize::new(0));
    let mut flows = Vec::new();
    for _ in 0..4 {
        let (_, mut tickets, _) = clients(&platform, &Principal::new("ops", Role::Admin)).await;
        let counter = done.clone();
        flows.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for i in 0..150 {
                if let Err(status) = tickets.list_groups(tpb::ListGroupsRequest::default()).await {
                    failures.push((i, status));
                }
                counter.fetch_add(1, Ordering::SeqCst);
            }
            failures
        }));
    }
    while done.load(Ordering::SeqCst) < 100 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let replica = platform.tickets_replica.take().unwrap();
    replica.stop().await.unwrap();
    for flow in flows {
        let failures = flow.await.unwrap();
        assert!(failures.is_empty(), "requests failed: {failures:?}");
    }
    assert_eq!(done.load(Ordering::SeqCst), 600);
}

/// A principal over its role's rate gets RESOURCE_EXHAUSTED with RetryInfo; others do not.
async fn rate_limits_hold_per_principal(backend: Backend) {
    use tonic_types::StatusExt;
    let Some(platform) = Platform::start(backend, |config| {
        config.rate_limits.insert(
            Role::Customer,
            kefu_gateway::RateLimit {
                per_second: 1,
                burst: 2,
            },
        );
    })
    .await
    .unwrap() else {
        return;
    };
    let mut busy = feedback_client(&platform, &Principal::customer("busy")).await;
    for _ in 0..2 {
        busy.list_surveys(fpb::ListSurveysRequest::default())
            .await
            .unwrap();
    }
    let status = assert_status(
        busy.list_surveys(fpb::ListSurveysRequest::default()).await,
        Code::ResourceExhausted,
        &[],
    );
    let retry = status.get_details_retry_info().expect("RetryInfo attached");
    assert!(
        retry
            .retry_delay
            .is_some_and(|d| d <= Duration::from_secs(1))
    );
    let mut calm = feedback_client(&platform, &Principal::customer("calm")).await;
    calm.list_surveys(fpb::ListSurveysRequest::default())
        .await
        .unwrap();
    // Staff roles keep their own (default) limits.
    let (_, mut agent, _) = clients(&platform, &Principal::new("agent-1", Role::Agent)).await;
    for _ in 0..5 {
        agent
            .list_tickets(tpb::ListTicketsRequest::default())
            .await
            .unwrap();
    }
}
