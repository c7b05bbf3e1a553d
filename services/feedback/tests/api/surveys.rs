use std::time::Duration;

use kefu_proto::common::v1 as common;
use kefu_proto::feedback::v1 as pb;
use kefu_proto::tickets::v1 as tpb;
use kefu_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    every_solve_gets_one_csat_survey_with_the_ticket_as_it_was,
    a_survey_takes_one_answer_in_range,
    a_retried_answer_gets_the_first_answer_back,
    expired_surveys_take_no_answer,
    a_low_csat_opens_one_follow_up_ticket_in_the_original_group,
    follow_up_tickets_can_be_complaints,
);

async fn every_solve_gets_one_csat_survey_with_the_ticket_as_it_was(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Ada", common::Tier::Vip).await;
    let team = app.team("Billing", "agent-7").await;
    let ticket = app
        .open_ticket(
            &customer,
            common::Channel::Chat,
            tpb::TicketType::Incident,
            &team,
        )
        .await;
    app.solve(&ticket.name).await;
    let surveys = app.surveys_of_ticket(&ticket.name, 1).await;
    let survey = &surveys[0];
    assert_eq!(survey.kind, pb::SurveyKind::Csat as i32);
    assert_eq!(survey.customer, format!("customers/{customer}"));
    assert_eq!(survey.state, pb::SurveyState::Pending as i32);
    assert!(!survey.token.is_empty());
    let snapshot = survey.ticket_snapshot.clone().unwrap();
    assert_eq!(snapshot.assignee, team.1);
    assert_eq!(snapshot.group, team.0);
    assert_eq!(snapshot.channel, common::Channel::Chat as i32);
    assert_eq!(snapshot.r#type, "TICKET_TYPE_INCIDENT");
    let lifetime = survey.expire_time.unwrap().seconds - survey.create_time.unwrap().seconds;
    assert_eq!(lifetime, 14 * 24 * 3600);

    // Reopened and solved again: a second survey, never a third.
    app.reopen(&ticket.name).await;
    app.solve(&ticket.name).await;
    let surveys = app.surveys_of_ticket(&ticket.name, 2).await;
    assert_ne!(surveys[0].token, surveys[1].token);
    app.tickets_stream_sentinel(&team).await;
    assert_eq!(app.surveys_of_ticket(&ticket.name, 2).await.len(), 2);

    // Agents read surveys but never their tokens.
    let seen_by_agent = app
        .agent()
        .get_survey(pb::GetSurveyRequest {
            name: survey.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(seen_by_agent.token.is_empty());
}

async fn a_survey_takes_one_answer_in_range(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let (customer, ticket, survey) = app.solved_ticket_survey("Bo").await;
    let mut client = app.customer(&customer);

    // Bad input: clear errors and nothing written.
    for score in [0, 6, -1] {
        let status = assert_status(
            answer(&mut client, &survey.token, score, &[], "").await,
            Code::InvalidArgument,
            &["response.score"],
        );
        assert!(status.message().contains("1 to 5"), "{}", status.message());
    }
    assert_status(
        client
            .submit_survey_response(pb::SubmitSurveyResponseRequest {
                request_id: String::new(),
                token: survey.token.clone(),
                response: Some(pb::SurveyResponse::default()),
            })
            .await,
        Code::InvalidArgument,
        &["response.score"],
    );
    assert_status(
        answer(&mut client, &survey.token, 4, &[], &"x".repeat(2_001)).await,
        Code::InvalidArgument,
        &["response.comment"],
    );
    assert_status(
        answer(&mut client, &survey.token, 4, &["Not a code!"], "").await,
        Code::InvalidArgument,
        &["response.reason_codes[0]"],
    );
    assert_status(
        answer(&mut client, "no-such-token", 4, &[], "").await,
        Code::NotFound,
        &[],
    );
    assert_status(
        answer(&mut client, "", 4, &[], "").await,
        Code::InvalidArgument,
        &["token"],
    );
    // Another customer cannot answer it, even with the token.
    let other = app.customer_record("Cy", common::Tier::Standard).await;
    assert_status(
        answer(&mut app.customer(&other), &survey.token, 5, &[], "").await,
        Code::NotFound,
        &[],
    );
    let unchanged = app.surveys_of_ticket(&ticket.name, 1).await.remove(0);
    assert_eq!(unchanged.state, pb::SurveyState::Pending as i32);
    assert!(unchanged.response.is_none());

    let answered = answer(
        &mut client,
        &survey.token,
        4,
        &["Friendly", "quick"],
        "  Thanks for the quick help  ",
    )
    .await
    .unwrap();
    assert_eq!(answered.state, pb::SurveyState::Responded as i32);
    let response = answered.response.unwrap();
    assert_eq!(response.score, Some(4));
    assert_eq!(response.reason_codes, vec!["friendly", "quick"]);
    assert_eq!(response.comment, "Thanks for the quick help");
    assert!(answered.follow_up.is_none(), "4 of 5 needs no follow-up");

    let status = assert_status(
        answer(&mut client, &survey.token, 1, &[], "changed my mind").await,
        Code::FailedPrecondition,
        &[],
    );
    assert!(status.message().contains("already answered"));
    let kept = app.surveys_of_ticket(&ticket.name, 1).await.remove(0);
    assert_eq!(kept.response.unwrap().score, Some(4));
}

async fn expired_surveys_take_no_answer(backend: Backend) {
    let options = Options {
        survey_ttl: Duration::from_secs(60),
        manual_clock: true,
        ..Options::default()
    };
    let Some(app) = spawn_with(backend, options).await else {
        return;
    };
    let customer = app.customer_record("Di", common::Tier::Standard).await;
    let team = app.team("Support", "agent-1").await;
    let ticket = app
        .open_ticket(
            &customer,
            common::Channel::Web,
            tpb::TicketType::Question,
            &team,
        )
        .await;
    app.solve(&ticket.name).await;
    // Pending until its minute is up, expired from then on.
    let pending = app.surveys_of_ticket(&ticket.name, 1).await.remove(0);
    assert_eq!(pending.state, pb::SurveyState::Pending as i32);
    app.clock.advance(Duration::from_secs(60));
    let survey = app.surveys_of_ticket(&ticket.name, 1).await.remove(0);
    assert_eq!(survey.state, pb::SurveyState::Expired as i32);
    let status = assert_status(
        answer(&mut app.customer(&customer), &survey.token, 5, &[], "").await,
        Code::FailedPrecondition,
        &[],
    );
    assert!(status.message().contains("expired"));
    let expired = app
        .surveys(pb::ListSurveysRequest {
            state: pb::SurveyState::Expired as i32,
            ..Default::default()
        })
        .await;
    assert_eq!(expired.len(), 1);
    assert!(expired[0].response.is_none());
    let pending = app
        .surveys(pb::ListSurveysRequest {
            state: pb::SurveyState::Pending as i32,
            ..Default::default()
        })
        .await;
    assert!(pending.is_empty());
}

async fn a_low_csat_opens_one_follow_up_ticket_in_the_original_group(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Eve", common::Tier::Gold).await;
    let team = app.team("Returns", "agent-3").await;
    let ticket = app
        .open_ticket(
            &customer,
            common::Channel::Phone,
            tpb::TicketType::Question,
            &team,
        )
        .await;
    app.solve(&ticket.name).await;
    let survey = app.surveys_of_ticket(&ticket.name, 1).await.remove(0);
    // An integration (the survey web page) answers on the customer's behalf.
    let answered = answer(
        &mut app.integration(),
        &survey.token,
        2,
        &["slow_response"],
        "Took days to get an answer",
    )
    .await
    .unwrap();
    assert_eq!(
        answered.follow_up.as_ref().map(|f| f.state),
        Some(pb::FollowUpState::Pending as i32)
    );
    let settled = app.settled_follow_up(&survey.name).await;
    let follow_up = settled.follow_up.unwrap();
    assert_eq!(follow_up.state, pb::FollowUpState::Opened as i32);
    let opened = app.get_ticket(&follow_up.ticket).await;
    assert_eq!(opened.r#type, tpb::TicketType::Task as i32);
    assert_eq!(opened.follow_up_of, ticket.name);
    assert_eq!(opened.group, team.0);
    assert_eq!(opened.requester, format!("customers/{customer}"));
    assert_eq!(opened.priority, tpb::TicketPriority::High as i32);
    assert!(opened.subject.contains("CSAT 2/5"), "{}", opened.subject);
    assert!(opened.description.contains("slow_response"));
    assert!(opened.description.contains(&survey.name));
    assert!(
        !opened.description.contains("Took days"),
        "the comment stays in the survey"
    );
    // Exactly one follow-up: the original and the follow-up are the customer's only tickets.
    app.follow_up_queue_sentinel(&team).await;
    let tickets = app.tickets_of(&customer).await;
    assert_eq!(tickets.len(), 2, "{tickets:#?}");

    // The stream tells integrations what happened, in order.
    let mut stream = app
        .admin()
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let event = stream.message().await.unwrap().unwrap().event.unwrap();
        kinds.push((event.r#type, event.score, event.follow_up_ticket.clone()));
    }
    assert_eq!(kinds[0].0, pb::EventType::SurveyCreated as i32);
    assert_eq!(
        kinds[1],
        (pb::EventType::SurveyResponded as i32, 2, String::new())
    );
    assert_eq!(
        kinds[2],
        (
            pb::EventType::FollowUpOpened as i32,
            0,
            follow_up.ticket.clone()
        )
    );
}

async fn follow_up_tickets_can_be_complaints(backend: Backend) {
    let options = Options {
        follow_up_type: "COMPLAINT",
        ..Options::default()
    };
    let Some(app) = spawn_with(backend, options).await else {
        return;
    };
    let (customer, ticket, survey) = app.solved_ticket_survey("Fay").await;
    answer(&mut app.customer(&customer), &survey.token, 1, &[], "")
        .await
        .unwrap();
    let follow_up = app.settled_follow_up(&survey.name).await.follow_up.unwrap();
    let opened = app.get_ticket(&follow_up.ticket).await;
    assert_eq!(opened.r#type, tpb::TicketType::Complaint as i32);
    // A 3 is not low: no follow-up.
    app.reopen(&ticket.name).await;
    app.solve(&ticket.name).await;
    let second = app.surveys_of_ticket(&ticket.name, 2).await.remove(0);
    let answered = answer(&mut app.customer(&customer), &second.token, 3, &[], "")
        .await
        .unwrap();
    assert!(answered.follow_up.is_none());
}

async fn a_retried_answer_gets_the_first_answer_back(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let (customer, ticket, survey) = app.solved_ticket_survey("Di").await;
    let mut client = app.customer(&customer);
    let submit = pb::SubmitSurveyResponseRequest {
        request_id: "csat-answer-1".into(),
        token: survey.token.clone(),
        response: Some(pb::SurveyResponse {
            score: Some(2),
            comment: "Slow".into(),
            ..Default::default()
        }),
    };
    let first = client
        .submit_survey_response(submit.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(first.follow_up.is_some(), "a low score queues a follow-up");
    // Without the request id the same answer is refused; with it, the first answer comes back.
    let mut without_id = submit.clone();
    without_id.request_id.clear();
    assert_status(
        client.submit_survey_response(without_id).await,
        Code::FailedPrecondition,
        &[],
    );
    let retry = client
        .submit_survey_response(submit.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retry, first);
    let mut changed = submit;
    changed.response.as_mut().unwrap().score = Some(5);
    assert_status(
        client.submit_survey_response(changed).await,
        Code::AlreadyExists,
        &[],
    );
    let kept = app.surveys_of_ticket(&ticket.name, 1).await.remove(0);
    assert_eq!(kept.response.unwrap().score, Some(2));
    // One follow-up, whether or not its ticket is open yet.
    assert!(kept.follow_up.is_some());
}
