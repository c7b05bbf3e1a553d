use kefu_principal::Principal;
use kefu_proto::automation::v1 as pb;
use kefu_proto::common::v1 as common;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    triggers_are_created_read_listed_in_order_changed_and_deleted,
    bad_triggers_are_refused_naming_the_part_and_nothing_is_stored,
    only_admins_configure_and_customers_read_nothing,
    a_dry_run_shows_the_conditions_and_the_rendered_actions_and_writes_nothing,
);

fn vip_refund() -> pb::Trigger {
    trigger(
        "VIP refunds",
        &[pb::TriggerEvent::TicketCreated],
        vec![condition("requester.tier", pb::Operator::Is, "VIP")],
        vec![set_field("priority", "URGENT"), add_tags(&["vip-refund"])],
    )
}

async fn triggers_are_created_read_listed_in_order_changed_and_deleted(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let request = pb::CreateTriggerRequest {
        trigger: Some(pb::Trigger {
            position: 5,
            ..vip_refund()
        }),
        request_id: "create-vip".into(),
    };
    let first = admin
        .create_trigger(request.clone())
        .await
        .unwrap()
        .into_inner();
    let again = admin.create_trigger(request).await.unwrap().into_inner();
    assert_eq!(first, again, "a retried create answers the first trigger");
    let early = app
        .create_trigger(trigger(
            "Early",
            &[pb::TriggerEvent::TicketUpdated],
            vec![],
            vec![add_tags(&["seen"])],
        ))
        .await;
    let got = admin
        .get_trigger(pb::GetTriggerRequest {
            name: first.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, first);
    assert_eq!(got.stats.as_ref().map(|s| s.applied), Some(0));
    let list = admin
        .list_triggers(pb::ListTriggersRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.triggers.len(), 1);
    assert_eq!(list.triggers[0].name, early.name, "position 0 comes first");
    let rest = admin
        .list_triggers(pb::ListTriggersRequest {
            page_size: 1,
            page_token: list.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.triggers[0].name, first.name);
    let updated = admin
        .update_trigger(pb::UpdateTriggerRequest {
            trigger: Some(pb::Trigger {
                name: first.name.clone(),
                active: false,
                display_name: "ignored: not in the mask".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["active".into()],
            }),
            etag: first.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!updated.active);
    assert_eq!(updated.display_name, "VIP refunds");
    assert_ne!(updated.etag, first.etag);
    let stale = admin
        .update_trigger(pb::UpdateTriggerRequest {
            trigger: Some(pb::Trigger {
                name: first.name.clone(),
                active: true,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["active".into()],
            }),
            etag: first.etag.clone(),
        })
        .await;
    assert_status(stale, Code::Aborted, &[]);
    let active_only = admin
        .list_triggers(pb::ListTriggersRequest {
            active_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(active_only.triggers.len(), 1);
    admin
        .delete_trigger(pb::DeleteTriggerRequest {
            name: first.name.clone(),
            etag: updated.etag,
        })
        .await
        .unwrap();
    let gone = admin
        .get_trigger(pb::GetTriggerRequest { name: first.name })
        .await;
    assert_status(gone, Code::NotFound, &[]);
}

async fn bad_triggers_are_refused_naming_the_part_and_nothing_is_stored(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let bad = pb::Trigger {
        display_name: String::new(),
        events: vec![],
        all_conditions: vec![
            condition("colour", pb::Operator::Is, "red"),
            condition("tags", pb::Operator::Is, "vip"),
            condition("priority", pb::Operator::Is, "SUPER"),
            condition("group", pb::Operator::Is, "support"),
        ],
        any_conditions: vec![condition("assignee", pb::Operator::Present, "agents/a")],
        actions: vec![
            set_field("priority", "SUPER"),
            set_field("tags", "x"),
            set_field("status", "CLOSED"),
            add_tags(&["Not A Tag!"]),
            reply("Hello {{ requester.email }}", true),
            reply("Hello {{ requester.name ", true),
            pb::Action { action: None },
        ],
        ..Default::default()
    };
    let refused = admin
        .create_trigger(pb::CreateTriggerRequest {
            trigger: Some(bad),
            request_id: String::new(),
        })
        .await;
    let status = assert_status(
        refused,
        Code::InvalidArgument,
        &[
            "trigger.display_name",
            "trigger.events",
            "trigger.all_conditions[0].field",
            "trigger.all_conditions[1].operator",
            "trigger.all_conditions[2].value",
            "trigger.all_conditions[3].value",
            "trigger.any_conditions[0].value",
            "trigger.actions[0].set_field.value",
            "trigger.actions[1].set_field.field",
            "trigger.actions[2].set_field.value",
            "trigger.actions[3].add_tags.tags[0]",
            "trigger.actions[4].reply.body",
            "trigger.actions[5].reply.body",
            "trigger.actions[6]",
        ],
    );
    assert!(
        status.message().contains("unknown placeholder"),
        "{}",
        status.message()
    );
    let no_actions = admin
        .create_trigger(pb::CreateTriggerRequest {
            trigger: Some(pb::Trigger {
                actions: vec![],
                ..vip_refund()
            }),
            request_id: String::new(),
        })
        .await;
    assert_status(no_actions, Code::InvalidArgument, &["trigger.actions"]);
    let listed = admin
        .list_triggers(pb::ListTriggersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.triggers.is_empty(), "nothing stored");
    let stored = app.create_trigger(vip_refund()).await;
    let bad_update = admin
        .update_trigger(pb::UpdateTriggerRequest {
            trigger: Some(pb::Trigger {
                name: stored.name.clone(),
                events: vec![99],
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["events".into(), "name".into()],
            }),
            etag: String::new(),
        })
        .await;
    assert_status(bad_update, Code::InvalidArgument, &["update_mask"]);
    let bad_event = admin
        .update_trigger(pb::UpdateTriggerRequest {
            trigger: Some(pb::Trigger {
                name: stored.name.clone(),
                events: vec![99],
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["events".into()],
            }),
            etag: String::new(),
        })
        .await;
    assert_status(bad_event, Code::InvalidArgument, &["trigger.events[0]"]);
    let unchanged = admin
        .get_trigger(pb::GetTriggerRequest { name: stored.name })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        unchanged.etag, stored.etag,
        "a refused update changes nothing"
    );
}

async fn only_admins_configure_and_customers_read_nothing(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let denied = app
        .agent()
        .create_trigger(pb::CreateTriggerRequest {
            trigger: Some(vip_refund()),
            request_id: String::new(),
        })
        .await;
    assert_status(denied, Code::PermissionDenied, &[]);
    let stored = app.create_trigger(vip_refund()).await;
    let read = app
        .agent()
        .get_trigger(pb::GetTriggerRequest {
            name: stored.name.clone(),
        })
        .await;
    assert!(read.is_ok(), "agents read triggers");
    let customer = app
        .client(&Principal::customer("c1"))
        .get_trigger(pb::GetTriggerRequest { name: stored.name })
        .await;
    assert_status(customer, Code::PermissionDenied, &[]);
}

async fn a_dry_run_shows_the_conditions_and_the_rendered_actions_and_writes_nothing(
    backend: Backend,
) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer("王芳", common::Tier::Vip).await;
    let ticket = app.ticket(&customer, "我要申请退款").await;
    let test = |trigger: pb::Trigger| pb::TestTriggerRequest {
        trigger: Some(trigger),
        ticket: ticket.name.clone(),
        ..Default::default()
    };
    let mut candidate = vip_refund();
    candidate
        .all_conditions
        .push(condition("text", pb::Operator::Contains, "退款"));
    candidate.any_conditions = vec![
        condition("channel", pb::Operator::Is, "EMAIL"),
        condition("channel", pb::Operator::Is, "WEB"),
    ];
    candidate.actions.push(reply(
        "{{ requester.name }}，工单 {{ ticket.id }} 已收到",
        true,
    ));
    let run = app
        .agent()
        .test_trigger(test(candidate))
        .await
        .unwrap()
        .into_inner();
    assert!(run.matched);
    assert_eq!(
        run.conditions
            .iter()
            .map(|c| (c.all, c.holds))
            .collect::<Vec<_>>(),
        vec![(true, true), (true, true), (false, false), (false, true)]
    );
    let ticket_id = ticket.name.trim_start_matches("tickets/");
    assert_eq!(
        run.actions[2],
        reply(&format!("王芳，工单 {ticket_id} 已收到"), true)
    );
    let mut standard_only = vip_refund();
    standard_only.all_conditions = vec![condition("requester.tier", pb::Operator::Is, "STANDARD")];
    let run = app
        .admin()
        .test_trigger(test(standard_only))
        .await
        .unwrap()
        .into_inner();
    assert!(!run.matched);
    let stored = app.create_trigger(vip_refund()).await;
    let by_name = app
        .admin()
        .test_trigger(pb::TestTriggerRequest {
            name: stored.name,
            ticket: ticket.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(by_name.matched);
    let after = app.get_ticket(&ticket.name).await;
    assert_eq!(after.etag, ticket.etag, "a dry run changes nothing");
    let missing = app
        .admin()
        .test_trigger(pb::TestTriggerRequest {
            trigger: Some(vip_refund()),
            ticket: "tickets/nope".into(),
            ..Default::default()
        })
        .await;
    assert_status(missing, Code::NotFound, &[]);
}
