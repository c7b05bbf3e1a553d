//! Saved views.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kefu_db::row::{self, Stored};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::domain::views::ViewRecord;

impl Stored for ViewRecord {
    const COLLECTION: &'static str = "views";
    const TABLE: &'static str = "views";
    const COLUMNS: &'static str =
        "id, display_name, owner_id, group_id, filter, order_by, create_time, version";

    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let filter: String = row.try_get("filter")?;
        Ok(ViewRecord {
            id: row.try_get("id")?,
            display_name: row.try_get("display_name")?,
            owner_id: row.try_get("owner_id")?,
            group_id: row.try_get("group_id")?,
            filter: STANDARD
                .decode(filter)
                .map_err(|e| sqlx::Error::Decode(e.into()))?,
            order_by: row.try_get("order_by")?,
            create_time: row.try_get("create_time")?,
            version: row.try_get("version")?,
        })
    }
}

/// Inserts a view.
pub async fn insert_view(conn: &mut AnyConnection, v: &ViewRecord) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO views (id, display_name, owner_id, group_id, filter, order_by, create_time, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&v.id)
    .bind(&v.display_name)
    .bind(v.owner_id.as_deref())
    .bind(v.group_id.as_deref())
    .bind(STANDARD.encode(&v.filter))
    .bind(&v.order_by)
    .bind(v.create_time)
    .bind(v.version)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes a view's changeable parts if the stored row is at `v.version - 1`.
pub async fn update_view(conn: &mut AnyConnection, v: &ViewRecord) -> Result<bool, sqlx::Error> {
    let statement = sqlx::query(
        "UPDATE views SET display_name = $1, filter = $2, order_by = $3, version = $4 \
         WHERE id = $5 AND version = $6",
    )
    .bind(&v.display_name)
    .bind(STANDARD.encode(&v.filter))
    .bind(&v.order_by)
    .bind(v.version)
    .bind(&v.id)
    .bind(v.version - 1);
    row::changed(conn, statement).await
}

/// Deletes a view; false if it was gone.
pub async fn delete_view(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    row::changed(
        conn,
        sqlx::query("DELETE FROM views WHERE id = $1").bind(id),
    )
    .await
}

/// The views created by `owner_id` or shared with one of `group_ids` (every view when `all`),
/// by name.
pub async fn views_for(
    conn: &mut AnyConnection,
    owner_id: &str,
    group_ids: &[String],
    all: bool,
) -> Result<Vec<ViewRecord>, sqlx::Error> {
    let mut params = kefu_db::Params::new();
    let owner = params.bind(owner_id.to_owned());
    let all = params.bind(i64::from(all));
    let groups = if group_ids.is_empty() {
        String::new()
    } else {
        format!(
            " OR group_id IN ({})",
            params.list(group_ids.iter().cloned())
        )
    };
    let sql = format!(
        "{} WHERE {all} = 1 OR owner_id = {owner}{groups} ORDER BY display_name, id",
        row::select::<ViewRecord>()
    );
    row::all(
        conn,
        sqlx::query_with(&sql, params.into_args()),
        ViewRecord::decode,
    )
    .await
}
