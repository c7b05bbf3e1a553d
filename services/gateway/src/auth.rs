//! Who is calling: an API key or a JWT in `Authorization: Bearer …`, turned into the principal the
//! services trust. Nothing a client sends as `x-kefu-principal` survives: the gateway removes it
//! and signs its own.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use kefu_principal::{Principal, Role};
use serde::Deserialize;
use tonic::Status;

use crate::keys::{Keys, is_api_key};

/// Accepted JWTs: HS256 with a shared secret and/or RS256 with a public key; the issuer and
/// audience must match and the token must not be expired.
#[derive(Clone)]
pub struct JwtConfig {
    /// HS256 key, if HS256 tokens are accepted.
    pub hs256: Option<DecodingKey>,
    /// RS256 public key, if RS256 tokens are accepted.
    pub rs256: Option<DecodingKey>,
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
}

impl std::fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtConfig")
            .field("hs256", &self.hs256.is_some())
            .field("rs256", &self.rs256.is_some())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    #[serde(default)]
    customer_id: Option<String>,
}

/// Turns credentials into a principal.
#[derive(Debug, Clone)]
pub struct Authenticator {
    keys: Keys,
    jwt: Option<JwtConfig>,
}

fn unauthenticated(why: &str) -> Status {
    Status::unauthenticated(why)
}

impl Authenticator {
    /// Checks API keys in `keys` and, when configured, JWTs.
    pub fn new(keys: Keys, jwt: Option<JwtConfig>) -> Self {
        Self { keys, jwt }
    }

    /// The principal for an `authorization` header value.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, Status> {
        let token = authorization
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthenticated("send `authorization: Bearer <API key or JWT>`"))?;
        if is_api_key(token) {
            return match self.keys.verify(token).await {
                Ok(Some(principal)) => Ok(principal),
                Ok(None) => Err(unauthenticated("unknown or revoked API key")),
                Err(error) => {
                    tracing::warn!(%error, "API key lookup failed");
                    Err(Status::unavailable(
                        "the gateway's key store is unavailable",
                    ))
                }
            };
        }
        self.jwt_principal(token)
    }

    fn jwt_principal(&self, token: &str) -> Result<Principal, Status> {
        let jwt = self
            .jwt
            .as_ref()
            .ok_or_else(|| unauthenticated("not an API key, and JWTs are not configured"))?;
        let header = decode_header(token).map_err(|_| unauthenticated("malformed token"))?;
        let key = match header.alg {
            Algorithm::HS256 => jwt.hs256.as_ref(),
            Algorithm::RS256 => jwt.rs256.as_ref(),
            _ => None,
        }
        .ok_or_else(|| {
            unauthenticated("token algorithm not accepted (HS256 or RS256 as configured)")
        })?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[jwt.issuer.as_str()]);
        validation.set_audience(&[jwt.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = decode::<Claims>(token, key, &validation)
            .map_err(|error| unauthenticated(&format!("invalid token: {error}")))?
            .claims;
        let role = Role::parse(&claims.role).ok_or_else(|| {
            unauthenticated("the token's role is not ADMIN, AGENT, INTEGRATION or CUSTOMER")
        })?;
        match (role, claims.customer_id) {
            (Role::Customer, Some(customer)) if !customer.is_empty() => Ok(Principal {
                id: claims.sub,
                role,
                customer_id: Some(customer),
            }),
            (Role::Customer, _) => Err(unauthenticated(
                "a CUSTOMER token needs a customer_id claim",
            )),
            (_, _) => Ok(Principal::new(claims.sub, role)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde::Serialize;

    use super::*;

    // A key pair made for these tests only (openssl genrsa 2048).
    const PRIVATE_PEM: &[u8] = include_bytes!("../tests/fixtures/rs256-test-private.pem");
    const PUBLIC_PEM: &[u8] = include_bytes!("../tests/fixtures/rs256-test-public.pem");

    #[derive(Serialize)]
    struct TestClaims<'a> {
        sub: &'a str,
        role: &'a str,
        iss: &'a str,
        aud: &'a str,
        exp: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        customer_id: Option<&'a str>,
    }

    fn in_an_hour() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600
    }

    fn claims<'a>(role: &'a str, aud: &'a str, exp: u64) -> TestClaims<'a> {
        TestClaims {
            sub: "user-7",
            role,
            iss: "https://login.example.com",
            aud,
            exp,
            customer_id: None,
        }
    }

    async fn authenticator() -> Authenticator {
        let db = kefu_db::Database::connect("sqlite::memory:").await.unwrap();
        db.migrate(&crate::migrations()).await.unwrap();
        Authenticator::new(
            Keys::new(db),
            Some(JwtConfig {
                hs256: Some(DecodingKey::from_secret(b"shared-secret-for-tests")),
                rs256: Some(DecodingKey::from_rsa_pem(PUBLIC_PEM).unwrap()),
                issuer: "https://login.example.com".into(),
                audience: "kefu".into(),
            }),
        )
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    #[tokio::test]
    async fn hs256_and_rs256_tokens_become_principals() {
        let auth = authenticator().await;
        let hs = encode(
            &Header::new(Algorithm::HS256),
            &claims("AGENT", "kefu", in_an_hour()),
            &EncodingKey::from_secret(b"shared-secret-for-tests"),
        )
        .unwrap();
        let principal = auth.authenticate(Some(&bearer(&hs))).await.unwrap();
        assert_eq!(
            (principal.id.as_str(), principal.role),
            ("user-7", Role::Agent)
        );

        let mut customer = claims("customer", "kefu", in_an_hour());
        customer.customer_id = Some("c-42");
        let rs = encode(
            &Header::new(Algorithm::RS256),
            &customer,
            &EncodingKey::from_rsa_pem(PRIVATE_PEM).unwrap(),
        )
        .unwrap();
        let principal = auth.authenticate(Some(&bearer(&rs))).await.unwrap();
        assert_eq!(principal.role, Role::Customer);
        assert_eq!(principal.customer_id.as_deref(), Some("c-42"));
    }

    #[tokio::test]
    async fn bad_tokens_are_unauthenticated() {
        let auth = authenticator().await;
        let key = EncodingKey::from_secret(b"shared-secret-for-tests");
        let sign = |c: &TestClaims<'_>| encode(&Header::new(Algorithm::HS256), c, &key).unwrap();
        let expired = sign(&claims("ADMIN", "kefu", 1_000_000));
        let other_audience = sign(&claims("ADMIN", "someone-else", in_an_hour()));
        let unknown_role = sign(&claims("ROOT", "kefu", in_an_hour()));
        let customer_without_id = sign(&claims("CUSTOMER", "kefu", in_an_hour()));
        let wrong_secret = encode(
            &Header::new(Algorithm::HS256),
            &claims("ADMIN", "kefu", in_an_hour()),
            &EncodingKey::from_secret(b"guessed"),
        )
        .unwrap();
        let hs384 = encode(
            &Header::new(Algorithm::HS384),
            &claims("ADMIN", "kefu", in_an_hour()),
            &EncodingKey::from_secret(b"shared-secret-for-tests"),
        )
        .unwrap();
        for token in [
            expired,
            other_audience,
            unknown_role,
            customer_without_id,
            wrong_secret,
            hs384,
            "a.b.c".to_owned(),
        ] {
            let error = auth.authenticate(Some(&bearer(&token))).await.unwrap_err();
            assert_eq!(error.code(), tonic::Code::Unauthenticated, "{token}");
        }
        for header in [None, Some(""), Some("Basic dXNlcjpwYXNz"), Some("Bearer ")] {
            let error = auth.authenticate(header).await.unwrap_err();
            assert_eq!(error.code(), tonic::Code::Unauthenticated);
        }
    }
}
