//! Complaints, suggestions and praise.

use kefu_db::idempotency::RequestKey;
use kefu_proto::feedback::v1 as pb;
use kefu_server::common::Channel;
use kefu_server::outgoing::Caller;
use kefu_server::paging::Page;
use kefu_server::{Violations, principal_of, validate};
use tonic::{Request, Response};

use super::{FeedbackApi, Rpc, actor, allow, convert, reader};
use crate::domain::access::{Action, own_customer};
use crate::domain::kinds::{FeedbackKind, FeedbackState};
use crate::ops::NewFeedback;
use crate::store::FeedbackFilter;

/// Longest feedback text, in characters.
const MAX_FEEDBACK_CHARS: usize = 10_000;

pub(super) async fn submit(
    api: &FeedbackApi,
    request: Request<pb::SubmitFeedbackRequest>,
) -> Rpc<pb::FeedbackEntry> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::SendFeedback)?;
    let caller = Caller::of(&request);
    let body = request.into_inner();
    let input = body.feedback.clone().unwrap_or_default();
    let mut v = Violations::new();
    let request_id = validate::request_id(&body.request_id, "request_id", &mut v);
    let kind = validate::required_enum(
        input.kind,
        FeedbackKind::from_number,
        "feedback.kind",
        &mut v,
    );
    let text = input.text.trim().to_owned();
    if text.is_empty() {
        v.add("feedback.text", "is required");
    } else if text.chars().count() > MAX_FEEDBACK_CHARS {
        v.add(
            "feedback.text",
            format!("must be at most {MAX_FEEDBACK_CHARS} characters"),
        );
    }
    let channel = validate::required_enum(
        input.channel,
        Channel::from_number,
        "feedback.channel",
        &mut v,
    );
    // A customer's own feedback may leave the customer out; anyone else must name one.
    let customer_id = match own_customer(&principal) {
        Some(own) => validate::optional_resource_id(
            &input.customer,
            "customers",
            "feedback.customer",
            &mut v,
        )
        .unwrap_or_else(|| own.to_owned()),
        None => validate::resource_id(&input.customer, "customers", "feedback.customer", &mut v),
    };
    let ticket_id =
        validate::optional_resource_id(&input.ticket, "tickets", "feedback.ticket", &mut v);
    v.into_result()?;
    let (Some(kind), Some(channel)) = (kind, channel) else {
        return Err(Violations::required("feedback.kind").into());
    };
    let new = NewFeedback {
        kind,
        customer_id,
        body: text,
        channel,
        ticket_id,
        request: RequestKey::new(request_id, "SubmitFeedback", &body),
        caller,
    };
    let entry = api.ops.submit_feedback(&actor(&principal), new).await?;
    Ok(Response::new(convert::feedback(&entry)))
}

pub(super) async fn get(
    api: &FeedbackApi,
    request: Request<pb::GetFeedbackRequest>,
) -> Rpc<pb::FeedbackEntry> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let id = validate::required_id(&request.get_ref().name, "feedback", "name")?;
    let entry = api
        .ops
        .get_feedback(&reader(&principal, &request), &id)
        .await?;
    Ok(Response::new(convert::feedback(&entry)))
}

pub(super) async fn list(
    api: &FeedbackApi,
    request: Request<pb::ListFeedbackRequest>,
) -> Rpc<pb::ListFeedbackResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Read)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let filter = FeedbackFilter {
        kind: validate::optional_enum(r.kind, FeedbackKind::from_number, "kind", &mut v),
        state: validate::optional_enum(r.state, FeedbackState::from_number, "state", &mut v),
        customer_id: validate::optional_resource_id(&r.customer, "customers", "customer", &mut v),
        // The ops layer narrows this to the reader's scope.
        scope: Default::default(),
    };
    let filters = [r.kind.to_string(), r.state.to_string(), r.customer.clone()];
    let filters: Vec<&str> = filters.iter().map(String::as_str).collect();
    let page: Page<(i64, String)> = Page::read(r.page_size, &r.page_token, &filters, &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_feedback(
            &reader(&principal, &request),
            filter,
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
    let (entries, next_page_token) = page.finish(rows, |e| (e.create_time, e.id.clone()));
    Ok(Response::new(pb::ListFeedbackResponse {
        feedback: entries.iter().map(convert::feedback).collect(),
        next_page_token,
    }))
}
