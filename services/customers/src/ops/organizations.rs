//! Organizations: the companies customers belong to, matched by email domain.

use kefu_db::idempotency::RequestKey;
use kefu_proto::customers::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::records::{self, Target, load};
use sqlx::AnyConnection;

use super::{Customers, EventDraft, check_etag, new_id};
use crate::domain::organization::{
    self, OrganizationFields, OrganizationRecord, organization_name,
};
use crate::store;

/// CreateOrganization, validated.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    /// Every field the client set.
    pub fields: OrganizationFields,
    /// The request id, if the client sent one.
    pub request: Option<RequestKey>,
}

/// UpdateOrganization, validated.
#[derive(Debug, Clone)]
pub struct OrganizationUpdate {
    /// Which organization.
    pub id: String,
    /// The new values; only those named in `paths` are read.
    pub fields: OrganizationFields,
    /// The update mask.
    pub paths: Vec<&'static str>,
    /// The client's etag, or empty.
    pub etag: String,
}

impl Customers {
    /// Creates an organization, or returns the one an earlier identical request created.
    pub async fn create_organization(
        &self,
        actor: &str,
        command: NewOrganization,
    ) -> Result<OrganizationRecord, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let id = new_id();
        if let Some(request) = &command.request
            && let Some(existing) = request.claim(&mut tx, &organization_name(&id), now).await?
        {
            return load::<OrganizationRecord>(
                &mut tx,
                existing.trim_start_matches("organizations/"),
            )
            .await;
        }
        check_domains(&mut tx, &command.fields, &id).await?;
        let record = OrganizationRecord {
            id,
            fields: command.fields,
            create_time: now,
            update_time: now,
            version: 1,
        };
        store::insert_organization(&mut tx, &record).await?;
        let name = record.name();
        let draft = EventDraft::new(pb::EventType::OrganizationCreated, &name, None);
        draft.emit(&mut tx, actor, now).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// One organization.
    pub async fn get_organization(&self, id: &str) -> Result<OrganizationRecord, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        load::<OrganizationRecord>(&mut conn, id).await
    }

    /// A page of organizations.
    pub async fn list_organizations(
        &self,
        filter: &store::OrganizationFilter,
        after_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OrganizationRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        Ok(store::list_organizations(&mut conn, filter, after_id, limit).await?)
    }

    /// Applies the fields the mask names to an organization.
    pub async fn update_organization(
        &self,
        actor: &str,
        update: OrganizationUpdate,
    ) -> Result<OrganizationRecord, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let current = load::<OrganizationRecord>(&mut tx, &update.id).await?;
        check_etag(&current.name(), current.version, &update.etag)?;
        let mut next = current.clone();
        organization::overlay(&mut next.fields, &update.fields, &update.paths);
        let changed = organization::changed_fields(&current.fields, &next.fields);
        if changed.is_empty() {
            return Ok(current);
        }
        check_domains(&mut tx, &next.fields, &update.id).await?;
        let now = self.ctx.now();
        next.version += 1;
        next.update_time = now;
        if !store::update_organization(&mut tx, &next, current.version).await? {
            return Err(ServiceError::Conflict(current.name()));
        }
        let name = next.name();
        let mut draft = EventDraft::new(pb::EventType::OrganizationUpdated, &name, None);
        draft.changed_fields = changed;
        draft.emit(&mut tx, actor, now).await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Deletes an organization no customer belongs to.
    pub async fn delete_organization(
        &self,
        actor: &str,
        target: &Target,
    ) -> Result<(), ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let current: OrganizationRecord = records::load_target(&mut tx, target).await?;
        if store::organization_has_members(&mut tx, &current.id).await? {
            return Err(ServiceError::FailedPrecondition(format!(
                "customers still belong to {}: move them to another organization first",
                current.name()
            )));
        }
        records::delete(&mut tx, &current).await?;
        let name = current.name();
        let draft = EventDraft::new(pb::EventType::OrganizationDeleted, &name, None);
        draft.emit(&mut tx, actor, self.ctx.now()).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// ALREADY_EXISTS when another organization has one of the domains.
async fn check_domains(
    tx: &mut AnyConnection,
    fields: &OrganizationFields,
    id: &str,
) -> Result<(), ServiceError> {
    if let Some((domain, owner)) = store::domain_owners(tx, &fields.domains, id)
        .await?
        .into_iter()
        .next()
    {
        return Err(ServiceError::AlreadyExists {
            reason: "DOMAIN_TAKEN",
            message: format!(
                "domain {domain} already belongs to {}",
                organization_name(&owner)
            ),
        });
    }
    Ok(())
}
