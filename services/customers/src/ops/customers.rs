//! Creating, reading, listing, updating and deleting customers.

use kefu_db::idempotency::RequestKey;
use kefu_proto::customers::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::records::{self, Target, load};
use sqlx::AnyConnection;

use super::{Customers, EventDraft, check_etag, new_id, refused};
use crate::domain::customer::{self, CustomerFields, CustomerRecord, customer_name};
use crate::domain::organization::OrganizationRecord;
use crate::domain::organization::organization_name;
use crate::store;

/// CreateCustomer, validated.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    /// Every field the client set.
    pub fields: CustomerFields,
    /// The request id, if the client sent one.
    pub request: Option<RequestKey>,
}

/// UpdateCustomer, validated.
#[derive(Debug, Clone)]
pub struct CustomerUpdate {
    /// Which customer.
    pub id: String,
    /// The new values; only those named in `paths` are read.
    pub fields: CustomerFields,
    /// The update mask.
    pub paths: Vec<&'static str>,
    /// The client's etag, or empty.
    pub etag: String,
}

impl Customers {
    /// Creates a customer, or returns the one an earlier identical request created.
    pub async fn create_customer(
        &self,
        actor: &str,
        command: NewCustomer,
    ) -> Result<CustomerRecord, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let now = self.ctx.now();
        let id = new_id();
        if let Some(request) = &command.request
            && let Some(existing) = request.claim(&mut tx, &customer_name(&id), now).await?
        {
            let existing_id = existing.trim_start_matches("customers/");
            return load::<CustomerRecord>(&mut tx, existing_id).await;
        }
        let record = self
            .insert_customer_in(&mut tx, id, command.fields, now)
            .await?;
        let name = record.name();
        let draft = EventDraft::new(pb::EventType::CustomerCreated, &name, Some(&name));
        draft.emit(&mut tx, actor, now).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Inserts a new customer: its organization (named, or found by the primary email's
    /// domain), the defaults, and the uniqueness of its emails and external id.
    pub(super) async fn insert_customer_in(
        &self,
        tx: &mut AnyConnection,
        id: String,
        mut fields: CustomerFields,
        now: i64,
    ) -> Result<CustomerRecord, ServiceError> {
        let organization = match &fields.organization_id {
            Some(org_id) => Some(load::<OrganizationRecord>(tx, org_id).await?),
            None => match customer::primary_email_domain(&fields) {
                Some(domain) => store::organization_for_domain(tx, domain).await?,
                None => None,
            },
        };
        fields.organization_id = organization.as_ref().map(|o| o.id.clone());
        customer::apply_defaults(&mut fields, organization.map(|o| o.fields.default_tier));
        check_unique(tx, &fields, &id).await?;
        let record = CustomerRecord {
            id,
            fields,
            merged_into: None,
            erase_time: None,
            create_time: now,
            update_time: now,
            version: 1,
        };
        store::insert_customer(tx, &record).await?;
        Ok(record)
    }

    /// One customer.
    pub async fn get_customer(&self, id: &str) -> Result<CustomerRecord, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        load::<CustomerRecord>(&mut conn, id).await
    }

    /// Several customers, in the order asked; any unknown id is NOT_FOUND.
    pub async fn batch_get_customers(
        &self,
        ids: &[String],
    ) -> Result<Vec<CustomerRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        let found = store::find_all::<CustomerRecord>(&mut conn, ids).await?;
        ids.iter()
            .map(|id| {
                found
                    .iter()
                    .find(|record| &record.id == id)
                    .cloned()
                    .ok_or_else(|| ServiceError::NotFound(customer_name(id)))
            })
            .collect()
    }

    /// A page of customers.
    pub async fn list_customers(
        &self,
        filter: &store::CustomerFilter,
        after_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<CustomerRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        Ok(store::list_customers(&mut conn, filter, after_id, limit).await?)
    }

    /// Applies the fields the mask names to a customer.
    pub async fn update_customer(
        &self,
        actor: &str,
        update: CustomerUpdate,
    ) -> Result<CustomerRecord, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let current = load::<CustomerRecord>(&mut tx, &update.id).await?;
        check_etag(&current.name(), current.version, &update.etag)?;
        let updated = self
            .update_in(&mut tx, actor, current, &update.fields, &update.paths)
            .await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Applies `input`'s fields named in `paths` to `current` inside `tx`, with its event;
    /// `current` itself when nothing changes.
    pub(super) async fn update_in(
        &self,
        tx: &mut kefu_db::Write,
        actor: &str,
        current: CustomerRecord,
        input: &CustomerFields,
        paths: &[&str],
    ) -> Result<CustomerRecord, ServiceError> {
        customer::check_editable(&current).map_err(refused)?;
        let mut next = current.clone();
        customer::overlay(&mut next.fields, input, paths);
        let changed = customer::changed_fields(&current.fields, &next.fields);
        if changed.is_empty() {
            return Ok(current);
        }
        if changed.iter().any(|f| f == "organization")
            && let Some(org_id) = &next.fields.organization_id
            && store::find::<OrganizationRecord>(tx, org_id)
                .await?
                .is_none()
        {
            return Err(ServiceError::NotFound(organization_name(org_id)));
        }
        check_unique(tx, &next.fields, &next.id).await?;
        let now = self.ctx.now();
        next.version = current.version + 1;
        next.update_time = now;
        if !store::update_customer(tx, &next, current.version).await? {
            return Err(ServiceError::Conflict(current.name()));
        }
        let name = next.name();
        let mut draft = EventDraft::new(pb::EventType::CustomerUpdated, &name, Some(&name));
        draft.changed_fields = changed;
        draft.emit(tx, actor, now).await?;
        Ok(next)
    }

    /// Deletes a customer and everything stored on it.
    pub async fn delete_customer(&self, actor: &str, target: &Target) -> Result<(), ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let current: CustomerRecord = records::load_target(&mut tx, target).await?;
        if store::has_merged_children(&mut tx, &current.id).await? {
            return Err(ServiceError::FailedPrecondition(format!(
                "other customers were merged into {}: unmerge or delete them first",
                current.name()
            )));
        }
        records::delete(&mut tx, &current).await?;
        let name = current.name();
        let draft = EventDraft::new(pb::EventType::CustomerDeleted, &name, Some(&name));
        draft.emit(&mut tx, actor, self.ctx.now()).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// ALREADY_EXISTS when another customer has one of the emails or the external id.
async fn check_unique(
    tx: &mut AnyConnection,
    fields: &CustomerFields,
    id: &str,
) -> Result<(), ServiceError> {
    if let Some((email, owner)) = store::email_owners(tx, &fields.emails, id)
        .await?
        .into_iter()
        .next()
    {
        return Err(ServiceError::AlreadyExists {
            reason: "EMAIL_TAKEN",
            message: format!("email {email} already belongs to {}", customer_name(&owner)),
        });
    }
    if let Some(external_id) = &fields.external_id
        && let Some(owner) = store::find_by_external_id(tx, external_id).await?
        && owner.id != id
    {
        return Err(ServiceError::AlreadyExists {
            reason: "EXTERNAL_ID_TAKEN",
            message: format!(
                "external_id {external_id:?} already belongs to {}",
                owner.name()
            ),
        });
    }
    Ok(())
}
