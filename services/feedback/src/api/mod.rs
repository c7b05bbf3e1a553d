//! The gRPC surface: authorize, validate, call `ops`, convert back.

mod convert;

use kefu_db::time::now_micros;
use kefu_principal::Principal;
use kefu_proto::customers::v1 as customers_pb;
use kefu_proto::feedback::v1 as pb;
use kefu_proto::tickets::v1 as tickets_pb;
use kefu_server::{Violations, events, paging, principal_of, validate};
use pb::feedback_service_server::FeedbackService;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::customers::Customers;
use crate::domain::access::{Action, authorize, own_customer, sees_tokens};
use crate::domain::records::SegmentRecord;
use crate::domain::survey::{MAX_COMMENT_CHARS, MAX_REASON_CODES};
use crate::error::FeedbackError;
use crate::ops::{Actor, Feedback, NewAnswer, NewFeedback, decode_event};
use crate::store::{FeedbackFilter, SummaryKey, SurveyFilter};
use crate::tickets::Tickets;

/// Longest feedback text, in characters.
pub const MAX_FEEDBACK_CHARS: usize = 10_000;
/// Most customers listed in one campaign segment.
pub const MAX_SEGMENT_IDS: usize = 1_000;
/// Longest survey token accepted (tokens are 43 characters).
const MAX_TOKEN_CHARS: usize = 100;

/// The `kefu.feedback.v1.FeedbackService` implementation.
#[derive(Clone, Debug)]
pub struct FeedbackApi {
    ops: Feedback,
    customers: Customers,
    tickets: Tickets,
    shutdown: CancellationToken,
}

impl FeedbackApi {
    /// Serves `ops`, checking customers and tickets with those services; open event streams end
    /// on `shutdown`.
    pub fn new(
        ops: Feedback,
        customers: Customers,
        tickets: Tickets,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            ops,
            customers,
            tickets,
            shutdown,
        }
    }
}

type ApiResult<T> = Result<Response<T>, Status>;

fn allow(principal: &Principal, action: Action) -> Result<(), FeedbackError> {
    authorize(principal, action).map_err(FeedbackError::PermissionDenied)
}

fn check(violations: Violations) -> Result<(), FeedbackError> {
    violations.into_result().map_err(FeedbackError::Invalid)
}

fn actor(principal: &Principal) -> Actor {
    Actor {
        id: principal.id.clone(),
        customer_id: own_customer(principal).map(str::to_owned),
    }
}

fn id_of(name: &str, collection: &str, field: &str) -> Result<String, FeedbackError> {
    let mut v = Violations::new();
    let id = validate::resource_id(name, collection, field, &mut v);
    check(v)?;
    Ok(id)
}

fn request_hash<M: prost::Message>(message: &M) -> String {
    let digest = Sha256::digest(message.encode_to_vec());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn known_enum(value: i32, known: bool, field: &str, v: &mut Violations) -> Option<i32> {
    let value = validate::enum_value(value, known, false, field, v);
    (value != 0 && known).then_some(value)
}

/// A tickets channel enum name (`CHANNEL_WEB`), required.
fn channel_name(value: &str, field: &str, v: &mut Violations) -> String {
    match tickets_pb::Channel::from_str_name(value.trim()) {
        Some(tickets_pb::Channel::Unspecified) | None if value.trim().is_empty() => {
            v.add(field, "is required");
            String::new()
        }
        Some(tickets_pb::Channel::Unspecified) | None => {
            v.add(
                field,
                "must be a channel name like CHANNEL_WEB or CHANNEL_EMAIL",
            );
            String::new()
        }
        Some(channel) => channel.as_str_name().to_owned(),
    }
}

#[tonic::async_trait]
impl FeedbackService for FeedbackApi {
    #[tracing::instrument(skip_all)]
    async fn submit_survey_response(
        &self,
        request: Request<pb::SubmitSurveyResponseRequest>,
    ) -> ApiResult<pb::Survey> {
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
        check(v)?;
        let survey = self
            .ops
            .submit_response(
                &actor(&principal),
                token,
                NewAnswer {
                    score: response.score.unwrap_or_default(),
                    reason_codes,
                    comment,
                },
            )
            .await?;
        Ok(Response::new(convert::survey(
            &survey,
            sees_tokens(&principal),
            now_micros(),
        )))
    }

    #[tracing::instrument(skip_all)]
    async fn get_survey(&self, request: Request<pb::GetSurveyRequest>) -> ApiResult<pb::Survey> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Read)?;
        let id = id_of(&request.get_ref().name, "surveys", "name")?;
        let survey = self.ops.get_survey(&actor(&principal), &id).await?;
        Ok(Response::new(convert::survey(
            &survey,
            sees_tokens(&principal),
            now_micros(),
        )))
    }

    #[tracing::instrument(skip_all)]
    async fn list_surveys(
        &self,
        request: Request<pb::ListSurveysRequest>,
    ) -> ApiResult<pb::ListSurveysResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Read)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let now = now_micros();
        let kind = known_enum(
            r.kind,
            pb::SurveyKind::try_from(r.kind).is_ok(),
            "kind",
            &mut v,
        );
        let state = known_enum(
            r.state,
            pb::SurveyState::try_from(r.state).is_ok(),
            "state",
            &mut v,
        );
        let (answered, expired_at) = match state.map(pb::SurveyState::try_from) {
            Some(Ok(pb::SurveyState::Pending)) => (Some(false), Some((false, now))),
            Some(Ok(pb::SurveyState::Responded)) => (Some(true), None),
            Some(Ok(pb::SurveyState::Expired)) => (Some(false), Some((true, now))),
            _ => (None, None),
        };
        let filter = SurveyFilter {
            kind,
            answered,
            expired_at,
            customer_id: validate::optional_resource_id(
                &r.customer,
                "customers",
                "customer",
                &mut v,
            ),
            ticket_id: validate::optional_resource_id(&r.ticket, "tickets", "ticket", &mut v),
            campaign_id: validate::optional_resource_id(
                &r.campaign,
                "npsCampaigns",
                "campaign",
                &mut v,
            ),
        };
        let limit = paging::page_size(r.page_size, "page_size", &mut v);
        let fingerprint = paging::fingerprint(&[
            &r.kind.to_string(),
            &r.state.to_string(),
            &r.customer,
            &r.ticket,
            &r.campaign,
        ]);
        let after: Option<(i64, String)> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut surveys = self
            .ops
            .list_surveys(&actor(&principal), filter, after.as_ref(), limit)
            .await?;
        let next_page_token = paging::next_page_token(
            &mut surveys,
            limit,
            |s| (s.create_time, s.id.clone()),
            &fingerprint,
        );
        let show_token = sees_tokens(&principal);
        Ok(Response::new(pb::ListSurveysResponse {
            surveys: surveys
                .iter()
                .map(|s| convert::survey(s, show_token, now))
                .collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn submit_feedback(
        &self,
        request: Request<pb::SubmitFeedbackRequest>,
    ) -> ApiResult<pb::FeedbackEntry> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::SendFeedback)?;
        let body = request.get_ref();
        let input = body.feedback.clone().unwrap_or_default();
        let mut v = Violations::new();
        let request_id = validate::request_id(&body.request_id, "request_id", &mut v);
        let kind = validate::enum_value(
            input.kind,
            pb::FeedbackKind::try_from(input.kind).is_ok(),
            true,
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
        let channel = channel_name(&input.channel, "feedback.channel", &mut v);
        let customer_id = match own_customer(&principal) {
            Some(own) => {
                let given = validate::optional_resource_id(
                    &input.customer,
                    "customers",
                    "feedback.customer",
                    &mut v,
                );
                if given.as_deref().is_some_and(|given| given != own) {
                    return Err(FeedbackError::PermissionDenied(
                        "a customer can only send feedback as itself".to_owned(),
                    )
                    .into());
                }
                own.to_owned()
            }
            None => {
                validate::resource_id(&input.customer, "customers", "feedback.customer", &mut v)
            }
        };
        let ticket_id =
            validate::optional_resource_id(&input.ticket, "tickets", "feedback.ticket", &mut v);
        check(v)?;
        let actor = actor(&principal);
        let hash = request_hash(body);
        // A retry of a submission that already happened is answered from the database alone.
        if let Some(request_id) = &request_id
            && let Some(existing) = self.ops.replay(request_id, "SubmitFeedback", &hash).await?
        {
            let entry = self
                .ops
                .get_feedback(&actor, existing.trim_start_matches("feedback/"))
                .await?;
            return Ok(Response::new(convert::feedback(&entry)));
        }
        // Nothing is written for a customer or ticket the caller cannot show exists.
        self.customers
            .check_customer(&request, &customer_id)
            .await?;
        if let Some(ticket_id) = &ticket_id {
            self.tickets
                .check_ticket(&request, ticket_id, &customer_id)
                .await?;
        }
        let entry = self
            .ops
            .submit_feedback(
                &actor,
                NewFeedback {
                    kind,
                    customer_id,
                    body: text,
                    channel,
                    ticket_id,
                },
                request_id.as_deref().map(|id| (id, hash.as_str())),
            )
            .await?;
        Ok(Response::new(convert::feedback(&entry)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_feedback(
        &self,
        request: Request<pb::GetFeedbackRequest>,
    ) -> ApiResult<pb::FeedbackEntry> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Read)?;
        let id = id_of(&request.get_ref().name, "feedback", "name")?;
        let entry = self.ops.get_feedback(&actor(&principal), &id).await?;
        Ok(Response::new(convert::feedback(&entry)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_feedback(
        &self,
        request: Request<pb::ListFeedbackRequest>,
    ) -> ApiResult<pb::ListFeedbackResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Read)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let filter = FeedbackFilter {
            kind: known_enum(
                r.kind,
                pb::FeedbackKind::try_from(r.kind).is_ok(),
                "kind",
                &mut v,
            ),
            state: known_enum(
                r.state,
                pb::FeedbackState::try_from(r.state).is_ok(),
                "state",
                &mut v,
            ),
            customer_id: validate::optional_resource_id(
                &r.customer,
                "customers",
                "customer",
                &mut v,
            ),
        };
        let limit = paging::page_size(r.page_size, "page_size", &mut v);
        let fingerprint =
            paging::fingerprint(&[&r.kind.to_string(), &r.state.to_string(), &r.customer]);
        let after: Option<(i64, String)> =
            paging::decode_token(&r.page_token, &fingerprint, "page_token", &mut v);
        check(v)?;
        let mut entries = self
            .ops
            .list_feedback(&actor(&principal), filter, after.as_ref(), limit)
            .await?;
        let next_page_token = paging::next_page_token(
            &mut entries,
            limit,
            |e| (e.create_time, e.id.clone()),
            &fingerprint,
        );
        Ok(Response::new(pb::ListFeedbackResponse {
            feedback: entries.iter().map(convert::feedback).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_nps_campaign(
        &self,
        request: Request<pb::CreateNpsCampaignRequest>,
    ) -> ApiResult<pb::NpsCampaign> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Configure)?;
        let body = request.get_ref();
        let input = body.campaign.clone().unwrap_or_default();
        let mut v = Violations::new();
        let request_id = validate::request_id(&body.request_id, "request_id", &mut v);
        let display_name =
            validate::display_name(&input.display_name, "campaign.display_name", &mut v);
        let segment = segment(input.segment.as_ref(), &mut v);
        check(v)?;
        let hash = request_hash(body);
        if let Some(request_id) = &request_id
            && let Some(existing) = self
                .ops
                .replay(request_id, "CreateNpsCampaign", &hash)
                .await?
        {
            let campaign = self
                .ops
                .get_campaign(existing.trim_start_matches("npsCampaigns/"))
                .await?;
            return Ok(Response::new(convert::campaign(&campaign)));
        }
        let customer_ids = self.customers.segment(&request, &segment).await?;
        let campaign = self
            .ops
            .create_campaign(
                &actor(&principal),
                display_name,
                segment,
                &customer_ids,
                request_id.as_deref().map(|id| (id, hash.as_str())),
            )
            .await?;
        Ok(Response::new(convert::campaign(&campaign)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_nps_campaign(
        &self,
        request: Request<pb::GetNpsCampaignRequest>,
    ) -> ApiResult<pb::NpsCampaign> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Configure)?;
        let id = id_of(&request.get_ref().name, "npsCampaigns", "name")?;
        let campaign = self.ops.get_campaign(&id).await?;
        Ok(Response::new(convert::campaign(&campaign)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_satisfaction_summary(
        &self,
        request: Request<pb::GetSatisfactionSummaryRequest>,
    ) -> ApiResult<pb::GetSatisfactionSummaryResponse> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::Summarize)?;
        let r = request.get_ref();
        let mut v = Violations::new();
        let period = validate::period(r.start_time.as_ref(), r.end_time.as_ref(), &mut v);
        let key = match pb::SummaryDimension::try_from(r.group_by) {
            Ok(pb::SummaryDimension::Unspecified) => SummaryKey::None,
            Ok(pb::SummaryDimension::Agent) => SummaryKey::Agent,
            Ok(pb::SummaryDimension::Group) => SummaryKey::Group,
            Ok(pb::SummaryDimension::Channel) => SummaryKey::Channel,
            Ok(pb::SummaryDimension::TicketType) => SummaryKey::TicketType,
            Err(_) => {
                v.add("group_by", format!("unknown value {}", r.group_by));
                SummaryKey::None
            }
        };
        check(v)?;
        // A missing period was reported as a violation above.
        let (start, end) = period.unwrap_or_default();
        let rows = self.ops.summary(key, start, end).await?;
        Ok(Response::new(pb::GetSatisfactionSummaryResponse {
            rows: rows.iter().map(convert::row).collect(),
        }))
    }

    type WatchEventsStream = events::EventStream<pb::WatchEventsResponse>;

    #[tracing::instrument(skip_all)]
    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> ApiResult<Self::WatchEventsStream> {
        let principal = principal_of(&request)?;
        allow(&principal, Action::WatchEvents)?;
        let after = events::parse_cursor(&request.get_ref().after_cursor)
            .map_err(FeedbackError::Invalid)?;
        Ok(Response::new(events::watch(
            self.ops.db.clone(),
            after,
            &self.ops.signal,
            self.shutdown.clone(),
            |stored| {
                decode_event(stored).map(|event| pb::WatchEventsResponse { event: Some(event) })
            },
            |error| Status::from(FeedbackError::from(error)),
        )))
    }
}

/// A campaign's segment: listed customers or a filter of the customers service.
fn segment(input: Option<&pb::Segment>, v: &mut Violations) -> SegmentRecord {
    let Some(input) = input else {
        v.add("campaign.segment", "is required: customers or a filter");
        return SegmentRecord::default();
    };
    let mut out = SegmentRecord::default();
    match (&input.filter, input.customers.is_empty()) {
        (Some(_), false) => {
            v.add("campaign.segment", "set customers or filter, not both");
        }
        (None, true) => {
            v.add("campaign.segment", "is required: customers or a filter");
        }
        (None, false) => {
            if input.customers.len() > MAX_SEGMENT_IDS {
                v.add(
                    "campaign.segment.customers",
                    format!("at most {MAX_SEGMENT_IDS} customers; use a filter for more"),
                );
            }
            for (i, name) in input.customers.iter().enumerate() {
                let id = validate::resource_id(
                    name,
                    "customers",
                    &format!("campaign.segment.customers[{i}]"),
                    v,
                );
                if !id.is_empty() && !out.customers.contains(&id) {
                    out.customers.push(id);
                }
            }
        }
        (Some(filter), true) => {
            out.tag = filter.tag.trim().to_lowercase();
            if !out.tag.is_empty() && !validate::is_tag(&out.tag) {
                v.add(
                    "campaign.segment.filter.tag",
                    "must be 1 to 64 characters of a-z 0-9 _ - : .",
                );
            }
            if !filter.tier.is_empty() {
                match customers_pb::Tier::from_str_name(&filter.tier) {
                    Some(tier) if tier != customers_pb::Tier::Unspecified => {
                        out.tier = tier.as_str_name().to_owned();
                    }
                    _ => v.add(
                        "campaign.segment.filter.tier",
                        "must be a tier name like TIER_VIP",
                    ),
                }
            }
            if !filter.lifecycle_stage.is_empty() {
                match customers_pb::LifecycleStage::from_str_name(&filter.lifecycle_stage) {
                    Some(stage) if stage != customers_pb::LifecycleStage::Unspecified => {
                        out.lifecycle_stage = stage.as_str_name().to_owned();
                    }
                    _ => v.add(
                        "campaign.segment.filter.lifecycle_stage",
                        "must be a stage name like LIFECYCLE_STAGE_ACTIVE",
                    ),
                }
            }
            out.organization = validate::optional_resource_id(
                &filter.organization,
                "organizations",
                "campaign.segment.filter.organization",
                v,
            )
            .unwrap_or_default();
        }
    }
    out
}
