use std::collections::HashSet;
use std::time::Duration;

use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as pb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    events_stream_in_commit_order_with_details,
    a_watcher_that_reconnects_misses_nothing_and_sees_nothing_twice,
    a_live_watcher_is_woken_by_new_commits,
    bad_cursors_are_rejected,
    shutdown_ends_open_streams,
);

async fn next_event(stream: &mut tonic::Streaming<pb::WatchEventsResponse>) -> pb::Event {
    tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("an event arrives within 10 s")
        .expect("the stream is healthy")
        .expect("the stream is open")
        .event
        .expect("the message carries an event")
}

async fn events_stream_in_commit_order_with_details(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let a = create(&mut admin, person("A", "a@example.com")).await;
    let b = create(&mut admin, person("B", "b@example.com")).await;
    admin
        .update_customer(pb::UpdateCustomerRequest {
            customer: Some(pb::Customer {
                name: a.name.clone(),
                display_name: "A2".into(),
                tier: common::Tier::Gold as i32,
                ..Default::default()
            }),
            update_mask: mask(&["display_name", "tier"]),
            etag: String::new(),
        })
        .await
        .unwrap();
    admin
        .merge_customers(pb::MergeCustomersRequest {
            request_id: String::new(),
            source: b.name.clone(),
            target: a.name.clone(),
            source_etag: String::new(),
        })
        .await
        .unwrap();
    let mut stream = app
        .integration()
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let events = [
        next_event(&mut stream).await,
        next_event(&mut stream).await,
        next_event(&mut stream).await,
        next_event(&mut stream).await,
    ];
    let types: Vec<i32> = events.iter().map(|e| e.r#type).collect();
    assert_eq!(
        types,
        vec![
            pb::EventType::CustomerCreated as i32,
            pb::EventType::CustomerCreated as i32,
            pb::EventType::CustomerUpdated as i32,
            pb::EventType::CustomerMerged as i32,
        ]
    );
    assert_eq!(events[2].changed_fields, vec!["display_name", "tier"]);
    assert_eq!(events[2].actor, "admin-1");
    assert_eq!(events[3].resource, b.name);
    assert_eq!(events[3].related, a.name);
    // Cursors are opaque to clients; in the stream's own terms they strictly increase.
    let cursors: Vec<kefu_db::outbox::Position> = events
        .iter()
        .map(|e| kefu_db::outbox::Position::parse(&e.cursor).unwrap())
        .collect();
    assert!(
        cursors.windows(2).all(|w| w[0] < w[1]),
        "cursors increase: {cursors:?}"
    );
    // Resuming after the second event yields the third next.
    let mut resumed = app
        .integration()
        .watch_events(pb::WatchEventsRequest {
            after_cursor: events[1].cursor.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next_event(&mut resumed).await, events[2]);
}

async fn a_watcher_that_reconnects_misses_nothing_and_sees_nothing_twice(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 25;
    // Writers commit concurrently while the watcher drops and resumes its stream.
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let mut client = app.agent();
        writers.push(tokio::spawn(async move {
            let mut names = Vec::new();
            for i in 0..PER_WRITER {
                names.push(
                    create(
                        &mut client,
                        person(&format!("W{w} #{i}"), &format!("w{w}-{i}@example.com")),
                    )
                    .await
                    .name,
                );
            }
            names
        }));
    }
    let mut seen: Vec<String> = Vec::new();
    let mut cursor = String::new();
    let mut reconnects = 0;
    while seen.len() < WRITERS * PER_WRITER {
        let mut stream = app
            .integration()
            .watch_events(pb::WatchEventsRequest {
                after_cursor: cursor.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        // Take a few events, then hang up as a crashing consumer would.
        for _ in 0..7 {
            if seen.len() == WRITERS * PER_WRITER {
                break;
            }
            let event = next_event(&mut stream).await;
            cursor = event.cursor.clone();
            seen.push(event.resource);
        }
        drop(stream);
        reconnects += 1;
    }
    let mut created = Vec::new();
    for writer in writers {
        created.extend(writer.await.unwrap());
    }
    assert!(reconnects > 5, "the watcher reconnected {reconnects} times");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no event was seen twice");
    assert_eq!(
        unique,
        created.iter().collect::<HashSet<_>>(),
        "every committed change was seen"
    );
}

async fn a_live_watcher_is_woken_by_new_commits(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut stream = app
        .integration()
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut admin = app.admin();
    let c = create(&mut admin, person("Late", "late@example.com")).await;
    let event = next_event(&mut stream).await;
    assert_eq!(event.resource, c.name);
    admin
        .record_purchase(pb::RecordPurchaseRequest {
            parent: c.name.clone(),
            purchase: Some(pb::Purchase {
                product: "P".into(),
                quantity: 1,
                currency_code: "USD".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let event = next_event(&mut stream).await;
    assert_eq!(event.r#type, pb::EventType::PurchaseRecorded as i32);
    assert_eq!(event.customer, c.name);
}

async fn bad_cursors_are_rejected(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut integration = app.integration();
    for cursor in ["abc", "-5", "1.5"] {
        let result = integration
            .watch_events(pb::WatchEventsRequest {
                after_cursor: cursor.into(),
            })
            .await;
        assert_status(result.map(|_| ()), Code::InvalidArgument, &["after_cursor"]);
    }
}

async fn shutdown_ends_open_streams(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut stream = app
        .integration()
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    create(&mut app.admin(), person("A", "a@example.com")).await;
    next_event(&mut stream).await;
    // Graceful shutdown must not wait forever for the open stream.
    app.server
        .stop()
        .await
        .expect("the server stops cleanly while a watcher is connected");
    let end = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("the stream ends");
    assert!(matches!(end, Ok(None) | Err(_)));
}
