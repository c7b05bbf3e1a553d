//! NPS campaigns.

use kefu_proto::feedback::v1 as pb;
use tonic::{Request, Response};

use kefu_db::idempotency::RequestKey;
use kefu_server::common::{LifecycleStage, Tier};
use kefu_server::outgoing::Caller;
use kefu_server::{Violations, principal_of, validate};

use super::{FeedbackApi, Rpc, actor, allow, convert};
use crate::domain::access::Action;
use crate::domain::records::SegmentRecord;
use crate::ops::NewCampaign;

/// Most customers listed in one campaign segment.
const MAX_SEGMENT_IDS: usize = 1_000;

pub(super) async fn create(
    api: &FeedbackApi,
    request: Request<pb::CreateNpsCampaignRequest>,
) -> Rpc<pb::NpsCampaign> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let caller = Caller::of(&request);
    let body = request.into_inner();
    let input = body.campaign.clone().unwrap_or_default();
    let mut v = Violations::new();
    let request_id = validate::request_id(&body.request_id, "request_id", &mut v);
    let display_name = validate::display_name(&input.display_name, "campaign.display_name", &mut v);
    let segment = segment(input.segment.as_ref(), &mut v);
    v.into_result()?;
    let command = NewCampaign {
        display_name,
        segment,
        request: RequestKey::new(request_id, "CreateNpsCampaign", &body),
        caller,
    };
    let campaign = api.ops.create_campaign(&actor(&principal), command).await?;
    Ok(Response::new(convert::campaign(&campaign)))
}

pub(super) async fn get(
    api: &FeedbackApi,
    request: Request<pb::GetNpsCampaignRequest>,
) -> Rpc<pb::NpsCampaign> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let id = validate::required_id(&request.get_ref().name, "npsCampaigns", "name")?;
    let campaign = api.ops.get_campaign(&id).await?;
    Ok(Response::new(convert::campaign(&campaign)))
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
            out.tier = validate::optional_enum(
                filter.tier,
                Tier::from_number,
                "campaign.segment.filter.tier",
                v,
            );
            out.lifecycle_stage = validate::optional_enum(
                filter.lifecycle_stage,
                LifecycleStage::from_number,
                "campaign.segment.filter.lifecycle_stage",
                v,
            );
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
