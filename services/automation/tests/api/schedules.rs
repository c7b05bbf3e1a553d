use std::time::Duration;

use kefu_principal::Principal;
use kefu_proto::automation::v1 as pb;
use kefu_proto::common::v1 as common;
use kefu_proto::tickets::v1 as tpb;
use kefu_server::Clock;
use kefu_testkit::{Backend, backend_tests};

use crate::helpers::*;

backend_tests!(
    pending_tickets_are_reminded_once_per_wait_and_solved_after_96_hours,
    automations_refuse_bad_parts_naming_each_and_store_nothing,
);

pub(crate) const HOUR: Duration = Duration::from_secs(3600);

pub(crate) fn automation(
    name: &str,
    since: pb::TimeSince,
    status: &str,
    hours: i32,
    actions: Vec<pb::Action>,
) -> pb::Automation {
    pb::Automation {
        display_name: name.into(),
        active: true,
        time: Some(pb::TimeCondition {
            since: since as i32,
            status: status.into(),
            hours,
        }),
        actions,
        ..Default::default()
    }
}

impl App {
    pub(crate) async fn create_automation(&self, automation: pb::Automation) -> pb::Automation {
        self.try_create_automation(automation)
            .await
            .expect("create automation")
    }

    /// Creates `automation` as an admin, answering the refusal if there is one.
    pub(crate) async fn try_create_automation(
        &self,
        automation: pb::Automation,
    ) -> Result<pb::Automation, tonic::Status> {
        self.admin()
            .create_automation(pb::CreateAutomationRequest {
                automation: Some(automation),
                request_id: String::new(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Waits until every automation has been checked at or after `clock`'s now.
    pub(crate) async fn checked(&self, clock: &Clock) {
        let now = clock.now_micros();
        eventually("automations checked", || async {
            let listed = self
                .admin()
                .list_automations(pb::ListAutomationsRequest::default())
                .await
                .expect("list automations")
                .into_inner()
                .automations;
            listed
                .iter()
                .all(|a| {
                    a.check_time
                        .as_ref()
                        .and_then(kefu_server::time::micros_of)
                        .is_some_and(|t| t >= now)
                })
                .then_some(())
        })
        .await;
    }

    /// Moves `clock` on by `by`, waits for the next check, and answers the firings of `ticket`
    /// by `automation` then.
    pub(crate) async fn fired_after(
        &self,
        clock: &Clock,
        by: Duration,
        automation: &str,
        ticket: &str,
    ) -> Vec<pb::Firing> {
        clock.advance(by);
        self.checked(clock).await;
        self.automation_firings(automation, ticket).await
    }

    /// Asserts that `ticket`'s audit names `rule` (`automation:{rule}`) as an actor.
    pub(crate) async fn assert_audited_as(&self, ticket: &str, rule: &str) {
        let audits = self
            .tickets_admin()
            .list_ticket_audits(tpb::ListTicketAuditsRequest {
                parent: ticket.into(),
                page_size: 100,
                ..Default::default()
            })
            .await
            .expect("audits")
            .into_inner()
            .audits;
        let actor = format!("automation:{rule}");
        assert!(audits.iter().any(|a| a.actor == actor), "{audits:?}");
    }

    /// The firings of `ticket` by `automation`, newest first, once none is pending.
    pub(crate) async fn automation_firings(
        &self,
        automation: &str,
        ticket: &str,
    ) -> Vec<pb::Firing> {
        eventually("settled firings", || async {
            let firings = self
                .admin()
                .list_firings(pb::ListFiringsRequest {
                    parent: automation.into(),
                    ticket: ticket.into(),
                    page_size: 100,
                    ..Default::default()
                })
                .await
                .expect("list firings")
                .into_inner()
                .firings;
            firings
                .iter()
                .all(|f| f.state != pb::FiringState::Pending as i32)
                .then_some(firings)
        })
        .await
    }

    /// An active agent; returns its name.
    pub(crate) async fn agent_named(&self, name: &str) -> String {
        self.tickets_admin()
            .create_agent(tpb::CreateAgentRequest {
                agent: Some(tpb::Agent {
                    display_name: name.into(),
                    email: format!("{}@example.com", name.to_lowercase()),
                    active: true,
                    capacity: 10,
                    ..Default::default()
                }),
                agent_id: name.to_lowercase(),
                request_id: String::new(),
            })
            .await
            .expect("create agent")
            .into_inner()
            .name
    }

    /// Assigns `ticket` to `agent`.
    pub(crate) async fn assign(&self, ticket: &str, agent: &str) {
        self.tickets_admin()
            .assign_ticket(tpb::AssignTicketRequest {
                name: ticket.into(),
                assignee: agent.into(),
                ..Default::default()
            })
            .await
            .expect("assign");
    }

    /// Assigns `ticket` to `agent` and asks the requester to answer (PENDING).
    pub(crate) async fn assign_and_wait(&self, ticket: &str, agent: &str) {
        self.assign(ticket, agent).await;
        self.set_pending(ticket).await;
    }

    pub(crate) async fn set_pending(&self, ticket: &str) {
        self.tickets_admin()
            .set_ticket_pending(tpb::SetTicketPendingRequest {
                name: ticket.into(),
                ..Default::default()
            })
            .await
            .expect("set pending");
    }

    /// When `rule`'s time comes (or came) for `ticket`, by a dry run (None: its clock does not run).
    pub(crate) async fn due_time_of(&self, rule: &pb::Automation, ticket: &str) -> Option<i64> {
        self.admin()
            .test_automation(pb::TestAutomationRequest {
                automation: Some(rule.clone()),
                ticket: ticket.into(),
                ..Default::default()
            })
            .await
            .expect("test automation")
            .into_inner()
            .due_time
            .as_ref()
            .and_then(kefu_server::time::micros_of)
    }

    /// Waits until the automation service's clock of `ticket` shows it in `status` (a rule
    /// counting from that status has a due time).
    pub(crate) async fn seen_in(&self, ticket: &str, status: &str) {
        let probe = automation(
            "probe",
            pb::TimeSince::Status,
            status,
            1,
            vec![add_tags(&["probe"])],
        );
        eventually(&format!("{ticket} seen {status}"), || async {
            self.due_time_of(&probe, ticket).await.map(drop)
        })
        .await;
    }
}

async fn pending_tickets_are_reminded_once_per_wait_and_solved_after_96_hours(backend: Backend) {
    let clock = Clock::manual_from_now();
    let Some(app) = spawn_with_clock(backend, clock.clone()).await else {
        return;
    };
    let customer = app.customer("王芳", common::Tier::Standard).await;
    let agent = app.agent_named("Zhang").await;
    // Pending for 60 hours before the rules exist: its 48-hour mark passed before the reminder
    // was created (never reminded); its 96-hour mark comes after the solve rule was (solved).
    let old = app.ticket(&customer, "Old question").await;
    app.assign_and_wait(&old.name, &agent).await;
    clock.advance(60 * HOUR);
    let remind = app
        .create_automation(automation(
            "Remind after 48 hours pending",
            pb::TimeSince::Status,
            "PENDING",
            48,
            vec![
                reply(
                    "{{ requester.name }}您好，工单 {{ ticket.id }} 还在等您的回复。",
                    true,
                ),
                add_tags(&["reminded"]),
            ],
        ))
        .await;
    let solve = app
        .create_automation(automation(
            "Solve after 96 hours pending",
            pb::TimeSince::Status,
            "PENDING",
            96,
            vec![set_field("status", "SOLVED")],
        ))
        .await;
    assert_eq!(solve.time.as_ref().map(|t| t.hours), Some(96));
    let ticket = app.ticket(&customer, "Where is my parcel?").await;
    app.assign_and_wait(&ticket.name, &agent).await;
    app.seen_in(&ticket.name, "PENDING").await;

    clock.advance(47 * HOUR);
    app.checked(&clock).await;
    assert!(
        app.automation_firings(&remind.name, &ticket.name)
            .await
            .is_empty()
    );
    assert!(
        app.automation_firings(&remind.name, &old.name)
            .await
            .is_empty()
    );
    let solved_old = app.automation_firings(&solve.name, &old.name).await;
    assert_eq!(
        solved_old.len(),
        1,
        "the old ticket's 96 hours came after the rule"
    );
    assert_eq!(
        solved_old[0].state,
        pb::FiringState::Applied as i32,
        "{solved_old:?}"
    );
    assert_eq!(
        app.get_ticket(&old.name).await.status,
        tpb::TicketStatus::Solved as i32
    );

    clock.advance(2 * HOUR);
    app.checked(&clock).await;
    let reminded = app.automation_firings(&remind.name, &ticket.name).await;
    assert_eq!(reminded.len(), 1);
    assert_eq!(reminded[0].state, pb::FiringState::Applied as i32);
    assert!(reminded[0].source.starts_with(&format!("{}@", ticket.name)));
    let after = app.get_ticket(&ticket.name).await;
    assert!(after.tags.contains(&"reminded".to_owned()));
    assert_eq!(after.status, tpb::TicketStatus::Pending as i32);
    let comments = app.comments(&ticket.name).await;
    let id = ticket.name.trim_start_matches("tickets/");
    assert!(
        comments
            .iter()
            .any(|c| c.public && c.body == format!("王芳您好，工单 {id} 还在等您的回复。")),
        "{comments:?}"
    );
    app.assert_audited_as(&ticket.name, &remind.name).await;

    // Still pending an hour later: not reminded again.
    clock.advance(HOUR);
    app.checked(&clock).await;
    assert_eq!(
        app.automation_firings(&remind.name, &ticket.name)
            .await
            .len(),
        1
    );

    // The requester answers (the ticket reopens), the agent asks again: a new wait.
    let requester = Principal::customer(customer.clone());
    let mut as_requester = tpb::ticket_service_client::TicketServiceClient::with_interceptor(
        app.tickets.channel(),
        app.tickets.as_principal(&requester),
    );
    as_requester
        .create_comment(tpb::CreateCommentRequest {
            parent: ticket.name.clone(),
            comment: Some(tpb::Comment {
                body: "还没收到".into(),
                public: true,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    app.seen_in(&ticket.name, "OPEN").await;
    app.set_pending(&ticket.name).await;
    app.seen_in(&ticket.name, "PENDING").await;

    clock.advance(49 * HOUR);
    app.checked(&clock).await;
    assert_eq!(
        app.automation_firings(&remind.name, &ticket.name)
            .await
            .len(),
        2,
        "reminded again for the new wait"
    );
    assert!(
        app.automation_firings(&solve.name, &ticket.name)
            .await
            .is_empty(),
        "the first wait was 50 hours, the second 49: not yet 96"
    );

    clock.advance(48 * HOUR);
    app.checked(&clock).await;
    let solved = app.automation_firings(&solve.name, &ticket.name).await;
    assert_eq!(solved.len(), 1);
    assert_eq!(
        app.get_ticket(&ticket.name).await.status,
        tpb::TicketStatus::Solved as i32
    );
    assert_eq!(
        app.automation_firings(&remind.name, &ticket.name)
            .await
            .len(),
        2
    );
    let stats = app
        .admin()
        .get_automation(pb::GetAutomationRequest {
            name: remind.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .stats
        .unwrap_or_default();
    assert_eq!(stats.applied, 2);
}

async fn automations_refuse_bad_parts_naming_each_and_store_nothing(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut bad = automation(
        "",
        pb::TimeSince::Status,
        "WAITING",
        0,
        vec![reply("{{ ticket.colour }}", true)],
    );
    bad.all_conditions = vec![
        condition("text", pb::Operator::Contains, "refund"),
        condition("priority", pb::Operator::Changed, ""),
    ];
    let error = app
        .admin()
        .create_automation(pb::CreateAutomationRequest {
            automation: Some(bad),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::InvalidArgument);
    for part in [
        "automation.display_name",
        "automation.time.status",
        "automation.time.hours",
        "automation.actions[0].reply.body",
        "automation.all_conditions[0]",
        "automation.all_conditions[1]",
    ] {
        assert!(
            error.message().contains(part),
            "{part}: {}",
            error.message()
        );
    }
    let no_since = automation(
        "x",
        pb::TimeSince::Unspecified,
        "",
        1,
        vec![add_tags(&["a"])],
    );
    let error = app
        .admin()
        .create_automation(pb::CreateAutomationRequest {
            automation: Some(no_since),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert!(
        error.message().contains("automation.time.since"),
        "{error:?}"
    );
    let listed = app
        .admin()
        .list_automations(pb::ListAutomationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.automations.is_empty());
    // Agents read rules but do not change them; a trigger's name is not an automation's.
    let error = app
        .agent()
        .create_automation(pb::CreateAutomationRequest {
            automation: Some(automation(
                "Remind",
                pb::TimeSince::Created,
                "",
                24,
                vec![add_tags(&["a"])],
            )),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::PermissionDenied);
    let error = app
        .admin()
        .get_automation(pb::GetAutomationRequest {
            name: "triggers/x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::InvalidArgument);
}
