//! Reading a stored record as every use case does: an absent one is NOT_FOUND under its
//! resource name.

use kefu_db::row::{self, Stored, Versioned};
use sqlx::AnyConnection;

use crate::{ServiceError, etag};

/// A change aimed at one stored record: its id, and the etag the client last read (empty: any
/// version will do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The record's id.
    pub id: String,
    /// The etag the change is conditional on.
    pub etag: String,
}

/// The resource name of the `T` with this id: `{COLLECTION}/{id}`.
pub fn name<T: Stored>(id: &str) -> String {
    format!("{}/{id}", T::COLLECTION)
}

/// NOT_FOUND for the `T` named `{COLLECTION}/{id}`.
pub fn not_found<T: Stored>(id: &str) -> ServiceError {
    ServiceError::NotFound(name::<T>(id))
}

/// The `T` with this id, or NOT_FOUND.
pub async fn load<T: Stored>(conn: &mut AnyConnection, id: &str) -> Result<T, ServiceError> {
    row::find(conn, id).await?.ok_or_else(|| not_found::<T>(id))
}

/// The `T` a change is aimed at, as it is now: NOT_FOUND when there is none, ABORTED when the
/// target's etag names another version.
pub async fn load_target<T: Versioned>(
    conn: &mut AnyConnection,
    target: &Target,
) -> Result<T, ServiceError> {
    let current: T = load(conn, &target.id).await?;
    etag::check(
        &name::<T>(&target.id),
        current.id_and_version().1,
        &target.etag,
    )?;
    Ok(current)
}

/// Deletes `current`, read in this transaction; ABORTED when its row changed since.
pub async fn delete<T: Versioned>(
    conn: &mut AnyConnection,
    current: &T,
) -> Result<(), ServiceError> {
    let (id, version) = current.id_and_version();
    if row::delete_versioned::<T>(conn, id, version).await? {
        Ok(())
    } else {
        Err(ServiceError::Conflict(name::<T>(id)))
    }
}
