//! SLA configuration: business schedules and policies.

use kefu_proto::tickets::v1 as pb;
use kefu_server::common::{Channel, Tier};
use kefu_server::paging::Page;
use kefu_server::{Violations, mask, principal_of, validate};
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
    let record = schedule_record(&input, &mut v);
    v.into_result()?;
    let schedule = api.ops.create_schedule(record, &replay).await?;
    Ok(Response::new(schedule))
}

/// A schedule from the wire, each violation on `business_schedule.<field>` (id, time and
/// version for the caller to set).
fn schedule_record(input: &pb::BusinessSchedule, v: &mut Violations) -> ScheduleRecord {
    let display_name =
        validate::display_name(&input.display_name, "business_schedule.display_name", v);
    let raw: Vec<(i32, i32, i32)> = input
        .intervals
        .iter()
        .map(|i| (i.day_of_week, i.start_minute, i.end_minute))
        .collect();
    let intervals = policy::check_intervals(&raw, input.holidays.len(), v);
    let record = ScheduleRecord {
        id: String::new(),
        display_name,
        time_zone: input.time_zone.trim().to_owned(),
        intervals,
        holidays: input.holidays.iter().map(|h| h.trim().to_owned()).collect(),
        create_time: 0,
        version: 1,
    };
    if v.is_empty() {
        // The calendar's own checks: zone, overlaps, empty week, holiday dates.
        if let Err(error) = record.clock() {
            v.add("business_schedule", error.to_string());
        }
    }
    record
}

pub(super) async fn update_schedule(
    api: &TicketsApi,
    request: Request<pb::UpdateBusinessScheduleRequest>,
) -> Rpc<pb::BusinessSchedule> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let input = r.business_schedule.clone().unwrap_or_default();
    let id = validate::required_id(&input.name, "businessSchedules", "business_schedule.name")?;
    let mut v = Violations::new();
    let paths = mask::update_mask(
        r.update_mask.as_ref(),
        &["display_name", "time_zone", "intervals", "holidays"],
        &mut v,
    );
    v.into_result()?;
    // The named fields over the schedule as it is, checked whole as on create; the ops write
    // it only if it is still at the version read here.
    let current = api.ops.get_schedule(&id).await?;
    let mut merged = convert::schedule(&current);
    for path in &paths {
        match *path {
            "display_name" => merged.display_name = input.display_name.clone(),
            "time_zone" => merged.time_zone = input.time_zone.clone(),
            "intervals" => merged.intervals = input.intervals.clone(),
            _ => merged.holidays = input.holidays.clone(),
        }
    }
    let mut v = Violations::new();
    let mut after = schedule_record(&merged, &mut v);
    v.into_result()?;
    after.id = current.id;
    after.create_time = current.create_time;
    after.version = current.version;
    let schedule = api.ops.update_schedule(&r.etag, after).await?;
    Ok(Response::new(convert::schedule(&schedule)))
}

pub(super) async fn delete_schedule(
    api: &TicketsApi,
    request: Request<pb::DeleteBusinessScheduleRequest>,
) -> Rpc<pb::DeleteBusinessScheduleResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let id = validate::required_id(&r.name, "businessSchedules", "name")?;
    api.ops.delete_schedule(&id, &r.etag).await?;
    Ok(Response::new(pb::DeleteBusinessScheduleResponse {}))
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

/// A policy from the wire, each violation on `sla_policy.<field>` (id, times and version for
/// the caller to set).
fn policy_record(input: &pb::SlaPolicy, v: &mut Violations) -> PolicyRecord {
    let f = |name: &str| format!("sla_policy.{name}");
    let display_name = validate::display_name(&input.display_name, &f("display_name"), v);
    policy::check_policy_numbers(
        input.position,
        [
            ("first_response_minutes", input.first_response_minutes),
            ("next_response_minutes", input.next_response_minutes),
            ("resolution_minutes", input.resolution_minutes),
        ],
        v,
    );
    let priorities = validate::enum_list(
        &input.priorities,
        Priority::from_number,
        &f("priorities"),
        v,
    );
    let tiers = validate::enum_list(
        &input.requester_tiers,
        Tier::from_number,
        &f("requester_tiers"),
        v,
    );
    let types = validate::enum_list(&input.types, TicketType::from_number, &f("types"), v);
    let channels = validate::enum_list(&input.channels, Channel::from_number, &f("channels"), v);
    let groups: Vec<String> = input
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| validate::resource_id(g, "groups", &format!("{}[{i}]", f("groups")), v))
        .collect();
    let schedule_id = validate::optional_resource_id(
        &input.business_schedule,
        "businessSchedules",
        &f("business_schedule"),
        v,
    );
    let escalations = escalation_levels(&input.escalation_levels, v);
    PolicyRecord {
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
        version: 1,
        archive_time: None,
    }
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
    let record = policy_record(&input, &mut v);
    v.into_result()?;
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
        .list_policies(page.after.as_ref(), r.show_archived, page.fetch())
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

/// UpdateSlaPolicy's mask paths, as on `SlaPolicy`.
const POLICY_PATHS: &[&str] = &[
    "display_name",
    "position",
    "priorities",
    "requester_tiers",
    "types",
    "channels",
    "groups",
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "business_schedule",
    "escalation_levels",
];

pub(super) async fn update_policy(
    api: &TicketsApi,
    request: Request<pb::UpdateSlaPolicyRequest>,
) -> Rpc<pb::SlaPolicy> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let input = r.sla_policy.clone().unwrap_or_default();
    let id = validate::required_id(&input.name, "slaPolicies", "sla_policy.name")?;
    let mut v = Violations::new();
    let paths = mask::update_mask(r.update_mask.as_ref(), POLICY_PATHS, &mut v);
    v.into_result()?;
    // The named fields over the policy as it is, checked whole as on create; the ops write it
    // only if the policy is still at the version read here.
    let current = api.ops.get_policy(&id).await?;
    let mut merged = convert::policy(&current);
    for path in &paths {
        match *path {
            "display_name" => merged.display_name = input.display_name.clone(),
            "position" => merged.position = input.position,
            "priorities" => merged.priorities = input.priorities.clone(),
            "requester_tiers" => merged.requester_tiers = input.requester_tiers.clone(),
            "types" => merged.types = input.types.clone(),
            "channels" => merged.channels = input.channels.clone(),
            "groups" => merged.groups = input.groups.clone(),
            "first_response_minutes" => {
                merged.first_response_minutes = input.first_response_minutes
            }
            "next_response_minutes" => merged.next_response_minutes = input.next_response_minutes,
            "resolution_minutes" => merged.resolution_minutes = input.resolution_minutes,
            "business_schedule" => merged.business_schedule = input.business_schedule.clone(),
            _ => merged.escalation_levels = input.escalation_levels.clone(),
        }
    }
    let mut v = Violations::new();
    let mut after = policy_record(&merged, &mut v);
    v.into_result()?;
    after.id = current.id;
    after.create_time = current.create_time;
    after.version = current.version;
    after.archive_time = current.archive_time;
    let policy = api.ops.update_policy(&r.etag, after).await?;
    Ok(Response::new(convert::policy(&policy)))
}

pub(super) async fn delete_policy(
    api: &TicketsApi,
    request: Request<pb::DeleteSlaPolicyRequest>,
) -> Rpc<pb::DeleteSlaPolicyResponse> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let id = validate::required_id(&r.name, "slaPolicies", "name")?;
    let archived = api.ops.delete_policy(&id, &r.etag).await?;
    Ok(Response::new(pb::DeleteSlaPolicyResponse { archived }))
}
