//! Use cases: each opens one transaction, reads through `store`, decides with `domain`, writes
//! through `store`, appends its event to the outbox, and commits — so a change and its event
//! commit together or not at all. Inputs arrive validated from `api`.

use kefu_db::outbox::{self, NewEvent, OutboxSignal};
use kefu_db::{Database, WriteTx, time::now_micros};
use kefu_proto::customers::v1 as pb;
use prost::Message;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::domain::activity::{InteractionRecord, PurchaseRecord};
use crate::domain::customer::{self, CustomerFields, CustomerRecord, customer_name};
use crate::domain::organization::{OrganizationFields, OrganizationRecord, organization_name};
use crate::error::CustomersError;
use crate::store;

/// The service's state: its database and the signal that wakes event watchers.
#[derive(Clone, Debug)]
pub struct Customers {
    /// The database.
    pub db: Database,
    /// Wakes `WatchEvents` streams after a commit.
    pub signal: OutboxSignal,
}

/// A new, time-sortable id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A fingerprint of a create request, to tell a retry from a different request with the same id.
pub fn fingerprint(value: &impl std::fmt::Debug) -> String {
    let digest = Sha256::digest(format!("{value:?}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// What an event says, before it gets its cursor.
struct EventDraft<'a> {
    kind: pb::EventType,
    resource: &'a str,
    customer: Option<&'a str>,
    changed_fields: Vec<String>,
    related: Option<&'a str>,
}

impl Customers {
    async fn emit(
        &self,
        tx: &mut WriteTx,
        actor: &str,
        now: i64,
        draft: EventDraft<'_>,
    ) -> Result<(), CustomersError> {
        let event = pb::Event {
            cursor: String::new(),
            r#type: draft.kind as i32,
            resource: draft.resource.to_owned(),
            customer: draft.customer.unwrap_or_default().to_owned(),
            changed_fields: draft.changed_fields,
            related: draft.related.unwrap_or_default().to_owned(),
            actor: actor.to_owned(),
            event_time: Some(timestamp(now)),
        };
        let event_type = draft.kind.as_str_name();
        outbox::append(
            tx,
            self.db.dialect(),
            NewEvent {
                event_type,
                resource: draft.resource,
                subject: draft.customer,
                payload: event.encode_to_vec(),
                event_time: now,
            },
        )
        .await?;
        Ok(())
    }

    async fn commit(&self, tx: WriteTx) -> Result<(), CustomersError> {
        tx.commit().await?;
        self.signal.notify();
        Ok(())
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, CustomersError> {
        Ok(self.db.pool().acquire().await?)
    }

    // ----- customers -------------------------------------------------------------------------

    /// Creates a customer, or returns the one a previous request with the same `request_id` made.
    pub async fn create_customer(
        &self,
        actor: &str,
        fields: CustomerFields,
        request_id: Option<&str>,
    ) -> Result<CustomerRecord, CustomersError> {
        let mut tx = self.db.begin_write().await?;
        let id = new_id();
        if let Some(request_id) = request_id {
            let hash = fingerprint(&fields);
            if let Some(existing) = self
                .replay(
                    &mut tx,
                    request_id,
                    "CreateCustomer",
                    &hash,
                    &customer_name(&id),
                )
                .await?
            {
                drop(tx);
                let id = existing.trim_start_matches("customers/");
                return self.get_customer(id).await;
            }
        }
        let now = now_micros();
        let record = self.insert_customer_in(&mut tx, id, fields, now).await?;
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft {
                kind: pb::EventType::CustomerCreated,
                resource: &record.name(),
                customer: Some(&record.name()),
                changed_fields: Vec::new(),
                related: None,
            },
        )
        .await?;
        self.commit(tx).await?;
        Ok(record)
    }

    /// Claims a request id; `Some(resource)` when it was used before by the same request.
    async fn replay(
        &self,
        tx: &mut WriteTx,
        request_id: &str,
        operation: &str,
        hash: &str,
        resource: &str,
    ) -> Result<Option<String>, CustomersError> {
        Ok(
            kefu_db::idempotency::claim(tx, request_id, operation, hash, resource, now_micros())
                .await?,
        )
    }

    async fn insert_customer_in(
        &self,
        tx: &mut AnyConnection,
        id: String,
        mut fields: CustomerFields,
        now: i64,
    ) -> Result<CustomerRecord, CustomersError> {
        let organization = match &fields.organization_id {
            Some(org_id) => Some(
                store::get_organization(tx, org_id)
                    .await?
                    .ok_or_else(|| CustomersError::NotFound(organization_name(org_id)))?,
            ),
            None => match customer::primary_email_domain(&fields) {
                Some(domain) => store::organization_for_domain(tx, domain).await?,
                None => None,
            },
        };
        fields.organization_id = organization.as_ref().map(|o| o.id.clone());
        customer::apply_defaults(&mut fields, organization.map(|o| o.fields.default_tier));
        self.check_unique(tx, &fields, &id).await?;
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

    async fn check_unique(
        &self,
        tx: &mut AnyConnection,
        fields: &CustomerFields,
        id: &str,
    ) -> Result<(), CustomersError> {
        if let Some((email, owner)) = store::email_owners(tx, &fields.emails, id)
            .await?
            .into_iter()
            .next()
        {
            return Err(CustomersError::AlreadyExists {
                reason: "EMAIL_TAKEN",
                message: format!("email {email} already belongs to {}", customer_name(&owner)),
            });
        }
        if let Some(external_id) = &fields.external_id
            && let Some(owner) = store::find_by_external_id(tx, external_id).await?
            && owner.id != id
        {
            return Err(CustomersError::AlreadyExists {
                reason: "EXTERNAL_ID_TAKEN",
                message: format!(
                    "external_id {external_id:?} already belongs to {}",
                    owner.name()
                ),
            });
        }
        Ok(())
    }

    /// One customer.
    pub async fn get_customer(&self, id: &str) -> Result<CustomerRecord, CustomersError> {
        let mut conn = self.conn().await?;
        store::get_customer(&mut conn, id)
            .await?
            .ok_or_else(|| CustomersError::NotFound(customer_name(id)))
    }

    /// Several customers, in the order asked; any unknown id is NOT_FOUND.
    pub async fn batch_get_customers(
        &self,
        ids: &[String],
    ) -> Result<Vec<CustomerRecord>, CustomersError> {
        let mut conn = self.conn().await?;
        let found = store::get_customers(&mut conn, ids).await?;
        ids.iter()
            .map(|id| {
                found
                    .iter()
                    .find(|record| &record.id == id)
                    .cloned()
                    .ok_or_else(|| CustomersError::NotFound(customer_name(id)))
            })
            .collect()
    }

    /// A page of customers.
    pub async fn list_customers(
        &self,
        filter: &store::CustomerFilter,
        after_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<CustomerRecord>, CustomersError> {
        let mut conn = self.conn().await?;
        Ok(store::list_customers(&mut conn, filter, after_id, limit).await?)
    }

    /// Applies the validated `input` fields named in `paths` to a customer.
    pub async fn update_customer(
        &self,
        actor: &str,
        id: &str,
        input: &CustomerFields,
        paths: &[&str],
        etag: &str,
    ) -> Result<CustomerRecord, CustomersError> {
        let mut tx = self.db.begin_write().await?;
        let current = load_customer(&mut tx, id).await?;
        check_etag(&current.name(), current.version, etag)?;
        let updated = self
            .update_in(&mut tx, actor, current, input, paths)
            .await?;
        self.commit(tx).await?;
        Ok(updated)
    }

    async fn update_in(
        &self,
        tx: &mut WriteTx,
        actor: &str,
        current: CustomerRecord,
        input: &CustomerFields,
        paths: &[&str],
    ) -> Result<CustomerRecord, CustomersError> {
        customer::check_editable(&current).map_err(|p| CustomersError::FailedPrecondition(p.0))?;
        let mut next = current.clone();
        customer::overlay(&mut next.fields, input, paths);
        let changed = customer::changed_fields(&current.fields, &next.fields);
        if changed.is_empty() {
            return Ok(current);
        }
        if changed.iter().any(|f| f == "organization")
            && let Some(org_id) = &next.fields.organization_id
            && store::get_organization(tx, org_id).await?.is_none()
        {
            return Err(CustomersError::NotFound(organization_name(org_id)));
        }
        self.check_unique(tx, &next.fields, &next.id).await?;
        let now = now_micros();
        next.version = current.version + 1;
        next.update_time = now;
        if !store::update_customer(tx, &next, current.version).await? {
            return Err(CustomersError::Conflict(current.name()));
        }
        self.emit(
            tx,
            actor,
            now,
            EventDraft {
                kind: pb::EventType::CustomerUpdated,
                resource: &next.name(),
                customer: Some(&next.name()),
                changed_fields: changed,
                related: None,
            },
        )
        .await?;
        Ok(next)
    }

    /// Creates or updates the customer with `fields.external_id`; true when created.
    pub async fn upsert_by_external_id(
        &self,
        actor: &str,
        fields: CustomerFields,
        paths: &[&str],
    ) -> Result<(CustomerRecord, bool), CustomersError> {
        let external_id = fields.external_id.clone().unwrap_or_default();
        let mut tx = self.db.begin_write().await?;
        let result = match store::find_by_external_id(&mut tx, &external_id).await? {
            Some(current) => (
                self.update_in(&mut tx, actor, current, &fields, paths)
                    .await?,
                false,
            ),
            None => {
                let now = now_micros();
                let record = self
                    .insert_customer_in(&mut tx, new_id(), fields, now)
                    .await?;
                self.emit(
                    &mut tx,
                    actor,
                    now,
                    EventDraft {
                        kind: pb::EventType::CustomerCreated,
                        resource: &record.name(),
                        customer: Some(&record.name()),
                        changed_fields: Vec::new(),
                        related: None,
                    },
                )
                .await?;
                (record, true)
            }
        };
        self.commit(tx).await?;
        Ok(result)
    }

    /// Deletes a customer and everything stored on it.
    pub async fn delete_customer(
        &self,
        actor: &str,
        id: &str,
        etag: &str,
    ) -> Result<(), CustomersError> {
        let mut tx = self.db.begin_write().await?;
        let current = load_customer(&mut tx, id).await?;
        check_etag(&current.name(), current.version, etag)?;
        if store::has_merged_children(&mut tx, id).await? {
            return Err(CustomersError::FailedPrecondition(format!(
                "other customers were merged into {}: unmerge or delete them first",
                current.name()
            )));
        }
        if !store::delete_customer(&mut tx, id, current.version).await? {
            return Err(CustomersError::Conflict(current.name()));
        }
        self.emit(
            &mut tx,
            actor,
            now_micros(),
            EventDraft {
                kind: pb::EventType::CustomerDeleted,
                resource: &current.name(),
                customer: Some(&current.name()),
                changed_fields: Vec::new(),
                related: None,
            },
        )
        .await?;
        self.commit(tx).await
    }

    /// Merges `source_id` into `target_id`; returns the merged-away source.
    pub async fn merge(
        &self,
        actor: &str,
        source_id: &str,
        target_id: &str,
        source_etag: &str,
    ) -> Result<CustomerRecord, CustomersError> {
        let mut tx = self.db.begin_write().await?;
        let source = load_customer(&mut tx, source_id).await?;
        let target = load_customer(&mut tx, target_id).await?;
        check_etag(&source.name(), source.version, source_etag)?;
        let has_children = store::has_merged_children(&mut tx, source_id).await?;
        customer::check_merge(&source, &target, has_children)
            .map_err(|p| CustomersError::FailedPrecondition(p.0))?;
        let now = now_micros();
        if !store::set_merged_into(&mut tx, source_id, Some(target_id), now, source.version).await?
        {
            return Err(CustomersError::Conflict(source.name()));
        }
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft {
                kind: pb::EventType::CustomerMerged,
                resource: &source.name(),
                customer: Some(&source.name()),
                changed_fields: vec!["merged_into".to_owned()],
                related: Some(&target.name()),
            },
        )
        .await?;
        let merged = load_customer(&mut tx, source_id).await?;
        self.commit(tx).await?;
        Ok(merged)
    }

    /// Restores a merged-away customer.
    pub async fn unmerge(&self, actor: &str, id: &str) -> Result<CustomerRecord, CustomersError> {
        let mut tx = self.db.begin_write().await?;
        let current = load_customer(&mut tx, id).await?;
        customer::check_unmerge(&current).map_err(|p| CustomersError::FailedPrecondition(p.0))?;
        let former_target = current.merged_into.clone().map(|t| customer_name(&t));
        let now = now_micros();
        if !store::set_merged_into(&mut tx, id, None, now, current.version).await? {
            return Err(CustomersError::Conflict(current.name()));
        }
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft {
                kind: pb::EventType::CustomerUnmerged,
                resource: &current.name(),
                customer: Some(&current.name()),
                changed_fields: vec!["merged_into".to_owned()],
                related: former_target.as_deref(),
            },
        )
        .await?;
        let restored = load_customer(&mut tx, id).await?;
        self.commit(tx).await?;
        Ok(restored)
    }

    /// Everything held about one customer record; the export itself is audited.
    pub async fn export(&self, actor: &str, id: &str) -> Result<Export, CustomersError> {
        let customer = self.get_customer(id).await?;
        let (organization, purchases, interactions) = {
            let mut conn = self.conn().await?;
            let organization = match &customer.fields.organization_id {
                Some(org_id) => store::get_organization(&mut conn, org_id).await?,
                None => None,
            };
            (
                organization,
                store::purchases_of(&mut conn, id).await?,
                store::interactions_of(&mut conn, id).await?,
            )
        };
        let mut tx = self.db.begin_write().await?;
        self.emit(
            &mut tx,
            actor,
            now_micros(),
            EventDraft {
                kind: pb::EventType::CustomerExported,
                resource: &customer.name(),
                customer: Some(&customer.name()),
                changed_fields: Vec::new(),
                related: None,
            },
        )
        .await?;
        self.commit(tx).await?;
        let events = outbox::read_subject(&self.db, &customer.name())
            .await?
            .into_iter()
            .filter_map(|stored| decode_event(&stored))
            .collect();
        Ok(Export {
            customer,
            organization,
            purchases,
            interactions,
            events,
        })
    }

    /// Anonymizes a customer and every record merged into it (they are the same person).
    pub async fn erase(
        &self,
        actor: &str,
        id: &str,
        etag: &str,
    ) -> Result<CustomerRecord, CustomersError> {
        let mut tx = self.db.begin_write().await?;
        let current = load_customer(&mut tx, id).await?;
        check_etag(&current.name(), current.version, etag)?;
        let now = now_micros();
        let merged_children = store::merged_children(&mut tx, id).await?;
        let mut erased_target = None;
        for record in std::iter::once(current).chain(merged_children) {
            if record.erase_time.is_some() {
                if record.id == id {
                    erased_target = Some(record);
                }
                continue;
            }
            let mut erased = customer::erase(&record, now);
            erased.version = record.version + 1;
            erased.update_time = now;
            if !store::update_customer(&mut tx, &erased, record.version).await? {
                return Err(CustomersError::Conflict(record.name()));
            }
            store::erase_interactions(&mut tx, &record.id, customer::ERASED_SUMMARY).await?;
            self.emit(
                &mut tx,
                actor,
                now,
                EventDraft {
                    kind: pb::EventType::CustomerErased,
                    resource: &record.name(),
                    customer: Some(&record.name()),
                    changed_fields: Vec::new(),
                    related: None,
                },
            )
            .await?;
            if record.id == id {
                erased_target = Some(erased);
            }
        }
        self.commit(tx).await?;
        erased_target.ok_or_else(|| CustomersError::NotFound(customer_name(id)))
    }

    // ----- organizations ---------------------------------------------------------------------

    /// Creates an organization, idempotently by `request_id`.
    pub async fn create_organization(
        &self,
        actor: &str,
        fields: OrganizationFields,
        request_id: Option<&str>,
    ) -> Result<OrganizationRecord, CustomersError> {
        let mut tx = self.db.begin_write().await?;
        let id = new_id();
        if let Some(request_id) = request_id {
            let hash = fingerprint(&fields);
            if let Some(existing) = self
                .replay(
                    &mut tx,
                    request_id,
                    "CreateOrganization",
                    &hash,
                    &organization_name(&id),
                )
                .await?
            {
                drop(tx);
                return self
                    .get_organization(existing.trim_start_matches("organizations/"))
                    .await;
            }
        }
        check_domains(&mut tx, &fields, &id).await?;
        let now = now_micros();
        let record = OrganizationRecord {
            id,
            fields,
            create_time: now,
            update_time: now,
            version: 1,
        };
        store::insert_organization(&mut tx, &record).await?;
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft {
                kind: pb::EventType::OrganizationCreated,
                resource: &record.name(),
                customer: None,
                changed_fields: Vec::new(),
                related: None,
            },
        )
        .await?;
        self.commit(tx).await?;
        Ok(record)
    }

    /// One organization.
    pub async fn get_organization(&self, id: &str) -> Result<OrganizationRecord, CustomersError> {
        let mut conn = self.conn().await?;
        store::get_organization(&mut conn, id)
            .await?
            .ok_or_else(|| CustomersError::NotFound(organization_name(id)))
    }

    /// A page of organizations.
    pub async fn list_organizations(
        &self,
        filter: &store::OrganizationFilter,
        after_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OrganizationRecord>, CustomersError> {
        let mut conn = self.conn().await?;
        Ok(store::list_organizations(&mut conn, filter, after_id, limit).await?)
    }

    /// Applies the validated fields named in `paths` to an organization.
    pub async fn update_organization(
        &self,
        actor: &str,
        id: &str,
        input: &OrganizationFields,
        paths: &[&str],
        etag: &str,
    ) -> Result<OrganizationRecord, CustomersError> {
        let mut tx = self.db.begin_write().await?;
        let current = load_organization(&mut tx, id).await?;
        check_etag(&current.name(), current.version, etag)?;
        let mut next = current.clone();
        let mut changed = Vec::new();
        for path in paths {
            let differs = match *path {
                "display_name" => {
                    std::mem::replace(&mut next.fields.display_name, input.display_name.clone())
                        != input.display_name
                }
                "domains" => {
                    std::mem::replace(&mut next.fields.domains, input.domains.clone())
                        != input.domains
                }
                "default_tier" => {
                    std::mem::replace(&mut next.fields.default_tier, input.default_tier)
                        != input.default_tier
                }
                "tags" => {
                    std::mem::replace(&mut next.fields.tags, input.tags.clone()) != input.tags
                }
                _ => false,
            };
            if differs {
                changed.push((*path).to_owned());
            }
        }
        if changed.is_empty() {
            return Ok(current);
        }
        check_domains(&mut tx, &next.fields, id).await?;
        let now = now_micros();
        next.version += 1;
        next.update_time = now;
        if !store::update_organization(&mut tx, &next, current.version).await? {
            return Err(CustomersError::Conflict(current.name()));
        }
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft {
                kind: pb::EventType::OrganizationUpdated,
                resource: &next.name(),
                customer: None,
                changed_fields: changed,
                related: None,
            },
        )
        .await?;
        self.commit(tx).await?;
        Ok(next)
    }

    /// Deletes an organization no customer belongs to.
    pub async fn delete_organization(
        &self,
        actor: &str,
        id: &str,
        etag: &str,
    ) -> Result<(), CustomersError> {
        let mut tx = self.db.begin_write().await?;
        let current = load_organization(&mut tx, id).await?;
        check_etag(&current.name(), current.version, etag)?;
        if store::organization_has_members(&mut tx, id).await? {
            return Err(CustomersError::FailedPrecondition(format!(
                "customers still belong to {}: move them to another organization first",
                current.name()
            )));
        }
        if !store::delete_organization(&mut tx, id, current.version).await? {
            return Err(CustomersError::Conflict(current.name()));
        }
        self.emit(
            &mut tx,
            actor,
            now_micros(),
            EventDraft {
                kind: pb::EventType::OrganizationDeleted,
                resource: &current.name(),
                customer: None,
                changed_fields: Vec::new(),
                related: None,
            },
        )
        .await?;
        self.commit(tx).await
    }

    // ----- purchases and interactions --------------------------------------------------------

    async fn writable_customer(
        &self,
        tx: &mut AnyConnection,
        id: &str,
    ) -> Result<CustomerRecord, CustomersError> {
        let record = store::get_customer(tx, id)
            .await?
            .ok_or_else(|| CustomersError::NotFound(customer_name(id)))?;
        customer::check_editable(&record).map_err(|p| CustomersError::FailedPrecondition(p.0))?;
        Ok(record)
    }

    /// Records a purchase, idempotently by `request_id`.
    pub async fn record_purchase(
        &self,
        actor: &str,
        purchase: PurchaseRecord,
        request_id: Option<&str>,
    ) -> Result<PurchaseRecord, CustomersError> {
        let mut tx = self.db.begin_write().await?;
        let customer = self
            .writable_customer(&mut tx, &purchase.customer_id)
            .await?;
        let name = format!("{}/purchases/{}", customer.name(), purchase.id);
        if let Some(request_id) = request_id {
            let hash = fingerprint(&(
                &purchase.customer_id,
                &purchase.product,
                &purchase.sku,
                purchase.quantity,
                purchase.amount_micros,
                &purchase.currency_code,
                &purchase.order_reference,
            ));
            if let Some(existing) = self
                .replay(&mut tx, request_id, "RecordPurchase", &hash, &name)
                .await?
            {
                let existing_id = existing.rsplit('/').next().unwrap_or_default().to_owned();
                let found = store::purchases_of(&mut tx, &purchase.customer_id)
                    .await?
                    .into_iter()
                    .find(|p| p.id == existing_id);
                drop(tx);
                return found.ok_or(CustomersError::NotFound(existing));
            }
        }
        store::insert_purchase(&mut tx, &purchase).await?;
        self.emit(
            &mut tx,
            actor,
            purchase.create_time,
            EventDraft {
                kind: pb::EventType::PurchaseRecorded,
                resource: &name,
                customer: Some(&customer.name()),
                changed_fields: Vec::new(),
                related: None,
            },
        )
        .await?;
        self.commit(tx).await?;
        Ok(purchase)
    }

    /// Logs an interaction, idempotently by `request_id`.
    pub async fn log_interaction(
        &self,
        actor: &str,
        interaction: InteractionRecord,
        request_id: Option<&str>,
    ) -> Result<InteractionRecord, CustomersError> {
        let mut tx = self.db.begin_write().await?;
        let customer = self
            .writable_customer(&mut tx, &interaction.customer_id)
            .await?;
        let name = format!("{}/interactions/{}", customer.name(), interaction.id);
        if let Some(request_id) = request_id {
            let hash = fingerprint(&(
                &interaction.customer_id,
                interaction.channel,
                interaction.direction,
                &interaction.summary,
                &interaction.ticket,
            ));
            if let Some(existing) = self
                .replay(&mut tx, request_id, "LogInteraction", &hash, &name)
                .await?
            {
                let existing_id = existing.rsplit('/').next().unwrap_or_default().to_owned();
                let found = store::interactions_of(&mut tx, &interaction.customer_id)
                    .await?
                    .into_iter()
                    .find(|i| i.id == existing_id);
                drop(tx);
                return found.ok_or(CustomersError::NotFound(existing));
            }
        }
        store::insert_interaction(&mut tx, &interaction).await?;
        self.emit(
            &mut tx,
            actor,
            interaction.create_time,
            EventDraft {
                kind: pb::EventType::InteractionLogged,
                resource: &name,
                customer: Some(&customer.name()),
                changed_fields: Vec::new(),
                related: None,
            },
        )
        .await?;
        self.commit(tx).await?;
        Ok(interaction)
    }

    /// A page of purchases of a customer and those merged into it.
    pub async fn list_purchases(
        &self,
        customer_id: &str,
        before: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<PurchaseRecord>, CustomersError> {
        let mut conn = self.conn().await?;
        if store::get_customer(&mut conn, customer_id).await?.is_none() {
            return Err(CustomersError::NotFound(customer_name(customer_id)));
        }
        Ok(store::list_purchases(&mut conn, customer_id, before, limit).await?)
    }

    /// A page of the timeline of a customer and those merged into it.
    pub async fn list_interactions(
        &self,
        customer_id: &str,
        filter: &store::InteractionFilter,
        before: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<InteractionRecord>, CustomersError> {
        let mut conn = self.conn().await?;
        if store::get_customer(&mut conn, customer_id).await?.is_none() {
            return Err(CustomersError::NotFound(customer_name(customer_id)));
        }
        Ok(store::list_interactions(&mut conn, customer_id, filter, before, limit).await?)
    }
}

/// Everything `ExportCustomer` returns.
#[derive(Debug)]
pub struct Export {
    /// The profile.
    pub customer: CustomerRecord,
    /// Its organization.
    pub organization: Option<OrganizationRecord>,
    /// Purchases on this record.
    pub purchases: Vec<PurchaseRecord>,
    /// Interactions on this record.
    pub interactions: Vec<InteractionRecord>,
    /// The audit trail.
    pub events: Vec<pb::Event>,
}

/// The customer with `id`, or NOT_FOUND.
async fn load_customer(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<CustomerRecord, CustomersError> {
    store::get_customer(conn, id)
        .await?
        .ok_or_else(|| CustomersError::NotFound(customer_name(id)))
}

/// The organization with `id`, or NOT_FOUND.
async fn load_organization(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<OrganizationRecord, CustomersError> {
    store::get_organization(conn, id)
        .await?
        .ok_or_else(|| CustomersError::NotFound(organization_name(id)))
}

fn check_etag(name: &str, version: i64, etag: &str) -> Result<(), CustomersError> {
    if kefu_server::etag::is_current(etag, name, version) {
        Ok(())
    } else {
        Err(CustomersError::StaleEtag(name.to_owned()))
    }
}

async fn check_domains(
    tx: &mut AnyConnection,
    fields: &OrganizationFields,
    id: &str,
) -> Result<(), CustomersError> {
    if let Some((domain, owner)) = store::domain_owners(tx, &fields.domains, id)
        .await?
        .into_iter()
        .next()
    {
        return Err(CustomersError::AlreadyExists {
            reason: "DOMAIN_TAKEN",
            message: format!(
                "domain {domain} already belongs to {}",
                organization_name(&owner)
            ),
        });
    }
    Ok(())
}

/// A stored event as the proto message, with its cursor.
pub fn decode_event(stored: &outbox::StoredEvent) -> Option<pb::Event> {
    let mut event: pb::Event = kefu_server::events::decode(stored)?;
    event.cursor = stored.seq.to_string();
    Some(event)
}

pub use kefu_server::events::timestamp;
