//! Surveys: a customer answers, staff read.

use kefu_proto::feedback::v1 as pb;
use tonic::{Request, Response};

use kefu_server::paging::Page;
use kefu_server::{Violations, principal_of, validate};

use super::{FeedbackApi, Rpc, actor, allow, convert, reader};
use crate::domain::access::{Action, sees_tokens};
use crate::domain::kinds::{SurveyKind, SurveyState};
use crate::domain::survey::{MAX_COMMENT_CHARS, MAX_REASON_CODES};
use crate::ops::NewAnswer;
use crate::store::SurveyFilter;

/// Longest survey token accepted (tokens are 43 characters).
const MAX_TOKEN_CHARS: usize = 100;

pub(super) async fn respond(
    api: &FeedbackApi,
    request: Request<pb::SubmitSurveyResponseRequest>,
) -> Rpc<pb::Survey> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Respond)?;
    let body = request.get_ref();
    let mut v = Violations::new();
    let token = body.token.trim();
    if token.is_empty() {
        v.add("token", "is required");
    } else if token.len() > MAX_TOKEN_CHARS {
        v.add("token", "is not a survey token");
    }
    let response = body.response.clone().unwrap_or_default();
    if response.score.is_none() {
        v.add(
            "response.score",
            "is required: 1 to 5 for CSAT, 0 to 10 for NPS",
        );
    }
    let reason_codes = validate::tags(
        &response.reason_codes,
        MAX_REASON_CODES,
        "response.reason_codes",
        &mut v,
    );
    let comment = response.comment.trim().to_owned();
    if comment.chars().count() > MAX_COMMENT_CHARS {
        v.add(
            "response.comment",
            format!("must be at most {MAX_COMMENT_CHARS} characters"),
        );
    }
    let (sees_tokens, now) = (sees_tokens(&principal), api.ops.ctx.now());
    let replay = validate::replay(
        &principal,
        &body.request_id,
        "SubmitSurveyResponse",
        body,
        move |survey| convert::survey(survey, sees_tokens, now),
        &mut v,
    );
    v.into_result()?;
    let answer = NewAnswer {
        token: token.to_owned(),
        score: response.score.unwrap_or_default(),
        reason_codes,
        comment,
    };
    let survey = api
        .ops
        .submit_response(&actor(&principal), answer, &replay)
        .await?;
    Ok(Response::new(survey))
}

pub(super) async fn get(
    api: &FeedbackApi,
    request: Request<pb::GetSurveyRequest>,
) -> Rpc<pb::Survey> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let id = validate::required_id(&request.get_ref().name, "surveys", "name")?;
    let survey = api
        .ops
        .get_survey(&reader(&principal, &request), &id)
        .await?;
    Ok(Response::new(convert::survey(
        &survey,
        sees_tokens(&principal),
        api.ops.ctx.now(),
    )))
}

pub(super) async fn list(
    api: &FeedbackApi,
    request: Request<pb::ListSurveysRequest>,
) -> Rpc<pb::ListSurveysResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let now = api.ops.ctx.now();
    let kind = validate::optional_enum(r.kind, SurveyKind::from_number, "kind", &mut v);
    let state = validate::optional_enum(r.state, SurveyState::from_number, "state", &mut v);
    let (answered, expired_at) = match state {
        Some(SurveyState::Pending) => (Some(false), Some((false, now))),
        Some(SurveyState::Responded) => (Some(true), None),
        Some(SurveyState::Expired) => (Some(false), Some((true, now))),
        None => (None, None),
    };
    let filter = SurveyFilter {
        kind,
        answered,
        expired_at,
        customer_id: validate::optional_resource_id(&r.customer, "customers", "customer", &mut v),
        ticket_id: validate::optional_resource_id(&r.ticket, "tickets", "ticket", &mut v),
        campaign_id: validate::optional_resource_id(
            &r.campaign,
            "npsCampaigns",
            "campaign",
            &mut v,
        ),
        // The ops layer narrows this to the reader's scope.
        scope: Default::default(),
    };
    let filters = [
        r.kind.to_string(),
        r.state.to_string(),
        r.customer.clone(),
        r.ticket.clone(),
        r.campaign.clone(),
    ];
    let filters: Vec<&str> = filters.iter().map(String::as_str).collect();
    let page: Page<(i64, String)> = Page::read(r.page_size, &r.page_token, &filters, &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_surveys(
            &reader(&principal, &request),
            filter,
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
    let (surveys, next_page_token) = page.finish(rows, |s| (s.create_time, s.id.clone()));
    let show_token = sees_tokens(&principal);
    Ok(Response::new(pb::ListSurveysResponse {
        surveys: surveys
            .iter()
            .map(|s| convert::survey(s, show_token, now))
            .collect(),
        next_page_token,
    }))
}
