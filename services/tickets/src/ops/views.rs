//! Saved views: stored, listed for whoever may run them, and run within the runner's scope.

use kefu_db::idempotency::Replay;
use kefu_principal::Role;
use kefu_server::ServiceError;

use super::{Actor, Tickets, check_etag, new_id, still_as_read};
use crate::domain::views::{ViewRecord, Viewer};
use crate::store::{self, TicketFilter};

fn view_name(id: &str) -> String {
    format!("views/{id}")
}

impl Tickets {
    /// Now, by the service's clock (a view's "due within" is counted from it).
    pub fn now(&self) -> i64 {
        self.ctx.now()
    }

    /// Who `actor` is as a viewer: their id, their groups, whether an admin.
    pub async fn viewer(&self, actor: &Actor) -> Result<Viewer, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        Ok(Viewer {
            id: actor.id.clone(),
            groups: store::groups_of(&mut conn, &actor.id).await?,
            admin: actor.role == Role::Admin.as_str(),
        })
    }

    /// Saves a view created by `viewer`, shared only with a live group they may share with.
    pub async fn create_view<A: prost::Message + Default>(
        &self,
        viewer: &Viewer,
        mut view: ViewRecord,
        replay: &Replay<ViewRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay.earlier(&mut tx, "views", self.ctx.now()).await? {
            return Ok(answer);
        }
        if let Some(group_id) = &view.group_id {
            if store::live_group(&mut tx, group_id).await?.is_none() {
                return Err(ServiceError::NotFound(format!("groups/{group_id}")));
            }
            if !viewer.may_share_with(group_id) {
                return Err(ServiceError::PermissionDenied(format!(
                    "only members of groups/{group_id} (or an admin) may share a view with it"
                )));
            }
        }
        view.id = new_id();
        view.owner_id = Some(viewer.id.clone());
        view.create_time = self.ctx.now();
        view.version = 1;
        store::insert_view(&mut tx, &view).await?;
        let answer = replay.answer(&mut tx, &view).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// A stored view `viewer` may run, else NOT_FOUND.
    pub async fn get_view(&self, viewer: &Viewer, id: &str) -> Result<ViewRecord, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        match store::find::<ViewRecord>(&mut conn, id).await? {
            Some(view) if viewer.may_run(&view) => Ok(view),
            _ => Err(ServiceError::NotFound(view_name(id))),
        }
    }

    /// The stored views `viewer` may run, by name.
    pub async fn list_views(&self, viewer: &Viewer) -> Result<Vec<ViewRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        Ok(store::views_for(&mut conn, &viewer.id, &viewer.groups, viewer.admin).await?)
    }

    /// Writes `after`, a change of a view `viewer` may change, as read at `after.version`.
    pub async fn update_view(
        &self,
        viewer: &Viewer,
        etag: &str,
        mut after: ViewRecord,
    ) -> Result<ViewRecord, ServiceError> {
        let name = view_name(&after.id);
        let mut tx = self.ctx.db.begin_write().await?;
        tx.lock_in_order("views", [after.id.as_str()]).await?;
        let before = changeable(
            viewer,
            store::find::<ViewRecord>(&mut tx, &after.id).await?,
            &name,
        )?;
        still_as_read(&name, before.version, etag, after.version)?;
        if after == before {
            return Ok(before);
        }
        after.version = before.version + 1;
        if !store::update_view(&mut tx, &after).await? {
            return Err(ServiceError::Conflict(name));
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a view `viewer` may change.
    pub async fn delete_view(
        &self,
        viewer: &Viewer,
        id: &str,
        etag: &str,
    ) -> Result<(), ServiceError> {
        let name = view_name(id);
        let mut tx = self.ctx.db.begin_write().await?;
        tx.lock_in_order("views", [id]).await?;
        let view = changeable(viewer, store::find::<ViewRecord>(&mut tx, id).await?, &name)?;
        check_etag(&name, view.version, etag)?;
        if !store::delete_view(&mut tx, id).await? {
            return Err(ServiceError::Conflict(name));
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many tickets in `actor`'s scope match `filter`.
    pub async fn count_tickets(
        &self,
        actor: &Actor,
        mut filter: TicketFilter,
    ) -> Result<i64, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        filter.visible = self.visibility(&mut conn, actor).await?;
        Ok(store::count_tickets(&mut conn, &filter).await?)
    }
}

/// The view if `viewer` may change it: NOT_FOUND when they may not even run it, PERMISSION_DENIED
/// when they only run it.
fn changeable(
    viewer: &Viewer,
    view: Option<ViewRecord>,
    name: &str,
) -> Result<ViewRecord, ServiceError> {
    match view {
        Some(view) if viewer.may_change(&view) => Ok(view),
        Some(view) if viewer.may_run(&view) => Err(ServiceError::PermissionDenied(format!(
            "{name} is shared with you; only its creator or an admin changes it"
        ))),
        _ => Err(ServiceError::NotFound(name.to_owned())),
    }
}
