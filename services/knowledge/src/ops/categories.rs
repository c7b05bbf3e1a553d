//! The category tree: create, read, list, move and rename, delete when empty.

use kefu_db::idempotency::Replay;
use kefu_proto::knowledge::v1 as pb;
use kefu_server::ServiceError;
use kefu_server::records::{self, Target, load};
use sqlx::AnyConnection;

use super::{EventDraft, Knowledge, check_etag, new_id};
use crate::domain::category::{self, CategoryFields, CategoryRecord, TreeError, category_name};
use crate::store;

impl Knowledge {
    async fn check_tree(
        &self,
        tx: &mut AnyConnection,
        id: &str,
        parent_id: Option<&str>,
    ) -> Result<(), ServiceError> {
        let Some(parent_id) = parent_id else {
            return Ok(());
        };
        load::<CategoryRecord>(tx, parent_id).await?;
        let chain = store::ancestor_chain(tx, parent_id, category::MAX_DEPTH + 1).await?;
        category::check_parent(id, &chain).map_err(|error| {
            let mut v = kefu_server::Violations::new();
            match error {
                TreeError::Cycle => v.add(
                    "category.parent",
                    "would make the category its own ancestor",
                ),
                TreeError::TooDeep => v.add(
                    "category.parent",
                    format!(
                        "the tree may be at most {} levels deep",
                        category::MAX_DEPTH
                    ),
                ),
            }
            ServiceError::Invalid(v)
        })
    }

    /// Creates a category.
    pub async fn create_category<A: prost::Message + Default>(
        &self,
        actor: &str,
        fields: CategoryFields,
        replay: &Replay<CategoryRecord, A>,
    ) -> Result<A, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        if let Some(answer) = replay
            .earlier(&mut tx, "categories", self.ctx.now())
            .await?
        {
            return Ok(answer);
        }
        let id = new_id();
        self.check_tree(&mut tx, &id, fields.parent_id.as_deref())
            .await?;
        let now = self.ctx.now();
        let record = CategoryRecord {
            id,
            fields,
            create_time: now,
            update_time: now,
            version: 1,
        };
        store::insert_category(&mut tx, &record).await?;
        let name = category_name(&record.id);
        EventDraft {
            kind: pb::EventType::CategoryCreated,
            resource: &name,
            revision: None,
            changed_fields: Vec::new(),
        }
        .emit(&mut tx, actor, now)
        .await?;
        let answer = replay.answer(&mut tx, &record).await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// One category.
    pub async fn get_category(&self, id: &str) -> Result<CategoryRecord, ServiceError> {
        load::<CategoryRecord>(&mut *self.ctx.db.read().await?, id).await
    }

    /// A page of one parent's children.
    pub async fn list_categories(
        &self,
        parent_id: Option<&str>,
        locale: Option<&str>,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<CategoryRecord>, ServiceError> {
        let mut conn = self.ctx.db.read().await?;
        if let Some(parent) = parent_id {
            load::<CategoryRecord>(&mut conn, parent).await?;
        }
        Ok(store::list_categories(&mut conn, parent_id, locale, after, limit).await?)
    }

    /// Applies the validated fields named in `paths`.
    pub async fn update_category(
        &self,
        actor: &str,
        id: &str,
        input: &CategoryFields,
        paths: &[&str],
        etag: &str,
    ) -> Result<CategoryRecord, ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let current = load::<CategoryRecord>(&mut tx, id).await?;
        check_etag(&category_name(id), current.version, etag)?;
        let mut next = current.clone();
        let changed = category::overlay(&mut next.fields, input, paths);
        if changed.is_empty() {
            return Ok(current);
        }
        if changed.iter().any(|p| p == "parent") {
            self.check_tree(&mut tx, id, next.fields.parent_id.as_deref())
                .await?;
        }
        let now = self.ctx.now();
        next.version += 1;
        next.update_time = now;
        if !store::update_category(&mut tx, &next, current.version).await? {
            return Err(ServiceError::Conflict(category_name(id)));
        }
        let name = category_name(id);
        EventDraft {
            kind: pb::EventType::CategoryUpdated,
            resource: &name,
            revision: None,
            changed_fields: changed,
        }
        .emit(&mut tx, actor, now)
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Deletes an empty category.
    pub async fn delete_category(&self, actor: &str, target: &Target) -> Result<(), ServiceError> {
        let mut tx = self.ctx.db.begin_write().await?;
        let current: CategoryRecord = records::load_target(&mut tx, target).await?;
        let name = category_name(&current.id);
        if store::category_in_use(&mut tx, &current.id).await? {
            return Err(ServiceError::FailedPrecondition(format!(
                "{name} still has categories or articles in it"
            )));
        }
        records::delete(&mut tx, &current).await?;
        EventDraft {
            kind: pb::EventType::CategoryDeleted,
            resource: &name,
            revision: None,
            changed_fields: Vec::new(),
        }
        .emit(&mut tx, actor, self.ctx.now())
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
