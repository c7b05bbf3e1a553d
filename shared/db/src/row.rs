//! Reading rows the same way in every store: one row or all of them through `fetch_all` (never
//! `fetch_one`/`fetch_optional`, which on SQLite keep the WAL from checkpointing after an
//! `INSERT … RETURNING`), and the column encodings both databases share: integers for enums and
//! flags, JSON text for lists and maps.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};

use crate::Params;

/// A query over the `Any` driver.
pub type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// The first row of `query` decoded, if there is one.
pub async fn one<T>(
    conn: &mut AnyConnection,
    query: AnyQuery<'_>,
    decode: impl Fn(&AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Option<T>, sqlx::Error> {
    let rows = query.fetch_all(&mut *conn).await?;
    rows.first().map(decode).transpose()
}

/// Every row of `query`, decoded.
pub async fn all<T>(
    conn: &mut AnyConnection,
    query: AnyQuery<'_>,
    decode: impl Fn(&AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, sqlx::Error> {
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter().map(decode).collect()
}

/// A record kept in one row of one table, and named `{COLLECTION}/{id}` to clients.
pub trait Stored: Sized {
    /// The collection in the record's resource name (`customers` for `customers/{id}`).
    const COLLECTION: &'static str;
    /// The table, with the alias [`Stored::COLUMNS`] are qualified by, if any (`tickets t`).
    const TABLE: &'static str;
    /// The id column, qualified like the columns (`id`, `t.id`).
    const ID: &'static str = "id";
    /// The columns [`Stored::decode`] reads, as `SELECT` lists them.
    const COLUMNS: &'static str;

    /// The record in a row of [`Stored::COLUMNS`].
    fn decode(row: &AnyRow) -> Result<Self, sqlx::Error>;
}

/// A [`Stored`] record with a `version` column that every change bumps, for optimistic
/// concurrency: a write names the version it read and loses to any write in between.
pub trait Versioned: Stored {
    /// Its id and its version.
    fn id_and_version(&self) -> (&str, i64);
}

/// `SELECT <columns> FROM <table>` of `T`, to which a query adds its conditions.
pub fn select<T: Stored>() -> String {
    format!("SELECT {} FROM {}", T::COLUMNS, T::TABLE)
}

/// The row of `select` (a `SELECT … FROM …` with no `WHERE`) whose `column` is `key`.
pub async fn by_key<T>(
    conn: &mut AnyConnection,
    select: &str,
    column: &str,
    key: &str,
    decode: impl Fn(&AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Option<T>, sqlx::Error> {
    let sql = format!("{select} WHERE {column} = $1");
    one(conn, sqlx::query(&sql).bind(key), decode).await
}

/// The rows of `select` (a `SELECT … FROM …` with no `WHERE`) whose `column` is one of `keys`,
/// in no particular order; none for no keys.
pub async fn by_keys<T>(
    conn: &mut AnyConnection,
    select: &str,
    column: &str,
    keys: &[String],
    decode: impl Fn(&AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = Params::new();
    let sql = format!(
        "{select} WHERE {column} IN ({})",
        params.list(keys.to_vec())
    );
    all(conn, sqlx::query_with(&sql, params.into_args()), decode).await
}

/// The `T` whose `column` is `key`.
pub async fn find_by<T: Stored>(
    conn: &mut AnyConnection,
    column: &str,
    key: &str,
) -> Result<Option<T>, sqlx::Error> {
    by_key(conn, &select::<T>(), column, key, T::decode).await
}

/// The `T` with this id.
pub async fn find<T: Stored>(conn: &mut AnyConnection, id: &str) -> Result<Option<T>, sqlx::Error> {
    find_by(conn, T::ID, id).await
}

/// The `T`s with these ids that exist, in no particular order; none for no ids.
pub async fn find_all<T: Stored>(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<Vec<T>, sqlx::Error> {
    by_keys(conn, &select::<T>(), T::ID, ids, T::decode).await
}

/// Deletes the `T` with this id if its `version` column is still `expected_version`; false
/// when there is none or it has changed. Rows that hang off it go by `ON DELETE CASCADE`.
pub async fn delete_versioned<T: Stored>(
    conn: &mut AnyConnection,
    id: &str,
    expected_version: i64,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "DELETE FROM {} WHERE {} = $1 AND version = $2",
        T::TABLE,
        T::ID
    );
    changed(conn, sqlx::query(&sql).bind(id).bind(expected_version)).await
}

/// Runs `statement` and says whether it changed any row: false when an `UPDATE … WHERE id = …
/// AND version = …` found the version moved on.
pub async fn changed(
    conn: &mut AnyConnection,
    statement: AnyQuery<'_>,
) -> Result<bool, sqlx::Error> {
    Ok(statement.execute(&mut *conn).await?.rows_affected() > 0)
}

/// True when `query` returns at least one row.
pub async fn exists(conn: &mut AnyConnection, query: AnyQuery<'_>) -> Result<bool, sqlx::Error> {
    Ok(!query.fetch_all(&mut *conn).await?.is_empty())
}

/// A BIGINT column holding a proto enum number or another 32-bit value.
pub fn int(row: &AnyRow, column: &str) -> Result<i32, sqlx::Error> {
    let value: i64 = row.try_get(column)?;
    i32::try_from(value).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// A BIGINT column holding an enum's number, decoded by `from_number`; an unknown number is a
/// decode error (the row was written by a newer version, or by hand).
pub fn enumerated<T>(
    row: &AnyRow,
    column: &str,
    from_number: impl Fn(i32) -> Option<T>,
) -> Result<T, sqlx::Error> {
    let number = int(row, column)?;
    from_number(number).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("unknown enum number {number}").into(),
    })
}

/// Like [`enumerated`], with 0 meaning none.
pub fn optional_enumerated<T>(
    row: &AnyRow,
    column: &str,
    from_number: impl Fn(i32) -> Option<T>,
) -> Result<Option<T>, sqlx::Error> {
    if int(row, column)? == 0 {
        return Ok(None);
    }
    enumerated(row, column, from_number).map(Some)
}

/// A BIGINT 0/1 column.
pub fn flag(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    let value: i64 = row.try_get(column)?;
    Ok(value != 0)
}

/// A nullable BIGINT column.
pub fn opt_i64(row: &AnyRow, column: &str) -> Result<Option<i64>, sqlx::Error> {
    row.try_get::<Option<i64>, _>(column)
}

/// A TEXT column holding JSON.
pub fn json<T: DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// A value as JSON text, for a JSON column.
pub fn json_text<T: Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// A flag as the 0/1 both databases store.
pub fn flag_value(value: bool) -> i64 {
    i64::from(value)
}
