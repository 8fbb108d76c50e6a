//! Live app instances on one database, for limits that hold for the whole cluster: each
//! instance writes a heartbeat every few seconds and counts the instances seen lately, and the
//! API's per-key rate is shared among them.

use super::{Store, StoreResult};
use chrono::{DateTime, Duration, Utc};

/// An instance whose heartbeat is older than this is not counted.
pub const LIVE_WITHIN_SECS: i64 = 6;

impl Store {
    /// Records that instance `id` is alive at `now`; the number of live instances, itself
    /// included.
    pub async fn heartbeat(&self, id: &str, now: DateTime<Utc>) -> StoreResult<u32> {
        self.execute_autocommit(
            "INSERT INTO instances (id, heartbeat_at) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            &[id.into(), now.into()],
        )
        .await?;
        let live: Vec<(i64,)> = self
            .fetch_all_read(
                "SELECT COUNT(*) FROM instances WHERE heartbeat_at > $1",
                &[(now - Duration::seconds(LIVE_WITHIN_SECS)).into()],
            )
            .await?;
        Ok(live.first().map(|r| r.0).unwrap_or(1).clamp(1, 1_000) as u32)
    }

    /// Removes instance `id` (a clean shutdown) and instances silent for an hour.
    pub async fn leave(&self, id: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.execute_autocommit(
            "DELETE FROM instances WHERE id = $1 OR heartbeat_at < $2",
            &[id.into(), (now - Duration::hours(1)).into()],
        )
        .await?;
        Ok(())
    }
}
