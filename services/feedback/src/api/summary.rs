//! Satisfaction figures.

use kefu_proto::feedback::v1 as pb;
use tonic::{Request, Response};

use kefu_server::{Violations, principal_of, time};

use super::{FeedbackApi, Rpc, allow, convert, reader};
use crate::domain::access::Action;
use crate::store::SummaryKey;

pub(super) async fn summary(
    api: &FeedbackApi,
    request: Request<pb::GetSatisfactionSummaryRequest>,
) -> Rpc<pb::GetSatisfactionSummaryResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Summarize)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let period = time::period(r.start_time.as_ref(), r.end_time.as_ref(), &mut v);
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
    v.into_result()?;
    // A missing period was reported as a violation above.
    let (start, end) = period.unwrap_or_default();
    let rows = api
        .ops
        .summary(&reader(&principal, &request), key, start, end)
        .await?;
    Ok(Response::new(pb::GetSatisfactionSummaryResponse {
        rows: rows.iter().map(convert::row).collect(),
    }))
}
