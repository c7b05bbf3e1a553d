//! Every mutating RPC is safely retried by `request_id`: the retry gets the first answer back, even
//! when the ticket has moved on since, and changes nothing.

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, backend_tests, sent_twice};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    retried_lifecycle_moves_answer_the_first_answer,
    retried_comments_merges_and_links_happen_once,
    retried_configuration_creates_once,
    a_request_id_belongs_to_one_request,
    concurrent_duplicates_apply_once
);

async fn audits(client: &mut Client, ticket: &str) -> usize {
    client
        .list_ticket_audits(pb::ListTicketAuditsRequest {
            parent: ticket.into(),
            page_size: 1000,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .audits
        .len()
}

async fn comments(client: &mut Client, ticket: &str) -> Vec<pb::Comment> {
    client
        .list_comments(pb::ListCommentsRequest {
            parent: ticket.into(),
            page_size: 1000,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .comments
}

fn solve(ticket: &pb::Ticket, request_id: &str) -> pb::SolveTicketRequest {
    pb::SolveTicketRequest {
        name: ticket.name.clone(),
        etag: ticket.etag.clone(),
        request_id: request_id.into(),
    }
}

async fn retried_lifecycle_moves_answer_the_first_answer(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Ada", common::Tier::Standard).await;
    let mut admin = app.admin();
    let support = group(&mut admin, "Support").await;
    agent(&mut admin, "agent-1", &[&support]).await;
    let mut agent = app.agent("agent-1");
    let ticket = create(&mut agent, new_ticket(&customer, "Refund")).await;

    let assign = pb::AssignTicketRequest {
        name: ticket.name.clone(),
        assignee: "agents/agent-1".into(),
        group: support.name.clone(),
        etag: ticket.etag.clone(),
        request_id: "assign-1".into(),
    };
    let assigned = agent
        .assign_ticket(assign.clone())
        .await
        .unwrap()
        .into_inner();
    // The etag the retry carries is stale now: without the request id it would be ABORTED.
    let again = agent
        .assign_ticket(assign.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, assigned);
    let mut without_id = assign;
    without_id.request_id.clear();
    assert_status(agent.assign_ticket(without_id).await, Code::Aborted, &[]);

    let solved = agent
        .solve_ticket(solve(&assigned, "solve-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status(&solved), pb::TicketStatus::Solved);
    let audits_after_solve = audits(&mut agent, &ticket.name).await;
    // The ticket moves on: a retry still gets the answer the first attempt gave.
    let reopened = agent
        .reopen_ticket(pb::ReopenTicketRequest {
            name: ticket.name.clone(),
            etag: solved.etag.clone(),
            request_id: "reopen-1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let audits_after_reopen = audits(&mut agent, &ticket.name).await;
    assert!(audits_after_reopen > audits_after_solve);
    let retried = agent
        .solve_ticket(solve(&assigned, "solve-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retried, solved);
    assert_eq!(
        status(&get(&mut agent, &ticket.name).await),
        pb::TicketStatus::Open
    );
    assert_eq!(audits(&mut agent, &ticket.name).await, audits_after_reopen);

    // A failed attempt is not remembered: the id is free for the corrected request.
    let stale = pb::SetTicketPendingRequest {
        name: ticket.name.clone(),
        etag: solved.etag.clone(),
        request_id: "pend-1".into(),
    };
    assert_status(agent.set_ticket_pending(stale).await, Code::Aborted, &[]);
    let pending = agent
        .set_ticket_pending(pb::SetTicketPendingRequest {
            name: ticket.name.clone(),
            etag: reopened.etag.clone(),
            request_id: "pend-1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status(&pending), pb::TicketStatus::Pending);

    let update = pb::UpdateTicketRequest {
        ticket: Some(pb::Ticket {
            name: ticket.name.clone(),
            tags: vec!["refund".into()],
            ..Default::default()
        }),
        update_mask: mask(&["tags"]),
        etag: pending.etag.clone(),
        request_id: "update-1".into(),
    };
    let updated = sent_twice!(agent, update_ticket, update.clone());
    assert_eq!(updated.tags, ["refund"]);

    let nested = pb::BatchUpdateTicketsRequest {
        requests: vec![pb::UpdateTicketRequest {
            ticket: Some(pb::Ticket {
                name: ticket.name.clone(),
                tags: vec!["other".into()],
                ..Default::default()
            }),
            update_mask: mask(&["tags"]),
            etag: String::new(),
            request_id: "inner".into(),
        }],
        request_id: String::new(),
    };
    assert_status(
        agent.batch_update_tickets(nested.clone()).await,
        Code::InvalidArgument,
        &["requests[0].request_id"],
    );
    let mut batch = nested;
    batch.requests[0].request_id.clear();
    batch.request_id = "batch-1".into();
    let first = sent_twice!(agent, batch_update_tickets, batch.clone());
    assert_eq!(get(&mut agent, &ticket.name).await, first.tickets[0]);
}

async fn retried_comments_merges_and_links_happen_once(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Bo", common::Tier::Standard).await;
    let mut agent = app.agent("agent-1");
    let one = create(&mut agent, new_ticket(&customer, "Broken")).await;
    let two = create(&mut agent, new_ticket(&customer, "Broken again")).await;
    let three = create(&mut agent, new_ticket(&customer, "Related")).await;

    let reply = pb::CreateCommentRequest {
        parent: one.name.clone(),
        comment: Some(pb::Comment {
            body: "We are on it".into(),
            public: true,
            ..Default::default()
        }),
        request_id: "reply-1".into(),
    };
    let first = agent
        .create_comment(reply.clone())
        .await
        .unwrap()
        .into_inner();
    let retry = agent.create_comment(reply).await.unwrap().into_inner();
    assert_eq!(retry, first);
    assert_eq!(comments(&mut agent, &one.name).await, vec![first]);

    let link = pb::LinkTicketsRequest {
        link: Some(pb::TicketLink {
            ticket: one.name.clone(),
            other: three.name.clone(),
            kind: pb::LinkKind::Related as i32,
            ..Default::default()
        }),
        request_id: "link-1".into(),
    };
    let linked = sent_twice!(agent, link_tickets, link.clone());
    assert_eq!(linked.other, three.name);
    let mut without_id = link;
    without_id.request_id.clear();
    assert_status(
        agent.link_tickets(without_id).await,
        Code::FailedPrecondition,
        &[],
    );

    let merge = pb::MergeTicketRequest {
        name: two.name.clone(),
        target: one.name.clone(),
        etag: two.etag.clone(),
        request_id: "merge-1".into(),
    };
    let target = agent
        .merge_ticket(merge.clone())
        .await
        .unwrap()
        .into_inner();
    let audits_after_merge = audits(&mut agent, &one.name).await;
    assert_eq!(
        agent.merge_ticket(merge).await.unwrap().into_inner(),
        target
    );
    assert_eq!(audits(&mut agent, &one.name).await, audits_after_merge);

    let unmerge = pb::UnmergeTicketRequest {
        name: two.name.clone(),
        request_id: "unmerge-1".into(),
    };
    let restored = sent_twice!(agent, unmerge_ticket, unmerge.clone());
    assert!(restored.merged_into.is_empty());
}

async fn retried_configuration_creates_once(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let new_group = pb::CreateGroupRequest {
        group: Some(pb::Group {
            display_name: "Billing".into(),
            ..Default::default()
        }),
        request_id: "group-1".into(),
    };
    let billing = sent_twice!(admin, create_group, new_group.clone());
    assert_eq!(billing.display_name, "Billing");
    let mut without_id = new_group;
    without_id.request_id.clear();
    assert_status(
        admin.create_group(without_id).await,
        Code::AlreadyExists,
        &[],
    );

    let new_agent = pb::CreateAgentRequest {
        agent: Some(pb::Agent {
            display_name: "Cy".into(),
            email: "cy@example.com".into(),
            active: true,
            ..Default::default()
        }),
        agent_id: "agent-cy".into(),
        request_id: "agent-1".into(),
    };
    let cy = sent_twice!(admin, create_agent, new_agent.clone());
    assert_eq!(cy.name, "agents/agent-cy");

    let new_schedule = pb::CreateBusinessScheduleRequest {
        business_schedule: Some(pb::BusinessSchedule {
            display_name: "Office".into(),
            time_zone: "Asia/Shanghai".into(),
            intervals: vec![pb::WorkingInterval {
                day_of_week: 1,
                start_minute: 9 * 60,
                end_minute: 18 * 60,
            }],
            ..Default::default()
        }),
        request_id: "schedule-1".into(),
    };
    let office = sent_twice!(admin, create_business_schedule, new_schedule.clone());
    let schedules = admin
        .list_business_schedules(pb::ListBusinessSchedulesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .business_schedules;
    assert_eq!(schedules, vec![office]);

    let new_policy = pb::CreateSlaPolicyRequest {
        sla_policy: Some(pb::SlaPolicy {
            display_name: "Urgent".into(),
            priorities: vec![pb::TicketPriority::Urgent as i32],
            first_response_minutes: 30,
            ..Default::default()
        }),
        request_id: "policy-1".into(),
    };
    let urgent = sent_twice!(admin, create_sla_policy, new_policy.clone());
    let policies = admin
        .list_sla_policies(pb::ListSlaPoliciesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .sla_policies;
    assert_eq!(policies, vec![urgent]);
}

async fn a_request_id_belongs_to_one_request(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Di", common::Tier::Standard).await;
    let mut agent = app.agent("agent-1");
    let ticket = create(&mut agent, new_ticket(&customer, "Where is my order")).await;
    comment(&mut agent, &ticket.name, "first", true)
        .await
        .unwrap();
    let reply = |body: &str| pb::CreateCommentRequest {
        parent: ticket.name.clone(),
        comment: Some(pb::Comment {
            body: body.into(),
            public: true,
            ..Default::default()
        }),
        request_id: "shared-id".into(),
    };
    agent.create_comment(reply("one")).await.unwrap();
    let reused = assert_status(
        agent.create_comment(reply("two")).await,
        Code::AlreadyExists,
        &[],
    );
    assert!(reused.message().contains("shared-id"), "{reused:?}");
    // Another caller's identical request is not a retry, and never sees the first answer.
    assert_status(
        app.agent("agent-2").create_comment(reply("one")).await,
        Code::AlreadyExists,
        &[],
    );
    // The same id sent to another RPC is another request too.
    assert_status(
        agent.solve_ticket(solve(&ticket, "shared-id")).await,
        Code::AlreadyExists,
        &[],
    );
    assert_status(
        agent.solve_ticket(solve(&ticket, "not an id!")).await,
        Code::InvalidArgument,
        &["request_id"],
    );
    let bodies: Vec<String> = comments(&mut agent, &ticket.name)
        .await
        .into_iter()
        .map(|c| c.body)
        .collect();
    assert_eq!(bodies, ["first", "one"]);
    assert_eq!(
        status(&get(&mut agent, &ticket.name).await),
        pb::TicketStatus::Open
    );
}

async fn concurrent_duplicates_apply_once(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Ed", common::Tier::Standard).await;
    let mut agent = app.agent("agent-1");
    let ticket = create(&mut agent, new_ticket(&customer, "Twice?")).await;
    let reply = pb::CreateCommentRequest {
        parent: ticket.name.clone(),
        comment: Some(pb::Comment {
            body: "Sent from a flaky network".into(),
            public: true,
            ..Default::default()
        }),
        request_id: "flaky-1".into(),
    };
    let attempts = (0..8).map(|_| {
        let mut client = app.agent("agent-1");
        let reply = reply.clone();
        tokio::spawn(async move { client.create_comment(reply).await })
    });
    let mut answers = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        answers.push(attempt.await.unwrap().unwrap().into_inner());
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(
        comments(&mut agent, &ticket.name).await,
        vec![answers[0].clone()]
    );
}
