//! The gRPC surface, one file per resource: authorize, validate into domain values, call `ops`,
//! convert back. This file routes each RPC to its handler.

mod campaigns;
mod convert;
mod feedback;
mod summary;
mod surveys;

use kefu_principal::{Principal, Role};
use kefu_proto::feedback::v1 as pb;
use kefu_server::api::{Rpc, permission};
use kefu_server::events::{EventFeed, EventStream};
use kefu_server::outgoing::Caller;
use pb::feedback_service_server::FeedbackService;
use tonic::{Request, Status};

use crate::domain::access::{Action, authorize, own_customer};
use crate::ops::{Actor, Feedback};

/// The stream `WatchEvents` answers with.
type Events = EventStream<pb::WatchEventsResponse>;

/// The `kefu.feedback.v1.FeedbackService` implementation.
#[derive(Clone, Debug)]
pub struct FeedbackApi {
    ops: Feedback,
    events: EventFeed,
}

impl FeedbackApi {
    /// Serves `ops`, and `WatchEvents` from `events`.
    pub fn new(ops: Feedback, events: EventFeed) -> Self {
        Self { ops, events }
    }
}

/// PERMISSION_DENIED unless `principal` may do `action`.
fn allow(principal: &Principal, action: Action) -> Result<(), Status> {
    permission(authorize(principal, action))
}

/// The actor a principal is: customers see and touch only their own records.
fn actor(principal: &Principal) -> Actor {
    Actor {
        id: principal.id.clone(),
        customer_id: own_customer(principal).map(str::to_owned),
        agent: None,
    }
}

/// The actor a reader is: as [`actor`], and an agent reads within their ticket scope.
fn reader<U>(principal: &Principal, request: &Request<U>) -> Actor {
    let mut reader = actor(principal);
    if principal.role == Role::Agent {
        reader.agent = Some(Caller::of(request));
    }
    reader
}

#[tonic::async_trait]
impl FeedbackService for FeedbackApi {
    type WatchEventsStream = Events;

    async fn watch_events(&self, r: Request<pb::WatchEventsRequest>) -> Rpc<Events> {
        self.events.serve(&r, |p| allow(p, Action::WatchEvents))
    }

    async fn submit_survey_response(
        &self,
        r: Request<pb::SubmitSurveyResponseRequest>,
    ) -> Rpc<pb::Survey> {
        surveys::respond(self, r).await
    }

    async fn get_survey(&self, r: Request<pb::GetSurveyRequest>) -> Rpc<pb::Survey> {
        surveys::get(self, r).await
    }

    async fn list_surveys(
        &self,
        r: Request<pb::ListSurveysRequest>,
    ) -> Rpc<pb::ListSurveysResponse> {
        surveys::list(self, r).await
    }

    async fn submit_feedback(
        &self,
        r: Request<pb::SubmitFeedbackRequest>,
    ) -> Rpc<pb::FeedbackEntry> {
        feedback::submit(self, r).await
    }

    async fn get_feedback(&self, r: Request<pb::GetFeedbackRequest>) -> Rpc<pb::FeedbackEntry> {
        feedback::get(self, r).await
    }

    async fn list_feedback(
        &self,
        r: Request<pb::ListFeedbackRequest>,
    ) -> Rpc<pb::ListFeedbackResponse> {
        feedback::list(self, r).await
    }

    async fn create_nps_campaign(
        &self,
        r: Request<pb::CreateNpsCampaignRequest>,
    ) -> Rpc<pb::NpsCampaign> {
        campaigns::create(self, r).await
    }

    async fn get_nps_campaign(
        &self,
        r: Request<pb::GetNpsCampaignRequest>,
    ) -> Rpc<pb::NpsCampaign> {
        campaigns::get(self, r).await
    }

    async fn get_satisfaction_summary(
        &self,
        r: Request<pb::GetSatisfactionSummaryRequest>,
    ) -> Rpc<pb::GetSatisfactionSummaryResponse> {
        summary::summary(self, r).await
    }
}
