//! The outbox under concurrent writers, on both databases: transactions commit in an order other
//! than the one their events were numbered in, some roll back, and readers that drop their
//! stream and resume from the last event they saw at random moments must still see every
//! committed event exactly once, rolled-back ones never, all in one order.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashSet;
use std::time::Duration;

use kefu_db::outbox::{self, NewEvent, Position, StoredEvent};
use kefu_db::{Database, Migrations};
use kefu_testkit::{Backend, TestDatabase, backend_tests};
use tokio_util::sync::CancellationToken;

const WRITERS: usize = 16;
const TRANSACTIONS_PER_WRITER: usize = 40;
const READERS: usize = 4;

/// A small deterministic generator, so a failure can be rerun as it happened.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Writes `TRANSACTIONS_PER_WRITER` transactions of one event each, holding each open for a
/// random moment after the insert (so a later-numbered event often commits first) and rolling
/// back one in five; returns the payloads that committed.
async fn writer(db: Database, index: usize) -> Vec<String> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (index as u64 + 1));
    let mut committed = Vec::new();
    for i in 0..TRANSACTIONS_PER_WRITER {
        let payload = format!("w{index}-{i}");
        let mut tx = db.begin_write().await.unwrap();
        tx.append(NewEvent {
            event_type: "TEST",
            resource: "things/x",
            subject: None,
            payload: payload.clone().into_bytes(),
            event_time: 0,
        })
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(rng.below(4))).await;
        if rng.below(5) == 0 {
            drop(tx);
        } else {
            tx.commit().await.unwrap();
            committed.push(payload);
        }
    }
    committed
}

/// Readers run while the writers write: what a reader has passed is never added to behind it.
async fn every_reader_sees_every_committed_event_once_in_one_order(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await.unwrap() else {
        return;
    };
    let db = Database::connect(&database.url).await.unwrap();
    db.migrate(&Migrations::common(sqlx::migrate::Migrator::DEFAULT))
        .await
        .unwrap();
    // Each reader stops at the first event it sees after the writers are done; by then every
    // committed event must be behind it.
    let done = CancellationToken::new();
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let (db, done) = (db.clone(), done.clone());
            tokio::spawn(async move {
                let mut rng = Rng(0x1234_5678 ^ (r as u64 + 1) << 16);
                let mut seen: Vec<StoredEvent> = Vec::new();
                loop {
                    let after = seen.last().map_or(Position::START, |e| e.position);
                    // Through the cursor's text, as a client resuming would.
                    let after = Position::parse(&after.to_string()).unwrap();
                    let cancel = CancellationToken::new();
                    let mut stream = outbox::tail(db.clone(), after, cancel.clone());
                    let take = 1 + rng.below(25);
                    for _ in 0..take {
                        tokio::select! {
                            next = stream.recv() => seen.push(next.unwrap().unwrap()),
                            () = tokio::time::sleep(Duration::from_millis(200)) => {}
                        }
                    }
                    cancel.cancel();
                    if done.is_cancelled()
                        && seen
                            .last()
                            .is_some_and(|e| e.payload.as_slice() == b"sentinel")
                    {
                        return seen;
                    }
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(writer(db.clone(), w)))
        .collect();
    let mut committed = HashSet::new();
    for w in writers {
        committed.extend(w.await.unwrap());
    }
    let mut tx = db.begin_write().await.unwrap();
    tx.append(NewEvent {
        event_type: "TEST",
        resource: "things/sentinel",
        subject: None,
        payload: b"sentinel".to_vec(),
        event_time: 0,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    done.cancel();
    committed.insert("sentinel".to_owned());
    let mut orders = Vec::new();
    for r in readers {
        let seen = tokio::time::timeout(Duration::from_secs(60), r)
            .await
            .expect("readers reach the sentinel")
            .unwrap();
        let payloads: Vec<String> = seen
            .iter()
            .map(|e| String::from_utf8(e.payload.clone()).unwrap())
            .collect();
        let distinct: HashSet<&String> = payloads.iter().collect();
        assert_eq!(distinct.len(), payloads.len(), "an event was seen twice");
        let missed: Vec<_> = committed.iter().filter(|p| !distinct.contains(p)).collect();
        assert!(
            missed.is_empty(),
            "missed {} events: {missed:?}",
            missed.len()
        );
        assert_eq!(
            distinct.len(),
            committed.len(),
            "a rolled-back event was seen"
        );
        assert!(
            seen.windows(2).all(|w| w[0].position < w[1].position),
            "positions strictly increase"
        );
        orders.push(payloads);
    }
    for order in &orders[1..] {
        assert_eq!(order, &orders[0], "every reader sees the same order");
    }
    db.close().await;
}

backend_tests!(every_reader_sees_every_committed_event_once_in_one_order);
