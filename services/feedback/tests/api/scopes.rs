//! Agents' ticket scopes reach feedback: an agent scoped to their groups (or their own
//! assignments) in the tickets service sees only the surveys and entries of those tickets, and
//! their summaries count only those surveys; records about no ticket stay visible to them.

use kefu_principal::{Principal, Role};
use kefu_proto::common::v1 as common;
use kefu_proto::feedback::v1 as pb;
use kefu_proto::tickets::v1 as tpb;
use kefu_testkit::{Backend, assert_status, backend_tests};
use prost_types::{FieldMask, Timestamp};
use tonic::Code;

use crate::helpers::*;

backend_tests!(scoped_agents_see_the_feedback_of_their_tickets_only);

async fn set_scope(app: &App, agent: &str, scope: tpb::TicketScope) {
    app.tickets_admin()
        .update_agent(tpb::UpdateAgentRequest {
            agent: Some(tpb::Agent {
                name: agent.into(),
                ticket_scope: scope as i32,
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["ticket_scope".into()],
            }),
            etag: String::new(),
        })
        .await
        .expect("set ticket scope");
}

async fn send(app: &App, customer: &str, ticket: &str) -> pb::FeedbackEntry {
    app.customer(customer)
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: Some(pb::FeedbackEntry {
                kind: pb::FeedbackKind::Suggestion as i32,
                text: "A tracking link in the emails would help".into(),
                channel: common::Channel::Web as i32,
                ticket: ticket.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("submit feedback")
        .into_inner()
}

/// What `client` lists, as sorted names: (surveys, entries).
async fn listed(client: &mut Client) -> (Vec<String>, Vec<String>) {
    let mut surveys: Vec<String> = client
        .list_surveys(pb::ListSurveysRequest::default())
        .await
        .expect("list surveys")
        .into_inner()
        .surveys
        .into_iter()
        .map(|s| s.name)
        .collect();
    let mut entries: Vec<String> = client
        .list_feedback(pb::ListFeedbackRequest::default())
        .await
        .expect("list feedback")
        .into_inner()
        .feedback
        .into_iter()
        .map(|e| e.name)
        .collect();
    surveys.sort();
    entries.sort();
    (surveys, entries)
}

/// The CSAT surveys counted in `client`'s summary of the last hour.
async fn csat_surveys(client: &mut Client) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let at = |seconds| Timestamp { seconds, nanos: 0 };
    let rows = client
        .get_satisfaction_summary(pb::GetSatisfactionSummaryRequest {
            start_time: Some(at(now - 3600)),
            end_time: Some(at(now + 3600)),
            group_by: pb::SummaryDimension::Unspecified as i32,
        })
        .await
        .expect("summary")
        .into_inner()
        .rows;
    rows.iter().map(|r| r.csat_surveys).sum()
}

fn sorted<const N: usize>(names: [&str; N]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    names.sort();
    names
}

async fn scoped_agents_see_the_feedback_of_their_tickets_only(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Mei", common::Tier::Standard).await;
    let billing = app.team("Billing", "agent-a").await;
    let returns = app.team("Returns", "agent-b").await;
    let mut surveys = Vec::new();
    let mut entries = Vec::new();
    for team in [&billing, &returns] {
        let ticket = app
            .open_ticket(
                &customer,
                common::Channel::Email,
                tpb::TicketType::Question,
                team,
            )
            .await;
        entries.push(send(&app, &customer, &ticket.name).await.name);
        app.solve(&ticket.name).await;
        surveys.push(app.surveys_of_ticket(&ticket.name, 1).await.remove(0).name);
    }
    let general = send(&app, &customer, "").await.name;
    let (billing_survey, returns_survey) = (&surveys[0], &surveys[1]);
    let (billing_entry, returns_entry) = (&entries[0], &entries[1]);

    let mut agent_a = app.client(&Principal::new("agent-a", Role::Agent));
    // Unscoped (ALL, the default), an agent sees everything.
    assert_eq!(
        listed(&mut agent_a).await,
        (
            sorted([billing_survey, returns_survey]),
            sorted([billing_entry, returns_entry, &general])
        )
    );
    assert_eq!(csat_surveys(&mut agent_a).await, 2);

    set_scope(&app, &billing.1, tpb::TicketScope::Groups).await;
    assert_eq!(
        listed(&mut agent_a).await,
        (sorted([billing_survey]), sorted([billing_entry, &general]))
    );
    assert_eq!(csat_surveys(&mut agent_a).await, 1);
    let survey = agent_a
        .get_survey(pb::GetSurveyRequest {
            name: billing_survey.clone(),
        })
        .await;
    assert_eq!(
        survey.expect("own group's survey").into_inner().name,
        *billing_survey
    );
    assert_status(
        agent_a
            .get_survey(pb::GetSurveyRequest {
                name: returns_survey.clone(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        agent_a
            .get_feedback(pb::GetFeedbackRequest {
                name: returns_entry.clone(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    let about_nothing = agent_a
        .get_feedback(pb::GetFeedbackRequest {
            name: general.clone(),
        })
        .await;
    assert_eq!(
        about_nothing
            .expect("entry about no ticket")
            .into_inner()
            .name,
        general
    );

    // ASSIGNED: agent-b sees only the ticket assigned to them, not their group's other work.
    let mut agent_b = app.client(&Principal::new("agent-b", Role::Agent));
    set_scope(&app, &returns.1, tpb::TicketScope::Assigned).await;
    assert_eq!(
        listed(&mut agent_b).await,
        (sorted([returns_survey]), sorted([returns_entry, &general]))
    );
    assert_eq!(csat_surveys(&mut agent_b).await, 1);
    assert_status(
        agent_b
            .get_survey(pb::GetSurveyRequest {
                name: billing_survey.clone(),
            })
            .await,
        Code::NotFound,
        &[],
    );

    // Admins are never scoped.
    assert_eq!(
        listed(&mut app.admin()).await,
        (
            sorted([billing_survey, returns_survey]),
            sorted([billing_entry, returns_entry, &general])
        )
    );
    assert_eq!(csat_surveys(&mut app.admin()).await, 2);
}
