//! Macros: kept by admins (shared) and agents (personal), previewed, and applied to tickets as
//! the agent, each ticket once per request id.

use kefu_db::idempotency::Replay;
use kefu_principal::Principal;
use kefu_proto::automation::v1 as pb;
use kefu_server::outgoing::Caller;
use kefu_server::records::{self, Target};
use kefu_server::{ServiceError, etag};
use sqlx::AnyConnection;

use super::defaults::renders_profile;
use super::{Automation, emit, new_id};
use crate::domain::evaluate::TicketFacts;
use crate::domain::firing::render_actions;
use crate::domain::macros::{Change, MacroRecord, changes, may_keep, may_see};
use crate::domain::trigger::{Action, steps};
use crate::remote::tickets::{Acting, ApplyError};
use crate::store::{self, Application, ApplicationKey, ApplicationState, MacroFilter};

/// What a macro would do to a ticket.
#[derive(Debug, Clone)]
pub struct Preview {
    /// Its actions, templates rendered.
    pub actions: Vec<Action>,
    /// What they would change.
    pub changes: Vec<Change>,
}

/// What applying a macro did to one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketOutcome {
    /// The bare ticket id.
    pub ticket_id: String,
    /// Every action is applied.
    pub applied: bool,
    /// Why not.
    pub error: String,
    /// Whether a retry with the same request id may succeed.
    pub retryable: bool,
}

impl TicketOutcome {
    fn failed(ticket_id: &str, error: &ServiceError) -> Self {
        Self {
            ticket_id: ticket_id.to_owned(),
            applied: false,
            error: error.to_string(),
            retryable: matches!(
                error,
                ServiceError::Dependency { .. }
                    | ServiceError::Unavailable(_)
                    | ServiceError::Conflict(_)
            ),
        }
    }
}

/// The macro with this id if `principal` may see it; NOT_FOUND otherwise.
async fn visible(
    conn: &mut AnyConnection,
    principal: &Principal,
    id: &str,
) -> Result<MacroRecord, ServiceError> {
    let found: MacroRecord = records::load(conn, id).await?;
    if may_see(principal, &found) {
        Ok(found)
    } else {
        Err(records::not_found::<MacroRecord>(id))
    }
}

/// PERMISSION_DENIED unless `principal` may keep macros of `m`'s visibility and owner.
fn keepable(principal: &Principal, m: &MacroRecord) -> Result<(), ServiceError> {
    if may_keep(principal, m.visibility, &m.owner) {
        Ok(())
    } else {
        Err(ServiceError::PermissionDenied(format!(
            "role {} may not keep {} macros of others",
            principal.role,
            m.visibility.as_str().to_lowercase()
        )))
    }
}

impl Automation {
    /// Stores a new macro owned by `principal`.
    pub async fn create_macro<A: prost::Message + Default>(
        &self,
        principal: &Principal,
        mut m: MacroRecord,
        replay: &Replay<MacroRecord, A>,
    ) -> Result<A, ServiceError> {
        m.owner.clone_from(&principal.id);
        keepable(principal, &m)?;
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        if let Some(answer) = replay.earlier(&mut tx, "macros", now).await? {
            return Ok(answer);
        }
        m.id = new_id();
        m.create_time = now;
        m.update_time = now;
        m.version = 1;
        store::insert_macro(&mut tx, &m).await?;
        let kind = pb::EventType::MacroCreated;
        emit(&mut tx, kind, m.name(), "", "", &principal.id, now).await?;
        let answer = replay.answer(&mut tx, &m).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// The macro if `principal` may see it, or NOT_FOUND.
    pub async fn get_macro(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<MacroRecord, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        visible(&mut conn, principal, id).await
    }

    /// A page of macros by name.
    pub async fn list_macros(
        &self,
        filter: &MacroFilter,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> Result<Vec<MacroRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        Ok(store::list_macros(&mut conn, filter, after, limit).await?)
    }

    /// Writes `after`, the macro as changed from the version `target.etag` names; its owner and
    /// counts stay.
    pub async fn update_macro(
        &self,
        principal: &Principal,
        target: &Target,
        mut after: MacroRecord,
    ) -> Result<MacroRecord, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let before: MacroRecord = records::load_target(&mut tx, target).await?;
        if !may_see(principal, &before) {
            return Err(records::not_found::<MacroRecord>(&target.id));
        }
        keepable(principal, &before)?;
        after.id.clone_from(&before.id);
        after.owner.clone_from(&before.owner);
        after.usage_count = before.usage_count;
        after.last_used_time = before.last_used_time;
        after.create_time = before.create_time;
        after.update_time = before.update_time;
        after.version = before.version;
        keepable(principal, &after)?;
        if after != before {
            after.update_time = now;
            after.version = before.version + 1;
            if !store::update_macro(&mut tx, &after).await? {
                return Err(ServiceError::Conflict(before.name()));
            }
            let kind = pb::EventType::MacroUpdated;
            emit(&mut tx, kind, after.name(), "", "", &principal.id, now).await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a macro; its applications stay applied.
    pub async fn delete_macro(
        &self,
        principal: &Principal,
        target: &Target,
    ) -> Result<(), ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let current: MacroRecord = records::load_target(&mut tx, target).await?;
        if !may_see(principal, &current) {
            return Err(records::not_found::<MacroRecord>(&target.id));
        }
        keepable(principal, &current)?;
        records::delete(&mut tx, &current).await?;
        let kind = pb::EventType::MacroDeleted;
        emit(&mut tx, kind, current.name(), "", "", &principal.id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What macro `m` would do to ticket `ticket_id`, read as `caller`; writes nothing.
    pub async fn preview_macro(
        &self,
        caller: &Caller,
        m: &MacroRecord,
        ticket_id: &str,
    ) -> Result<Preview, ServiceError> {
        let (facts, actions) = self.render_for(caller, m, ticket_id).await?;
        Ok(Preview {
            changes: changes(&facts, &actions),
            actions,
        })
    }

    /// Applies macro `id` to each of `ticket_ids` in turn as `caller` (`principal`), each once
    /// per `request_id`: a retry applies only what an earlier call did not.
    pub async fn apply_macro(
        &self,
        caller: &Caller,
        principal: &Principal,
        id: &str,
        ticket_ids: &[String],
        request_id: &str,
    ) -> Result<Vec<TicketOutcome>, ServiceError> {
        let m = self.get_macro(principal, id).await?;
        if !m.active {
            return Err(ServiceError::FailedPrecondition(format!(
                "{} is inactive: activate it before applying it",
                m.name()
            )));
        }
        let key = ApplicationKey {
            macro_id: &m.id,
            actor: &principal.id,
            request_id,
        };
        let mut outcomes = Vec::with_capacity(ticket_ids.len());
        for ticket_id in ticket_ids {
            let outcome = match self.apply_to(caller, &m, key, ticket_id).await {
                Ok(outcome) => outcome,
                Err(error) => TicketOutcome::failed(ticket_id, &error),
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Applies `m` to one ticket under `key`.
    async fn apply_to(
        &self,
        caller: &Caller,
        m: &MacroRecord,
        key: ApplicationKey<'_>,
        ticket_id: &str,
    ) -> Result<TicketOutcome, ServiceError> {
        let (_, actions) = self.render_for(caller, m, ticket_id).await?;
        let fresh = Application {
            id: new_id(),
            ticket_id: ticket_id.to_owned(),
            actions,
            applied_actions: 0,
            state: ApplicationState::Pending,
            error: String::new(),
        };
        let application = {
            let mut conn = self.ctx.db.read().await?;
            store::application(&mut conn, key, &fresh, self.ctx.now()).await?
        };
        match application.state {
            ApplicationState::Applied => return Ok(outcome(ticket_id, "", false)),
            ApplicationState::Failed => {
                return Ok(outcome(ticket_id, &application.error, false));
            }
            ApplicationState::Pending => {}
        }
        let acting = Acting::Forwarded(caller);
        for (start, end) in steps(&application.actions) {
            if end <= application.applied_actions {
                continue;
            }
            let step = &application.actions[start..end];
            match self
                .tickets
                .apply(acting, &application.id, start, ticket_id, step)
                .await
            {
                Ok(()) => {
                    let mut conn = self.ctx.db.read().await?;
                    store::set_application_progress(
                        &mut conn,
                        &application.id,
                        end,
                        self.ctx.now(),
                    )
                    .await?;
                }
                Err(ApplyError::Unavailable(reason)) => {
                    return Ok(outcome(ticket_id, &reason, true));
                }
                Err(ApplyError::Refused(reason)) => {
                    let reason = format!("actions[{start}] refused: {reason}");
                    let mut conn = self.ctx.db.read().await?;
                    let failed = ApplicationState::Failed;
                    let now = self.ctx.now();
                    store::finish_application(&mut conn, &application.id, failed, &reason, now)
                        .await?;
                    return Ok(outcome(ticket_id, &reason, false));
                }
            }
        }
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let applied = ApplicationState::Applied;
        if store::finish_application(&mut tx, &application.id, applied, "", now).await? {
            store::count_use(&mut tx, &m.id, now).await?;
            let ticket = format!("tickets/{ticket_id}");
            let kind = pb::EventType::MacroApplied;
            emit(&mut tx, kind, m.name(), &ticket, "", key.actor, now).await?;
        }
        tx.commit().await?;
        Ok(outcome(ticket_id, "", false))
    }

    /// Ticket `ticket_id` as `caller` reads it, and `m`'s actions rendered for it.
    async fn render_for(
        &self,
        caller: &Caller,
        m: &MacroRecord,
        ticket_id: &str,
    ) -> Result<(TicketFacts, Vec<Action>), ServiceError> {
        let ticket = self.tickets.ticket_as(caller, ticket_id).await?;
        let facts = self
            .facts_with(&ticket, renders_profile(&m.actions))
            .await?;
        let actions = render_actions(&m.actions, &facts, &m.display_name).map_err(|why| {
            ServiceError::FailedPrecondition(format!("the macro's {why} for this ticket"))
        })?;
        Ok((facts, actions))
    }
}

/// The outcome for `ticket_id`: applied when `error` is empty.
fn outcome(ticket_id: &str, error: &str, retryable: bool) -> TicketOutcome {
    TicketOutcome {
        ticket_id: ticket_id.to_owned(),
        applied: error.is_empty(),
        error: error.to_owned(),
        retryable,
    }
}

/// The etag of a macro at its version.
pub fn macro_etag(m: &MacroRecord) -> String {
    etag::etag(&m.name(), m.version)
}
