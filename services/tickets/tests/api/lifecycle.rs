use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    a_ticket_lives_from_new_to_closed,
    illegal_moves_name_the_current_status,
    assignment_needs_an_active_group_member,
    stale_etags_are_refused_and_nothing_changes,
    every_change_is_one_audit_entry,
    events_follow_the_life_of_a_ticket,
    follow_ups_link_to_a_ticket_of_the_same_requester,
    batch_updates_are_all_or_nothing,
    concurrent_edits_of_the_same_tickets_never_deadlock
);

async fn a_ticket_lives_from_new_to_closed(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer_id = app.customer_record("Ada", common::Tier::Gold).await;
    let mut admin = app.admin();
    let support = group(&mut admin, "Support").await;
    agent(&mut admin, "agent-1", &[&support]).await;
    let mut customer = app.customer(&customer_id);
    let mut agent_client = app.agent("agent-1");

    // The customer opens a ticket through the web form.
    let mut request = new_ticket(&customer_id, "My order never arrived");
    request.channel = common::Channel::Web as i32;
    let ticket = create(&mut customer, request).await;
    assert_eq!(status(&ticket), pb::TicketStatus::New);
    assert_eq!(ticket.requester, format!("customers/{customer_id}"));
    let snapshot = ticket.requester_snapshot.clone().unwrap();
    assert_eq!(
        (snapshot.display_name.as_str(), snapshot.tier),
        ("Ada", common::Tier::Gold as i32)
    );
    assert_eq!(ticket.priority, pb::TicketPriority::Normal as i32);
    assert_eq!(ticket.r#type, pb::TicketType::Question as i32);

    // Assigning opens it.
    let ticket = assign(
        &mut agent_client,
        &ticket.name,
        "agents/agent-1",
        &support.name,
    )
    .await
    .unwrap();
    assert_eq!(status(&ticket), pb::TicketStatus::Open);
    assert_eq!(ticket.assignee, "agents/agent-1");

    // The agent answers publicly and waits for the customer.
    comment(
        &mut agent_client,
        &ticket.name,
        "Could you send the order number?",
        true,
    )
    .await
    .unwrap();
    let ticket = get(&mut agent_client, &ticket.name).await;
    let metrics = ticket.metrics.unwrap();
    assert_eq!(metrics.agent_replies, 1);
    let pending = agent_client
        .set_ticket_pending(pb::SetTicketPendingRequest {
            request_id: String::new(),
            name: ticket.name.clone(),
            etag: ticket.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status(&pending), pb::TicketStatus::Pending);
    assert!(pending.sla.as_ref().unwrap().paused);

    // The customer's reply reopens it.
    comment(&mut customer, &ticket.name, "It is 12345", true)
        .await
        .unwrap();
    let reopened = get(&mut customer, &ticket.name).await;
    assert_eq!(status(&reopened), pb::TicketStatus::Open);
    assert!(!reopened.sla.as_ref().unwrap().paused);

    // An internal note changes nothing for the customer.
    comment(
        &mut agent_client,
        &ticket.name,
        "Carrier lost it; refund",
        false,
    )
    .await
    .unwrap();
    let solved = agent_client
        .solve_ticket(pb::SolveTicketRequest {
            request_id: String::new(),
            name: ticket.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status(&solved), pb::TicketStatus::Solved);
    assert!(solved.solve_time.is_some());

    // A reply on a SOLVED ticket reopens it and counts a reopen.
    comment(&mut customer, &ticket.name, "Still no refund", true)
        .await
        .unwrap();
    let again = get(&mut agent_client, &ticket.name).await;
    assert_eq!(status(&again), pb::TicketStatus::Open);
    assert_eq!(again.metrics.as_ref().unwrap().reopen_count, 1);
    assert!(again.solve_time.is_none());

    agent_client
        .solve_ticket(pb::SolveTicketRequest {
            request_id: String::new(),
            name: ticket.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    let closed = agent_client
        .close_ticket(pb::CloseTicketRequest {
            request_id: String::new(),
            name: ticket.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status(&closed), pb::TicketStatus::Closed);
    assert!(closed.close_time.is_some());

    // CLOSED is final: no comment, no reopen, no update.
    let refused = assert_status(
        comment(&mut customer, &ticket.name, "one more thing", true).await,
        Code::FailedPrecondition,
        &[],
    );
    assert!(
        refused.message().contains("CLOSED"),
        "{}",
        refused.message()
    );
    assert_status(
        agent_client
            .reopen_ticket(pb::ReopenTicketRequest {
                request_id: String::new(),
                name: ticket.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );

    // The customer sees public replies only; the agent sees all four comments.
    let for_customer = customer
        .list_comments(pb::ListCommentsRequest {
            parent: ticket.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .comments;
    assert_eq!(for_customer.len(), 3);
    assert!(for_customer.iter().all(|c| c.public));
    let for_agent = agent_client
        .list_comments(pb::ListCommentsRequest {
            parent: ticket.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .comments;
    assert_eq!(for_agent.len(), 4);
    assert_eq!(for_agent[0].author_kind, pb::AuthorKind::Agent as i32);
    assert_eq!(for_agent[1].author_kind, pb::AuthorKind::Customer as i32);
}

async fn illegal_moves_name_the_current_status(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer_id = app.customer_record("Bo", common::Tier::Standard).await;
    let mut admin = app.admin();
    let ticket = create(&mut admin, new_ticket(&customer_id, "Question")).await;
    // Solving needs an assignee.
    let no_assignee = assert_status(
        admin
            .solve_ticket(pb::SolveTicketRequest {
                request_id: String::new(),
                name: ticket.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
    assert!(
        no_assignee.message().contains("assignee"),
        "{}",
        no_assignee.message()
    );
    // NEW cannot be reopened or closed.
    for result in [
        admin
            .reopen_ticket(pb::ReopenTicketRequest {
                request_id: String::new(),
                name: ticket.name.clone(),
                etag: String::new(),
            })
            .await,
        admin
            .close_ticket(pb::CloseTicketRequest {
                request_id: String::new(),
                name: ticket.name.clone(),
                etag: String::new(),
            })
            .await,
    ] {
        let status = assert_status(result, Code::FailedPrecondition, &[]);
        assert!(status.message().contains("NEW"), "{}", status.message());
    }
    // PENDING cannot be set pending again.
    admin
        .set_ticket_pending(pb::SetTicketPendingRequest {
            request_id: String::new(),
            name: ticket.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    let twice = assert_status(
        admin
            .set_ticket_pending(pb::SetTicketPendingRequest {
                request_id: String::new(),
                name: ticket.name.clone(),
                etag: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
    assert!(twice.message().contains("PENDING"), "{}", twice.message());
    // Nothing moved.
    assert_eq!(
        status(&get(&mut admin, &ticket.name).await),
        pb::TicketStatus::Pending
    );
    assert_status(
        admin
            .solve_ticket(pb::SolveTicketRequest {
                request_id: String::new(),
                name: "tickets/does-not-exist".into(),
                etag: String::new(),
            })
            .await,
        Code::NotFound,
        &[],
    );
}

async fn assignment_needs_an_active_group_member(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer_id = app.customer_record("Cy", common::Tier::Standard).await;
    let mut admin = app.admin();
    let billing = group(&mut admin, "Billing").await;
    let shipping = group(&mut admin, "Shipping").await;
    agent(&mut admin, "bill", &[&billing]).await;
    let ship = agent(&mut admin, "ship", &[&shipping]).await;
    let mut ticket = new_ticket(&customer_id, "Invoice wrong");
    ticket.group = billing.name.clone();
    let ticket = create(&mut admin, ticket).await;

    let outsider = assert_status(
        assign(&mut admin, &ticket.name, "agents/ship", "").await,
        Code::FailedPrecondition,
        &[],
    );
    assert!(
        outsider.message().contains("not a member"),
        "{}",
        outsider.message()
    );
    assert_status(
        assign(&mut admin, &ticket.name, "agents/nobody", "").await,
        Code::NotFound,
        &[],
    );
    // Deactivated agents cannot take tickets.
    admin
        .update_agent(pb::UpdateAgentRequest {
            agent: Some(pb::Agent {
                name: ship.name.clone(),
                active: false,
                ..Default::default()
            }),
            update_mask: mask(&["active"]),
            etag: ship.etag.clone(),
        })
        .await
        .unwrap();
    let inactive = assert_status(
        assign(&mut admin, &ticket.name, "agents/ship", &shipping.name).await,
        Code::FailedPrecondition,
        &[],
    );
    assert!(
        inactive.message().contains("inactive"),
        "{}",
        inactive.message()
    );
    // Nothing changed.
    let unchanged = get(&mut admin, &ticket.name).await;
    assert_eq!(unchanged.assignee, "");
    assert_eq!(unchanged.group, billing.name);
    assert_eq!(status(&unchanged), pb::TicketStatus::New);

    let assigned = assign(&mut admin, &ticket.name, "agents/bill", "")
        .await
        .unwrap();
    assert_eq!(assigned.assignee, "agents/bill");
    // Moving to another group drops an assignee who is not in it.
    let moved = assign(&mut admin, &ticket.name, "", &shipping.name)
        .await
        .unwrap();
    assert_eq!(moved.group, shipping.name);
    assert_eq!(moved.assignee, "");
    assert_status(
        assign(&mut admin, &ticket.name, "", "").await,
        Code::InvalidArgument,
        &["assignee"],
    );
}

async fn stale_etags_are_refused_and_nothing_changes(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer_id = app.customer_record("Di", common::Tier::Standard).await;
    let mut admin = app.admin();
    let ticket = create(&mut admin, new_ticket(&customer_id, "Broken")).await;
    let updated = admin
        .update_ticket(pb::UpdateTicketRequest {
            request_id: String::new(),
            ticket: Some(pb::Ticket {
                name: ticket.name.clone(),
                priority: pb::TicketPriority::High as i32,
                tags: vec!["VIP-Escalation".into()],
                ..Default::default()
            }),
            update_mask: mask(&["priority", "tags"]),
            etag: ticket.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.priority, pb::TicketPriority::High as i32);
    assert_eq!(updated.tags, vec!["vip-escalation"]);
    assert_ne!(updated.etag, ticket.etag);
    assert_eq!(
        updated.subject, ticket.subject,
        "fields outside the mask are kept"
    );
    // The old etag is stale now, for updates and lifecycle moves alike.
    assert_status(
        admin
            .update_ticket(pb::UpdateTicketRequest {
                request_id: String::new(),
                ticket: Some(pb::Ticket {
                    name: ticket.name.clone(),
                    subject: "Changed".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["subject"]),
                etag: ticket.etag.clone(),
            })
            .await,
        Code::Aborted,
        &[],
    );
    assert_status(
        admin
            .set_ticket_on_hold(pb::SetTicketOnHoldRequest {
                request_id: String::new(),
                name: ticket.name.clone(),
                etag: ticket.etag.clone(),
            })
            .await,
        Code::Aborted,
        &[],
    );
    let current = get(&mut admin, &ticket.name).await;
    assert_eq!(current.subject, "Broken");
    assert_eq!(status(&current), pb::TicketStatus::New);
    // Status is not a field UpdateTicket changes.
    assert_status(
        admin
            .update_ticket(pb::UpdateTicketRequest {
                request_id: String::new(),
                ticket: Some(pb::Ticket {
                    name: ticket.name.clone(),
                    status: pb::TicketStatus::Solved as i32,
                    ..Default::default()
                }),
                update_mask: mask(&["status"]),
                etag: String::new(),
            })
            .await,
        Code::InvalidArgument,
        &["update_mask"],
    );
}

async fn every_change_is_one_audit_entry(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer_id = app.customer_record("Ed", common::Tier::Standard).await;
    let mut admin = app.admin();
    let team = group(&mut admin, "Team").await;
    agent(&mut admin, "agent-7", &[&team]).await;
    let mut agent_client = app.agent("agent-7");
    let ticket = create(&mut agent_client, new_ticket(&customer_id, "Audit me")).await;
    assign(
        &mut agent_client,
        &ticket.name,
        "agents/agent-7",
        &team.name,
    )
    .await
    .unwrap();
    agent_client
        .update_ticket(pb::UpdateTicketRequest {
            request_id: String::new(),
            ticket: Some(pb::Ticket {
                name: ticket.name.clone(),
                priority: pb::TicketPriority::Urgent as i32,
                ..Default::default()
            }),
            update_mask: mask(&["priority"]),
            etag: String::new(),
        })
        .await
        .unwrap();
    comment(&mut agent_client, &ticket.name, "note", false)
        .await
        .unwrap();
    let audits = agent_client
        .list_ticket_audits(pb::ListTicketAuditsRequest {
            parent: ticket.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .audits;
    let vias: Vec<&str> = audits.iter().map(|a| a.via.as_str()).collect();
    assert_eq!(
        vias,
        vec![
            "CreateTicket",
            "AssignTicket",
            "UpdateTicket",
            "CreateComment"
        ]
    );
    assert!(
        audits
            .iter()
            .all(|a| a.actor == "agent-7" && a.actor_role == "AGENT")
    );
    let assign_changes: Vec<(&str, &str, &str)> = audits[1]
        .changes
        .iter()
        .map(|c| (c.field.as_str(), c.old_value.as_str(), c.new_value.as_str()))
        .collect();
    assert!(assign_changes.contains(&("status", "TICKET_STATUS_NEW", "TICKET_STATUS_OPEN")));
    assert!(assign_changes.contains(&("assignee", "", "agents/agent-7")));
    let priority: Vec<_> = audits[2]
        .changes
        .iter()
        .filter(|c| c.field == "priority")
        .collect();
    assert_eq!(priority.len(), 1);
    assert_eq!(priority[0].old_value, "TICKET_PRIORITY_NORMAL");
    assert_eq!(priority[0].new_value, "TICKET_PRIORITY_URGENT");
    assert!(
        audits[3]
            .changes
            .iter()
            .any(|c| c.field == "comment.internal")
    );
    // Paging through the audit trail one entry at a time sees each once.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = agent_client
            .list_ticket_audits(pb::ListTicketAuditsRequest {
                parent: ticket.name.clone(),
                page_size: 1,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.audits.into_iter().map(|a| a.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        seen,
        audits.iter().map(|a| a.name.clone()).collect::<Vec<_>>()
    );
}

async fn events_follow_the_life_of_a_ticket(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer_id = app.customer_record("Flo", common::Tier::Standard).await;
    let mut admin = app.admin();
    let team = group(&mut admin, "Team").await;
    agent(&mut admin, "agent-2", &[&team]).await;
    let ticket = create(&mut admin, new_ticket(&customer_id, "Events")).await;
    assign(&mut admin, &ticket.name, "agents/agent-2", &team.name)
        .await
        .unwrap();
    comment(&mut admin, &ticket.name, "answer", true)
        .await
        .unwrap();
    admin
        .solve_ticket(pb::SolveTicketRequest {
            request_id: String::new(),
            name: ticket.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    let mut stream = app
        .integration()
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut kinds = Vec::new();
    let mut last = None;
    while kinds.len() < 6 {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), stream.message())
            .await
            .expect("event in time")
            .unwrap()
            .unwrap()
            .event
            .unwrap();
        kinds.push(pb::EventType::try_from(event.r#type).unwrap());
        last = Some(event);
    }
    assert_eq!(
        kinds,
        vec![
            pb::EventType::TicketCreated,
            pb::EventType::TicketAssigned,
            pb::EventType::TicketStatusChanged,
            pb::EventType::TicketCommented,
            pb::EventType::TicketStatusChanged,
            pb::EventType::TicketSolved,
        ]
    );
    let solved = last.unwrap();
    assert_eq!(solved.old_status, "TICKET_STATUS_OPEN");
    assert_eq!(solved.new_status, "TICKET_STATUS_SOLVED");
    let facts = solved.ticket.unwrap();
    assert_eq!(facts.assignee, "agents/agent-2");
    assert_eq!(facts.group, team.name);
    assert_eq!(facts.channel, common::Channel::Email as i32);
    assert_eq!(facts.requester, format!("customers/{customer_id}"));
    // Agents do not follow the stream.
    assert_status(
        app.agent("agent-2")
            .watch_events(pb::WatchEventsRequest::default())
            .await,
        Code::PermissionDenied,
        &[],
    );
}

async fn follow_ups_link_to_a_ticket_of_the_same_requester(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer_id = app.customer_record("Gus", common::Tier::Standard).await;
    let other_id = app.customer_record("Hal", common::Tier::Standard).await;
    let mut admin = app.admin();
    let first = create(&mut admin, new_ticket(&customer_id, "First")).await;
    let mut follow = new_ticket(&customer_id, "Again");
    follow.follow_up_of = first.name.clone();
    let second = create(&mut admin, follow.clone()).await;
    assert_eq!(second.follow_up_of, first.name);
    // Another requester cannot follow up on this ticket.
    follow.requester = format!("customers/{other_id}");
    assert_status(
        admin
            .create_ticket(pb::CreateTicketRequest {
                ticket: Some(follow),
                request_id: String::new(),
            })
            .await,
        Code::FailedPrecondition,
        &[],
    );
}

fn priority_update(
    name: &str,
    priority: pb::TicketPriority,
    etag: &str,
) -> pb::UpdateTicketRequest {
    pb::UpdateTicketRequest {
        request_id: String::new(),
        ticket: Some(pb::Ticket {
            name: name.into(),
            priority: priority as i32,
            tags: vec!["bulk".into()],
            ..Default::default()
        }),
        update_mask: mask(&["priority", "tags"]),
        etag: etag.into(),
    }
}

async fn batch_updates_are_all_or_nothing(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer_id = app.customer_record("Bulk", common::Tier::Standard).await;
    let mut agent_client = app.agent("agent-b");
    let a = create(&mut agent_client, new_ticket(&customer_id, "a")).await;
    let b = create(&mut agent_client, new_ticket(&customer_id, "b")).await;
    let c = create(&mut agent_client, new_ticket(&customer_id, "c")).await;
    let urgent = pb::TicketPriority::Urgent;
    // A stale etag in the third update: nothing is written, and the error says which.
    let stale = assert_status(
        agent_client
            .batch_update_tickets(pb::BatchUpdateTicketsRequest {
                request_id: String::new(),
                requests: vec![
                    priority_update(&a.name, urgent, &a.etag),
                    priority_update(&b.name, urgent, ""),
                    priority_update(&c.name, urgent, "\"stale\""),
                ],
            })
            .await,
        Code::Aborted,
        &[],
    );
    assert!(
        stale.message().contains("requests[2]"),
        "{}",
        stale.message()
    );
    for t in [&a, &b, &c] {
        let current = get(&mut agent_client, &t.name).await;
        assert_eq!(
            current.priority,
            pb::TicketPriority::Normal as i32,
            "rolled back"
        );
        assert!(current.tags.is_empty());
    }
    // Bad values and repeated tickets are refused up front, naming each place.
    let mut bad = priority_update(&b.name, urgent, "");
    bad.ticket.as_mut().unwrap().priority = 77;
    assert_status(
        agent_client
            .batch_update_tickets(pb::BatchUpdateTicketsRequest {
                request_id: String::new(),
                requests: vec![
                    priority_update(&a.name, urgent, ""),
                    bad,
                    priority_update(&a.name, urgent, ""),
                ],
            })
            .await,
        Code::InvalidArgument,
        &["requests[1].ticket.priority", "requests[2].ticket.name"],
    );
    // A rule that needs the stored ticket (AFTER_SALES needs a kind) fails the whole batch too.
    let mut after_sales = priority_update(&c.name, urgent, "");
    after_sales.ticket.as_mut().unwrap().r#type = pb::TicketType::AfterSales as i32;
    after_sales.update_mask = mask(&["type"]);
    assert_status(
        agent_client
            .batch_update_tickets(pb::BatchUpdateTicketsRequest {
                request_id: String::new(),
                requests: vec![priority_update(&a.name, urgent, ""), after_sales],
            })
            .await,
        Code::InvalidArgument,
        &["requests[1].ticket.after_sales_kind"],
    );
    assert_eq!(
        get(&mut agent_client, &a.name).await.priority,
        pb::TicketPriority::Normal as i32
    );
    // All good: all written, in order.
    let done = agent_client
        .batch_update_tickets(pb::BatchUpdateTicketsRequest {
            request_id: String::new(),
            requests: vec![
                priority_update(&c.name, urgent, &c.etag),
                priority_update(&a.name, pb::TicketPriority::Low, ""),
            ],
        })
        .await
        .unwrap()
        .into_inner()
        .tickets;
    assert_eq!(done.len(), 2);
    assert_eq!(
        (done[0].name.as_str(), done[0].priority),
        (c.name.as_str(), urgent as i32)
    );
    assert_eq!(
        (done[1].name.as_str(), done[1].priority),
        (a.name.as_str(), pb::TicketPriority::Low as i32)
    );
    assert_eq!(done[1].tags, vec!["bulk"]);
    let audits = agent_client
        .list_ticket_audits(pb::ListTicketAuditsRequest {
            parent: c.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .audits;
    assert_eq!(audits.last().unwrap().via, "BatchUpdateTickets");
    assert_status(
        agent_client
            .batch_update_tickets(pb::BatchUpdateTicketsRequest {
                request_id: String::new(),
                requests: vec![],
            })
            .await,
        Code::InvalidArgument,
        &["requests"],
    );
}

/// Batches over the same tickets in opposite orders, single updates and merges of the same
/// tickets, all at once: each call waits for the others (rows are locked in id order) instead of
/// deadlocking, so every one succeeds or is refused for a reason the client can act on.
async fn concurrent_edits_of_the_same_tickets_never_deadlock(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer_id = app.customer_record("Race", common::Tier::Standard).await;
    let mut agent_client = app.agent("agent-r");
    let mut tickets = Vec::new();
    for subject in ["r1", "r2", "r3", "r4"] {
        tickets.push(create(&mut agent_client, new_ticket(&customer_id, subject)).await);
    }
    let names: Vec<String> = tickets.iter().map(|t| t.name.clone()).collect();
    let mut calls = tokio::task::JoinSet::new();
    for round in 0..24 {
        let mut client = app.agent("agent-r");
        let names = names.clone();
        calls.spawn(async move {
            let priority = if round % 2 == 0 {
                pb::TicketPriority::High
            } else {
                pb::TicketPriority::Low
            };
            // r1–r3 in batches and single updates; r4 merged into r3 (locking r3 and r4).
            let mut order = names[..3].to_vec();
            if round % 2 == 1 {
                order.reverse();
            }
            let result = match round % 4 {
                // Two batches in opposite orders.
                0 | 1 => client
                    .batch_update_tickets(pb::BatchUpdateTicketsRequest {
                        request_id: String::new(),
                        requests: order
                            .iter()
                            .map(|n| priority_update(n, priority, ""))
                            .collect(),
                    })
                    .await
                    .map(|_| ()),
                2 => client
                    .update_ticket(priority_update(&order[0], priority, ""))
                    .await
                    .map(|_| ()),
                _ => client
                    .merge_ticket(pb::MergeTicketRequest {
                        name: names[3].clone(),
                        target: names[2].clone(),
                        ..Default::default()
                    })
                    .await
                    .map(|_| ()),
            };
            result.map_err(|status| status.code())
        });
    }
    let mut outcomes = std::collections::BTreeMap::new();
    while let Some(joined) = calls.join_next().await {
        let code = match joined.unwrap() {
            Ok(()) => Code::Ok,
            Err(code) => code,
        };
        *outcomes.entry(format!("{code:?}")).or_insert(0) += 1;
    }
    // Merging a ticket already merged is refused as FAILED_PRECONDITION; nothing
    // may be INTERNAL (a deadlock) or ABORTED (a rolled-back collision) now that locks are ordered.
    for code in outcomes.keys() {
        assert!(
            code == "Ok" || code == "FailedPrecondition",
            "unexpected outcomes: {outcomes:?}"
        );
    }
    // 12 batches, 6 single updates and the first merge succeed; the 5 merges after it are refused.
    assert_eq!(outcomes.get("Ok"), Some(&19), "{outcomes:?}");
}
