//! Rules that apply shared macros: one text kept for agents and automation alike.

use kefu_proto::automation::v1 as pb;
use kefu_proto::common::v1 as common;
use kefu_testkit::{Backend, assert_status, backend_tests};
use tonic::Code;

use crate::helpers::*;
use crate::macros::{create, shared};

backend_tests!(
    a_trigger_applies_a_shared_macro_in_place_as_itself_and_counts_the_use,
    rules_apply_only_shared_macros_and_one_switched_off_or_gone_fails_the_firing,
);

fn apply_macro(name: &str) -> pb::Action {
    pb::Action {
        action: Some(pb::action::Action::ApplyMacro(pb::ApplyMacro {
            r#macro: name.into(),
        })),
    }
}

async fn try_trigger(app: &App, t: pb::Trigger) -> Result<pb::Trigger, tonic::Status> {
    app.admin()
        .create_trigger(pb::CreateTriggerRequest {
            trigger: Some(t),
            request_id: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

fn refund_trigger(macro_name: &str) -> pb::Trigger {
    trigger(
        "Refund requests",
        &[pb::TriggerEvent::TicketCreated],
        vec![condition("text", pb::Operator::Contains, "refund")],
        vec![add_tags(&["auto"]), apply_macro(macro_name)],
    )
}

async fn a_trigger_applies_a_shared_macro_in_place_as_itself_and_counts_the_use(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    let refund = create(
        &mut admin,
        shared(
            "Refund on its way",
            vec![
                reply("{{ requester.name }}, your refund is on its way.", true),
                set_field("priority", "HIGH"),
                add_tags(&["refund"]),
            ],
        ),
    )
    .await
    .expect("create macro");
    let rule = app.create_trigger(refund_trigger(&refund.name)).await;
    let customer = app.customer("Gus", common::Tier::Standard).await;
    let ticket = app.ticket(&customer, "Refund for order 7").await;

    let firings = app.settled_firings(&ticket.name, 1).await;
    assert_eq!(
        firings[0].state,
        pb::FiringState::Applied as i32,
        "{firings:?}"
    );
    let planned: Vec<_> = firings[0]
        .actions
        .iter()
        .filter_map(|a| a.action.clone())
        .collect();
    assert_eq!(
        planned.len(),
        4,
        "the macro's three actions in its place: {planned:?}"
    );
    assert!(
        matches!(&planned[1], pb::action::Action::Reply(r) if r.body == "Gus, your refund is on its way.")
    );

    let after = app.get_ticket(&ticket.name).await;
    assert_eq!(
        after.priority,
        kefu_proto::tickets::v1::TicketPriority::High as i32
    );
    assert!(after.tags.iter().any(|t| t == "auto") && after.tags.iter().any(|t| t == "refund"));
    let replies: Vec<_> = app
        .comments(&ticket.name)
        .await
        .into_iter()
        .filter(|c| c.body == "Gus, your refund is on its way." && c.public)
        .collect();
    assert_eq!(replies.len(), 1);
    app.assert_audited_as(&ticket.name, &rule.name).await;

    let counted = admin
        .get_macro(pb::GetMacroRequest {
            name: refund.name.clone(),
        })
        .await
        .expect("get macro")
        .into_inner();
    assert_eq!(counted.usage_count, 1, "a firing is one use of the macro");
}

async fn rules_apply_only_shared_macros_and_one_switched_off_or_gone_fails_the_firing(
    backend: Backend,
) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    assert_status(
        try_trigger(&app, refund_trigger("refund")).await,
        Code::InvalidArgument,
        &["trigger.actions[1].apply_macro.macro"],
    );
    assert_status(
        try_trigger(&app, refund_trigger("macros/nothing-here")).await,
        Code::FailedPrecondition,
        &[],
    );
    let personal = create(
        &mut app.agent(),
        pb::Macro {
            visibility: pb::MacroVisibility::Personal as i32,
            ..shared("Mine", vec![add_tags(&["mine"])])
        },
    )
    .await
    .expect("a personal macro");
    let refused = assert_status(
        try_trigger(&app, refund_trigger(&personal.name)).await,
        Code::FailedPrecondition,
        &[],
    );
    assert!(refused.message().contains("personal"), "{refused:?}");
    assert_status(
        create(
            &mut admin,
            shared("Nested", vec![apply_macro(&personal.name)]),
        )
        .await,
        Code::InvalidArgument,
        &["macro.actions[0].apply_macro"],
    );

    // A time-based rule may not apply a macro whose follow-up it would act on in turn.
    let visit = create(
        &mut admin,
        shared(
            "Return visit",
            vec![pb::Action {
                action: Some(pb::action::Action::FollowUp(pb::FollowUp {
                    subject: "回访：{{ ticket.subject }}".into(),
                    description: "请电话回访。".into(),
                    group: String::new(),
                    tags: vec!["return-visit".into()],
                })),
            }],
        ),
    )
    .await
    .expect("a macro opening a follow-up");
    let visits = crate::schedules::automation(
        "Return visits",
        pb::TimeSince::Solved,
        "",
        168,
        vec![apply_macro(&visit.name)],
    );
    let refused = assert_status(
        app.try_create_automation(visits.clone()).await,
        Code::FailedPrecondition,
        &[],
    );
    assert!(refused.message().contains("follow-up"), "{refused:?}");
    let mut guarded = visits;
    guarded.all_conditions = vec![condition("tags", pb::Operator::NotIncludes, "return-visit")];
    app.try_create_automation(guarded)
        .await
        .expect("guarded against its own visits, it is kept");

    let refund = create(&mut admin, shared("Refund", vec![add_tags(&["refund"])]))
        .await
        .expect("create macro");
    app.create_trigger(refund_trigger(&refund.name)).await;
    let customer = app.customer("Gus", common::Tier::Standard).await;

    let off = switch_off_macro(&mut admin, &refund.name, &refund.etag).await;
    let while_off = app.ticket(&customer, "Refund, please").await;
    app.failed_firing(&while_off.name, "is not active").await;
    assert!(
        app.get_ticket(&while_off.name).await.tags.is_empty(),
        "nothing applied"
    );

    admin
        .delete_macro(pb::DeleteMacroRequest {
            name: refund.name.clone(),
            etag: off.etag,
        })
        .await
        .expect("delete the macro");
    let once_gone = app.ticket(&customer, "Refund again").await;
    app.failed_firing(&once_gone.name, &format!("{} is gone", refund.name))
        .await;
}
