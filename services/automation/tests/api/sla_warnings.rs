//! "SLA due within N hours": a time-based rule counting down to a ticket's next SLA due time,
//! firing once per due time.

use kefu_proto::automation::v1 as pb;
use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as tpb;
use kefu_server::Clock;
use kefu_testkit::{Backend, backend_tests};

use crate::helpers::*;
use crate::schedules::{HOUR, automation};

backend_tests!(tickets_are_warned_an_hour_before_each_sla_due_time_once,);

const MICROS_PER_HOUR: i64 = 3_600_000_000;

fn within_an_hour() -> pb::Automation {
    automation(
        "SLA due within an hour",
        pb::TimeSince::SlaDueWithin,
        "",
        1,
        vec![
            add_tags(&["sla-soon"]),
            reply("SLA due within the hour: {{ ticket.id }}", false),
        ],
    )
}

impl App {
    /// Waits until the automation service's clock of `ticket` shows `due_micros` as its next
    /// SLA due time (the rule's time is an hour before it).
    async fn sla_due_seen(&self, ticket: &str, due_micros: i64) {
        let rule = within_an_hour();
        eventually(&format!("{ticket} due at {due_micros}"), || async {
            let warn_at = self.due_time_of(&rule, ticket).await;
            (warn_at == Some(due_micros - MICROS_PER_HOUR)).then_some(())
        })
        .await;
    }
}

async fn tickets_are_warned_an_hour_before_each_sla_due_time_once(backend: Backend) {
    let clock = Clock::manual_from_now();
    let Some(app) = spawn_with_clock(backend, clock.clone()).await else {
        return;
    };
    app.tickets_admin()
        .create_sla_policy(tpb::CreateSlaPolicyRequest {
            sla_policy: Some(tpb::SlaPolicy {
                display_name: "Everyone".into(),
                first_response_minutes: 4 * 60,
                resolution_minutes: 24 * 60,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create policy");
    let rule = app.create_automation(within_an_hour()).await;
    let customer = app.customer("王芳", common::Tier::Standard).await;
    let ticket = app.ticket(&customer, "发票开错了").await;
    let created = ticket
        .create_time
        .as_ref()
        .and_then(kefu_server::time::micros_of)
        .expect("create time");
    app.sla_due_seen(&ticket.name, created + 4 * MICROS_PER_HOUR)
        .await;

    // Two hours in: the first response is due in two, not yet within the hour.
    let warned = app
        .fired_after(&clock, 2 * HOUR, &rule.name, &ticket.name)
        .await;
    assert!(warned.is_empty(), "{warned:?}");

    // 3.5 hours in: within the hour, warned once, and not again while it stays so.
    let warned = app
        .fired_after(&clock, HOUR + HOUR / 2, &rule.name, &ticket.name)
        .await;
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert_eq!(warned[0].state, pb::FiringState::Applied as i32);
    assert!(
        app.get_ticket(&ticket.name)
            .await
            .tags
            .contains(&"sla-soon".to_owned())
    );
    let id = ticket.name.trim_start_matches("tickets/");
    let notes = app.comments(&ticket.name).await;
    assert!(
        notes
            .iter()
            .any(|c| !c.public && c.body == format!("SLA due within the hour: {id}")),
        "{notes:?}"
    );
    let warned = app
        .fired_after(&clock, HOUR / 4, &rule.name, &ticket.name)
        .await;
    assert_eq!(warned.len(), 1, "{warned:?}");

    // An agent answers: the first response is met, the resolution (24 h from creation) is due
    // next — a new due time, warned once at 23 hours.
    app.tickets_admin()
        .create_comment(tpb::CreateCommentRequest {
            parent: ticket.name.clone(),
            comment: Some(tpb::Comment {
                body: "我们正在重开发票。".into(),
                public: true,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("agent reply");
    app.sla_due_seen(&ticket.name, created + 24 * MICROS_PER_HOUR)
        .await;
    let warned = app
        .fired_after(&clock, 18 * HOUR, &rule.name, &ticket.name)
        .await;
    assert_eq!(warned.len(), 1, "{warned:?}");
    let warned = app
        .fired_after(&clock, HOUR + HOUR / 2, &rule.name, &ticket.name)
        .await;
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert!(
        warned
            .iter()
            .all(|f| f.state == pb::FiringState::Applied as i32)
    );
    assert_ne!(
        warned[0].source, warned[1].source,
        "one firing per due time"
    );
}
