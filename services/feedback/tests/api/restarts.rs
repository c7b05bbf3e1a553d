use kefu_proto::common::v1 as common;
use kefu_proto::feedback::v1 as pb;
use kefu_proto::tickets::v1 as tpb;
use kefu_testkit::{Backend, backend_tests};

use crate::helpers::*;

backend_tests!(
    one_survey_per_solve_across_feedback_restarts_and_redelivery,
    tickets_down_pauses_the_work_and_a_restart_resumes_it_without_loss,
);

async fn stored_cursor(url: &str) -> Option<String> {
    let db = kefu_db::Database::connect(url).await.unwrap();
    let mut conn = db.pool().acquire().await.unwrap();
    let cursor = kefu_db::cursors::get(&mut conn, "tickets").await.unwrap();
    drop(conn);
    db.close().await;
    cursor
}

async fn one_survey_per_solve_across_feedback_restarts_and_redelivery(backend: Backend) {
    let Some(mut app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Gus", common::Tier::Standard).await;
    let team = app.team("Support", "agent-1").await;
    let first = app
        .open_ticket(
            &customer,
            common::Channel::Email,
            tpb::TicketType::Question,
            &team,
        )
        .await;
    let second = app
        .open_ticket(
            &customer,
            common::Channel::Web,
            tpb::TicketType::Question,
            &team,
        )
        .await;
    app.solve(&first.name).await;
    app.surveys_of_ticket(&first.name, 1).await;

    // Solves while the feedback service is down are waiting for it when it comes back.
    let (database, addr) = app.stop_feedback().await;
    app.solve(&second.name).await;
    app.reopen(&first.name).await;
    app.solve(&first.name).await;
    app.start_feedback(database, addr).await;
    assert_eq!(app.surveys_of_ticket(&first.name, 2).await.len(), 2);
    assert_eq!(app.surveys_of_ticket(&second.name, 1).await.len(), 1);

    // Every event delivered again (a consumer that lost its cursor, or a second replica reading
    // the same stream) still makes no second survey for any solve.
    let (database, addr) = app.stop_feedback().await;
    let caught_up = stored_cursor(&database.url)
        .await
        .expect("a cursor was stored");
    {
        let db = kefu_db::Database::connect(&database.url).await.unwrap();
        sqlx::query("DELETE FROM consumer_cursors")
            .execute(db.pool())
            .await
            .unwrap();
        db.close().await;
    }
    app.start_feedback(database, addr).await;
    let url = app.feedback.as_ref().unwrap().database.url.clone();
    eventually("the consumer to read the stream again", || async {
        (stored_cursor(&url).await.as_deref() == Some(caught_up.as_str())).then_some(())
    })
    .await;
    let all = app.surveys(pb::ListSurveysRequest::default()).await;
    assert_eq!(all.len(), 3, "{all:#?}");
}

async fn tickets_down_pauses_the_work_and_a_restart_resumes_it_without_loss(backend: Backend) {
    let Some(mut app) = spawn(backend).await else {
        return;
    };
    let customer = app.customer_record("Hal", common::Tier::Standard).await;
    let team = app.team("Support", "agent-1").await;
    let first = app
        .open_ticket(
            &customer,
            common::Channel::Email,
            tpb::TicketType::Question,
            &team,
        )
        .await;
    let second = app
        .open_ticket(
            &customer,
            common::Channel::Email,
            tpb::TicketType::Question,
            &team,
        )
        .await;
    app.solve(&first.name).await;
    let survey = app.surveys_of_ticket(&first.name, 1).await.remove(0);
    // Solved just before the tickets service stops: its event may or may not have been read.
    app.solve(&second.name).await;
    let (database, addr) = app.stop_tickets().await;

    // A low score while the tickets service is down is stored and its follow-up waits.
    let answered = answer(&mut app.customer(&customer), &survey.token, 1, &[], "Bad")
        .await
        .unwrap();
    assert_eq!(
        answered.follow_up.as_ref().map(|f| f.state),
        Some(pb::FollowUpState::Pending as i32)
    );
    // Wait until the service has tried and failed to reach tickets, then check it kept the
    // follow-up pending.
    let tried = eventually("a follow-up attempt while tickets is down", || async {
        let (attempts, state) = app.follow_up_attempts(&survey.name).await;
        (attempts >= 1).then_some(state)
    })
    .await;
    assert_eq!(tried, pb::FollowUpState::Pending as i32);
    let waiting = app
        .admin()
        .get_survey(pb::GetSurveyRequest {
            name: survey.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        waiting.follow_up.map(|f| f.state),
        Some(pb::FollowUpState::Pending as i32)
    );

    app.start_tickets(database, addr).await;
    let settled = app.settled_follow_up(&survey.name).await;
    let follow_up = settled.follow_up.unwrap();
    assert_eq!(follow_up.state, pb::FollowUpState::Opened as i32);
    assert_eq!(
        app.get_ticket(&follow_up.ticket).await.follow_up_of,
        first.name
    );
    // Nothing lost: the second solve has its survey; nothing doubled.
    assert_eq!(app.surveys_of_ticket(&second.name, 1).await.len(), 1);
    // The stream is followed again: a solve after the restart gets its survey too.
    let third = app
        .open_ticket(
            &customer,
            common::Channel::Chat,
            tpb::TicketType::Question,
            &team,
        )
        .await;
    app.solve(&third.name).await;
    app.surveys_of_ticket(&third.name, 1).await;
    app.tickets_stream_sentinel(&team).await;
    app.follow_up_queue_sentinel(&team).await;
    let of_customer = pb::ListSurveysRequest {
        customer: format!("customers/{customer}"),
        ..Default::default()
    };
    assert_eq!(app.surveys(of_customer).await.len(), 3);
    assert_eq!(
        app.tickets_of(&customer).await.len(),
        4,
        "three tickets and one follow-up"
    );
}
