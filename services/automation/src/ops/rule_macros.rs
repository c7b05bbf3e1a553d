//! Rules that apply macros: each macro is checked when the rule is saved (it must exist and be
//! shared) and read again when the rule matches, its actions taking the action's place.

use kefu_server::ServiceError;
use kefu_server::records;
use sqlx::AnyConnection;

use super::Automation;
use crate::domain::evaluate::TicketFacts;
use crate::domain::firing::plan;
use crate::domain::macros::{MacroRecord, Visibility, applied_macros, expand};
use crate::domain::schedule::refires_on_its_follow_ups;
use crate::domain::trigger::{Action, TriggerRecord};

/// The macros `rule` applies that exist.
async fn load_applied(
    conn: &mut AnyConnection,
    rule: &TriggerRecord,
) -> Result<Vec<MacroRecord>, ServiceError> {
    let mut found = Vec::new();
    for id in applied_macros(&rule.actions) {
        match records::load::<MacroRecord>(conn, id).await {
            Ok(m) => found.push(m),
            Err(ServiceError::NotFound(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(found)
}

/// `rule` with its macros' actions in their place, or (the inner error) why it cannot apply
/// them: a macro gone, inactive or personal, or one that now opens follow-ups the time-based
/// rule would act on again.
pub(super) async fn expanded(
    conn: &mut AnyConnection,
    rule: &TriggerRecord,
) -> Result<Result<TriggerRecord, String>, ServiceError> {
    if applied_macros(&rule.actions).is_empty() {
        return Ok(Ok(rule.clone()));
    }
    let macros = load_applied(conn, rule).await?;
    Ok(expand(&rule.actions, &macros).and_then(|actions| with_actions(rule, actions)))
}

/// `rule` doing `actions`, unless they open follow-ups it would act on again.
fn with_actions(rule: &TriggerRecord, actions: Vec<Action>) -> Result<TriggerRecord, String> {
    let rule = TriggerRecord {
        actions,
        ..rule.clone()
    };
    match rule
        .schedule
        .is_some()
        .then(|| refires_on_its_follow_ups(&rule))
    {
        Some(Some(_)) => Err(
            "a macro it applies opens a follow-up the rule would act on in turn: add an all-of \
             condition `tags` NOT_INCLUDES one of the follow-up's tags"
                .to_owned(),
        ),
        _ => Ok(rule),
    }
}

/// FAILED_PRECONDITION unless every macro `rule` applies exists and is shared (an inactive one
/// is kept: it fails the firings until it is active again), and none opens follow-ups the rule
/// would act on again.
pub(super) async fn check_applied_macros(
    conn: &mut AnyConnection,
    rule: &TriggerRecord,
) -> Result<(), ServiceError> {
    let mut macros = load_applied(conn, rule).await?;
    for id in applied_macros(&rule.actions) {
        match macros.iter().find(|m| m.id == id) {
            None => {
                return Err(ServiceError::FailedPrecondition(format!(
                    "macros/{id} does not exist"
                )));
            }
            Some(m) if m.visibility != Visibility::Shared => {
                return Err(ServiceError::FailedPrecondition(format!(
                    "macros/{id} is personal: a rule applies shared macros"
                )));
            }
            Some(_) => {}
        }
    }
    for m in &mut macros {
        m.active = true;
    }
    expand(&rule.actions, &macros)
        .and_then(|actions| with_actions(rule, actions))
        .map(drop)
        .map_err(ServiceError::FailedPrecondition)
}

impl Automation {
    /// What `rule` would do to `ticket` now, its macros read: the actions rendered, or why
    /// it cannot (for the dry runs).
    pub(super) async fn plan_now(
        &self,
        rule: &TriggerRecord,
        ticket: &TicketFacts,
    ) -> Result<Result<Vec<Action>, String>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        Ok(expanded(&mut conn, rule).await?.and_then(|rule| {
            let (actions, _, rendered) = plan(&rule, ticket, 0);
            rendered.map(|()| actions)
        }))
    }
}
