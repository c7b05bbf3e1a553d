//! Routing's settings: a group's routing method and an agent's availability.

use kefu_principal::Role;
use kefu_proto::tickets::v1 as pb;
use kefu_proto::tickets::v1::skill_rule::When;
use kefu_server::common::Channel;
use kefu_server::{Violations, mask, principal_of, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow, convert, team::MAX_DESCRIPTION_CHARS};
use crate::domain::access::Action;
use crate::domain::kinds::{Availability, RoutingMethod, TicketType};
use crate::domain::skills::{self, MAX_SKILL_RULES, SkillCondition, SkillRule};
use crate::domain::ticket;
use crate::ops::GroupUpdate;

/// A group's routing method from the wire: unset is MANUAL.
pub(super) fn routing(number: i32, field: &str, v: &mut Violations) -> RoutingMethod {
    validate::optional_enum(number, RoutingMethod::from_number, field, v)
        .unwrap_or(RoutingMethod::Manual)
}

/// A group's skill rules from the wire, each skill known or not (the ops check that).
pub(super) fn skill_rules(
    input: &[pb::SkillRule],
    field: &str,
    v: &mut Violations,
) -> Vec<SkillRule> {
    if input.len() > MAX_SKILL_RULES {
        v.add(field, format!("at most {MAX_SKILL_RULES} rules"));
    }
    let mut rules = Vec::new();
    for (i, rule) in input.iter().enumerate() {
        let at = |name: &str| format!("{field}[{i}].{name}");
        let when =
            match &rule.when {
                None => {
                    v.add(
                        format!("{field}[{i}]"),
                        "needs one of ticket_type, category, channel, tag, locale",
                    );
                    None
                }
                Some(When::TicketType(n)) => {
                    validate::required_enum(*n, TicketType::from_number, &at("ticket_type"), v)
                        .map(SkillCondition::Type)
                }
                Some(When::Channel(n)) => {
                    validate::required_enum(*n, Channel::from_number, &at("channel"), v)
                        .map(SkillCondition::Channel)
                }
                Some(When::Category(value)) => Some(SkillCondition::Category(
                    skills::condition_value("category", value, &at("category"), v),
                )),
                Some(When::Tag(value)) => Some(SkillCondition::Tag(skills::condition_value(
                    "tag",
                    value,
                    &at("tag"),
                    v,
                ))),
                Some(When::Locale(value)) => Some(SkillCondition::Locale(skills::condition_value(
                    "locale",
                    value,
                    &at("locale"),
                    v,
                ))),
            };
        let skills = skills::rule_skills(&rule.skills, &at("skills"), v);
        if let Some(when) = when {
            rules.push(SkillRule { when, skills });
        }
    }
    rules
}

/// A skill rule on the wire.
pub(super) fn rule_out(rule: &SkillRule) -> pb::SkillRule {
    let when = match &rule.when {
        SkillCondition::Type(kind) => When::TicketType(kind.number()),
        SkillCondition::Category(path) => When::Category(path.clone()),
        SkillCondition::Channel(channel) => When::Channel(channel.number()),
        SkillCondition::Tag(tag) => When::Tag(tag.clone()),
        SkillCondition::Locale(tag) => When::Locale(tag.clone()),
    };
    pb::SkillRule {
        when: Some(when),
        skills: rule.skills.clone(),
    }
}

/// A group description: up to 2,000 characters.
pub(super) fn description(value: &str, field: &str, v: &mut Violations) -> String {
    let description = ticket::text(value, false, field, v);
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        v.add(
            field,
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
    description
}

pub(super) async fn update_group(
    api: &TicketsApi,
    request: Request<pb::UpdateGroupRequest>,
) -> Rpc<pb::Group> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::Configure)?;
    let r = request.get_ref();
    let input = r.group.clone().unwrap_or_default();
    let id = validate::required_id(&input.name, "groups", "group.name")?;
    let mut v = Violations::new();
    let paths = mask::update_mask(
        r.update_mask.as_ref(),
        &[
            "display_name",
            "description",
            "routing",
            "skill_rules",
            "reassign_when_offline",
            "lead",
            "business_schedule",
        ],
        &mut v,
    );
    let has = |path: &str| paths.contains(&path);
    let update = GroupUpdate {
        display_name: has("display_name")
            .then(|| validate::display_name(&input.display_name, "group.display_name", &mut v)),
        description: has("description")
            .then(|| description(&input.description, "group.description", &mut v)),
        routing: has("routing").then(|| routing(input.routing, "group.routing", &mut v)),
        reassign_offline: has("reassign_when_offline").then_some(input.reassign_when_offline),
        lead_id: has("lead")
            .then(|| validate::optional_resource_id(&input.lead, "agents", "group.lead", &mut v)),
        skill_rules: has("skill_rules")
            .then(|| skill_rules(&input.skill_rules, "group.skill_rules", &mut v)),
        schedule_id: has("business_schedule").then(|| {
            validate::optional_resource_id(
                &input.business_schedule,
                "businessSchedules",
                "group.business_schedule",
                &mut v,
            )
        }),
    };
    v.into_result()?;
    let group = api.ops.update_group(&id, &r.etag, update).await?;
    Ok(Response::new(convert::group(&group)))
}

pub(super) async fn set_availability(
    api: &TicketsApi,
    request: Request<pb::SetAgentAvailabilityRequest>,
) -> Rpc<pb::Agent> {
    let principal = principal_of(&request)?;
    allow(&principal, Action::ReadTeam)?;
    let r = request.get_ref();
    let mut v = Violations::new();
    let id = validate::resource_id(&r.name, "agents", "name", &mut v);
    let availability = validate::required_enum(
        r.availability,
        Availability::from_number,
        "availability",
        &mut v,
    );
    v.into_result()?;
    // An agent sets their own; setting anyone's is configuration.
    if !(principal.role == Role::Agent && principal.id == id) {
        allow(&principal, Action::Configure)?;
    }
    let Some(availability) = availability else {
        return Err(Violations::required("availability").into());
    };
    let agent = api.ops.set_availability(&id, availability).await?;
    Ok(Response::new(convert::agent(&agent)))
}
