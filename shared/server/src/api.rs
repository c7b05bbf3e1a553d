//! What every service's tonic handlers share.

use tonic::{Response, Status};

use crate::ServiceError;

/// What an RPC handler returns.
pub type Rpc<T> = Result<Response<T>, Status>;

/// PERMISSION_DENIED with the reason a service's role table gave.
pub fn permission(decision: Result<(), String>) -> Result<(), Status> {
    decision.map_err(|denied| ServiceError::PermissionDenied(denied).into())
}
