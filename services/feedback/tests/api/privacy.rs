use std::time::Duration;

use kefu_proto::common::v1 as common;
use kefu_proto::customers::v1 as cpb;
use kefu_proto::feedback::v1 as pb;
use kefu_testkit::{Backend, backend_tests};

use crate::helpers::*;

backend_tests!(erasure_removes_words_and_keeps_scores);

async fn erasure_removes_words_and_keeps_scores(backend: Backend) {
    let Some(mut app) = spawn(backend).await else {
        return;
    };
    let (customer, _, survey) = app.solved_ticket_survey("Pia").await;
    let bystander = app.customer_record("Quin", common::Tier::Standard).await;
    answer(
        &mut app.customer(&customer),
        &survey.token,
        5,
        &["friendly"],
        "My address is 1 Main St",
    )
    .await
    .unwrap();
    let praise = app
        .customer(&bystander)
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: Some(pb::FeedbackEntry {
                kind: pb::FeedbackKind::Praise as i32,
                text: "Kept: not erased".into(),
                channel: common::Channel::Web as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    // A complaint whose ticket cannot be opened yet (tickets is down) when the erasure comes.
    let (database, addr) = app.stop_tickets().await;
    let complaint = app
        .customer(&customer)
        .submit_feedback(pb::SubmitFeedbackRequest {
            feedback: Some(pb::FeedbackEntry {
                kind: pb::FeedbackKind::Complaint as i32,
                text: "Call me on 555-0100".into(),
                channel: common::Channel::Phone as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();

    app.customers_admin()
        .erase_customer(cpb::EraseCustomerRequest {
            name: format!("customers/{customer}"),
            etag: String::new(),
        })
        .await
        .unwrap();
    let anonymized = eventually("the survey to be anonymized", || async {
        let s = app
            .admin()
            .get_survey(pb::GetSurveyRequest {
                name: survey.name.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        s.response.filter(|r| r.anonymized)
    })
    .await;
    assert_eq!(anonymized.comment, "");
    assert_eq!(anonymized.score, Some(5), "scores stay for statistics");
    assert_eq!(anonymized.reason_codes, vec!["friendly"]);
    let entry = app
        .admin()
        .get_feedback(pb::GetFeedbackRequest {
            name: complaint.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(entry.anonymized);
    assert_eq!(entry.text, "");
    let kept = app
        .admin()
        .get_feedback(pb::GetFeedbackRequest {
            name: praise.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(kept.text, "Kept: not erased");
    assert!(!kept.anonymized);

    // The queued complaint ticket is refused for an erased customer; its words never travel.
    app.start_tickets(database, addr).await;
    let failed = eventually("the complaint ticket to settle", || async {
        let e = app
            .admin()
            .get_feedback(pb::GetFeedbackRequest {
                name: complaint.name.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        e.complaint_ticket
            .filter(|f| f.state != pb::FollowUpState::Pending as i32)
    })
    .await;
    assert_eq!(failed.state, pb::FollowUpState::Failed as i32);
    assert!(failed.failure.contains("erased"), "{}", failed.failure);

    // The score still counts.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let rows = app
        .admin()
        .get_satisfaction_summary(pb::GetSatisfactionSummaryRequest {
            start_time: Some(prost_types::Timestamp {
                seconds: now - 3600,
                nanos: 0,
            }),
            end_time: Some(prost_types::Timestamp {
                seconds: now + 3600,
                nanos: 0,
            }),
            group_by: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .rows;
    assert_eq!(rows[0].csat_responses, 1);
    assert!((rows[0].csat_average - 5.0).abs() < 1e-9);

    let mut stream = app
        .admin()
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let anonymized_event = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let event = stream.message().await.unwrap().unwrap().event.unwrap();
            if event.r#type == pb::EventType::CustomerAnonymized as i32 {
                return event;
            }
        }
    })
    .await
    .expect("an anonymized event");
    assert_eq!(anonymized_event.customer, format!("customers/{customer}"));
}
