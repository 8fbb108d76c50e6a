//! API keys of integrations (ORG-7): shown once at creation, stored only as a SHA-256 hash,
//! revocable, optionally bound to a consumer, each with its own rate limit.

use super::audit::record_dyn;
use super::dyntx::Arg;
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::domain::ids::OrgId;
use crate::domain::user::Actor;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngExt;
use sha2::{Digest, Sha256};

/// Requests per second a key may make unless its creator chose otherwise.
pub const DEFAULT_RATE_LIMIT: u32 = 1000;
/// Every key starts with this, so that a leaked key is recognisable (e.g. by secret scanners).
const KEY_MARK: &str = "odk_";
/// `odk_` + 43 characters of base64url (32 bytes).
const KEY_LEN: usize = 47;
/// How much of a key the console shows: `odk_` + 8.
const SHOWN_PREFIX_LEN: usize = 12;

/// The key as authenticated: what the API needs per request.
#[derive(Debug, Clone)]
pub struct ApiKeyAuth {
    pub id: i64,
    pub org_id: OrgId,
    pub name: String,
    pub consumer_id: Option<i64>,
    pub rate_limit: u32,
}

/// A key as listed in the console (never the key itself).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    pub key_prefix: String,
    pub consumer_id: Option<i64>,
    pub consumer_name: Option<String>,
    pub rate_limit: i64,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct AuthRow {
    id: i64,
    org_id: OrgId,
    name: String,
    consumer_id: Option<i64>,
    rate_limit: i64,
}

const ROW_SELECT: &str = "SELECT k.id, k.name, k.key_prefix, k.consumer_id, c.name AS consumer_name, \
     k.rate_limit, k.created_at, k.revoked_at, k.last_used_at \
     FROM api_keys k LEFT JOIN consumers c ON c.id = k.consumer_id";

/// SHA-256 hex of a key.
///
/// Keys are 256-bit random, so a fast unsalted hash is enough (nothing to guess) and lets the
/// API find a key by one indexed lookup on every request.
pub fn hash_api_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A fresh key: `odk_` and 32 bytes from the OS-seeded CSPRNG in base64url without padding.
fn new_key() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!(
        "{KEY_MARK}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

impl Store {
    /// Creates a key; returns the row and the key in clear (shown once). Audited
    /// ("api_key.created", never containing the key). consumer_id must be a consumer of the org
    /// (else `StoreError::NotFound`).
    pub async fn create_api_key(
        &self,
        org_id: OrgId,
        name: &str,
        consumer_id: Option<i64>,
        rate_limit: u32,
        actor: &Actor,
    ) -> StoreResult<(ApiKeyRow, String)> {
        let key = new_key();
        let key_prefix = &key[..SHOWN_PREFIX_LEN];
        let key_hash = hash_api_key(&key);
        let select_sql = format!("{ROW_SELECT} WHERE k.org_id = $1 AND k.id = $2");
        let mut tx = self.begin().await?;
        if let Some(cid) = consumer_id {
            let found: Option<(i64,)> = tx
                .fetch_optional(
                    "SELECT id FROM consumers WHERE org_id = $1 AND id = $2",
                    &[org_id.into(), cid.into()],
                )
                .await?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
        }
        let (id,): (i64,) = tx
            .fetch_one(
                "INSERT INTO api_keys (org_id, name, key_prefix, key_hash, consumer_id, rate_limit, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[
                    org_id.into(),
                    name.into(),
                    key_prefix.into(),
                    key_hash.as_str().into(),
                    consumer_id.into(),
                    i64::from(rate_limit).into(),
                    actor.user_id.into(),
                    Utc::now().into(),
                ],
            )
            .await?;
        let row: ApiKeyRow = tx
            .fetch_one(&select_sql, &[org_id.into(), id.into()])
            .await?;
        let details = serde_json::json!({
            "name": name,
            "key_prefix": key_prefix,
            "consumer_id": consumer_id,
            "consumer": row.consumer_name,
            "rate_limit": rate_limit,
        });
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "api_key.created",
                entity_type: "api_key",
                entity_id: Some(id),
                summary: format!("Created API key {name} ({key_prefix}…)"),
                details: Some(details.to_string()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((row, key))
    }

    /// The org's keys, newest first (revoked ones too, for the record).
    pub async fn list_api_keys(&self, org_id: OrgId) -> StoreResult<Vec<ApiKeyRow>> {
        let sql = format!("{ROW_SELECT} WHERE k.org_id = $1 ORDER BY k.id DESC");
        self.fetch_all_read(&sql, &[org_id.into()]).await
    }

    /// Revokes a key of the org (NotFound for another org's); audited "api_key.revoked".
    /// Revoking a revoked key changes nothing.
    pub async fn revoke_api_key(&self, org_id: OrgId, id: i64, actor: &Actor) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let key: Option<(String, String)> = tx
            .fetch_optional(
                "SELECT name, key_prefix FROM api_keys WHERE org_id = $1 AND id = $2",
                &[org_id.into(), id.into()],
            )
            .await?;
        let Some((name, key_prefix)) = key else {
            return Err(StoreError::NotFound);
        };
        // The guard in the UPDATE keeps two racing revokes to one audit entry.
        let revoked = tx
            .execute(
                "UPDATE api_keys SET revoked_at = $1 WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL",
                &[Utc::now().into(), org_id.into(), id.into()],
            )
            .await?;
        if revoked == 1 {
            record_dyn(
                &mut tx,
                AuditEntry {
                    org_id,
                    actor,
                    action: "api_key.revoked",
                    entity_type: "api_key",
                    entity_id: Some(id),
                    summary: format!("Revoked API key {name} ({key_prefix}…)"),
                    details: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The active (not revoked) key with this clear text, if any: one indexed read by hash.
    pub async fn authenticate_api_key(&self, key: &str) -> StoreResult<Option<ApiKeyAuth>> {
        // Anything not shaped like a key cannot match one; spare the database.
        if key.len() != KEY_LEN || !key.starts_with(KEY_MARK) {
            return Ok(None);
        }
        let hash = hash_api_key(key);
        let row: Option<AuthRow> = self
            .fetch_optional_read(
                "SELECT id, org_id, name, consumer_id, rate_limit FROM api_keys \
                 WHERE key_hash = $1 AND revoked_at IS NULL",
                &[Arg::Text(hash)],
            )
            .await?;
        Ok(row.map(|r| ApiKeyAuth {
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            consumer_id: r.consumer_id,
            // Stored limits come from a u32; clamp rather than fail on a hand-edited row.
            rate_limit: u32::try_from(r.rate_limit.max(1)).unwrap_or(u32::MAX),
        }))
    }
}

impl Store {
    /// Records that a key was used now (called when the API reads the key, not per request).
    pub async fn touch_api_key(&self, id: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2",
            &[chrono::Utc::now().into(), id.into()],
        )
        .await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_documented_shape() {
        let a = new_key();
        let b = new_key();
        assert_ne!(a, b);
        assert_eq!(a.len(), KEY_LEN);
        assert!(a.starts_with(KEY_MARK));
        assert!(
            a[KEY_MARK.len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn hash_is_sha256_hex() {
        // SHA-256("abc"), FIPS 180-2 test vector.
        assert_eq!(
            hash_api_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
