//! The firing queue as the workers of several replicas see it.

use kefu_automation::domain::firing::{FiringRecord, FiringState};
use kefu_automation::domain::trigger::RuleKind;
use kefu_automation::store;
use kefu_db::Database;
use kefu_server::kit::Service;
use kefu_testkit::{Backend, TestDatabase, backend_tests};

backend_tests!(a_firing_another_worker_leased_is_due_only_when_its_lease_runs_out);

fn pending_firing(id: &str, due: i64) -> FiringRecord {
    FiringRecord {
        id: id.to_owned(),
        rule: RuleKind::Trigger,
        trigger_id: "t1".to_owned(),
        trigger_name: "Acknowledge".to_owned(),
        ticket_id: format!("ticket-{id}"),
        source: format!("tickets:{id}"),
        event: None,
        rank: 0,
        state: FiringState::Pending,
        final_state: FiringState::Applied,
        actions: Vec::new(),
        applied_actions: 0,
        depth: 0,
        error: String::new(),
        attempts: 0,
        next_attempt_time: due,
        create_time: due,
        update_time: due,
    }
}

/// A worker waits for a firing it cannot lease instead of polling the queue in a tight loop
/// while another replica works it.
async fn a_firing_another_worker_leased_is_due_only_when_its_lease_runs_out(backend: Backend) {
    let Some(database) = TestDatabase::create(backend)
        .await
        .expect("a test database")
    else {
        return;
    };
    let db = Database::connect(&database.url).await.expect("connects");
    db.migrate(&kefu_automation::AutomationService::migrations())
        .await
        .expect("migrates");
    let mut conn = db.read().await.expect("a connection");
    let (now, lease_end) = (1_000_000_i64, 61_000_000_i64);
    assert_eq!(store::next_due_time(&mut conn).await.unwrap(), None);
    for (id, due) in [("a", now - 5), ("b", now + 30_000_000)] {
        assert!(
            store::insert_firing(&mut conn, &pending_firing(id, due))
                .await
                .unwrap()
        );
    }
    assert_eq!(
        store::next_due_time(&mut conn).await.unwrap(),
        Some(now - 5)
    );

    assert!(
        store::lease_firing(&mut conn, "a", now, lease_end)
            .await
            .unwrap()
    );
    assert!(
        !store::lease_firing(&mut conn, "a", now + 1, lease_end + 1)
            .await
            .unwrap(),
        "a leased firing is not leased twice"
    );
    let due: Vec<String> = store::due_firings(&mut conn, now + 1, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert!(due.is_empty(), "nothing is due while leased: {due:?}");
    assert_eq!(
        store::next_due_time(&mut conn).await.unwrap(),
        Some(now + 30_000_000),
        "the next firing due is the unleased one, not the leased one"
    );
    let due: Vec<String> = store::due_firings(&mut conn, lease_end, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(
        due,
        ["a", "b"],
        "a lease that ran out frees the firing, oldest first"
    );
    drop(conn);
    db.close().await;
}
