use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as cpb;
use kefu_proto::feedback::v1 as pb;
use kefu_proto::tickets::v1 as tpb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    nps_campaigns_ask_a_segment_and_detractors_get_a_follow_up,
    bad_campaigns_are_refused_and_write_nothing,
);

fn campaign(segment: pb::Segment) -> pb::NpsCampaign {
    pb::NpsCampaign {
        display_name: "Q4 NPS".into(),
        segment: Some(segment),
        ..Default::default()
    }
}

async fn create(
    client: &mut Client,
    segment: pb::Segment,
    request_id: &str,
) -> Result<pb::NpsCampaign, tonic::Status> {
    client
        .create_nps_campaign(pb::CreateNpsCampaignRequest {
            campaign: Some(campaign(segment)),
            request_id: request_id.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn nps_campaigns_ask_a_segment_and_detractors_get_a_follow_up(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let vip_a = app.customer_record("Vi A", common::Tier::Vip).await;
    let vip_b = app.customer_record("Vi B", common::Tier::Vip).await;
    let standard = app.customer_record("Stan", common::Tier::Standard).await;
    let erased = app.customer_record("Gone", common::Tier::Vip).await;
    app.customers_admin()
        .erase_customer(cpb::EraseCustomerRequest {
            name: format!("customers/{erased}"),
            etag: String::new(),
        })
        .await
        .unwrap();

    let by_tier = pb::Segment {
        filter: Some(pb::CustomerFilter {
            tier: common::Tier::Vip as i32,
            ..Default::default()
        }),
        ..Default::default()
    };
    let vips = create(&mut app.admin(), by_tier.clone(), "q4-vip")
        .await
        .unwrap();
    assert_eq!(vips.survey_count, 2, "the erased VIP is not asked");
    // A retry is the same campaign and asks nobody twice.
    let retry = create(&mut app.admin(), by_tier, "q4-vip").await.unwrap();
    assert_eq!(retry.name, vips.name);
    let surveys = app
        .surveys(pb::ListSurveysRequest {
            campaign: vips.name.clone(),
            ..Default::default()
        })
        .await;
    assert_eq!(surveys.len(), 2);
    let mut asked: Vec<&str> = surveys.iter().map(|s| s.customer.as_str()).collect();
    asked.sort_unstable();
    let mut expected = vec![format!("customers/{vip_a}"), format!("customers/{vip_b}")];
    expected.sort();
    assert_eq!(asked, expected);
    assert!(surveys.iter().all(|s| s.kind == pb::SurveyKind::Nps as i32));
    let token_of = |customer: &str| {
        surveys
            .iter()
            .find(|s| s.customer == format!("customers/{customer}"))
            .unwrap()
            .clone()
    };

    let promoter = token_of(&vip_a);
    assert_status(
        answer(&mut app.customer(&vip_a), &promoter.token, 11, &[], "").await,
        Code::InvalidArgument,
        &["response.score"],
    );
    let answered = answer(&mut app.customer(&vip_a), &promoter.token, 9, &[], "Great")
        .await
        .unwrap();
    assert!(answered.follow_up.is_none());
    let detractor = token_of(&vip_b);
    answer(
        &mut app.customer(&vip_b),
        &detractor.token,
        0,
        &["price"],
        "Too dear",
    )
    .await
    .unwrap();
    let follow_up = app
        .settled_follow_up(&detractor.name)
        .await
        .follow_up
        .unwrap();
    assert_eq!(follow_up.state, pb::FollowUpState::Opened as i32);
    let ticket = app.get_ticket(&follow_up.ticket).await;
    assert_eq!(ticket.requester, format!("customers/{vip_b}"));
    assert_eq!(ticket.r#type, tpb::TicketType::Task as i32);
    assert!(ticket.follow_up_of.is_empty() && ticket.group.is_empty());
    assert!(ticket.subject.contains("NPS 0/10"), "{}", ticket.subject);
    // The promoter's answer queued nothing; a follow-up answered after both has opened, so any
    // second ticket for either would exist by now.
    let team = app.team("Support", "agent-1").await;
    app.follow_up_queue_sentinel(&team).await;
    assert_eq!(app.tickets_of(&vip_b).await.len(), 1);
    assert_eq!(app.tickets_of(&vip_a).await.len(), 0);

    // Listed customers.
    let listed = create(
        &mut app.admin(),
        pb::Segment {
            customers: vec![
                format!("customers/{standard}"),
                format!("customers/{standard}"),
            ],
            ..Default::default()
        },
        "",
    )
    .await
    .unwrap();
    assert_eq!(listed.survey_count, 1);
    let fetched = app
        .admin()
        .get_nps_campaign(pb::GetNpsCampaignRequest {
            name: listed.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        fetched.segment.unwrap().customers,
        vec![format!("customers/{standard}")]
    );
}

async fn bad_campaigns_are_refused_and_write_nothing(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let known = app.customer_record("Kim", common::Tier::Standard).await;
    let mut admin = app.admin();
    assert_status(
        admin
            .create_nps_campaign(pb::CreateNpsCampaignRequest::default())
            .await,
        Code::InvalidArgument,
        &["campaign.display_name", "campaign.segment"],
    );
    assert_status(
        create(
            &mut admin,
            pb::Segment {
                customers: vec![format!("customers/{known}")],
                filter: Some(pb::CustomerFilter::default()),
            },
            "",
        )
        .await,
        Code::InvalidArgument,
        &["campaign.segment"],
    );
    assert_status(
        create(
            &mut admin,
            pb::Segment {
                filter: Some(pb::CustomerFilter {
                    tier: 99,
                    lifecycle_stage: 77,
                    organization: "teams/x".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            "",
        )
        .await,
        Code::InvalidArgument,
        &[
            "campaign.segment.filter.tier",
            "campaign.segment.filter.lifecycle_stage",
            "campaign.segment.filter.organization",
        ],
    );
    let status = assert_status(
        create(
            &mut admin,
            pb::Segment {
                customers: vec![format!("customers/{known}"), "customers/ghost".into()],
                ..Default::default()
            },
            "",
        )
        .await,
        Code::NotFound,
        &[],
    );
    assert!(status.message().contains("ghost"), "{}", status.message());
    assert!(
        app.surveys(pb::ListSurveysRequest::default())
            .await
            .is_empty()
    );
}
