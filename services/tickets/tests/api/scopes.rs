//! Ticket scopes: an agent sees and works all tickets, their groups' (and their own), or only
//! those assigned to them; everything else answers NOT_FOUND, on reads, lists, searches, stats
//! and writes alike.

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    a_group_scoped_agent_sees_and_works_only_their_groups_and_own_tickets,
    an_assigned_scoped_agent_sees_only_their_assignments
);

async fn listed(client: &mut Client, text: &str) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_tickets(pb::ListTicketsRequest {
            text: text.into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tickets
        .into_iter()
        .map(|t| t.subject)
        .collect();
    names.sort();
    names
}

async fn created_in_stats(client: &mut Client, app: &App) -> i64 {
    let ts = |micros: i64| prost_types::Timestamp {
        seconds: micros / 1_000_000,
        nanos: 0,
    };
    client
        .get_ticket_stats(pb::GetTicketStatsRequest {
            start_time: Some(ts(app.now() - 3_600_000_000)),
            end_time: Some(ts(app.now() + 3_600_000_000)),
            group_by: pb::StatsDimension::Unspecified as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .rows
        .iter()
        .map(|r| r.created)
        .sum()
}

/// Whether `client` can see `ticket` by every read path, or by none (NOT_FOUND on each).
async fn sees(client: &mut Client, ticket: &str) -> bool {
    let got = client
        .get_ticket(pb::GetTicketRequest {
            name: ticket.into(),
        })
        .await;
    let comments = client
        .list_comments(pb::ListCommentsRequest {
            parent: ticket.into(),
            ..Default::default()
        })
        .await;
    let audits = client
        .list_ticket_audits(pb::ListTicketAuditsRequest {
            parent: ticket.into(),
            page_size: 10,
            page_token: String::new(),
        })
        .await;
    let batch = client
        .batch_get_tickets(pb::BatchGetTicketsRequest {
            names: vec![ticket.into()],
        })
        .await;
    let outcomes = [
        got.err().map(|s| s.code()),
        comments.err().map(|s| s.code()),
        audits.err().map(|s| s.code()),
        batch.err().map(|s| s.code()),
    ];
    if outcomes.iter().all(Option::is_none) {
        return true;
    }
    assert!(
        outcomes.iter().all(|c| *c == Some(Code::NotFound)),
        "{ticket}: every read path agrees, got {outcomes:?}"
    );
    false
}

async fn a_group_scoped_agent_sees_and_works_only_their_groups_and_own_tickets(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let billing = group(&mut admin, "Billing").await;
    let returns = group(&mut admin, "Returns").await;
    agent(&mut admin, "mei", &[&billing]).await;
    agent(&mut admin, "tao", &[&returns]).await;
    let scoped = set_scope(&mut admin, "mei", pb::TicketScope::Groups).await;
    assert_eq!(scoped.ticket_scope, pb::TicketScope::Groups as i32);
    let customer = app.customer_record("Zhou", common::Tier::Standard).await;

    let in_billing = create(&mut admin, in_group(&customer, "refund billing", &billing)).await;
    let in_returns = create(&mut admin, in_group(&customer, "refund returns", &returns)).await;
    let mine_elsewhere = create(&mut admin, new_ticket(&customer, "refund mine")).await;
    assign(&mut admin, &mine_elsewhere.name, "agents/mei", "")
        .await
        .unwrap();
    let no_group = create(&mut admin, new_ticket(&customer, "refund nogroup")).await;

    let mut mei = app.agent("mei");
    assert!(sees(&mut mei, &in_billing.name).await);
    assert!(sees(&mut mei, &mine_elsewhere.name).await);
    assert!(!sees(&mut mei, &in_returns.name).await);
    assert!(!sees(&mut mei, &no_group.name).await);
    assert_eq!(
        listed(&mut mei, "").await,
        ["refund billing", "refund mine"],
        "lists keep only tickets in scope"
    );
    assert_eq!(
        listed(&mut mei, "refund").await,
        ["refund billing", "refund mine"]
    );
    assert_eq!(created_in_stats(&mut mei, &app).await, 2);
    assert_eq!(created_in_stats(&mut admin, &app).await, 4);

    // Writes to a ticket out of scope are NOT_FOUND and change nothing.
    let update = mei
        .update_ticket(pb::UpdateTicketRequest {
            request_id: String::new(),
            ticket: Some(pb::Ticket {
                name: in_returns.name.clone(),
                subject: "taken over".into(),
                ..Default::default()
            }),
            update_mask: mask(&["subject"]),
            etag: String::new(),
        })
        .await;
    assert_eq!(update.unwrap_err().code(), Code::NotFound);
    let solve = mei
        .solve_ticket(pb::SolveTicketRequest {
            name: in_returns.name.clone(),
            ..Default::default()
        })
        .await;
    assert_eq!(solve.unwrap_err().code(), Code::NotFound);
    let note = comment(&mut mei, &in_returns.name, "peek", false).await;
    assert_eq!(note.unwrap_err().code(), Code::NotFound);
    let merge = mei
        .merge_ticket(pb::MergeTicketRequest {
            name: in_billing.name.clone(),
            target: in_returns.name.clone(),
            ..Default::default()
        })
        .await;
    assert_eq!(merge.unwrap_err().code(), Code::NotFound);
    assert_eq!(
        get(&mut admin, &in_returns.name).await.subject,
        "refund returns"
    );
    assert_eq!(
        status(&get(&mut admin, &in_returns.name).await),
        pb::TicketStatus::New
    );

    // Joining a group widens the scope at once; an agent with scope ALL, or with no agent
    // record, sees everything.
    admin
        .add_group_member(pb::AddGroupMemberRequest {
            group: returns.name.clone(),
            agent: "agents/mei".into(),
        })
        .await
        .unwrap();
    assert!(sees(&mut mei, &in_returns.name).await);
    assert!(sees(&mut app.agent("tao"), &no_group.name).await);
    assert!(sees(&mut app.agent("not-on-the-team"), &no_group.name).await);
}

async fn an_assigned_scoped_agent_sees_only_their_assignments(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let billing = group(&mut admin, "Billing").await;
    agent(&mut admin, "jun", &[&billing]).await;
    set_scope(&mut admin, "jun", pb::TicketScope::Assigned).await;
    let customer = app.customer_record("Qian", common::Tier::Standard).await;
    let theirs = create(&mut admin, in_group(&customer, "mine", &billing)).await;
    let colleague = create(&mut admin, in_group(&customer, "theirs", &billing)).await;
    assign(&mut admin, &theirs.name, "agents/jun", &billing.name)
        .await
        .unwrap();

    let mut jun = app.agent("jun");
    assert!(sees(&mut jun, &theirs.name).await);
    assert!(!sees(&mut jun, &colleague.name).await);
    assert_eq!(listed(&mut jun, "").await, ["mine"]);
    let solved = jun
        .solve_ticket(pb::SolveTicketRequest {
            name: theirs.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status(&solved), pb::TicketStatus::Solved);

    // An unknown scope is refused, naming the field, and the agent keeps theirs.
    let refused = admin
        .update_agent(pb::UpdateAgentRequest {
            agent: Some(pb::Agent {
                name: "agents/jun".into(),
                ticket_scope: 42,
                ..Default::default()
            }),
            update_mask: mask(&["ticket_scope"]),
            etag: String::new(),
        })
        .await;
    assert_status(refused, Code::InvalidArgument, &["agent.ticket_scope"]);
    assert!(!sees(&mut jun, &colleague.name).await);
}
