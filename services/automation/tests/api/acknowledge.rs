use kefu_proto::automation::v1 as pb;
use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as tpb;
use kefu_server::Clock;
use kefu_testkit::{Backend, backend_tests};

use crate::helpers::*;

backend_tests!(new_tickets_are_acknowledged_in_the_requesters_language_with_a_local_due_time,);

/// 2026-12-05 09:00 UTC, a Saturday; the policy below runs around the clock.
const NINE_UTC: i64 = 1_796_461_200_000_000;

async fn new_tickets_are_acknowledged_in_the_requesters_language_with_a_local_due_time(
    backend: Backend,
) {
    let clock = Clock::manual(NINE_UTC);
    let Some(app) = spawn_with(backend, clock, |s| s.acknowledge = true).await else {
        return;
    };
    let installed = eventually("acknowledgements installed", || async {
        let triggers = app
            .admin()
            .list_triggers(pb::ListTriggersRequest::default())
            .await
            .unwrap()
            .into_inner()
            .triggers;
        (triggers.len() == 2).then_some(triggers)
    })
    .await;
    assert!(installed.iter().all(|t| t.active));
    app.tickets_admin()
        .create_sla_policy(tpb::CreateSlaPolicyRequest {
            sla_policy: Some(tpb::SlaPolicy {
                display_name: "Everyone".into(),
                first_response_minutes: 30,
                resolution_minutes: 24 * 60,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let wang = app
        .customer_in("王芳", common::Tier::Vip, "zh-CN", "Asia/Shanghai")
        .await;
    let anna = app
        .customer_in("Anna", common::Tier::Standard, "en-GB", "")
        .await;
    let chinese = app.ticket(&wang, "我要申请退款").await;
    let english = app.ticket(&anna, "Refund please").await;
    for ticket in [&chinese, &english] {
        let firings = app.settled_firings(&ticket.name, 1).await;
        assert_eq!(firings.len(), 1, "one acknowledgement each: {firings:?}");
        assert_eq!(firings[0].state, pb::FiringState::Applied as i32);
    }
    // No person has answered: still NEW, and the first-response target still runs.
    for ticket in [&chinese, &english] {
        let now = app.get_ticket(&ticket.name).await;
        assert_eq!(now.status, tpb::TicketStatus::New as i32);
        let first = now.sla.and_then(|s| s.first_response).unwrap_or_default();
        assert!(
            first.due_time.is_some() && first.achieve_time.is_none(),
            "{first:?}"
        );
    }
    let id = |t: &tpb::Ticket| t.name.trim_start_matches("tickets/").to_owned();
    let public = |comments: Vec<tpb::Comment>| -> Vec<String> {
        comments
            .into_iter()
            .filter(|c| c.public)
            .map(|c| c.body)
            .collect()
    };
    assert_eq!(
        public(app.comments(&chinese.name).await),
        vec![format!(
            "王芳您好，我们已收到您的工单“我要申请退款”（编号 {}）。客服将在 2026-12-05 17:30（Asia/Shanghai）前回复您。",
            id(&chinese)
        )]
    );
    assert_eq!(
        public(app.comments(&english.name).await),
        vec![format!(
            "Hello Anna, we have received your request \"Refund please\" (ticket {}). An agent will answer by 2026-12-05 09:30 (UTC).",
            id(&english)
        )]
    );
}
