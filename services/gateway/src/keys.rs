//! API keys: `kefu_<id>_<secret>`. The gateway stores the id in clear and only a SHA-256 of the
//! secret (256 random bits, so a fast hash is enough); a presented key is checked in constant
//! time. Lookups are cached briefly, so a revocation takes effect within [`CACHE_TTL`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kefu_db::Database;
use kefu_db::time::now_micros;
use kefu_principal::{Principal, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

/// How long a looked-up key (or its absence) is trusted without asking the database again.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const PREFIX: &str = "kefu_";

/// A stored key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// Public id.
    pub id: String,
    /// What the key is for.
    pub name: String,
    /// The principal the key acts as.
    pub principal: Principal,
    /// Micros.
    pub create_time: i64,
    /// Micros, once revoked.
    pub revoke_time: Option<i64>,
}

#[derive(Debug, Clone)]
struct Cached {
    at: Instant,
    /// Shared, so a cache hit copies a pointer rather than the hash and principal.
    found: Option<Arc<(String, Principal)>>,
}

/// The key store.
#[derive(Debug, Clone)]
pub struct Keys {
    db: Database,
    cache: Arc<RwLock<HashMap<String, Cached>>>,
    /// The runtime the store was opened on. Lookups run there, so the database connections stay
    /// with the runtime that owns them rather than with whichever worker thread missed the cache.
    home: Option<tokio::runtime::Handle>,
}

fn hash(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// Splits `kefu_<id>_<secret>`.
fn split(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()) && !secret.is_empty())
        .then_some((id, secret))
}

/// Whether a bearer token looks like an API key (rather than a JWT).
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

impl Keys {
    /// Keys stored in `db`; lookups run on the runtime this is called on, if any.
    pub fn new(db: Database) -> Self {
        Self {
            db,
            cache: Arc::default(),
            home: tokio::runtime::Handle::try_current().ok(),
        }
    }

    /// Creates a key acting as `principal`; returns the whole key, shown once.
    pub async fn create(
        &self,
        name: &str,
        principal: &Principal,
    ) -> Result<(String, KeyRecord), sqlx::Error> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut secret_bytes = [0_u8; 32];
        rand::rng().fill_bytes(&mut secret_bytes);
        let secret = URL_SAFE_NO_PAD.encode(secret_bytes);
        let now = now_micros();
        sqlx::query(
            "INSERT INTO api_keys (id, secret_hash, name, role, principal, customer_id, create_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(hash(&secret))
        .bind(name)
        .bind(principal.role.as_str())
        .bind(&principal.id)
        .bind(&principal.customer_id)
        .bind(now)
        .execute(self.db.pool())
        .await?;
        let record = KeyRecord {
            id: id.clone(),
            name: name.to_owned(),
            principal: principal.clone(),
            create_time: now,
            revoke_time: None,
        };
        Ok((format!("{PREFIX}{id}_{secret}"), record))
    }

    /// Every key, oldest first.
    pub async fn list(&self) -> Result<Vec<KeyRecord>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, name, role, principal, customer_id, create_time, revoke_time FROM api_keys ORDER BY create_time, id",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .filter_map(|row| {
                let role: String = row.try_get("role").ok()?;
                Some(Ok(KeyRecord {
                    id: row.try_get("id").ok()?,
                    name: row.try_get("name").ok()?,
                    principal: Principal {
                        id: row.try_get("principal").ok()?,
                        role: Role::parse(&role)?,
                        customer_id: row.try_get("customer_id").ok()?,
                    },
                    create_time: row.try_get("create_time").ok()?,
                    revoke_time: row.try_get("revoke_time").ok()?,
                }))
            })
            .collect()
    }

    /// Revokes a key; false if there is no such key.
    pub async fn revoke(&self, id: &str) -> Result<bool, sqlx::Error> {
        let updated = sqlx::query(
            "UPDATE api_keys SET revoke_time = $1 WHERE id = $2 AND revoke_time IS NULL",
        )
        .bind(now_micros())
        .bind(id)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(id);
        }
        Ok(updated == 1)
    }

    /// The principal of a valid, unrevoked key; `None` for anything else.
    pub async fn verify(&self, key: &str) -> Result<Option<Principal>, sqlx::Error> {
        let Some((id, secret)) = split(key) else {
            return Ok(None);
        };
        let cached = self
            .cache
            .read()
            .ok()
            .and_then(|cache| cache.get(id).cloned())
            .filter(|c| c.at.elapsed() < CACHE_TTL);
        let found = match cached {
            Some(c) => c.found,
            None => {
                let found = match &self.home {
                    Some(home) => home
                        .spawn(load(self.db.clone(), id.to_owned()))
                        .await
                        .map_err(|_| {
                            sqlx::Error::Io(std::io::Error::other("the key store has stopped"))
                        })??,
                    None => load(self.db.clone(), id.to_owned()).await?,
                }
                .map(Arc::new);
                if let Ok(mut cache) = self.cache.write() {
                    if cache.len() > 100_000 {
                        cache.clear();
                    }
                    cache.insert(
                        id.to_owned(),
                        Cached {
                            at: Instant::now(),
                            found: found.clone(),
                        },
                    );
                }
                found
            }
        };
        Ok(found.and_then(|found| {
            let (stored_hash, principal) = &*found;
            bool::from(stored_hash.as_bytes().ct_eq(hash(secret).as_bytes()))
                .then(|| principal.clone())
        }))
    }
}

/// The stored hash and principal of an unrevoked key.
async fn load(db: Database, id: String) -> Result<Option<(String, Principal)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT secret_hash, role, principal, customer_id FROM api_keys WHERE id = $1 AND revoke_time IS NULL",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let role: String = row.try_get("role")?;
    let Some(role) = Role::parse(&role) else {
        return Ok(None);
    };
    Ok(Some((
        row.try_get("secret_hash")?,
        Principal {
            id: row.try_get("principal")?,
            role,
            customer_id: row.try_get("customer_id")?,
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_id_and_secret() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(split(&format!("kefu_{id}_s3cr_et")), Some((id, "s3cr_et")));
        assert_eq!(split("kefu_short_secret"), None);
        assert_eq!(split(&format!("kefu_{id}_")), None);
        assert_eq!(split("Bearer x"), None);
        assert!(is_api_key("kefu_x") && !is_api_key("eyJhbGciOi"));
    }

    #[test]
    fn secrets_hash_to_lowercase_hex_sha256() {
        // The published SHA-256 test vector for "abc": stored hashes must keep this form.
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
