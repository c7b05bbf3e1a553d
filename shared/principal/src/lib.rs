//! The caller's principal: who is calling (id, role, and for a customer their customer id),
//! carried in the `x-kefu-principal` request metadata and signed with HMAC-SHA256 under the key that
//! the gateway and the services share (`KEFU_INTERNAL_KEY`).
//!
//! The gateway mints a principal after it authenticates a client; services verify it and
//! authorize from it. Background work signs as the service itself (role INTEGRATION, id = the
//! service's name). There is no way to turn verification off.
//!
//! Token format: `v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256 of the first two parts)>`.

mod key;

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;

pub use key::{InternalKey, KeyError};

/// The request metadata key that carries the signed principal.
pub const PRINCIPAL_HEADER: &str = "x-kefu-principal";

/// What a caller is allowed to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Configures the platform and may do everything.
    Admin,
    /// A support agent working customers and tickets.
    Agent,
    /// Another system (CRM sync, a kefu service's background work).
    Integration,
    /// A customer acting on their own data only.
    Customer,
}

impl Role {
    /// Every role, for tables and tests.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Agent, Role::Integration, Role::Customer];

    /// The role's name as written in configuration and tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Agent => "AGENT",
            Role::Integration => "INTEGRATION",
            Role::Customer => "CUSTOMER",
        }
    }

    /// Parses a role name, case-insensitively.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Principal {
    /// Stable id of the caller (an agent id, an API key id, a service name, a customer id).
    #[serde(rename = "sub")]
    pub id: String,
    /// What the caller is.
    pub role: Role,
    /// For role CUSTOMER: the customer they are, as a bare id (not `customers/…`).
    #[serde(rename = "cid", default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

impl Principal {
    /// A principal with no customer id.
    pub fn new(id: impl Into<String>, role: Role) -> Self {
        Self {
            id: id.into(),
            role,
            customer_id: None,
        }
    }

    /// A customer principal acting for `customer_id`.
    pub fn customer(customer_id: impl Into<String>) -> Self {
        let customer_id = customer_id.into();
        Self {
            id: customer_id.clone(),
            role: Role::Customer,
            customer_id: Some(customer_id),
        }
    }

    /// The principal a service's own background work runs as.
    pub fn service(service_name: &str) -> Self {
        Self::new(service_name, Role::Integration)
    }
}

#[derive(Serialize, Deserialize)]
struct Claims {
    #[serde(flatten)]
    principal: Principal,
    /// Expiry, seconds since the Unix epoch.
    exp: u64,
}

/// Why a principal token was refused. The message is safe to return to the caller.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PrincipalError {
    /// The token is not of the `v1.<claims>.<signature>` form.
    #[error("malformed principal")]
    Malformed,
    /// The signature does not match: wrong key or tampered claims.
    #[error("principal signature does not verify")]
    BadSignature,
    /// The token's lifetime is over.
    #[error("principal has expired")]
    Expired,
    /// A customer principal without a customer id, or the reverse.
    #[error(
        "principal is inconsistent: a CUSTOMER needs a customer id and only a CUSTOMER has one"
    )]
    Inconsistent,
}

type HmacSha256 = Hmac<Sha256>;

impl InternalKey {
    /// Signs `principal` for `ttl`.
    pub fn sign(&self, principal: &Principal, ttl: Duration) -> String {
        let exp = unix_now().saturating_add(ttl.as_secs().max(1));
        let claims = Claims {
            principal: principal.clone(),
            exp,
        };
        // Serializing a struct of strings and an enum cannot fail.
        let json = serde_json::to_vec(&claims).unwrap_or_default();
        let signed_part = format!("v1.{}", URL_SAFE_NO_PAD.encode(json));
        let signature =
            URL_SAFE_NO_PAD.encode(self.mac(signed_part.as_bytes()).finalize().into_bytes());
        format!("{signed_part}.{signature}")
    }

    /// Verifies a token and returns the principal it carries.
    pub fn verify(&self, token: &str) -> Result<Principal, PrincipalError> {
        let (signed_part, signature) = token.rsplit_once('.').ok_or(PrincipalError::Malformed)?;
        let claims_b64 = signed_part
            .strip_prefix("v1.")
            .ok_or(PrincipalError::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| PrincipalError::Malformed)?;
        // verify_slice compares in constant time.
        self.mac(signed_part.as_bytes())
            .verify_slice(&signature)
            .map_err(|_| PrincipalError::BadSignature)?;
        let json = URL_SAFE_NO_PAD
            .decode(claims_b64)
            .map_err(|_| PrincipalError::Malformed)?;
        let claims: Claims =
            serde_json::from_slice(&json).map_err(|_| PrincipalError::Malformed)?;
        if claims.exp < unix_now() {
            return Err(PrincipalError::Expired);
        }
        let principal = claims.principal;
        if (principal.role == Role::Customer) != principal.customer_id.is_some()
            || principal.id.is_empty()
        {
            return Err(PrincipalError::Inconsistent);
        }
        Ok(principal)
    }

    fn mac(&self, data: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(self.bytes()).unwrap_or_else(|_| unreachable!());
        mac.update(data);
        mac
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> InternalKey {
        InternalKey::from_bytes(vec![byte; 32])
    }

    #[test]
    fn a_signed_principal_verifies_with_the_same_key() {
        let principal = Principal::customer("c1");
        let token = key(1).sign(&principal, Duration::from_secs(60));
        assert_eq!(key(1).verify(&token), Ok(principal));
    }

    #[test]
    fn another_key_or_a_tampered_token_is_refused() {
        let token = key(1).sign(&Principal::new("a", Role::Agent), Duration::from_secs(60));
        assert_eq!(key(2).verify(&token), Err(PrincipalError::BadSignature));
        let (claims, signature) = token.rsplit_once('.').unwrap_or_default();
        let forged_claims =
            URL_SAFE_NO_PAD.encode(br#"{"sub":"a","role":"ADMIN","exp":99999999999}"#);
        let forged = format!("v1.{forged_claims}.{signature}");
        assert_ne!(claims, format!("v1.{forged_claims}"));
        assert_eq!(key(1).verify(&forged), Err(PrincipalError::BadSignature));
        assert_eq!(key(1).verify("garbage"), Err(PrincipalError::Malformed));
        assert_eq!(key(1).verify("v1.!!.!!"), Err(PrincipalError::Malformed));
    }

    #[test]
    fn an_expired_principal_is_refused() {
        let claims = Claims {
            principal: Principal::new("a", Role::Agent),
            exp: 1,
        };
        let signed = format!(
            "v1.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default())
        );
        let signature =
            URL_SAFE_NO_PAD.encode(key(1).mac(signed.as_bytes()).finalize().into_bytes());
        assert_eq!(
            key(1).verify(&format!("{signed}.{signature}")),
            Err(PrincipalError::Expired)
        );
    }

    #[test]
    fn a_customer_principal_must_name_its_customer() {
        let mut principal = Principal::new("x", Role::Customer);
        let token = key(1).sign(&principal, Duration::from_secs(60));
        assert_eq!(key(1).verify(&token), Err(PrincipalError::Inconsistent));
        principal.role = Role::Agent;
        principal.customer_id = Some("c".into());
        let token = key(1).sign(&principal, Duration::from_secs(60));
        assert_eq!(key(1).verify(&token), Err(PrincipalError::Inconsistent));
    }

    #[test]
    fn roles_parse_case_insensitively() {
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("Integration"), Some(Role::Integration));
        assert_eq!(Role::parse("root"), None);
    }
}
