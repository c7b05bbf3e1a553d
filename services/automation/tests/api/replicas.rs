use kefu_proto::automation::v1 as pb;
use kefu_proto::common::v1 as common;
use kefu_testkit::{Backend, TestDatabase, TestServer, backend_tests};

use crate::helpers::*;

backend_tests!(two_replicas_and_a_restart_fire_each_trigger_once_per_event);

async fn two_replicas_and_a_restart_fire_each_trigger_once_per_event(backend: Backend) {
    let Some(mut app) = spawn(backend).await else {
        return;
    };
    app.create_trigger(trigger(
        "Acknowledge",
        &[pb::TriggerEvent::TicketCreated],
        vec![],
        vec![
            reply("Received: {{ ticket.subject }}", true),
            add_tags(&["acked"]),
        ],
    ))
    .await;
    // The replica shares the database: start it once the first has migrated it.
    let second = TestServer::restart_service::<kefu_automation::AutomationService>(
        TestDatabase::shared(&app.automation.database.url),
        &app.key,
        "127.0.0.1:0".parse().unwrap(),
        kefu_server::Clock::system(),
        automation_settings(&app.tickets, &app.customers),
    )
    .await
    .expect("a second replica starts");
    let customer = app.customer("Gus", common::Tier::Standard).await;
    let mut tickets = Vec::new();
    for i in 0..6 {
        tickets.push(app.ticket(&customer, &format!("Order {i}")).await);
    }
    // One replica restarts mid-stream: it resumes from the stored cursor.
    let addr = app.automation.addr;
    let (stopped, database) = std::mem::replace(&mut app.automation, second)
        .stop_keeping_database()
        .await;
    stopped.expect("the first replica stops cleanly");
    for i in 6..10 {
        tickets.push(app.ticket(&customer, &format!("Order {i}")).await);
    }
    let restarted = TestServer::restart_service::<kefu_automation::AutomationService>(
        database,
        &app.key,
        addr,
        kefu_server::Clock::system(),
        automation_settings(&app.tickets, &app.customers),
    )
    .await
    .expect("the first replica starts again");
    for ticket in &tickets {
        let firings = app.settled_firings(&ticket.name, 1).await;
        assert_eq!(firings.len(), 1, "one firing for {}", ticket.name);
        assert_eq!(firings[0].state, pb::FiringState::Applied as i32);
        let replies: Vec<_> = app
            .comments(&ticket.name)
            .await
            .into_iter()
            .filter(|c| c.body == format!("Received: {}", ticket.subject))
            .collect();
        assert_eq!(replies.len(), 1, "one reply on {}", ticket.name);
    }
    let via_restarted = App::client_of(
        &restarted,
        &kefu_principal::Principal::new("a", kefu_principal::Role::Admin),
    )
    .list_firings(pb::ListFiringsRequest {
        parent: "triggers/-".into(),
        page_size: 100,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(
        via_restarted.firings.len(),
        tickets.len(),
        "each replica reads the same history"
    );
}
