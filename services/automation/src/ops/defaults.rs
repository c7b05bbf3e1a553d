//! Default rules and the requester facts only the customers service knows.

use kefu_proto::automation::v1 as pb;
use kefu_proto::tickets::v1 as tickets_pb;
use kefu_server::ServiceError;

use super::{Automation, SERVICE_ACTOR, emit};
use crate::domain::defaults::acknowledgements;
use crate::domain::evaluate::TicketFacts;
use crate::domain::trigger::{Action, Field, TriggerRecord};
use crate::remote::tickets::facts;
use crate::store;

/// Placeholders whose values come from the requester's profile.
const PROFILE_PLACEHOLDERS: [&str; 3] = [
    "requester.locale",
    "requester.time_zone",
    "ticket.first_response_due",
];

/// Whether `rule` needs the requester's locale or time zone.
fn needs_profile(rule: &TriggerRecord) -> bool {
    let tests_locale = rule
        .all_conditions
        .iter()
        .chain(&rule.any_conditions)
        .any(|c| c.field == Field::RequesterLocale);
    tests_locale || renders_profile(&rule.actions)
}

/// Whether one of `actions` renders a placeholder from the requester's profile.
pub(super) fn renders_profile(actions: &[Action]) -> bool {
    actions.iter().any(|a| match a {
        Action::Reply { body, .. } => PROFILE_PLACEHOLDERS.iter().any(|p| body.contains(p)),
        _ => false,
    })
}

impl Automation {
    /// Installs the auto-acknowledgement triggers, once per database.
    pub async fn install_acknowledgements(&self) -> Result<(), ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        if store::mark_installed(&mut tx, "acknowledge", now).await? {
            for rule in acknowledgements(now) {
                store::insert_trigger(&mut tx, &rule).await?;
                let kind = pb::EventType::TriggerCreated;
                emit(&mut tx, kind, rule.name(), "", "", SERVICE_ACTOR, now).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// What `rules` see of `ticket`: its facts, with the requester's locale and time zone when
    /// one of them needs those (one call to the customers service).
    pub(super) async fn facts_for<'a>(
        &self,
        ticket: &tickets_pb::Ticket,
        mut rules: impl Iterator<Item = &'a TriggerRecord>,
    ) -> Result<TicketFacts, ServiceError> {
        self.facts_with(ticket, rules.any(needs_profile)).await
    }

    /// The facts of `ticket`, with the requester's locale and time zone when `with_profile`.
    pub(super) async fn facts_with(
        &self,
        ticket: &tickets_pb::Ticket,
        with_profile: bool,
    ) -> Result<TicketFacts, ServiceError> {
        let mut facts = facts(ticket);
        if with_profile {
            let profile = self.customers.profile(&facts.requester).await?;
            facts.requester_locale = profile.locale;
            facts.requester_time_zone = profile.time_zone;
        }
        Ok(facts)
    }
}
