//! Lifecycle care: rules that change the requester's customer record (stage, tags) through the
//! customers service.

use kefu_proto::automation::v1 as pb;
use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as cpb;
use kefu_proto::tickets::v1 as tpb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    a_vips_first_ticket_makes_them_loyal_and_tagged_once_and_a_repeat_changes_nothing,
    a_requester_who_is_gone_fails_the_firing_with_the_reason,
    bad_requester_changes_are_refused_naming_the_part_and_macros_refuse_them,
);

fn update_requester(stage: common::LifecycleStage, add: &[&str], remove: &[&str]) -> pb::Action {
    pb::Action {
        action: Some(pb::action::Action::UpdateRequester(pb::UpdateRequester {
            lifecycle_stage: stage as i32,
            add_tags: add.iter().map(|t| (*t).to_owned()).collect(),
            remove_tags: remove.iter().map(|t| (*t).to_owned()).collect(),
            customer: String::new(),
        })),
    }
}

impl App {
    async fn get_customer(&self, id: &str) -> cpb::Customer {
        self.customers_admin()
            .get_customer(cpb::GetCustomerRequest {
                name: format!("customers/{id}"),
            })
            .await
            .expect("get customer")
            .into_inner()
    }

    async fn tag_customer(&self, id: &str, tags: &[&str]) {
        self.customers_admin()
            .update_customer(cpb::UpdateCustomerRequest {
                customer: Some(cpb::Customer {
                    name: format!("customers/{id}"),
                    tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["tags".into()],
                }),
                etag: String::new(),
            })
            .await
            .expect("tag customer");
    }
}

async fn a_vips_first_ticket_makes_them_loyal_and_tagged_once_and_a_repeat_changes_nothing(
    backend: Backend,
) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    app.create_trigger(trigger(
        "VIP care",
        &[pb::TriggerEvent::TicketCreated],
        vec![condition("requester.tier", pb::Operator::Is, "VIP")],
        vec![update_requester(
            common::LifecycleStage::Loyal,
            &["vip-care"],
            &["prospect"],
        )],
    ))
    .await;
    let vip = app.customer("王芳 Wang Fang", common::Tier::Vip).await;
    app.tag_customer(&vip, &["prospect", "newsletter"]).await;
    let standard = app.customer("Gus", common::Tier::Standard).await;

    let first = app.ticket(&vip, "发票抬头错了").await;
    let firings = app.settled_firings(&first.name, 1).await;
    assert_eq!(
        firings[0].state,
        pb::FiringState::Applied as i32,
        "{firings:?}"
    );
    let Some(pb::action::Action::UpdateRequester(planned)) = &firings[0].actions[0].action else {
        panic!("the firing plans the requester change: {firings:?}");
    };
    assert_eq!(
        planned.customer,
        format!("customers/{vip}"),
        "the firing names whom it changes"
    );
    let cared = app.get_customer(&vip).await;
    assert_eq!(cared.lifecycle_stage, common::LifecycleStage::Loyal as i32);
    assert_eq!(
        cared.tags,
        ["newsletter", "vip-care"],
        "prospect removed, vip-care added"
    );

    // The second ticket's firing finds the customer already so: applied, nothing rewritten.
    let second = app.ticket(&vip, "再开一张发票").await;
    let firings = app.settled_firings(&second.name, 1).await;
    assert_eq!(
        firings[0].state,
        pb::FiringState::Applied as i32,
        "{firings:?}"
    );
    let again = app.get_customer(&vip).await;
    assert_eq!(again.etag, cared.etag, "a repeat changes nothing");
    assert_eq!(again.update_time, cared.update_time);

    // The conditions still decide: a standard customer's ticket changes nobody.
    let other = app.ticket(&standard, "Where is my order?").await;
    let probe = app
        .ticket(
            &vip,
            "a later ticket, so the stream has passed the one before",
        )
        .await;
    app.settled_firings(&probe.name, 1).await;
    assert!(app.firings_of(&other.name).await.is_empty());
    let untouched = app.get_customer(&standard).await;
    assert_eq!(
        untouched.lifecycle_stage,
        common::LifecycleStage::New as i32
    );
    assert!(untouched.tags.is_empty());
}

async fn a_requester_who_is_gone_fails_the_firing_with_the_reason(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    app.create_trigger(trigger(
        "Escalated customers are at risk",
        &[pb::TriggerEvent::TicketUpdated],
        vec![condition("priority", pb::Operator::Is, "URGENT")],
        vec![
            update_requester(common::LifecycleStage::AtRisk, &[], &[]),
            add_tags(&["not-reached"]),
        ],
    ))
    .await;
    let customer = app.customer("Gus", common::Tier::Standard).await;
    let ticket = app.ticket(&customer, "Broken again").await;
    app.customers_admin()
        .delete_customer(cpb::DeleteCustomerRequest {
            name: format!("customers/{customer}"),
            etag: String::new(),
        })
        .await
        .expect("delete customer");
    app.tickets_admin()
        .update_ticket(tpb::UpdateTicketRequest {
            ticket: Some(tpb::Ticket {
                name: ticket.name.clone(),
                priority: tpb::TicketPriority::Urgent as i32,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["priority".into()],
            }),
            ..Default::default()
        })
        .await
        .expect("escalate");
    let firing = app
        .failed_firing(&ticket.name, &format!("customers/{customer} is gone"))
        .await;
    assert_eq!(firing.applied_actions, 0);
    let after = app.get_ticket(&ticket.name).await;
    assert!(
        !after.tags.iter().any(|t| t == "not-reached"),
        "actions after a refused one are not applied"
    );
}

async fn bad_requester_changes_are_refused_naming_the_part_and_macros_refuse_them(
    backend: Backend,
) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let create = |action: pb::Action| {
        let mut admin = admin.clone();
        async move {
            admin
                .create_trigger(pb::CreateTriggerRequest {
                    trigger: Some(trigger(
                        "Care",
                        &[pb::TriggerEvent::TicketCreated],
                        vec![],
                        vec![action],
                    )),
                    request_id: String::new(),
                })
                .await
        }
    };
    let unspecified = common::LifecycleStage::Unspecified;
    assert_status(
        create(update_requester(unspecified, &[], &[])).await,
        Code::InvalidArgument,
        &["trigger.actions[0].update_requester"],
    );
    assert_status(
        create(update_requester(unspecified, &["vip"], &["vip"])).await,
        Code::InvalidArgument,
        &["trigger.actions[0].update_requester.remove_tags"],
    );
    assert_status(
        create(update_requester(unspecified, &["no spaces"], &[])).await,
        Code::InvalidArgument,
        &["trigger.actions[0].update_requester.add_tags[0]"],
    );
    let mut bad_stage = update_requester(unspecified, &[], &[]);
    if let Some(pb::action::Action::UpdateRequester(change)) = &mut bad_stage.action {
        change.lifecycle_stage = 99;
    }
    assert_status(
        create(bad_stage).await,
        Code::InvalidArgument,
        &["trigger.actions[0].update_requester.lifecycle_stage"],
    );
    assert_status(
        admin
            .create_macro(pb::CreateMacroRequest {
                r#macro: Some(pb::Macro {
                    display_name: "Mark at risk".into(),
                    active: true,
                    visibility: pb::MacroVisibility::Shared as i32,
                    actions: vec![update_requester(common::LifecycleStage::AtRisk, &[], &[])],
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
        &["macro.actions[0].update_requester"],
    );
    let listed = admin
        .list_triggers(pb::ListTriggersRequest::default())
        .await
        .expect("list triggers")
        .into_inner();
    assert!(listed.triggers.is_empty(), "nothing was stored: {listed:?}");
}
