use kefu_proto::common::v1 as common;
use kefu_proto::feedback::v1 as pb;
use kefu_proto::tickets::v1 as tpb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    summaries_match_hand_computed_figures,
    summary_periods_are_checked,
);

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-9
}

fn period(
    from_now_secs: i64,
    to_now_secs: i64,
) -> (prost_types::Timestamp, prost_types::Timestamp) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    (
        prost_types::Timestamp {
            seconds: now + from_now_secs,
            nanos: 0,
        },
        prost_types::Timestamp {
            seconds: now + to_now_secs,
            nanos: 0,
        },
    )
}

async fn summary(app: &App, group_by: pb::SummaryDimension) -> Vec<pb::SatisfactionRow> {
    let (start, end) = period(-3600, 3600);
    app.agent()
        .get_satisfaction_summary(pb::GetSatisfactionSummaryRequest {
            start_time: Some(start),
            end_time: Some(end),
            group_by: group_by as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .rows
}

#[allow(clippy::too_many_arguments)]
fn assert_csat(
    row: &pb::SatisfactionRow,
    key: &str,
    surveys: i64,
    responses: i64,
    rate: f64,
    percent: f64,
    average: f64,
) {
    assert_eq!(row.key, key, "{row:?}");
    assert_eq!(
        (row.csat_surveys, row.csat_responses),
        (surveys, responses),
        "{row:?}"
    );
    assert!(close(row.csat_response_rate, rate), "{row:?}");
    assert!(close(row.csat_percent, percent), "{row:?}");
    assert!(close(row.csat_average, average), "{row:?}");
}

fn assert_nps(
    row: &pb::SatisfactionRow,
    surveys: i64,
    responses: i64,
    split: (i64, i64, i64),
    nps: f64,
) {
    assert_eq!(
        (row.nps_surveys, row.nps_responses),
        (surveys, responses),
        "{row:?}"
    );
    assert_eq!(
        (row.promoters, row.passives, row.detractors),
        split,
        "{row:?}"
    );
    assert!(
        close(
            row.nps_response_rate,
            responses as f64 / surveys.max(1) as f64
        ),
        "{row:?}"
    );
    assert!(close(row.nps, nps), "{row:?}");
}

async fn summaries_match_hand_computed_figures(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Sam", common::Tier::Standard).await;
    // Created first, so its id sorts first.
    let team_a = app.team("Billing", "agent-a").await;
    let team_b = app.team("Tech", "agent-b").await;
    // Agent A, Billing, email questions: answered 5, 4, 1.
    // Agent B, Tech, chat incidents: answered 3, one unanswered.
    let mut plan = Vec::new();
    for score in [Some(5), Some(4), Some(1)] {
        plan.push((
            &team_a,
            common::Channel::Email,
            tpb::TicketType::Question,
            score,
        ));
    }
    for score in [Some(3), None] {
        plan.push((
            &team_b,
            common::Channel::Chat,
            tpb::TicketType::Incident,
            score,
        ));
    }
    for (team, channel, ticket_type, score) in plan {
        let ticket = app.open_ticket(&customer, channel, ticket_type, team).await;
        app.solve(&ticket.name).await;
        let survey = app.surveys_of_ticket(&ticket.name, 1).await.remove(0);
        if let Some(score) = score {
            answer(&mut app.customer(&customer), &survey.token, score, &[], "")
                .await
                .unwrap();
        }
    }
    // NPS to four customers: 10, 9, 5 and one unanswered.
    let mut asked = Vec::new();
    for name in ["N1", "N2", "N3", "N4"] {
        asked.push(app.customer_record(name, common::Tier::Standard).await);
    }
    let campaign = app
        .admin()
        .create_nps_campaign(pb::CreateNpsCampaignRequest {
            campaign: Some(pb::NpsCampaign {
                display_name: "NPS".into(),
                segment: Some(pb::Segment {
                    customers: asked.iter().map(|id| format!("customers/{id}")).collect(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let nps_surveys = app
        .surveys(pb::ListSurveysRequest {
            campaign: campaign.name.clone(),
            ..Default::default()
        })
        .await;
    for (customer, score) in asked.iter().zip([10, 9, 5]) {
        let survey = nps_surveys
            .iter()
            .find(|s| s.customer == format!("customers/{customer}"))
            .unwrap();
        answer(&mut app.customer(customer), &survey.token, score, &[], "")
            .await
            .unwrap();
    }

    // Everything: CSAT 5 surveys, 4 answers (5, 4, 1, 3): rate 0.8, 2 of 4 satisfied = 50 %,
    // mean 13 / 4 = 3.25. NPS 4 surveys, 3 answers: 2 promoters, 1 detractor: (2 - 1) / 3.
    let all = summary(&app, pb::SummaryDimension::Unspecified).await;
    assert_eq!(all.len(), 1);
    assert_csat(&all[0], "", 5, 4, 0.8, 50.0, 3.25);
    assert_nps(&all[0], 4, 3, (2, 0, 1), 100.0 / 3.0);

    // By agent: "" holds the NPS surveys (no ticket); A: 3 of 3, 2 satisfied, 10 / 3;
    // B: 1 of 2, none satisfied, 3.
    let by_agent = summary(&app, pb::SummaryDimension::Agent).await;
    assert_eq!(by_agent.len(), 3, "{by_agent:#?}");
    assert_csat(&by_agent[0], "", 0, 0, 0.0, 0.0, 0.0);
    assert_nps(&by_agent[0], 4, 3, (2, 0, 1), 100.0 / 3.0);
    assert_csat(
        &by_agent[1],
        "agents/agent-a",
        3,
        3,
        1.0,
        200.0 / 3.0,
        10.0 / 3.0,
    );
    assert_csat(&by_agent[2], "agents/agent-b", 2, 1, 0.5, 0.0, 3.0);
    assert_nps(&by_agent[2], 0, 0, (0, 0, 0), 0.0);

    let by_group = summary(&app, pb::SummaryDimension::Group).await;
    assert_eq!(by_group.len(), 3);
    assert_csat(&by_group[1], &team_a.0, 3, 3, 1.0, 200.0 / 3.0, 10.0 / 3.0);
    assert_csat(&by_group[2], &team_b.0, 2, 1, 0.5, 0.0, 3.0);

    let by_channel = summary(&app, pb::SummaryDimension::Channel).await;
    assert_eq!(by_channel.len(), 3);
    assert_csat(&by_channel[1], "CHANNEL_CHAT", 2, 1, 0.5, 0.0, 3.0);
    assert_csat(
        &by_channel[2],
        "CHANNEL_EMAIL",
        3,
        3,
        1.0,
        200.0 / 3.0,
        10.0 / 3.0,
    );

    let by_type = summary(&app, pb::SummaryDimension::TicketType).await;
    assert_eq!(by_type.len(), 3);
    assert_csat(&by_type[1], "TICKET_TYPE_INCIDENT", 2, 1, 0.5, 0.0, 3.0);
    assert_csat(
        &by_type[2],
        "TICKET_TYPE_QUESTION",
        3,
        3,
        1.0,
        200.0 / 3.0,
        10.0 / 3.0,
    );

    // A period with no surveys: one row of zeros without a split, no rows with one.
    let (start, end) = period(-7200, -3600);
    let empty = app
        .agent()
        .get_satisfaction_summary(pb::GetSatisfactionSummaryRequest {
            start_time: Some(start),
            end_time: Some(end),
            group_by: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .rows;
    assert_eq!(empty.len(), 1);
    assert_csat(&empty[0], "", 0, 0, 0.0, 0.0, 0.0);
    assert_nps(&empty[0], 0, 0, (0, 0, 0), 0.0);
    let empty_split = app
        .agent()
        .get_satisfaction_summary(pb::GetSatisfactionSummaryRequest {
            start_time: Some(start),
            end_time: Some(end),
            group_by: pb::SummaryDimension::Agent as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .rows;
    assert!(empty_split.is_empty());
}

async fn summary_periods_are_checked(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let (start, end) = period(0, 3600);
    let mut agent = app.agent();
    assert_status(
        agent
            .get_satisfaction_summary(pb::GetSatisfactionSummaryRequest::default())
            .await,
        Code::InvalidArgument,
        &["start_time"],
    );
    assert_status(
        agent
            .get_satisfaction_summary(pb::GetSatisfactionSummaryRequest {
                start_time: Some(end),
                end_time: Some(start),
                group_by: 0,
            })
            .await,
        Code::InvalidArgument,
        &["end_time"],
    );
    let (_, far) = period(0, 367 * 24 * 3600);
    assert_status(
        agent
            .get_satisfaction_summary(pb::GetSatisfactionSummaryRequest {
                start_time: Some(start),
                end_time: Some(far),
                group_by: 0,
            })
            .await,
        Code::InvalidArgument,
        &["end_time"],
    );
    assert_status(
        agent
            .get_satisfaction_summary(pb::GetSatisfactionSummaryRequest {
                start_time: Some(start),
                end_time: Some(end),
                group_by: 99,
            })
            .await,
        Code::InvalidArgument,
        &["group_by"],
    );
}
