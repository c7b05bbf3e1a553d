use kefu_proto::automation::v1 as pb;
use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as tpb;
use kefu_testkit::{Backend, backend_tests};

use crate::helpers::*;

backend_tests!(
    a_new_vip_ticket_is_acted_on_as_the_trigger_and_others_are_left_alone,
    a_ping_pong_of_two_triggers_stops_at_the_depth_limit_with_a_note,
    a_refused_action_fails_the_firing_and_is_counted,
);

async fn a_new_vip_ticket_is_acted_on_as_the_trigger_and_others_are_left_alone(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let desk = app
        .tickets_admin()
        .create_group(tpb::CreateGroupRequest {
            group: Some(tpb::Group {
                display_name: "VIP desk".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let trigger = app
        .create_trigger(trigger(
            "VIP refunds",
            &[pb::TriggerEvent::TicketCreated],
            vec![
                condition("requester.tier", pb::Operator::Is, "VIP"),
                condition("text", pb::Operator::Contains, "退款"),
            ],
            vec![
                set_field("priority", "URGENT"),
                add_tags(&["vip-refund"]),
                set_field("group", &desk.name),
                reply(
                    "{{ requester.name }}您好，工单 {{ ticket.id }} 已收到。",
                    true,
                ),
            ],
        ))
        .await;
    let standard = app.customer("Li Lei", common::Tier::Standard).await;
    let vip = app.customer("王芳", common::Tier::Vip).await;
    let plain = app.ticket(&standard, "我要申请退款").await;
    let ticket = app.ticket(&vip, "我要申请退款").await;
    let firings = app.settled_firings(&ticket.name, 1).await;
    assert_eq!(firings.len(), 1);
    let firing = &firings[0];
    assert_eq!(firing.state, pb::FiringState::Applied as i32);
    assert_eq!(firing.applied_actions, 4);
    assert_eq!(firing.depth, 0);
    assert!(
        firing
            .name
            .starts_with(&format!("{}/firings/", trigger.name))
    );
    let after = app.get_ticket(&ticket.name).await;
    assert_eq!(after.priority, tpb::TicketPriority::Urgent as i32);
    assert_eq!(after.tags, vec!["vip-refund".to_owned()]);
    assert_eq!(after.group, desk.name, "routed by the trigger");
    let comments = app.comments(&ticket.name).await;
    let ticket_id = ticket.name.trim_start_matches("tickets/");
    let acknowledgement = comments
        .iter()
        .find(|c| c.public && c.body == format!("王芳您好，工单 {ticket_id} 已收到。"))
        .expect("the reply is on the ticket");
    let principal = format!("automation:{}", trigger.name);
    assert_eq!(acknowledgement.author, principal, "written as the trigger");
    let audits = app
        .tickets_admin()
        .list_ticket_audits(tpb::ListTicketAuditsRequest {
            parent: ticket.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        audits.audits.iter().any(|a| a.actor == principal),
        "the audit names the trigger: {:?}",
        audits.audits
    );
    let stats = app
        .admin()
        .get_trigger(pb::GetTriggerRequest {
            name: trigger.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .stats
        .unwrap_or_default();
    assert_eq!(stats.applied, 1);
    assert!(stats.last_fire_time.is_some());
    // The standard customer's ticket was created first: the stream is in order, so it was
    // evaluated, and left alone, before the VIP ticket fired.
    assert!(app.firings_of(&plain.name).await.is_empty());
    assert_eq!(app.get_ticket(&plain.name).await.tags, Vec::<String>::new());
}

async fn a_ping_pong_of_two_triggers_stops_at_the_depth_limit_with_a_note(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let updated = &[pb::TriggerEvent::TicketUpdated];
    let ping = app
        .create_trigger(trigger(
            "Ping",
            updated,
            vec![condition("tags", pb::Operator::NotIncludes, "ping")],
            vec![add_tags(&["ping"]), remove_tags(&["pong"])],
        ))
        .await;
    let pong = app
        .create_trigger(trigger(
            "Pong",
            updated,
            vec![condition("tags", pb::Operator::Includes, "ping")],
            vec![add_tags(&["pong"]), remove_tags(&["ping"])],
        ))
        .await;
    let customer = app.customer("Gus", common::Tier::Standard).await;
    let ticket = app.ticket(&customer, "Loop me").await;
    app.tickets_admin()
        .update_ticket(tpb::UpdateTicketRequest {
            ticket: Some(tpb::Ticket {
                name: ticket.name.clone(),
                priority: tpb::TicketPriority::High as i32,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["priority".into()],
            }),
            etag: String::new(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let firings = app.settled_firings(&ticket.name, 6).await;
    let mut chain: Vec<(i32, String, i32)> = firings
        .iter()
        .map(|f| {
            (
                f.depth,
                f.name
                    .split("/firings/")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                f.state,
            )
        })
        .collect();
    chain.sort();
    let applied = pb::FiringState::Applied as i32;
    assert_eq!(
        chain,
        vec![
            (0, ping.name.clone(), applied),
            (1, pong.name.clone(), applied),
            (2, ping.name.clone(), applied),
            (3, pong.name.clone(), applied),
            (4, ping.name.clone(), applied),
            (5, pong.name.clone(), pb::FiringState::Skipped as i32),
        ],
        "each trigger reacts only to the other's change, until the limit"
    );
    let note = eventually("the depth-limit note", || async {
        app.comments(&ticket.name)
            .await
            .into_iter()
            .find(|c| !c.public && c.body.contains("loop limit"))
    })
    .await;
    assert!(
        note.body.contains(&pong.name),
        "the note names the trigger: {}",
        note.body
    );
    assert_eq!(
        app.get_ticket(&ticket.name).await.tags,
        vec!["ping".to_owned()]
    );
    // The note is the service's own and fires nothing: after a sentinel ticket is handled, the
    // loop's ticket still has its six firings.
    let sentinel = app.ticket(&customer, "Sentinel").await;
    let marker = app
        .create_trigger(trigger(
            "Marker",
            &[pb::TriggerEvent::TicketCreated],
            vec![],
            vec![add_tags(&["marked"])],
        ))
        .await;
    let later = app.ticket(&customer, "After the marker").await;
    app.settled_firings(&later.name, 1).await;
    assert!(
        app.firings_of(&sentinel.name).await.is_empty(),
        "{marker:?} fires on later events only"
    );
    assert_eq!(app.firings_of(&ticket.name).await.len(), 6);
}

async fn a_refused_action_fails_the_firing_and_is_counted(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let trigger = app
        .create_trigger(trigger(
            "Route to a missing group",
            &[pb::TriggerEvent::TicketCreated],
            vec![],
            vec![set_field("group", "groups/missing"), add_tags(&["never"])],
        ))
        .await;
    let customer = app.customer("Gus", common::Tier::Standard).await;
    let ticket = app.ticket(&customer, "Where does this go").await;
    let firing = app.settled_firings(&ticket.name, 1).await.remove(0);
    assert_eq!(firing.state, pb::FiringState::Failed as i32);
    assert_eq!(
        firing.applied_actions, 0,
        "the actions after a refusal are not applied"
    );
    assert!(
        firing.error.contains("NotFound") || firing.error.contains("FailedPrecondition"),
        "{}",
        firing.error
    );
    assert!(app.get_ticket(&ticket.name).await.tags.is_empty());
    let stats = app
        .admin()
        .get_trigger(pb::GetTriggerRequest { name: trigger.name })
        .await
        .unwrap()
        .into_inner()
        .stats
        .unwrap_or_default();
    assert_eq!((stats.applied, stats.failed), (0, 1));
    assert_eq!(stats.last_error, firing.error);
}
