//! The tickets service's error type: the shared [`kefu_server::ServiceError`], whose one mapping
//! to gRPC status codes every RPC of this service goes through.

/// Everything an RPC of this service can fail with.
pub type TicketsError = kefu_server::ServiceError;
