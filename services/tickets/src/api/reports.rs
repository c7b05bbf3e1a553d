//! A ticket's audit trail, and the team's statistics.

use kefu_proto::tickets::v1 as pb;
use kefu_server::paging::Page;
use kefu_server::{Violations, principal_of, time, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow, convert};
use crate::domain::access::Action;
use crate::ops::Actor;
use crate::store::Dimension;

pub(super) async fn audits(
    api: &TicketsApi,
    request: Request<pb::ListTicketAuditsRequest>,
) -> Rpc<pb::ListTicketAuditsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTeam)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let ticket_id = validate::resource_id(&r.parent, "tickets", "parent", &mut v);
    let page: Page<String> = Page::read(r.page_size, &r.page_token, &[&ticket_id], &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_audits(
            &Actor::of(&principal, "ListTicketAudits"),
            &ticket_id,
            page.after.as_deref(),
            page.fetch(),
        )
        .await?;
    let (records, next_page_token) = page.finish(rows, |a| a.id.clone());
    Ok(Response::new(pb::ListTicketAuditsResponse {
        audits: records.iter().map(convert::audit).collect(),
        next_page_token,
    }))
}

pub(super) async fn stats(
    api: &TicketsApi,
    request: Request<pb::GetTicketStatsRequest>,
) -> Rpc<pb::GetTicketStatsResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTeam)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let period = time::period(r.start_time.as_ref(), r.end_time.as_ref(), &mut v);
    let dimension = match pb::StatsDimension::try_from(r.group_by) {
        Ok(pb::StatsDimension::Unspecified) => Dimension::None,
        Ok(pb::StatsDimension::Agent) => Dimension::Agent,
        Ok(pb::StatsDimension::Group) => Dimension::Group,
        Ok(pb::StatsDimension::Channel) => Dimension::Channel,
        Ok(pb::StatsDimension::Priority) => Dimension::Priority,
        Ok(pb::StatsDimension::Type) => Dimension::Type,
        Err(_) => {
            v.add("group_by", format!("unknown value {}", r.group_by));
            Dimension::None
        }
    };
    v.into_result()?;
    // A missing period was reported as a violation above.
    let (start, end) = period.unwrap_or_default();
    let figures = api
        .ops
        .stats(
            &Actor::of(&principal, "GetTicketStats"),
            dimension,
            start,
            end,
        )
        .await?;
    Ok(Response::new(pb::GetTicketStatsResponse {
        rows: figures
            .into_iter()
            .map(|(key, row)| convert::stats_row(dimension, &key, &row))
            .collect(),
    }))
}
