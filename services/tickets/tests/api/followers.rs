//! Followers and mentions: agents follow tickets they can see, by asking or by being
//! `@mentioned` in an internal note; each change is audited and streamed.

use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as pb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    agents_follow_and_unfollow_tickets_they_can_see,
    mentions_in_internal_notes_add_followers_and_emit_an_event
);

fn follow_request(ticket: &str, agent: &str) -> pb::FollowTicketRequest {
    pb::FollowTicketRequest {
        name: ticket.into(),
        agent: agent.into(),
    }
}

async fn follow(
    client: &mut Client,
    ticket: &str,
    agent: &str,
) -> Result<pb::Ticket, tonic::Status> {
    client
        .follow_ticket(follow_request(ticket, agent))
        .await
        .map(tonic::Response::into_inner)
}

async fn followed_by(client: &mut Client, agent: &str) -> Vec<String> {
    client
        .list_tickets(pb::ListTicketsRequest {
            follower: agent.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tickets
        .into_iter()
        .map(|t| t.name)
        .collect()
}

/// The stream's events of `kind`, as (ticket, comment, agents to notify, changed fields), once
/// `count` came.
async fn events(
    app: &App,
    kind: pb::EventType,
    count: usize,
) -> Vec<(String, String, Vec<String>, Vec<String>)> {
    events_of(app, kind, count)
        .await
        .into_iter()
        .map(|e| (e.resource, e.comment, e.notify_agents, e.changed_fields))
        .collect()
}

fn names(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| format!("agents/{id}")).collect()
}

async fn agents_follow_and_unfollow_tickets_they_can_see(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Lin", common::Tier::Standard).await;
    let mut admin = app.admin();
    let front = group(&mut admin, "Front line").await;
    agent(&mut admin, "mei", &[&front]).await;
    agent(&mut admin, "ann", &[]).await;
    agent(&mut admin, "jun", &[&front]).await;
    set_scope(&mut admin, "jun", pb::TicketScope::Assigned).await;
    let ticket = create(&mut admin, in_group(&customer, "Refund", &front)).await;
    let other = create(&mut admin, in_group(&customer, "Invoice", &front)).await;

    // An agent follows for herself; again changes nothing.
    let mut mei = app.agent("mei");
    let followed = follow(&mut mei, &ticket.name, "").await.unwrap();
    assert_eq!(followed.followers, names(&["mei"]));
    let again = follow(&mut mei, &ticket.name, "").await.unwrap();
    assert_eq!(again.etag, followed.etag, "following again writes nothing");
    // An admin names another agent (no member needed: her scope is ALL); sorted.
    let both = follow(&mut admin, &ticket.name, "agents/ann")
        .await
        .unwrap();
    assert_eq!(both.followers, names(&["ann", "mei"]));

    // Refused, with nothing written: an agent who cannot see it, an unknown one, no agent named
    // by an admin, an integration.
    for agent in ["agents/jun", "agents/ghost"] {
        assert_status(
            follow(&mut admin, &ticket.name, agent).await,
            Code::FailedPrecondition,
            &[],
        );
    }
    assert_status(
        follow(&mut admin, &ticket.name, "").await,
        Code::InvalidArgument,
        &["agent"],
    );
    assert_status(
        follow(&mut admin, &ticket.name, "jun").await,
        Code::InvalidArgument,
        &["agent"],
    );
    assert_status(
        follow(&mut app.integration(), &ticket.name, "agents/mei").await,
        Code::PermissionDenied,
        &[],
    );
    assert_eq!(get(&mut admin, &ticket.name).await.etag, both.etag);

    // "Tickets I follow".
    assert_eq!(
        followed_by(&mut admin, "agents/mei").await,
        [ticket.name.as_str()]
    );
    assert!(followed_by(&mut admin, "agents/jun").await.is_empty());
    follow(&mut mei, &other.name, "").await.unwrap();
    assert_eq!(
        followed_by(&mut mei, "agents/mei").await,
        [ticket.name.clone(), other.name.clone()]
    );

    // Unfollowing; again changes nothing.
    let left = mei
        .unfollow_ticket(pb::UnfollowTicketRequest {
            name: ticket.name.clone(),
            agent: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(left.followers, names(&["ann"]));
    let unchanged = mei
        .unfollow_ticket(pb::UnfollowTicketRequest {
            name: ticket.name.clone(),
            agent: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged.etag, left.etag);
    assert_eq!(
        followed_by(&mut admin, "agents/mei").await,
        [other.name.as_str()]
    );

    // Audited (by the RPC that made the change) and streamed.
    assert_eq!(
        audited(&mut admin, &ticket.name, "followers").await,
        [
            ("FollowTicket".to_owned(), "agents/mei".to_owned()),
            (
                "FollowTicket".to_owned(),
                "agents/ann,agents/mei".to_owned()
            ),
            ("UnfollowTicket".to_owned(), "agents/ann".to_owned()),
        ]
    );
    let follows = events(&app, pb::EventType::TicketFollowed, 4).await;
    let on_ticket: Vec<(Vec<String>, Vec<String>)> = follows
        .into_iter()
        .filter(|(t, ..)| *t == ticket.name)
        .map(|(_, _, notify, fields)| (notify, fields))
        .collect();
    assert_eq!(
        on_ticket,
        [
            (names(&["mei"]), vec!["followed".to_owned()]),
            (names(&["ann"]), vec!["followed".to_owned()]),
            (names(&["mei"]), vec!["unfollowed".to_owned()]),
        ]
    );
}

async fn mentions_in_internal_notes_add_followers_and_emit_an_event(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Lin", common::Tier::Standard).await;
    let mut admin = app.admin();
    let front = group(&mut admin, "Front line").await;
    agent(&mut admin, "mei", &[&front]).await;
    agent(&mut admin, "li-lei", &[&front]).await;
    agent(&mut admin, "jun", &[&front]).await;
    set_scope(&mut admin, "jun", pb::TicketScope::Assigned).await;
    let ticket = create(&mut admin, in_group(&customer, "Refund", &front)).await;
    let mut mei = app.agent("mei");

    // Li Lei is mentioned and follows; Jun cannot see the ticket, ghost is nobody, and an email
    // address is no mention.
    let note = comment(
        &mut mei,
        &ticket.name,
        "@li-lei can you check? cc @jun @ghost, customer wrote from lin@example.com",
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        get(&mut admin, &ticket.name).await.followers,
        names(&["li-lei"])
    );
    // A public reply mentions nobody.
    comment(&mut mei, &ticket.name, "Thanks @mei, on it", true)
        .await
        .unwrap();
    assert_eq!(
        get(&mut admin, &ticket.name).await.followers,
        names(&["li-lei"])
    );
    // Mentioned again: told again, followed once.
    let second = comment(&mut mei, &ticket.name, "@li-lei ping", false)
        .await
        .unwrap();
    let after = get(&mut admin, &ticket.name).await;
    assert_eq!(after.followers, names(&["li-lei"]));

    assert_eq!(
        events(&app, pb::EventType::TicketMentioned, 2).await,
        [
            (ticket.name.clone(), note.name, names(&["li-lei"]), vec![]),
            (ticket.name.clone(), second.name, names(&["li-lei"]), vec![]),
        ]
    );
    assert_eq!(
        audited(&mut admin, &ticket.name, "followers").await,
        [("CreateComment".to_owned(), "agents/li-lei".to_owned())]
    );
}
