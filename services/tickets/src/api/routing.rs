//! Routing's settings: a group's routing method and an agent's availability.

use kefu_principal::Role;
use kefu_proto::tickets::v1 as pb;
use kefu_server::{Violations, mask, principal_of, validate};
use tonic::{Request, Response};

use super::{Rpc, TicketsApi, allow, convert, team::MAX_DESCRIPTION_CHARS};
use crate::domain::access::Action;
use crate::domain::kinds::{Availability, RoutingMethod};
use crate::domain::ticket;
use crate::ops::GroupUpdate;

/// A group's routing method from the wire: unset is MANUAL.
pub(super) fn routing(number: i32, field: &str, v: &mut Violations) -> RoutingMethod {
    validate::optional_enum(number, RoutingMethod::from_number, field, v)
        .unwrap_or(RoutingMethod::Manual)
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
        &["display_name", "description", "routing"],
        &mut v,
    );
    let has = |path: &str| paths.contains(&path);
    let update = GroupUpdate {
        display_name: has("display_name")
            .then(|| validate::display_name(&input.display_name, "group.display_name", &mut v)),
        description: has("description")
            .then(|| description(&input.description, "group.description", &mut v)),
        routing: has("routing").then(|| routing(input.routing, "group.routing", &mut v)),
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
