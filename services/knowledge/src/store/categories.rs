use kefu_db::row::{self, Stored, Versioned};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use kefu_db::Params;

use crate::domain::category::{CategoryFields, CategoryRecord};

const COLUMNS: &str =
    "id, parent_id, position, display_name, description, locale, create_time, update_time, version";

impl Stored for CategoryRecord {
    const COLLECTION: &'static str = "categories";
    const TABLE: &'static str = "categories";
    const COLUMNS: &'static str = COLUMNS;

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(CategoryRecord {
            id: row.try_get("id")?,
            fields: CategoryFields {
                parent_id: row.try_get("parent_id")?,
                position: row.try_get("position")?,
                display_name: row.try_get("display_name")?,
                description: row.try_get("description")?,
                locale: row.try_get("locale")?,
            },
            create_time: row.try_get("create_time")?,
            update_time: row.try_get("update_time")?,
            version: row.try_get("version")?,
        })
    }
}

impl Versioned for CategoryRecord {
    fn id_and_version(&self) -> (&str, i64) {
        (&self.id, self.version)
    }
}

/// Inserts a category.
pub async fn insert_category(
    conn: &mut AnyConnection,
    c: &CategoryRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO categories ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&c.id)
    .bind(c.fields.parent_id.as_deref())
    .bind(c.fields.position)
    .bind(&c.fields.display_name)
    .bind(&c.fields.description)
    .bind(&c.fields.locale)
    .bind(c.create_time)
    .bind(c.update_time)
    .bind(c.version)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes a category if its version is still `expected_version`.
pub async fn update_category(
    conn: &mut AnyConnection,
    c: &CategoryRecord,
    expected_version: i64,
) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "UPDATE categories SET parent_id = $1, position = $2, display_name = $3, description = $4, locale = $5, \
         update_time = $6, version = $7 WHERE id = $8 AND version = $9",
    )
    .bind(c.fields.parent_id.as_deref())
    .bind(c.fields.position)
    .bind(&c.fields.display_name)
    .bind(&c.fields.description)
    .bind(&c.fields.locale)
    .bind(c.update_time)
    .bind(c.version)
    .bind(&c.id)
    .bind(expected_version);
    let updated = row::changed(conn, statement).await?;
    Ok(updated)
}

/// True when the category has child categories or articles.
pub async fn category_in_use(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id FROM categories WHERE parent_id = $1 UNION ALL SELECT id FROM articles WHERE category_id = $2 LIMIT 1",
    )
    .bind(id)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(!rows.is_empty())
}

/// The ids from `id` up to the root, `id` first; stops after `limit` steps.
pub async fn ancestor_chain(
    conn: &mut AnyConnection,
    id: &str,
    limit: usize,
) -> Result<Vec<String>, sqlx::Error> {
    let mut chain = vec![id.to_owned()];
    let mut current = id.to_owned();
    while chain.len() <= limit {
        let rows = sqlx::query("SELECT parent_id FROM categories WHERE id = $1")
            .bind(&current)
            .fetch_all(&mut *conn)
            .await?;
        let Some(parent) = rows
            .first()
            .map(|r| r.try_get::<Option<String>, _>("parent_id"))
            .transpose()?
            .flatten()
        else {
            break;
        };
        chain.push(parent.clone());
        current = parent;
    }
    Ok(chain)
}

/// A page of one parent's children by (position, id) after `after`.
pub async fn list_categories(
    conn: &mut AnyConnection,
    parent_id: Option<&str>,
    locale: Option<&str>,
    after: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<CategoryRecord>, sqlx::Error> {
    let mut params = Params::new();
    let mut clauses = vec![match parent_id {
        Some(parent) => format!("parent_id = {}", params.bind(parent.to_owned())),
        None => "parent_id IS NULL".to_owned(),
    }];
    if let Some(locale) = locale {
        clauses.push(format!("locale = {}", params.bind(locale.to_owned())));
    }
    if let Some((position, id)) = after {
        let p1 = params.bind(*position);
        let p2 = params.bind(*position);
        let id = params.bind(id.clone());
        clauses.push(format!(
            "(position > {p1} OR (position = {p2} AND id > {id}))"
        ));
    }
    let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let sql = format!(
        "SELECT {COLUMNS} FROM categories WHERE {} ORDER BY position, id LIMIT {limit}",
        clauses.join(" AND ")
    );
    row::all(
        conn,
        sqlx::query_with(&sql, params.into_args()),
        CategoryRecord::decode,
    )
    .await
}
