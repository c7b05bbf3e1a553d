//! Wire ↔ domain: a trigger from the wire, checked field by field into a record (every problem a
//! violation naming its path), and records back onto the wire.

use kefu_proto::automation::v1 as pb;
use kefu_server::time::timestamp;
use kefu_server::{Violations, validate};

use crate::domain::evaluate::ConditionOutcome;
use crate::domain::firing::FiringRecord;
use crate::domain::schedule::{self, MAX_HOURS, Schedule, Since, WAITING_STATUSES};
use crate::domain::template;
use crate::domain::trigger::{
    Action, Condition, EventKind, Field, LIFECYCLE_STAGES, Operator, RequesterChange, SetTarget,
    TriggerRecord,
};
use crate::ops::TriggerView;
use crate::ops::trigger_etag;
use kefu_proto::common::v1::LifecycleStage;

/// Longest description, in characters.
const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// Most conditions in each list.
const MAX_CONDITIONS: usize = 50;
/// Most actions of a trigger.
const MAX_ACTIONS: usize = 20;
/// Most tags an action adds or removes.
const MAX_TAGS: usize = 20;
/// Longest value of a condition or a field an action sets, in characters.
const MAX_VALUE_CHARS: usize = 1_000;

/// The parts triggers and automations share, as the wire has them.
struct RuleParts<'a> {
    display_name: &'a str,
    description: &'a str,
    active: bool,
    position: i32,
    all_conditions: &'a [pb::Condition],
    any_conditions: &'a [pb::Condition],
    actions: &'a [pb::Action],
}

/// The shared parts checked into a rule with no events and no schedule; `at` is the message's
/// field name (`trigger`, `automation`).
fn rule_in(input: &RuleParts<'_>, at: &str, v: &mut Violations) -> TriggerRecord {
    let description = description_in(input.description, at, v);
    let all_conditions = conditions_in(input.all_conditions, &format!("{at}.all_conditions"), v);
    let any_conditions = conditions_in(input.any_conditions, &format!("{at}.any_conditions"), v);
    let actions = actions_in(input.actions, at, v);
    TriggerRecord {
        id: String::new(),
        display_name: validate::display_name(input.display_name, &format!("{at}.display_name"), v),
        description,
        active: input.active,
        position: input.position,
        events: Vec::new(),
        schedule: None,
        all_conditions,
        any_conditions,
        actions,
        stop_processing: false,
        create_time: 0,
        update_time: 0,
        version: 0,
    }
}

/// `{at}.description`, trimmed and checked.
pub(super) fn description_in(input: &str, at: &str, v: &mut Violations) -> String {
    let description = input.trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        v.add(
            format!("{at}.description"),
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
    description
}

/// `{at}.actions`, 1 to [`MAX_ACTIONS`] of them, each checked.
pub(super) fn actions_in(input: &[pb::Action], at: &str, v: &mut Violations) -> Vec<Action> {
    if input.is_empty() || input.len() > MAX_ACTIONS {
        v.add(
            format!("{at}.actions"),
            format!("must hold 1 to {MAX_ACTIONS} actions"),
        );
    }
    input
        .iter()
        .enumerate()
        .filter_map(|(i, a)| action_in(a, &format!("{at}.actions[{i}]"), v))
        .collect()
}

/// A trigger from the wire, checked; output-only fields are ignored.
pub(super) fn trigger_in(input: &pb::Trigger, v: &mut Violations) -> TriggerRecord {
    let parts = RuleParts {
        display_name: &input.display_name,
        description: &input.description,
        active: input.active,
        position: input.position,
        all_conditions: &input.all_conditions,
        any_conditions: &input.any_conditions,
        actions: &input.actions,
    };
    let mut events = Vec::new();
    if input.events.is_empty() {
        v.add("trigger.events", "is required: at least one event");
    }
    for (i, number) in input.events.iter().enumerate() {
        match EventKind::from_number(*number) {
            Some(kind) if !events.contains(&kind) => events.push(kind),
            Some(_) => {}
            None => v.add(
                format!("trigger.events[{i}]"),
                format!("unknown or unspecified event {number}"),
            ),
        }
    }
    TriggerRecord {
        events,
        stop_processing: input.stop_processing,
        ..rule_in(&parts, "trigger", v)
    }
}

/// An automation from the wire, checked; output-only fields are ignored.
pub(super) fn automation_in(input: &pb::Automation, v: &mut Violations) -> TriggerRecord {
    let parts = RuleParts {
        display_name: &input.display_name,
        description: &input.description,
        active: input.active,
        position: input.position,
        all_conditions: &input.all_conditions,
        any_conditions: &input.any_conditions,
        actions: &input.actions,
    };
    let rule = rule_in(&parts, "automation", v);
    for (list, conditions) in [
        ("all_conditions", &rule.all_conditions),
        ("any_conditions", &rule.any_conditions),
    ] {
        for (i, c) in conditions.iter().enumerate() {
            if matches!(c.field, Field::Actor | Field::Text) || c.operator == Operator::Changed {
                v.add(
                    format!("automation.{list}[{i}]"),
                    "describes an event: time-based rules cannot test `actor`, `text` or CHANGED",
                );
            }
        }
    }
    if let Some(i) = schedule::refires_on_its_follow_ups(&rule) {
        v.add(
            format!("automation.actions[{i}]"),
            "would act on the follow-up it opens, and on that one's follow-up in turn: add an \
             all-of condition `tags` NOT_INCLUDES one of the follow-up's tags",
        );
    }
    let schedule = schedule_in(input.time.as_ref(), v);
    TriggerRecord {
        schedule: Some(schedule),
        ..rule
    }
}

fn schedule_in(input: Option<&pb::TimeCondition>, v: &mut Violations) -> Schedule {
    let input = input.cloned().unwrap_or_default();
    let status = input.status.trim().to_owned();
    let since = match pb::TimeSince::try_from(input.since).unwrap_or_default() {
        pb::TimeSince::Unspecified => {
            v.add(
                "automation.time.since",
                "is required: CREATED, STATUS, SOLVED, REQUESTER_REPLY or SLA_DUE_WITHIN",
            );
            Since::Created
        }
        pb::TimeSince::Created => Since::Created,
        pb::TimeSince::Solved => Since::Solved,
        pb::TimeSince::RequesterReply => Since::RequesterReply,
        pb::TimeSince::SlaDueWithin => Since::SlaDue,
        pb::TimeSince::Status => {
            if !WAITING_STATUSES.contains(&status.as_str()) {
                v.add(
                    "automation.time.status",
                    format!("must be one of {}", WAITING_STATUSES.join(", ")),
                );
            }
            Since::Status(status.clone())
        }
    };
    if !matches!(since, Since::Status(_)) && !status.is_empty() {
        v.add("automation.time.status", "is only for TIME_SINCE_STATUS");
    }
    if !(1..=MAX_HOURS).contains(&input.hours) {
        v.add(
            "automation.time.hours",
            format!("must be 1 to {MAX_HOURS} hours"),
        );
    }
    Schedule {
        since,
        hours: input.hours,
    }
}

fn conditions_in(input: &[pb::Condition], field: &str, v: &mut Violations) -> Vec<Condition> {
    if input.len() > MAX_CONDITIONS {
        v.add(field, format!("at most {MAX_CONDITIONS} conditions"));
    }
    input
        .iter()
        .enumerate()
        .filter_map(|(i, c)| condition_in(c, &format!("{field}[{i}]"), v))
        .collect()
}

fn condition_in(input: &pb::Condition, at: &str, v: &mut Violations) -> Option<Condition> {
    let Some(field) = Field::parse(input.field.trim()) else {
        v.add(
            format!("{at}.field"),
            format!("unknown field `{}`", input.field),
        );
        return None;
    };
    let Some(operator) = Operator::from_number(input.operator) else {
        v.add(format!("{at}.operator"), "is required");
        return None;
    };
    if !field.operators().contains(&operator) {
        v.add(
            format!("{at}.operator"),
            format!("{operator:?} does not apply to `{}`", field.path()),
        );
        return None;
    }
    let value = input.value.trim().to_owned();
    let needed = operator.needs_value();
    if needed && value.is_empty() {
        v.add(format!("{at}.value"), "is required");
    } else if matches!(operator, Operator::Present | Operator::Absent) && !value.is_empty() {
        v.add(
            format!("{at}.value"),
            "must be empty for PRESENT and ABSENT",
        );
    } else if !value.is_empty() {
        check_value(&field, &value, &format!("{at}.value"), v);
    }
    Some(Condition {
        field,
        operator,
        value,
    })
}

/// Checks a value for `field`: an enumeration's name, a resource name of its collection, a tag.
fn check_value(field: &Field, value: &str, at: &str, v: &mut Violations) {
    if value.chars().count() > MAX_VALUE_CHARS {
        v.add(at, format!("must be at most {MAX_VALUE_CHARS} characters"));
    } else if let Some(allowed) = field.allowed_values() {
        if !allowed.contains(&value) {
            v.add(at, format!("must be one of {}", allowed.join(", ")));
        }
    } else if let Some(collection) = field.collection() {
        validate::resource_id(value, collection, at, v);
    } else if *field == Field::Tags && !validate::is_tag(value) {
        v.add(at, "must be a tag: 1 to 64 characters of a-z 0-9 _ - : .");
    }
}

fn action_in(input: &pb::Action, at: &str, v: &mut Violations) -> Option<Action> {
    use pb::action::Action as A;
    match &input.action {
        None => {
            v.add(
                at,
                "is required: set_field, add_tags, remove_tags, reply or follow_up",
            );
            None
        }
        Some(A::SetField(set)) => {
            let Some(target) = SetTarget::parse(set.field.trim()) else {
                v.add(
                    format!("{at}.set_field.field"),
                    "must be priority, type, category, custom_fields.{key}, group, assignee or status",
                );
                return None;
            };
            let value = set.value.trim().to_owned();
            let path = format!("{at}.set_field.value");
            if let Some(allowed) = target.allowed_values() {
                if !allowed.contains(&value.as_str()) {
                    v.add(path, format!("must be one of {}", allowed.join(", ")));
                }
            } else if value.is_empty() && !matches!(target, SetTarget::CustomField(_)) {
                v.add(path, "is required");
            } else if !value.is_empty() {
                check_value(&target.field(), &value, &path, v);
            }
            Some(Action::SetField { target, value })
        }
        Some(A::AddTags(tags)) => Some(Action::AddTags(tags_in(
            tags,
            &format!("{at}.add_tags.tags"),
            v,
        ))),
        Some(A::RemoveTags(tags)) => Some(Action::RemoveTags(tags_in(
            tags,
            &format!("{at}.remove_tags.tags"),
            v,
        ))),
        Some(A::Reply(reply)) => {
            template_in(&reply.body, &format!("{at}.reply.body"), v);
            Some(Action::Reply {
                body: reply.body.clone(),
                public: reply.public,
            })
        }
        Some(A::FollowUp(follow_up)) => {
            template_in(&follow_up.subject, &format!("{at}.follow_up.subject"), v);
            template_in(
                &follow_up.description,
                &format!("{at}.follow_up.description"),
                v,
            );
            let group = follow_up.group.trim().to_owned();
            if !group.is_empty() {
                check_value(&Field::Group, &group, &format!("{at}.follow_up.group"), v);
            }
            let tags = pb::Tags {
                tags: follow_up.tags.clone(),
            };
            Some(Action::FollowUp {
                subject: follow_up.subject.clone(),
                description: follow_up.description.clone(),
                group,
                tags: tags_in(&tags, &format!("{at}.follow_up.tags"), v),
            })
        }
        Some(A::ApplyMacro(apply)) => Some(Action::ApplyMacro(validate::resource_id(
            &apply.r#macro,
            "macros",
            &format!("{at}.apply_macro.macro"),
            v,
        ))),
        Some(A::UpdateRequester(update)) => Some(Action::UpdateRequester(requester_change_in(
            update,
            &format!("{at}.update_requester"),
            v,
        ))),
    }
}

fn requester_change_in(
    input: &pb::UpdateRequester,
    at: &str,
    v: &mut Violations,
) -> RequesterChange {
    let stage = LifecycleStage::try_from(input.lifecycle_stage)
        .ok()
        .and_then(|s| s.as_str_name().strip_prefix("LIFECYCLE_STAGE_"))
        .filter(|s| LIFECYCLE_STAGES.contains(s))
        .unwrap_or_default();
    if stage.is_empty() && input.lifecycle_stage != 0 {
        v.add(format!("{at}.lifecycle_stage"), "is not a lifecycle stage");
    }
    let add_tags = validate::tags(&input.add_tags, MAX_TAGS, &format!("{at}.add_tags"), v);
    let remove_tags = validate::tags(
        &input.remove_tags,
        MAX_TAGS,
        &format!("{at}.remove_tags"),
        v,
    );
    if input.lifecycle_stage == 0 && input.add_tags.is_empty() && input.remove_tags.is_empty() {
        v.add(
            at,
            "is required: a lifecycle stage, tags to add or tags to remove",
        );
    }
    if let Some(both) = add_tags.iter().find(|t| remove_tags.contains(t)) {
        v.add(
            format!("{at}.remove_tags"),
            format!("{both} is also added: a tag is added or removed, not both"),
        );
    }
    RequesterChange {
        lifecycle_stage: stage.to_owned(),
        add_tags,
        remove_tags,
        customer: String::new(),
    }
}

/// Checks a template field: required, not too long, and rendering with known placeholders.
fn template_in(body: &str, path: &str, v: &mut Violations) {
    if body.trim().is_empty() {
        v.add(path, "is required");
    } else if body.chars().count() > template::MAX_BODY_CHARS {
        v.add(
            path,
            format!("must be at most {} characters", template::MAX_BODY_CHARS),
        );
    } else if let Err(why) = template::check(body) {
        v.add(path, why);
    }
}

fn tags_in(input: &pb::Tags, at: &str, v: &mut Violations) -> Vec<String> {
    if input.tags.is_empty() {
        v.add(at, "is required: at least one tag");
    }
    validate::tags(&input.tags, MAX_TAGS, at, v)
}

/// A condition onto the wire.
pub(super) fn condition_out(c: &Condition) -> pb::Condition {
    pb::Condition {
        field: c.field.path(),
        operator: c.operator.number(),
        value: c.value.clone(),
    }
}

/// An action onto the wire.
pub(super) fn action_out(a: &Action) -> pb::Action {
    use pb::action::Action as A;
    let action = match a {
        Action::SetField { target, value } => A::SetField(pb::SetField {
            field: target.field().path(),
            value: value.clone(),
        }),
        Action::AddTags(tags) => A::AddTags(pb::Tags { tags: tags.clone() }),
        Action::RemoveTags(tags) => A::RemoveTags(pb::Tags { tags: tags.clone() }),
        Action::Reply { body, public } => A::Reply(pb::Reply {
            body: body.clone(),
            public: *public,
        }),
        Action::FollowUp {
            subject,
            description,
            group,
            tags,
        } => A::FollowUp(pb::FollowUp {
            subject: subject.clone(),
            description: description.clone(),
            group: group.clone(),
            tags: tags.clone(),
        }),
        Action::UpdateRequester(change) => A::UpdateRequester(pb::UpdateRequester {
            lifecycle_stage: LifecycleStage::from_str_name(&format!(
                "LIFECYCLE_STAGE_{}",
                change.lifecycle_stage
            ))
            .map_or(0, |s| s as i32),
            add_tags: change.add_tags.clone(),
            remove_tags: change.remove_tags.clone(),
            customer: if change.customer.is_empty() {
                String::new()
            } else {
                format!("customers/{}", change.customer)
            },
        }),
        Action::ApplyMacro(id) => A::ApplyMacro(pb::ApplyMacro {
            r#macro: format!("macros/{id}"),
        }),
    };
    pb::Action {
        action: Some(action),
    }
}

fn stats_out(s: &crate::store::TriggerStats) -> pb::TriggerStats {
    pb::TriggerStats {
        applied: s.applied,
        failed: s.failed,
        skipped: s.skipped,
        last_fire_time: (s.last_fire_time > 0).then(|| timestamp(s.last_fire_time)),
        last_error: s.last_error.clone(),
    }
}

/// An automation with its counts onto the wire.
pub(super) fn automation_out(view: &TriggerView) -> pb::Automation {
    let t = &view.trigger;
    let time = t.schedule.as_ref().map(|s| pb::TimeCondition {
        since: s.since.number(),
        status: match &s.since {
            Since::Status(status) => status.clone(),
            _ => String::new(),
        },
        hours: s.hours,
    });
    pb::Automation {
        name: t.name(),
        display_name: t.display_name.clone(),
        description: t.description.clone(),
        active: t.active,
        position: t.position,
        time,
        all_conditions: t.all_conditions.iter().map(condition_out).collect(),
        any_conditions: t.any_conditions.iter().map(condition_out).collect(),
        actions: t.actions.iter().map(action_out).collect(),
        stats: Some(stats_out(&view.stats)),
        create_time: Some(timestamp(t.create_time)),
        update_time: Some(timestamp(t.update_time)),
        etag: trigger_etag(t),
        check_time: view.checked_until.map(timestamp),
    }
}

/// A trigger with its counts onto the wire.
pub(super) fn trigger_out(view: &TriggerView) -> pb::Trigger {
    let t = &view.trigger;
    pb::Trigger {
        name: t.name(),
        display_name: t.display_name.clone(),
        description: t.description.clone(),
        active: t.active,
        position: t.position,
        events: t.events.iter().map(|k| k.number()).collect(),
        all_conditions: t.all_conditions.iter().map(condition_out).collect(),
        any_conditions: t.any_conditions.iter().map(condition_out).collect(),
        actions: t.actions.iter().map(action_out).collect(),
        stop_processing: t.stop_processing,
        stats: Some(stats_out(&view.stats)),
        create_time: Some(timestamp(t.create_time)),
        update_time: Some(timestamp(t.update_time)),
        etag: trigger_etag(t),
    }
}

/// A firing onto the wire.
pub(super) fn firing_out(f: &FiringRecord) -> pb::Firing {
    pb::Firing {
        name: f.name(),
        ticket: format!("tickets/{}", f.ticket_id),
        source: f.source.clone(),
        event: f.event.map_or(0, EventKind::number),
        state: f.state.number(),
        actions: f.actions.iter().map(action_out).collect(),
        applied_actions: f.applied_actions,
        depth: f.depth,
        error: f.error.clone(),
        attempts: f.attempts,
        create_time: Some(timestamp(f.create_time)),
        update_time: Some(timestamp(f.update_time)),
    }
}

/// A dry run's condition outcome onto the wire.
pub(super) fn outcome_out(o: &ConditionOutcome) -> pb::ConditionResult {
    pb::ConditionResult {
        condition: Some(condition_out(&o.condition)),
        all: o.all,
        holds: o.holds,
    }
}
