use kefu_principal::{Principal, Role};
use kefu_proto::feedback::v1 as pb;
use kefu_testkit::{Backend, CallAs, assert_status, backend_tests};
use tonic::Code;

use crate::helpers::*;

backend_tests!(
    each_role_may_call_exactly_what_the_contract_says,
    bad_names_filters_and_cursors_are_refused,
);

const RPCS: [&str; 10] = [
    "SubmitSurveyResponse",
    "SubmitFeedback",
    "GetSurvey",
    "ListSurveys",
    "GetFeedback",
    "ListFeedback",
    "GetSatisfactionSummary",
    "CreateNpsCampaign",
    "GetNpsCampaign",
    "WatchEvents",
];

/// Calls one RPC with a minimal request; only the code matters.
async fn call(client: &mut Client, rpc: &str) -> Code {
    let code = |r: Result<(), tonic::Status>| r.err().map_or(Code::Ok, |s| s.code());
    match rpc {
        "SubmitSurveyResponse" => code(
            client
                .submit_survey_response(pb::SubmitSurveyResponseRequest::default())
                .await
                .map(drop),
        ),
        "SubmitFeedback" => code(
            client
                .submit_feedback(pb::SubmitFeedbackRequest::default())
                .await
                .map(drop),
        ),
        "GetSurvey" => code(
            client
                .get_survey(pb::GetSurveyRequest {
                    name: "surveys/none".into(),
                })
                .await
                .map(drop),
        ),
        "ListSurveys" => code(
            client
                .list_surveys(pb::ListSurveysRequest::default())
                .await
                .map(drop),
        ),
        "GetFeedback" => code(
            client
                .get_feedback(pb::GetFeedbackRequest {
                    name: "feedback/none".into(),
                })
                .await
                .map(drop),
        ),
        "ListFeedback" => code(
            client
                .list_feedback(pb::ListFeedbackRequest::default())
                .await
                .map(drop),
        ),
        "GetSatisfactionSummary" => code(
            client
                .get_satisfaction_summary(pb::GetSatisfactionSummaryRequest::default())
                .await
                .map(drop),
        ),
        "CreateNpsCampaign" => code(
            client
                .create_nps_campaign(pb::CreateNpsCampaignRequest::default())
                .await
                .map(drop),
        ),
        "GetNpsCampaign" => code(
            client
                .get_nps_campaign(pb::GetNpsCampaignRequest {
                    name: "npsCampaigns/none".into(),
                })
                .await
                .map(drop),
        ),
        "WatchEvents" => code(
            client
                .watch_events(pb::WatchEventsRequest::default())
                .await
                .map(drop),
        ),
        other => panic!("unknown RPC {other}"),
    }
}

fn allowed(role: Role, rpc: &str) -> bool {
    match rpc {
        "SubmitSurveyResponse" | "SubmitFeedback" => {
            matches!(role, Role::Integration | Role::Customer)
        }
        "GetSurvey" | "ListSurveys" | "GetFeedback" | "ListFeedback" => true,
        "GetSatisfactionSummary" => role != Role::Customer,
        "CreateNpsCampaign" | "GetNpsCampaign" => role == Role::Admin,
        "WatchEvents" => matches!(role, Role::Admin | Role::Integration),
        other => panic!("unknown RPC {other}"),
    }
}

async fn each_role_may_call_exactly_what_the_contract_says(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let principals = [
        Principal::new("admin-1", Role::Admin),
        Principal::new("agent-1", Role::Agent),
        Principal::new("crm", Role::Integration),
        Principal::customer("c-1"),
    ];
    for principal in &principals {
        let mut client = app.client(principal);
        for rpc in RPCS {
            let code = call(&mut client, rpc).await;
            if allowed(principal.role, rpc) {
                assert!(
                    !matches!(code, Code::PermissionDenied | Code::Unauthenticated),
                    "{} should be allowed {rpc}, got {code:?}",
                    principal.role
                );
            } else {
                assert_eq!(
                    code,
                    Code::PermissionDenied,
                    "{} should be refused {rpc}",
                    principal.role
                );
            }
        }
    }
    // No principal, or a forged one: UNAUTHENTICATED for every RPC.
    let server = app.feedback.as_ref().unwrap();
    for interceptor in [
        CallAs::anonymous(),
        CallAs::new(
            &kefu_principal::InternalKey::generate(),
            &Principal::new("admin-1", Role::Admin),
        ),
    ] {
        let mut client = pb::feedback_service_client::FeedbackServiceClient::with_interceptor(
            server.channel(),
            interceptor,
        );
        for rpc in RPCS {
            assert_eq!(call(&mut client, rpc).await, Code::Unauthenticated, "{rpc}");
        }
    }
}

async fn bad_names_filters_and_cursors_are_refused(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let mut admin = app.admin();
    assert_status(
        admin
            .get_survey(pb::GetSurveyRequest {
                name: "tickets/1".into(),
            })
            .await,
        Code::InvalidArgument,
        &["name"],
    );
    let status = assert_status(
        admin
            .get_survey(pb::GetSurveyRequest {
                name: "surveys/missing".into(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert!(status.message().contains("surveys/missing"));
    assert_status(
        admin
            .get_feedback(pb::GetFeedbackRequest {
                name: "feedback/missing".into(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        admin
            .get_nps_campaign(pb::GetNpsCampaignRequest {
                name: "npsCampaigns/missing".into(),
            })
            .await,
        Code::NotFound,
        &[],
    );
    assert_status(
        admin
            .list_surveys(pb::ListSurveysRequest {
                kind: 99,
                state: 42,
                customer: "people/1".into(),
                page_size: -1,
                page_token: "not-a-token".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        &["kind", "state", "customer", "page_size", "page_token"],
    );
    assert_status(
        admin
            .list_feedback(pb::ListFeedbackRequest {
                kind: 99,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        &["kind"],
    );
    assert_status(
        admin
            .watch_events(pb::WatchEventsRequest {
                after_cursor: "yesterday".into(),
            })
            .await,
        Code::InvalidArgument,
        &["after_cursor"],
    );
}
