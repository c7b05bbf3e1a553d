//! Authentication inside a service: every RPC of a kefu service needs a principal signed with the
//! internal key. Health and reflection are separate services without this interceptor, so probes
//! and grpcurl work without credentials.

use std::sync::Arc;

use kefu_principal::{InternalKey, PRINCIPAL_HEADER, Principal};
use tonic::service::Interceptor;
use tonic::{Code, Request, Status};

use crate::status::with_reason;

/// A tonic interceptor that verifies the principal and stores it in the request's extensions.
#[derive(Clone, Debug)]
pub struct Authenticator {
    key: Arc<InternalKey>,
}

impl Authenticator {
    /// Verifies principals signed with `key`.
    pub fn new(key: InternalKey) -> Self {
        Self { key: Arc::new(key) }
    }
}

impl Interceptor for Authenticator {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let token = request
            .metadata()
            .get(PRINCIPAL_HEADER)
            .ok_or_else(|| unauthenticated("missing principal: call kefu through the gateway"))?
            .to_str()
            .map_err(|_| unauthenticated("malformed principal"))?;
        let principal = self
            .key
            .verify(token)
            .map_err(|error| unauthenticated(&error.to_string()))?;
        tracing::Span::current().record("principal", principal.id.as_str());
        request.extensions_mut().insert(principal);
        Ok(request)
    }
}

fn unauthenticated(message: &str) -> Status {
    with_reason(Code::Unauthenticated, "UNAUTHENTICATED", message)
}

/// The principal the [`Authenticator`] attached to a request.
pub fn principal_of<T>(request: &Request<T>) -> Result<Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| unauthenticated("missing principal"))
}
