//! Use cases: one transaction each; the change, the search index rows it affects, and its outbox
//! event commit together. Inputs arrive validated from `api`.

use kefu_db::outbox::{self, NewEvent, OutboxSignal};
use kefu_db::{Database, WriteTx, time::now_micros};
use kefu_proto::knowledge::v1 as pb;
use prost::Message;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::domain::access::Scope;
use crate::domain::article::{
    self, ArticleRecord, CONTENT_FIELDS, Content, RevisionRecord, Settings, article_name,
    revision_name,
};
use crate::domain::category::{self, CategoryFields, CategoryRecord, TreeError, category_name};
use crate::domain::search;
use crate::error::KnowledgeError;
use crate::store::{self, ArticleFilter};

/// The service's state.
#[derive(Clone, Debug)]
pub struct Knowledge {
    /// The database.
    pub db: Database,
    /// Wakes `WatchEvents` streams after a commit.
    pub signal: OutboxSignal,
}

/// A new, time-sortable id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// An article with the text of one of its revisions.
#[derive(Debug, Clone)]
pub struct ArticleView {
    /// The article.
    pub article: ArticleRecord,
    /// The revision whose text is shown.
    pub revision: RevisionRecord,
}

/// A search hit.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The article and the searched text.
    pub view: ArticleView,
    /// Excerpt with marked matches.
    pub snippet: String,
    /// Relevance.
    pub score: i64,
}

fn not_found_article(id: &str) -> KnowledgeError {
    KnowledgeError::NotFound(article_name(id))
}

fn check_etag(name: &str, version: i64, etag: &str) -> Result<(), KnowledgeError> {
    if kefu_server::etag::is_current(etag, name, version) {
        Ok(())
    } else {
        Err(KnowledgeError::StaleEtag(name.to_owned()))
    }
}

fn precondition(p: article::Precondition) -> KnowledgeError {
    KnowledgeError::FailedPrecondition(p.0)
}

async fn load_article(conn: &mut AnyConnection, id: &str) -> Result<ArticleRecord, KnowledgeError> {
    store::get_article(conn, id)
        .await?
        .ok_or_else(|| not_found_article(id))
}

async fn load_revision(
    conn: &mut AnyConnection,
    article_id: &str,
    revision_id: &str,
) -> Result<RevisionRecord, KnowledgeError> {
    store::get_revision(conn, article_id, revision_id)
        .await?
        .ok_or_else(|| KnowledgeError::NotFound(revision_name(article_id, revision_id)))
}

async fn load_category(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<CategoryRecord, KnowledgeError> {
    store::get_category(conn, id)
        .await?
        .ok_or_else(|| KnowledgeError::NotFound(category_name(id)))
}

/// Rebuilds an article's index rows from the revision readers see.
async fn reindex(
    conn: &mut AnyConnection,
    article: &ArticleRecord,
    revision: &RevisionRecord,
) -> Result<(), KnowledgeError> {
    debug_assert_eq!(article.searchable_revision_id(), revision.id);
    let terms = search::term_frequencies(
        &revision.content.title,
        &format!("{}\n{}", revision.content.summary, revision.content.body),
    );
    store::reindex(conn, &article.id, &terms).await?;
    Ok(())
}

struct EventDraft<'a> {
    kind: pb::EventType,
    resource: &'a str,
    revision: Option<&'a str>,
    changed_fields: Vec<String>,
}

impl Knowledge {
    async fn emit(
        &self,
        tx: &mut WriteTx,
        actor: &str,
        now: i64,
        draft: EventDraft<'_>,
    ) -> Result<(), KnowledgeError> {
        let event = pb::Event {
            cursor: String::new(),
            r#type: draft.kind as i32,
            resource: draft.resource.to_owned(),
            revision: draft.revision.unwrap_or_default().to_owned(),
            changed_fields: draft.changed_fields,
            actor: actor.to_owned(),
            event_time: Some(timestamp(now)),
        };
        outbox::append(
            tx,
            self.db.dialect(),
            NewEvent {
                event_type: draft.kind.as_str_name(),
                resource: draft.resource,
                subject: Some(draft.resource),
                payload: event.encode_to_vec(),
                event_time: now,
            },
        )
        .await?;
        Ok(())
    }

    async fn commit(&self, tx: WriteTx) -> Result<(), KnowledgeError> {
        tx.commit().await?;
        self.signal.notify();
        Ok(())
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, KnowledgeError> {
        Ok(self.db.pool().acquire().await?)
    }

    // ----- categories ------------------------------------------------------------------------

    async fn check_tree(
        &self,
        tx: &mut AnyConnection,
        id: &str,
        parent_id: Option<&str>,
    ) -> Result<(), KnowledgeError> {
        let Some(parent_id) = parent_id else {
            return Ok(());
        };
        load_category(tx, parent_id).await?;
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
            KnowledgeError::Invalid(v)
        })
    }

    /// Creates a category.
    pub async fn create_category(
        &self,
        actor: &str,
        fields: CategoryFields,
    ) -> Result<CategoryRecord, KnowledgeError> {
        let mut tx = self.db.begin_write().await?;
        let id = new_id();
        self.check_tree(&mut tx, &id, fields.parent_id.as_deref())
            .await?;
        let now = now_micros();
        let record = CategoryRecord {
            id,
            fields,
            create_time: now,
            update_time: now,
            version: 1,
        };
        store::insert_category(&mut tx, &record).await?;
        let name = category_name(&record.id);
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft {
                kind: pb::EventType::CategoryCreated,
                resource: &name,
                revision: None,
                changed_fields: Vec::new(),
            },
        )
        .await?;
        self.commit(tx).await?;
        Ok(record)
    }

    /// One category.
    pub async fn get_category(&self, id: &str) -> Result<CategoryRecord, KnowledgeError> {
        load_category(&mut *self.conn().await?, id).await
    }

    /// A page of one parent's children.
    pub async fn list_categories(
        &self,
        parent_id: Option<&str>,
        locale: Option<&str>,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<CategoryRecord>, KnowledgeError> {
        let mut conn = self.conn().await?;
        if let Some(parent) = parent_id {
            load_category(&mut conn, parent).await?;
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
    ) -> Result<CategoryRecord, KnowledgeError> {
        let mut tx = self.db.begin_write().await?;
        let current = load_category(&mut tx, id).await?;
        check_etag(&category_name(id), current.version, etag)?;
        let mut next = current.clone();
        let mut changed = Vec::new();
        for path in paths {
            let differs = match *path {
                "parent" => {
                    std::mem::replace(&mut next.fields.parent_id, input.parent_id.clone())
                        != input.parent_id
                }
                "position" => {
                    std::mem::replace(&mut next.fields.position, input.position) != input.position
                }
                "display_name" => {
                    std::mem::replace(&mut next.fields.display_name, input.display_name.clone())
                        != input.display_name
                }
                "description" => {
                    std::mem::replace(&mut next.fields.description, input.description.clone())
                        != input.description
                }
                "locale" => {
                    std::mem::replace(&mut next.fields.locale, input.locale.clone()) != input.locale
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
        if changed.iter().any(|p| p == "parent") {
            self.check_tree(&mut tx, id, next.fields.parent_id.as_deref())
                .await?;
        }
        let now = now_micros();
        next.version += 1;
        next.update_time = now;
        if !store::update_category(&mut tx, &next, current.version).await? {
            return Err(KnowledgeError::Conflict(category_name(id)));
        }
        let name = category_name(id);
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft {
                kind: pb::EventType::CategoryUpdated,
                resource: &name,
                revision: None,
                changed_fields: changed,
            },
        )
        .await?;
        self.commit(tx).await?;
        Ok(next)
    }

    /// Deletes an empty category.
    pub async fn delete_category(
        &self,
        actor: &str,
        id: &str,
        etag: &str,
    ) -> Result<(), KnowledgeError> {
        let mut tx = self.db.begin_write().await?;
        let current = load_category(&mut tx, id).await?;
        let name = category_name(id);
        check_etag(&name, current.version, etag)?;
        if store::category_in_use(&mut tx, id).await? {
            return Err(KnowledgeError::FailedPrecondition(format!(
                "{name} still has categories or articles in it"
            )));
        }
        if !store::delete_category(&mut tx, id, current.version).await? {
            return Err(KnowledgeError::Conflict(name));
        }
        self.emit(
            &mut tx,
            actor,
            now_micros(),
            EventDraft {
                kind: pb::EventType::CategoryDeleted,
                resource: &name,
                revision: None,
                changed_fields: Vec::new(),
            },
        )
        .await?;
        self.commit(tx).await
    }

    // ----- articles ---------------------------------------------------------------------------

    async fn check_category(
        &self,
        tx: &mut AnyConnection,
        settings: &Settings,
    ) -> Result<(), KnowledgeError> {
        if let Some(category_id) = &settings.category_id {
            load_category(tx, category_id).await?;
        }
        Ok(())
    }

    /// Creates a DRAFT article with its first revision; idempotent by `request_id`.
    pub async fn create_article(
        &self,
        actor: &str,
        content: Content,
        settings: Settings,
        translation_of: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<ArticleView, KnowledgeError> {
        let mut tx = self.db.begin_write().await?;
        let id = new_id();
        if let Some(request_id) = request_id {
            let hash = fingerprint(&(&content, &settings, translation_of));
            match kefu_db::idempotency::claim(
                &mut tx,
                request_id,
                "CreateArticle",
                &hash,
                &article_name(&id),
                now_micros(),
            )
            .await?
            {
                None => {}
                Some(existing) => {
                    drop(tx);
                    let existing_id = existing.trim_start_matches("articles/").to_owned();
                    return self.get_article(Scope::Staff, &existing_id, false).await;
                }
            }
        }
        self.check_category(&mut tx, &settings).await?;
        let translation_set = match translation_of {
            Some(original_id) => {
                let original = load_article(&mut tx, original_id).await?;
                if let Some(existing) =
                    store::find_translation(&mut tx, &original.translation_set, &settings.locale)
                        .await?
                {
                    return Err(KnowledgeError::AlreadyExists {
                        reason: "TRANSLATION_EXISTS",
                        message: format!(
                            "{} is already the {} translation",
                            existing.name(),
                            settings.locale
                        ),
                    });
                }
                original.translation_set
            }
            None => id.clone(),
        };
        let now = now_micros();
        let revision = RevisionRecord {
            id: new_id(),
            article_id: id.clone(),
            number: 1,
            content,
            author: actor.to_owned(),
            restored_from: String::new(),
            create_time: now,
        };
        let record = ArticleRecord {
            id,
            settings,
            state: pb::ArticleState::Draft as i32,
            author: actor.to_owned(),
            translation_set,
            latest_revision_id: revision.id.clone(),
            published_revision_id: None,
            create_time: now,
            update_time: now,
            publish_time: None,
            version: 1,
            view_count: 0,
            helpful_count: 0,
            not_helpful_count: 0,
        };
        store::insert_article(&mut tx, &record).await?;
        store::insert_revision(&mut tx, &revision).await?;
        reindex(&mut tx, &record, &revision).await?;
        let name = record.name();
        let rev_name = revision_name(&record.id, &revision.id);
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft {
                kind: pb::EventType::ArticleCreated,
                resource: &name,
                revision: Some(&rev_name),
                changed_fields: Vec::new(),
            },
        )
        .await?;
        self.commit(tx).await?;
        Ok(ArticleView {
            article: record,
            revision,
        })
    }

    /// An article as `scope` sees it; `latest` asks for the newest revision (staff).
    pub async fn get_article(
        &self,
        scope: Scope,
        id: &str,
        latest: bool,
    ) -> Result<ArticleView, KnowledgeError> {
        let mut conn = self.conn().await?;
        let article = load_article(&mut conn, id).await?;
        if !scope.sees(article.state, article.settings.visibility) {
            return Err(not_found_article(id));
        }
        let revision_id = if latest {
            article.latest_revision_id.clone()
        } else {
            article.searchable_revision_id().to_owned()
        };
        let revision = load_revision(&mut conn, id, &revision_id).await?;
        Ok(ArticleView { article, revision })
    }

    async fn with_revisions(
        &self,
        conn: &mut AnyConnection,
        articles: Vec<ArticleRecord>,
    ) -> Result<Vec<ArticleView>, KnowledgeError> {
        let ids: Vec<String> = articles
            .iter()
            .map(|a| a.searchable_revision_id().to_owned())
            .collect();
        let mut revisions = store::get_revisions(conn, &ids).await?;
        articles
            .into_iter()
            .map(|article| {
                let revision = revisions
                    .remove(article.searchable_revision_id())
                    .ok_or_else(|| {
                        KnowledgeError::NotFound(revision_name(
                            &article.id,
                            article.searchable_revision_id(),
                        ))
                    })?;
                Ok(ArticleView { article, revision })
            })
            .collect()
    }

    /// A page of articles.
    pub async fn list_articles(
        &self,
        scope: Scope,
        filter: &ArticleFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ArticleView>, KnowledgeError> {
        let mut conn = self.conn().await?;
        let articles = store::list_articles(&mut conn, filter, scope, after, limit).await?;
        self.with_revisions(&mut conn, articles).await
    }

    /// Applies validated changes: settings in place, text as a new revision.
    pub async fn update_article(
        &self,
        actor: &str,
        id: &str,
        content_input: &Content,
        settings_input: &Settings,
        paths: &[&str],
        etag: &str,
    ) -> Result<ArticleView, KnowledgeError> {
        let mut tx = self.db.begin_write().await?;
        let current = load_article(&mut tx, id).await?;
        check_etag(&current.name(), current.version, etag)?;
        let latest = load_revision(&mut tx, id, &current.latest_revision_id).await?;
        let mut next = current.clone();
        let mut content = latest.content.clone();
        let mut changed = Vec::new();
        for path in paths {
            let differs = match *path {
                "title" => {
                    std::mem::replace(&mut content.title, content_input.title.clone())
                        != content_input.title
                }
                "body" => {
                    std::mem::replace(&mut content.body, content_input.body.clone())
                        != content_input.body
                }
                "summary" => {
                    std::mem::replace(&mut content.summary, content_input.summary.clone())
                        != content_input.summary
                }
                "locale" => {
                    std::mem::replace(&mut next.settings.locale, settings_input.locale.clone())
                        != settings_input.locale
                }
                "category" => {
                    std::mem::replace(
                        &mut next.settings.category_id,
                        settings_input.category_id.clone(),
                    ) != settings_input.category_id
                }
                "tags" => {
                    std::mem::replace(&mut next.settings.tags, settings_input.tags.clone())
                        != settings_input.tags
                }
                "visibility" => {
                    std::mem::replace(&mut next.settings.visibility, settings_input.visibility)
                        != settings_input.visibility
                }
                "promoted" => {
                    std::mem::replace(&mut next.settings.promoted, settings_input.promoted)
                        != settings_input.promoted
                }
                _ => false,
            };
            if differs {
                changed.push((*path).to_owned());
            }
        }
        if changed.is_empty() {
            drop(tx);
            return self.get_article(Scope::Staff, id, false).await;
        }
        if changed.iter().any(|p| p == "category") {
            self.check_category(&mut tx, &next.settings).await?;
        }
        if changed.iter().any(|p| p == "locale")
            && let Some(other) =
                store::find_translation(&mut tx, &next.translation_set, &next.settings.locale)
                    .await?
            && other.id != id
        {
            return Err(KnowledgeError::AlreadyExists {
                reason: "TRANSLATION_EXISTS",
                message: format!(
                    "{} is already the {} translation",
                    other.name(),
                    next.settings.locale
                ),
            });
        }
        let now = now_micros();
        let mut new_revision = None;
        if changed.iter().any(|p| CONTENT_FIELDS.contains(&p.as_str())) {
            let revision = RevisionRecord {
                id: new_id(),
                article_id: id.to_owned(),
                number: store::next_revision_number(&mut tx, id).await?,
                content,
                author: actor.to_owned(),
                restored_from: String::new(),
                create_time: now,
            };
            store::insert_revision(&mut tx, &revision).await?;
            next.latest_revision_id = revision.id.clone();
            new_revision = Some(revision);
        }
        next.version += 1;
        next.update_time = now;
        if !store::update_article(&mut tx, &next, current.version).await? {
            return Err(KnowledgeError::Conflict(current.name()));
        }
        // Until the article is published, search sees the latest draft; afterwards the published text.
        if let Some(revision) = &new_revision
            && next.published_revision_id.is_none()
        {
            reindex(&mut tx, &next, revision).await?;
        }
        let rev_name = new_revision.as_ref().map(|r| revision_name(id, &r.id));
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft {
                kind: pb::EventType::ArticleRevised,
                resource: &next.name(),
                revision: rev_name.as_deref(),
                changed_fields: changed,
            },
        )
        .await?;
        self.commit(tx).await?;
        self.get_article(Scope::Staff, id, false).await
    }

    /// Publishes a revision (the latest when `revision_id` is none).
    pub async fn publish(
        &self,
        actor: &str,
        id: &str,
        revision_id: Option<&str>,
        etag: &str,
    ) -> Result<ArticleView, KnowledgeError> {
        let mut tx = self.db.begin_write().await?;
        let current = load_article(&mut tx, id).await?;
        check_etag(&current.name(), current.version, etag)?;
        let revision_id = revision_id
            .unwrap_or(&current.latest_revision_id)
            .to_owned();
        let revision = load_revision(&mut tx, id, &revision_id).await?;
        let now = now_micros();
        let mut next = current.clone();
        next.state = pb::ArticleState::Published as i32;
        next.published_revision_id = Some(revision.id.clone());
        next.publish_time = Some(now);
        next.version += 1;
        next.update_time = now;
        if !store::update_article(&mut tx, &next, current.version).await? {
            return Err(KnowledgeError::Conflict(current.name()));
        }
        reindex(&mut tx, &next, &revision).await?;
        let rev_name = revision_name(id, &revision.id);
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft {
                kind: pb::EventType::ArticlePublished,
                resource: &next.name(),
                revision: Some(&rev_name),
                changed_fields: vec!["state".into(), "published_revision".into()],
            },
        )
        .await?;
        self.commit(tx).await?;
        Ok(ArticleView {
            article: next,
            revision,
        })
    }

    /// Withdraws an article from readers.
    pub async fn archive(
        &self,
        actor: &str,
        id: &str,
        etag: &str,
    ) -> Result<ArticleView, KnowledgeError> {
        let mut tx = self.db.begin_write().await?;
        let current = load_article(&mut tx, id).await?;
        check_etag(&current.name(), current.version, etag)?;
        article::check_archive(&current).map_err(precondition)?;
        let now = now_micros();
        let mut next = current.clone();
        next.state = pb::ArticleState::Archived as i32;
        next.version += 1;
        next.update_time = now;
        if !store::update_article(&mut tx, &next, current.version).await? {
            return Err(KnowledgeError::Conflict(current.name()));
        }
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft {
                kind: pb::EventType::ArticleArchived,
                resource: &next.name(),
                revision: None,
                changed_fields: vec!["state".into()],
            },
        )
        .await?;
        self.commit(tx).await?;
        self.get_article(Scope::Staff, id, false).await
    }

    /// Deletes a DRAFT or ARCHIVED article.
    pub async fn delete_article(
        &self,
        actor: &str,
        id: &str,
        etag: &str,
    ) -> Result<(), KnowledgeError> {
        let mut tx = self.db.begin_write().await?;
        let current = load_article(&mut tx, id).await?;
        check_etag(&current.name(), current.version, etag)?;
        article::check_delete(&current).map_err(precondition)?;
        if !store::delete_article(&mut tx, id, current.version).await? {
            return Err(KnowledgeError::Conflict(current.name()));
        }
        self.emit(
            &mut tx,
            actor,
            now_micros(),
            EventDraft {
                kind: pb::EventType::ArticleDeleted,
                resource: &current.name(),
                revision: None,
                changed_fields: Vec::new(),
            },
        )
        .await?;
        self.commit(tx).await
    }

    /// A page of revisions, newest first.
    pub async fn list_revisions(
        &self,
        id: &str,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<RevisionRecord>, KnowledgeError> {
        let mut conn = self.conn().await?;
        load_article(&mut conn, id).await?;
        Ok(store::list_revisions(&mut conn, id, before, limit).await?)
    }

    /// One revision.
    pub async fn get_revision(
        &self,
        article_id: &str,
        revision_id: &str,
    ) -> Result<RevisionRecord, KnowledgeError> {
        let mut conn = self.conn().await?;
        load_article(&mut conn, article_id).await?;
        load_revision(&mut conn, article_id, revision_id).await
    }

    /// Writes a new revision copying an old one.
    pub async fn restore(
        &self,
        actor: &str,
        article_id: &str,
        revision_id: &str,
        etag: &str,
    ) -> Result<ArticleView, KnowledgeError> {
        let mut tx = self.db.begin_write().await?;
        let current = load_article(&mut tx, article_id).await?;
        check_etag(&current.name(), current.version, etag)?;
        let old = load_revision(&mut tx, article_id, revision_id).await?;
        let now = now_micros();
        let revision = RevisionRecord {
            id: new_id(),
            article_id: article_id.to_owned(),
            number: store::next_revision_number(&mut tx, article_id).await?,
            content: old.content.clone(),
            author: actor.to_owned(),
            restored_from: revision_name(article_id, &old.id),
            create_time: now,
        };
        store::insert_revision(&mut tx, &revision).await?;
        let mut next = current.clone();
        next.latest_revision_id = revision.id.clone();
        next.version += 1;
        next.update_time = now;
        if !store::update_article(&mut tx, &next, current.version).await? {
            return Err(KnowledgeError::Conflict(current.name()));
        }
        if next.published_revision_id.is_none() {
            reindex(&mut tx, &next, &revision).await?;
        }
        let rev_name = revision_name(article_id, &revision.id);
        self.emit(
            &mut tx,
            actor,
            now,
            EventDraft {
                kind: pb::EventType::ArticleRevised,
                resource: &next.name(),
                revision: Some(&rev_name),
                changed_fields: vec!["title".into(), "body".into(), "summary".into()],
            },
        )
        .await?;
        self.commit(tx).await?;
        self.get_article(Scope::Staff, article_id, false).await
    }

    /// Creates and publishes many articles in one transaction: the same rows, index entries and
    /// events as CreateArticle + PublishArticle, for bulk loads (the benchmark's data set).
    pub async fn import_published(
        &self,
        actor: &str,
        articles: Vec<(Content, Settings)>,
    ) -> Result<usize, KnowledgeError> {
        let mut tx = self.db.begin_write().await?;
        let count = articles.len();
        for (content, settings) in articles {
            let now = now_micros();
            let id = new_id();
            let revision = RevisionRecord {
                id: new_id(),
                article_id: id.clone(),
                number: 1,
                content,
                author: actor.to_owned(),
                restored_from: String::new(),
                create_time: now,
            };
            let record = ArticleRecord {
                translation_set: id.clone(),
                id,
                settings,
                state: pb::ArticleState::Published as i32,
                author: actor.to_owned(),
                latest_revision_id: revision.id.clone(),
                published_revision_id: Some(revision.id.clone()),
                create_time: now,
                update_time: now,
                publish_time: Some(now),
                version: 1,
                view_count: 0,
                helpful_count: 0,
                not_helpful_count: 0,
            };
            store::insert_article(&mut tx, &record).await?;
            store::insert_revision(&mut tx, &revision).await?;
            reindex(&mut tx, &record, &revision).await?;
            let name = record.name();
            let rev_name = revision_name(&record.id, &revision.id);
            self.emit(
                &mut tx,
                actor,
                now,
                EventDraft {
                    kind: pb::EventType::ArticlePublished,
                    resource: &name,
                    revision: Some(&rev_name),
                    changed_fields: Vec::new(),
                },
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(count)
    }

    /// Refreshes the planner's statistics after a bulk load, so search plans are chosen from
    /// real table sizes.
    pub async fn refresh_statistics(&self) -> Result<(), KnowledgeError> {
        self.db.analyze().await?;
        Ok(())
    }

    // ----- search and readers ---------------------------------------------------------------

    /// Searches with `terms` (already analyzed).
    pub async fn search(
        &self,
        scope: Scope,
        terms: &[String],
        filter: &ArticleFilter,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<Hit>, KnowledgeError> {
        let mut conn = self.conn().await?;
        let (documents, frequencies) = store::term_statistics(&mut conn, terms).await?;
        // A term no article contains cannot match; leaving it out keeps the query small.
        let weighted: Vec<(String, i64)> = terms
            .iter()
            .filter_map(|t| {
                frequencies
                    .get(t)
                    .map(|df| (t.clone(), search::term_weight(documents, *df)))
            })
            .collect();
        let ranked = store::search(&mut conn, &weighted, filter, scope, after, limit).await?;
        let ids: Vec<String> = ranked.iter().map(|(id, _)| id.clone()).collect();
        let articles = store::get_articles(&mut conn, &ids).await?;
        let mut views = self.with_revisions(&mut conn, articles).await?;
        let mut hits = Vec::with_capacity(ranked.len());
        for (id, score) in ranked {
            if let Some(position) = views.iter().position(|v| v.article.id == id) {
                let view = views.swap_remove(position);
                let content = &view.revision.content;
                let body = if content.summary.is_empty() {
                    content.body.clone()
                } else {
                    format!("{}\n{}", content.summary, content.body)
                };
                let snippet = search::snippet(&view.revision.content.title, &body, terms);
                hits.push(Hit {
                    view,
                    snippet,
                    score,
                });
            }
        }
        Ok(hits)
    }

    /// Published articles for a ticket's text: its rarest (most telling) terms are the query.
    pub async fn suggest(
        &self,
        scope: Scope,
        text: &str,
        locale: Option<String>,
        limit: usize,
    ) -> Result<Vec<Hit>, KnowledgeError> {
        let mut seen = std::collections::HashSet::new();
        let candidates: Vec<String> = search::tokenize(text)
            .into_iter()
            .filter_map(|t| seen.insert(t.term.clone()).then_some(t.term))
            .take(500)
            .collect();
        let (documents, frequencies) =
            store::term_statistics(&mut *self.conn().await?, &candidates).await?;
        let mut telling: Vec<(String, i64)> = frequencies
            .into_iter()
            .map(|(t, df)| (t, search::term_weight(documents, df)))
            .collect();
        telling.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let terms: Vec<String> = telling
            .into_iter()
            .take(search::MAX_QUERY_TERMS)
            .map(|(t, _)| t)
            .collect();
        let filter = ArticleFilter {
            locale,
            state: Some(pb::ArticleState::Published as i32),
            ..Default::default()
        };
        self.search(scope, &terms, &filter, None, limit).await
    }

    async fn published_for(
        &self,
        conn: &mut AnyConnection,
        scope: Scope,
        id: &str,
    ) -> Result<ArticleRecord, KnowledgeError> {
        let article = load_article(conn, id).await?;
        if !scope.sees(article.state, article.settings.visibility) {
            return Err(not_found_article(id));
        }
        if article.state != pb::ArticleState::Published as i32 {
            return Err(KnowledgeError::FailedPrecondition(format!(
                "{} is not published: readers cannot see it yet",
                article.name()
            )));
        }
        Ok(article)
    }

    /// Records `voter`'s vote.
    pub async fn vote(
        &self,
        scope: Scope,
        voter: &str,
        id: &str,
        helpful: bool,
    ) -> Result<ArticleView, KnowledgeError> {
        let mut tx = self.db.begin_write().await?;
        let article = self.published_for(&mut tx, scope, id).await?;
        let now = now_micros();
        store::record_vote(&mut tx, id, voter, helpful, now).await?;
        self.emit(
            &mut tx,
            voter,
            now,
            EventDraft {
                kind: pb::EventType::ArticleVoted,
                resource: &article.name(),
                revision: None,
                changed_fields: vec![if helpful {
                    "helpful_count".into()
                } else {
                    "not_helpful_count".into()
                }],
            },
        )
        .await?;
        self.commit(tx).await?;
        self.get_article(scope, id, false).await
    }

    /// Counts a view; returns the new count.
    pub async fn record_view(&self, scope: Scope, id: &str) -> Result<i64, KnowledgeError> {
        let mut tx = self.db.begin_write().await?;
        self.published_for(&mut tx, scope, id).await?;
        let count = store::add_view(&mut tx, id).await?;
        tx.commit().await?;
        Ok(count)
    }

    /// The FAQ page.
    pub async fn popular(
        &self,
        scope: Scope,
        mut filter: ArticleFilter,
        by_helpful: bool,
        limit: usize,
    ) -> Result<Vec<ArticleView>, KnowledgeError> {
        let mut conn = self.conn().await?;
        filter.state = Some(pb::ArticleState::Published as i32);
        let articles =
            store::popular_articles(&mut conn, &filter, scope, by_helpful, limit).await?;
        self.with_revisions(&mut conn, articles).await
    }
}

/// A fingerprint of a create request, to tell a retry from another request with the same id.
fn fingerprint(value: &impl std::fmt::Debug) -> String {
    let digest = Sha256::digest(format!("{value:?}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// A stored event as the proto message, with its cursor.
pub fn decode_event(stored: &outbox::StoredEvent) -> Option<pb::Event> {
    let mut event: pb::Event = kefu_server::events::decode(stored)?;
    event.cursor = stored.seq.to_string();
    Some(event)
}

pub use kefu_server::events::timestamp;
