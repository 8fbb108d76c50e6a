//! Console sessions kept in the database (ORG-2): the cookie carries a random session id, the
//! database its SHA-256 with the user, when it began and when it was last used. Signing out
//! deletes the row, so a copied cookie stops working on every instance at once; an idle or
//! too-old session is refused and deleted when next seen.

use super::{Store, StoreResult};
use crate::domain::ids::UserId;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// A session as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ip: String,
    pub user_agent: String,
}

/// The stored form of a session id.
pub fn hash_session_id(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Longest user-agent text kept for the Account page.
const USER_AGENT_CHARS: usize = 200;

impl Store {
    /// Records a new session of `user_id` under the hash of `id`.
    pub async fn create_session(
        &self,
        id: &str,
        user_id: UserId,
        ip: &str,
        user_agent: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let agent: String = user_agent
            .chars()
            .filter(|c| !c.is_control())
            .take(USER_AGENT_CHARS)
            .collect();
        self.execute_autocommit(
            "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, ip, user_agent) VALUES ($1, $2, $3, $3, $4, $5)",
            &[
                hash_session_id(id).into(),
                user_id.into(),
                now.into(),
                ip.into(),
                agent.as_str().into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The session with this id, if it exists.
    pub async fn find_session(&self, id: &str) -> StoreResult<Option<SessionRow>> {
        let rows: Vec<SessionRow> = self
            .fetch_all_read(
                "SELECT id_hash, user_id, created_at, last_seen_at, ip, user_agent FROM sessions WHERE id_hash = $1",
                &[hash_session_id(id).into()],
            )
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Notes that the session was used at `now`.
    pub async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.execute_autocommit(
            "UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2",
            &[now.into(), id_hash.into()],
        )
        .await?;
        Ok(())
    }

    /// Ends one session (sign-out, or idle/too old when seen).
    pub async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        self.execute_autocommit("DELETE FROM sessions WHERE id_hash = $1", &[id_hash.into()])
            .await?;
        Ok(())
    }

    /// A user's sessions, most recently used first.
    pub async fn list_sessions(&self, user_id: UserId) -> StoreResult<Vec<SessionRow>> {
        self.fetch_all_read(
            "SELECT id_hash, user_id, created_at, last_seen_at, ip, user_agent FROM sessions WHERE user_id = $1 \
             ORDER BY last_seen_at DESC",
            &[user_id.into()],
        )
        .await
    }

    /// Ends every session of the user but `keep` (by hash); how many ended.
    pub async fn delete_other_sessions(&self, user_id: UserId, keep: &str) -> StoreResult<u64> {
        self.execute_autocommit(
            "DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2",
            &[user_id.into(), keep.into()],
        )
        .await
    }

    /// Forgets sessions unused since `before` (housekeeping; they are refused anyway).
    pub async fn delete_sessions_idle_since(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.execute_autocommit(
            "DELETE FROM sessions WHERE last_seen_at < $1",
            &[before.into()],
        )
        .await
    }
}
