//! Return visits (回访): a time-based rule opening a follow-up ticket a week after a VIP's solve.

use kefu_proto::automation::v1 as pb;
use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as tpb;
use kefu_server::Clock;
use kefu_testkit::{Backend, backend_tests};

use crate::helpers::*;
use crate::schedules::{HOUR, automation};

backend_tests!(
    a_week_after_a_vip_solve_one_return_visit_is_opened_and_never_one_for_the_visit,
    a_rule_that_would_visit_its_own_visits_is_refused,
);

fn follow_up(tags: &[&str]) -> pb::Action {
    pb::Action {
        action: Some(pb::action::Action::FollowUp(pb::FollowUp {
            subject: "回访：{{ ticket.subject }}".into(),
            description: "{{ requester.name }}的工单 {{ ticket.id }} 已解决一周，请电话回访。"
                .into(),
            group: String::new(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        })),
    }
}

fn return_visit(conditions: Vec<pb::Condition>) -> pb::Automation {
    let mut rule = automation(
        "VIP return visit",
        pb::TimeSince::Solved,
        "",
        168,
        vec![follow_up(&["return-visit"])],
    );
    rule.all_conditions = conditions;
    rule
}

impl App {
    async fn solve(&self, ticket: &str, agent: &str) {
        self.assign(ticket, agent).await;
        self.tickets_admin()
            .solve_ticket(tpb::SolveTicketRequest {
                name: ticket.into(),
                ..Default::default()
            })
            .await
            .expect("solve");
    }

    async fn return_visits(&self) -> Vec<tpb::Ticket> {
        self.tickets_admin()
            .list_tickets(tpb::ListTicketsRequest {
                tag: "return-visit".into(),
                page_size: 100,
                ..Default::default()
            })
            .await
            .expect("list tickets")
            .into_inner()
            .tickets
    }
}

async fn a_week_after_a_vip_solve_one_return_visit_is_opened_and_never_one_for_the_visit(
    backend: Backend,
) {
    let clock = Clock::manual_from_now();
    let Some(app) = spawn_with_clock(backend, clock.clone()).await else {
        return;
    };
    let rule = app
        .create_automation(return_visit(vec![
            condition("requester.tier", pb::Operator::Is, "VIP"),
            condition("tags", pb::Operator::NotIncludes, "return-visit"),
        ]))
        .await;
    let agent = app.agent_named("Zhang").await;
    let vip = app.customer("王芳", common::Tier::Vip).await;
    let standard = app.customer("Li Lei", common::Tier::Standard).await;
    let solved = app.ticket(&vip, "快递丢了").await;
    let other = app.ticket(&standard, "Where is my parcel?").await;
    app.solve(&solved.name, &agent).await;
    app.solve(&other.name, &agent).await;
    app.seen_in(&solved.name, "SOLVED").await;
    app.seen_in(&other.name, "SOLVED").await;

    let fired = app
        .fired_after(&clock, 167 * HOUR, &rule.name, &solved.name)
        .await;
    assert!(fired.is_empty(), "{fired:?}");
    assert!(app.return_visits().await.is_empty());

    let fired = app
        .fired_after(&clock, 2 * HOUR, &rule.name, &solved.name)
        .await;
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].state, pb::FiringState::Applied as i32, "{fired:?}");
    assert!(
        app.automation_firings(&rule.name, &other.name)
            .await
            .is_empty(),
        "a standard-tier requester gets no return visit"
    );
    let visits = app.return_visits().await;
    assert_eq!(visits.len(), 1, "{visits:?}");
    let visit = &visits[0];
    assert_eq!(visit.subject, "回访：快递丢了");
    let id = solved.name.trim_start_matches("tickets/");
    assert_eq!(
        visit.description,
        format!("王芳的工单 {id} 已解决一周，请电话回访。")
    );
    assert_eq!(visit.follow_up_of, solved.name);
    assert_eq!(visit.requester, solved.requester);
    assert_eq!(visit.channel, solved.channel);
    app.assert_audited_as(&visit.name, &rule.name).await;

    // Still solved a day later: no second visit.
    let fired = app
        .fired_after(&clock, 24 * HOUR, &rule.name, &solved.name)
        .await;
    assert_eq!(fired.len(), 1, "{fired:?}");

    // The visit is made and solved in its turn; a week on, it gets no visit of its own.
    app.solve(&visit.name, &agent).await;
    app.seen_in(&visit.name, "SOLVED").await;
    let fired = app
        .fired_after(&clock, 169 * HOUR, &rule.name, &visit.name)
        .await;
    assert!(fired.is_empty(), "{fired:?}");
    assert_eq!(app.return_visits().await.len(), 1);
}

async fn a_rule_that_would_visit_its_own_visits_is_refused(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let unguarded = return_visit(vec![condition("requester.tier", pb::Operator::Is, "VIP")]);
    let result = app.try_create_automation(unguarded).await;
    assert_status(
        result,
        tonic::Code::InvalidArgument,
        &["automation.actions[0]"],
    );
    let mut bad = return_visit(vec![condition(
        "tags",
        pb::Operator::NotIncludes,
        "return-visit",
    )]);
    bad.actions = vec![pb::Action {
        action: Some(pb::action::Action::FollowUp(pb::FollowUp {
            subject: " ".into(),
            description: "{{ nope }}".into(),
            group: "teams/x".into(),
            tags: vec!["return-visit".into()],
        })),
    }];
    let result = app.try_create_automation(bad).await;
    assert_status(
        result,
        tonic::Code::InvalidArgument,
        &[
            "automation.actions[0].follow_up.subject",
            "automation.actions[0].follow_up.description",
            "automation.actions[0].follow_up.group",
        ],
    );
    let listed = app
        .admin()
        .list_automations(pb::ListAutomationsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .automations;
    assert!(listed.is_empty(), "{listed:?}");
}
