//! Reading a stored record as every use case does: an absent one is NOT_FOUND under its
//! resource name.

use kefu_db::row::{self, Stored};
use sqlx::AnyConnection;

use crate::ServiceError;

/// NOT_FOUND for the `T` named `{COLLECTION}/{id}`.
pub fn not_found<T: Stored>(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("{}/{id}", T::COLLECTION))
}

/// The `T` with this id, or NOT_FOUND.
pub async fn load<T: Stored>(conn: &mut AnyConnection, id: &str) -> Result<T, ServiceError> {
    row::find(conn, id).await?.ok_or_else(|| not_found::<T>(id))
}
