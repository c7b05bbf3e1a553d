use kefu_proto::common::v1 as common;
use kefu_proto::feedback::v1 as pb;
use kefu_proto::tickets::v1 as tpb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    a_complaint_opens_a_complaint_ticket_and_shows_its_resolution,
    suggestions_and_praise_are_received_listed_and_idempotent,
    bad_feedback_is_refused_and_writes_nothing,
    a_complaint_ticket_solved_before_it_was_recorded_still_resolves_the_entry,
);

fn entry(kind: pb::FeedbackKind, text: &str, channel: &str) -> pb::FeedbackEntry {
    pb::FeedbackEntry {
        kind: kind as i32,
        text: text.into(),
        channel: common::Channel::from_str_name(channel).map_or(0, |c| c as i32),
        ..Default::default()
    }
}

async fn send(
    client: &mut Client,
    feedback: pb::FeedbackEntry,
    request_id: &str,
) -> Result<pb::FeedbackEntry, tonic::Status> {
    client
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: Some(feedback),
            request_id: request_id.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn settled(app: &App, name: &str, state: pb::FeedbackState) -> pb::FeedbackEntry {
    eventually(&format!("{name} to be {state:?}"), || async {
        let entry = app
            .admin()
            .get_feedback(pb::GetFeedbackRequest { name: name.into() })
            .await
            .unwrap()
            .into_inner();
        let opened = entry
            .complaint_ticket
            .as_ref()
            .is_some_and(|f| f.state == pb::FollowUpState::Opened as i32);
        (entry.state == state as i32 && opened).then_some(entry)
    })
    .await
}

async fn a_complaint_opens_a_complaint_ticket_and_shows_its_resolution(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Ivy", common::Tier::Standard).await;
    let team = app.team("Logistics", "agent-2").await;
    let about = app
        .open_ticket(
            &customer,
            common::Channel::Email,
            tpb::TicketType::Question,
            &team,
        )
        .await;
    let mut complaint = entry(
        pb::FeedbackKind::Complaint,
        "The courier left my parcel in the rain\nEverything inside is wet.",
        "CHANNEL_WEB",
    );
    complaint.ticket = about.name.clone();
    let received = send(&mut app.customer(&customer), complaint, "")
        .await
        .unwrap();
    assert_eq!(received.customer, format!("customers/{customer}"));
    assert_eq!(received.state, pb::FeedbackState::InProgress as i32);
    let in_progress = settled(&app, &received.name, pb::FeedbackState::InProgress).await;
    let ticket_name = in_progress.complaint_ticket.unwrap().ticket;
    let ticket = app.get_ticket(&ticket_name).await;
    assert_eq!(ticket.r#type, tpb::TicketType::Complaint as i32);
    assert_eq!(ticket.channel, common::Channel::Web as i32);
    assert_eq!(ticket.follow_up_of, about.name);
    assert_eq!(
        ticket.subject,
        "Complaint: The courier left my parcel in the rain"
    );
    assert!(ticket.description.contains("Everything inside is wet."));

    // The team works the complaint; its resolution shows on the entry.
    let mut admin = app.tickets_admin();
    admin
        .assign_ticket(tpb::AssignTicketRequest {
            request_id: String::new(),
            name: ticket_name.clone(),
            assignee: team.1.clone(),
            group: team.0.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    app.solve(&ticket_name).await;
    let resolved = settled(&app, &received.name, pb::FeedbackState::Resolved).await;
    assert!(resolved.resolve_time.is_some());
    app.reopen(&ticket_name).await;
    let reopened = settled(&app, &received.name, pb::FeedbackState::InProgress).await;
    assert!(reopened.resolve_time.is_none());

    let mut stream = app
        .admin()
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut types = Vec::new();
    while !types.contains(&(pb::EventType::FeedbackReopened as i32)) {
        let event = stream.message().await.unwrap().unwrap().event.unwrap();
        if event.resource == received.name {
            assert_eq!(event.kind, "FEEDBACK_KIND_COMPLAINT");
            assert_eq!(event.customer, format!("customers/{customer}"));
            types.push(event.r#type);
        }
    }
    assert_eq!(
        types,
        vec![
            pb::EventType::FeedbackReceived as i32,
            pb::EventType::FollowUpOpened as i32,
            pb::EventType::FeedbackResolved as i32,
            pb::EventType::FeedbackReopened as i32,
        ]
    );
}

async fn suggestions_and_praise_are_received_listed_and_idempotent(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let ann = app.customer_record("Ann", common::Tier::Standard).await;
    let ben = app.customer_record("Ben", common::Tier::Standard).await;
    let suggestion = send(
        &mut app.customer(&ann),
        entry(
            pb::FeedbackKind::Suggestion,
            "Open on Sundays",
            "CHANNEL_CHAT",
        ),
        "form-1",
    )
    .await
    .unwrap();
    assert_eq!(suggestion.state, pb::FeedbackState::Received as i32);
    assert!(suggestion.complaint_ticket.is_none());
    // A retry returns the same entry; the same id with other content is refused.
    let retry = send(
        &mut app.customer(&ann),
        entry(
            pb::FeedbackKind::Suggestion,
            "Open on Sundays",
            "CHANNEL_CHAT",
        ),
        "form-1",
    )
    .await
    .unwrap();
    assert_eq!(retry.name, suggestion.name);
    assert_status(
        send(
            &mut app.customer(&ann),
            entry(
                pb::FeedbackKind::Suggestion,
                "Open on Mondays",
                "CHANNEL_CHAT",
            ),
            "form-1",
        )
        .await,
        Code::AlreadyExists,
        &[],
    );
    // An integration (a contact form) sends praise for Ben.
    let mut praise = entry(pb::FeedbackKind::Praise, "Lovely staff", "CHANNEL_SOCIAL");
    praise.customer = format!("customers/{ben}");
    send(&mut app.integration(), praise, "").await.unwrap();

    let list = |client: &mut Client, request: pb::ListFeedbackRequest| {
        let mut client = client.clone();
        async move {
            client
                .list_feedback(request)
                .await
                .unwrap()
                .into_inner()
                .feedback
        }
    };
    assert_eq!(list(&mut app.agent(), Default::default()).await.len(), 2);
    let praise_only = list(
        &mut app.agent(),
        pb::ListFeedbackRequest {
            kind: pb::FeedbackKind::Praise as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(praise_only.len(), 1);
    assert_eq!(praise_only[0].text, "Lovely staff");
    // A customer sees only its own, whatever it asks for.
    let own = list(
        &mut app.customer(&ann),
        pb::ListFeedbackRequest {
            customer: format!("customers/{ben}"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].name, suggestion.name);
    assert_status(
        app.customer(&ben)
            .get_feedback(pb::GetFeedbackRequest {
                name: suggestion.name.clone(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    // Pages: one per page, newest first, and no entry twice.
    let first = app
        .admin()
        .list_feedback(pb::ListFeedbackRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.feedback[0].text, "Lovely staff");
    let second = app
        .admin()
        .list_feedback(pb::ListFeedbackRequest {
            page_size: 1,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.feedback[0].name, suggestion.name);
    assert!(second.next_page_token.is_empty());
    assert_status(
        app.admin()
            .list_feedback(pb::ListFeedbackRequest {
                page_size: 1,
                page_token: first.next_page_token,
                kind: pb::FeedbackKind::Complaint as i32,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        &["page_token"],
    );
}

async fn bad_feedback_is_refused_and_writes_nothing(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let cal = app.customer_record("Cal", common::Tier::Standard).await;
    let dee = app.customer_record("Dee", common::Tier::Standard).await;
    let team = app.team("Support", "agent-1").await;
    let dees_ticket = app
        .open_ticket(
            &dee,
            common::Channel::Email,
            tpb::TicketType::Question,
            &team,
        )
        .await;
    let mut customer = app.customer(&cal);
    assert_status(
        send(&mut customer, pb::FeedbackEntry::default(), "").await,
        Code::InvalidArgument,
        &["feedback.kind", "feedback.text", "feedback.channel"],
    );
    assert_status(
        send(
            &mut customer,
            entry(
                pb::FeedbackKind::Complaint,
                &"x".repeat(10_001),
                "CHANNEL_WEB",
            ),
            "",
        )
        .await,
        Code::InvalidArgument,
        &["feedback.text"],
    );
    assert_status(
        send(
            &mut customer,
            entry(pb::FeedbackKind::Complaint, "Rude", "PIGEON"),
            "",
        )
        .await,
        Code::InvalidArgument,
        &["feedback.channel"],
    );
    assert_status(
        send(
            &mut customer,
            pb::FeedbackEntry {
                kind: 42,
                ..entry(pb::FeedbackKind::Complaint, "Rude", "CHANNEL_WEB")
            },
            "",
        )
        .await,
        Code::InvalidArgument,
        &["feedback.kind"],
    );
    // A customer speaks only for itself, and only about its own tickets.
    let mut as_dee = entry(pb::FeedbackKind::Complaint, "Rude", "CHANNEL_WEB");
    as_dee.customer = format!("customers/{dee}");
    assert_status(
        send(&mut customer, as_dee, "").await,
        Code::PermissionDenied,
        &[],
    );
    let mut about_dees = entry(pb::FeedbackKind::Complaint, "Rude", "CHANNEL_WEB");
    about_dees.ticket = dees_ticket.name.clone();
    assert_status(
        send(&mut customer, about_dees.clone(), "").await,
        Code::NotFound,
        &[],
    );
    // An integration may name the customer, but the ticket must be that customer's.
    about_dees.customer = format!("customers/{cal}");
    assert_status(
        send(&mut app.integration(), about_dees, "").await,
        Code::FailedPrecondition,
        &[],
    );
    let mut unknown = entry(pb::FeedbackKind::Praise, "Great", "CHANNEL_WEB");
    unknown.customer = "customers/nobody".into();
    assert_status(
        send(&mut app.integration(), unknown, "").await,
        Code::NotFound,
        &[],
    );
    assert_status(
        send(
            &mut app.integration(),
            entry(pb::FeedbackKind::Praise, "Great", "CHANNEL_WEB"),
            "",
        )
        .await,
        Code::InvalidArgument,
        &["feedback.customer"],
    );
    let stored = app
        .admin()
        .list_feedback(pb::ListFeedbackRequest::default())
        .await
        .unwrap()
        .into_inner()
        .feedback;
    assert!(stored.is_empty(), "{stored:#?}");
    assert_eq!(app.tickets_of(&cal).await.len(), 0);
}

/// The worker opened the complaint's ticket and the service stopped before recording it; while
/// it was down the team solved the ticket, and the tickets event saying so was consumed before the
/// retried open recorded the ticket. The answer to the retried open carries the status.
async fn a_complaint_ticket_solved_before_it_was_recorded_still_resolves_the_entry(
    backend: Backend,
) {
    let Some(mut app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Lou", common::Tier::Standard).await;
    let team = app.team("Support", "agent-1").await;
    let (tickets_db, tickets_addr) = app.stop_tickets().await;
    let entry = send(
        &mut app.customer(&customer),
        entry(
            pb::FeedbackKind::Complaint,
            "Broken on arrival",
            "CHANNEL_EMAIL",
        ),
        "",
    )
    .await
    .unwrap();
    let (feedback_db, feedback_addr) = app.stop_feedback().await;
    app.start_tickets(tickets_db, tickets_addr).await;

    // What the worker did before the stop: open the ticket, with the queued request id.
    let queued = {
        let db = kefu_db::Database::connect(&feedback_db.url).await.unwrap();
        let mut conn = db.read().await.unwrap();
        kefu_feedback::store::due_follow_ups(
            &mut conn,
            kefu_feedback::domain::kinds::FollowUpState::Pending,
            i64::MAX,
            10,
        )
        .await
        .unwrap()
    };
    assert_eq!(queued.len(), 1);
    let tickets =
        kefu_feedback::remote::tickets::Tickets::new(&format!("http://{tickets_addr}")).unwrap();
    let opened = tickets.open(&app.key, &queued[0]).await.unwrap();
    assert_eq!(opened.status, "TICKET_STATUS_NEW");
    // The team works it while the feedback service is down.
    app.tickets_admin()
        .assign_ticket(tpb::AssignTicketRequest {
            request_id: String::new(),
            name: opened.name.clone(),
            assignee: team.1.clone(),
            group: team.0.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    app.solve(&opened.name).await;
    // The consumer got past the SOLVED event before the ticket was recorded as the complaint's.
    let mut events = app
        .tickets_admin()
        .watch_events(tpb::WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let solved_cursor = loop {
        let event = events.message().await.unwrap().unwrap().event.unwrap();
        if event.r#type == tpb::EventType::TicketSolved as i32 && event.resource == opened.name {
            break event.cursor;
        }
    };
    {
        let db = kefu_db::Database::connect(&feedback_db.url).await.unwrap();
        let mut tx = db.begin_write().await.unwrap();
        kefu_db::cursors::set(&mut tx, "tickets", &solved_cursor, 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        db.close().await;
    }

    app.start_feedback(feedback_db, feedback_addr).await;
    let resolved = settled(&app, &entry.name, pb::FeedbackState::Resolved).await;
    assert_eq!(resolved.complaint_ticket.unwrap().ticket, opened.name);
    assert!(resolved.resolve_time.is_some());
    // The retried open found the same ticket: still one.
    assert_eq!(app.tickets_of(&customer).await.len(), 1);
}
