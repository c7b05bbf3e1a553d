//! SLA configuration: business schedules and policies.

use kefu_proto::tickets::v1 as pb;
use kefu_server::common::{Channel, Tier};
use kefu_server::paging::Page;
use kefu_server::{Violations, principal_of, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow, convert};
use crate::domain::access::Action;
use crate::domain::escalation::{self, EscalationLevel};
use crate::domain::kinds::{Priority, TicketType};
use crate::domain::policy::{self, PolicyRecord, ScheduleRecord};

pub(super) async fn create_schedule(
    api: &TicketsApi,
    request: Request<pb::CreateBusinessScheduleRequest>,
) -> Rpc<pb::BusinessSchedule> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let body = request.get_ref();
    let input = body.business_schedule.clone().unwrap_or_default();
    let mut v = Violations::new();
    let replay = validate::replay(
        &principal,
        &body.request_id,
        "CreateBusinessSchedule",
        body,
        convert::schedule,
        &mut v,
    );
    let display_name = validate::display_name(
        &input.display_name,
        "business_schedule.display_name",
        &mut v,
    );
    let raw: Vec<(i32, i32, i32)> = input
        .intervals
        .iter()
        .map(|i| (i.day_of_week, i.start_minute, i.end_minute))
        .collect();
    let intervals = policy::check_intervals(&raw, input.holidays.len(), &mut v);
    let record = ScheduleRecord {
        id: String::new(),
        display_name,
        time_zone: input.time_zone.trim().to_owned(),
        intervals,
        holidays: input.holidays.iter().map(|h| h.trim().to_owned()).collect(),
        create_time: 0,
    };
    if v.is_empty() {
        // The calendar's own checks: zone, overlaps, empty week, holiday dates.
        if let Err(error) = record.clock() {
            v.add("business_schedule", error.to_string());
        }
    }
    v.into_result()?;
    let schedule = api.ops.create_schedule(record, &replay).await?;
    Ok(Response::new(schedule))
}

pub(super) async fn list_schedules(
    api: &TicketsApi,
    request: Request<pb::ListBusinessSchedulesRequest>,
) -> Rpc<pb::ListBusinessSchedulesResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTeam)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let page: Page<String> = Page::read(r.page_size, &r.page_token, &["schedules"], &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_schedules(page.after.as_deref(), page.fetch())
        .await?;
    let (records, next_page_token) = page.finish(rows, |s| s.id.clone());
    Ok(Response::new(pb::ListBusinessSchedulesResponse {
        business_schedules: records.iter().map(convert::schedule).collect(),
        next_page_token,
    }))
}

pub(super) async fn create_policy(
    api: &TicketsApi,
    request: Request<pb::CreateSlaPolicyRequest>,
) -> Rpc<pb::SlaPolicy> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let body = request.get_ref();
    let input = body.sla_policy.clone().unwrap_or_default();
    let mut v = Violations::new();
    let replay = validate::replay(
        &principal,
        &body.request_id,
        "CreateSlaPolicy",
        body,
        convert::policy,
        &mut v,
    );
    let f = |name: &str| format!("sla_policy.{name}");
    let display_name = validate::display_name(&input.display_name, &f("display_name"), &mut v);
    policy::check_policy_numbers(
        input.position,
        [
            ("first_response_minutes", input.first_response_minutes),
            ("next_response_minutes", input.next_response_minutes),
            ("resolution_minutes", input.resolution_minutes),
        ],
        &mut v,
    );
    let priorities = validate::enum_list(
        &input.priorities,
        Priority::from_number,
        &f("priorities"),
        &mut v,
    );
    let tiers = validate::enum_list(
        &input.requester_tiers,
        Tier::from_number,
        &f("requester_tiers"),
        &mut v,
    );
    let types = validate::enum_list(&input.types, TicketType::from_number, &f("types"), &mut v);
    let channels = validate::enum_list(
        &input.channels,
        Channel::from_number,
        &f("channels"),
        &mut v,
    );
    let groups: Vec<String> = input
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| validate::resource_id(g, "groups", &format!("{}[{i}]", f("groups")), &mut v))
        .collect();
    let schedule_id = validate::optional_resource_id(
        &input.business_schedule,
        "businessSchedules",
        &f("business_schedule"),
        &mut v,
    );
    let escalations = escalation_levels(&input.escalation_levels, &mut v);
    v.into_result()?;
    let record = PolicyRecord {
        id: String::new(),
        display_name,
        position: input.position,
        priorities,
        tiers,
        types,
        channels,
        groups,
        first_response_minutes: input.first_response_minutes,
        next_response_minutes: input.next_response_minutes,
        resolution_minutes: input.resolution_minutes,
        schedule_id,
        escalations,
        create_time: 0,
    };
    let policy = api.ops.create_policy(record, &replay).await?;
    Ok(Response::new(policy))
}

pub(super) async fn list_policies(
    api: &TicketsApi,
    request: Request<pb::ListSlaPoliciesRequest>,
) -> Rpc<pb::ListSlaPoliciesResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTeam)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let page: Page<(i64, i64, String)> =
        Page::read(r.page_size, &r.page_token, &["policies"], &mut v);
    v.into_result()?;
    let rows = api
        .ops
        .list_policies(page.after.as_ref(), page.fetch())
        .await?;
    let (records, next_page_token) = page.finish(rows, |p| {
        (i64::from(p.position), p.create_time, p.id.clone())
    });
    Ok(Response::new(pb::ListSlaPoliciesResponse {
        sla_policies: records.iter().map(convert::policy).collect(),
        next_page_token,
    }))
}

/// A policy's escalation levels, each violation on `sla_policy.escalation_levels[i].<field>`;
/// ascending by percent.
fn escalation_levels(input: &[pb::EscalationLevel], v: &mut Violations) -> Vec<EscalationLevel> {
    let percents: Vec<i32> = input.iter().map(|l| l.percent).collect();
    let percents = escalation::check_percents(&percents, v);
    let mut levels: Vec<EscalationLevel> = input
        .iter()
        .zip(percents)
        .enumerate()
        .map(|(i, (level, percent))| {
            let f = |name: &str| format!("sla_policy.escalation_levels[{i}].{name}");
            EscalationLevel {
                percent,
                raise_priority: validate::optional_enum(
                    level.raise_priority,
                    Priority::from_number,
                    &f("raise_priority"),
                    v,
                ),
                group_id: validate::optional_resource_id(&level.group, "groups", &f("group"), v),
                assignee_id: validate::optional_resource_id(
                    &level.assignee,
                    "agents",
                    &f("assignee"),
                    v,
                ),
                notify_lead: level.notify_lead,
            }
        })
        .collect();
    levels.sort_by_key(|l| l.percent);
    levels
}
