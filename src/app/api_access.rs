//! Access of integrations to the API (ORG-7): authenticating a key (a 5-second cache, so a
//! revoked key stops within that on every instance) and spending its rate, shared among the
//! instances alive on the database. Per-instance state, kept in `AppState`.

use crate::app::redeem::OfferCache;
use crate::store::api_keys::{ApiKeyAuth, hash_api_key};
use crate::store::{Store, StoreResult};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an authenticated key is trusted before it is read again (a revoked key stops
/// working within this time on every instance).
const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// A key as last read (None: unknown or revoked) and when.
type CachedKey = (Option<ApiKeyAuth>, Instant);

/// Per-instance state of the API: caches and the rate limiter.
#[derive(Debug, Clone, Default)]
pub struct ApiState {
    pub offers: OfferCache,
    pub carts: crate::app::cart::CartCache,
    keys: Arc<Mutex<HashMap<String, CachedKey>>>,
    limiter: RateLimiter,
}

impl ApiState {
    /// Spends one of the key's tokens, or says how many whole seconds until one is free.
    pub fn take(&self, key: i64, rate: u32) -> Result<(), u64> {
        self.limiter.take(key, rate)
    }

    /// How many instances share the database (and so each key's rate); kept current by the
    /// instance's heartbeat.
    pub fn set_instances(&self, n: u32) {
        self.limiter
            .instances
            .store(n.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    pub fn instances(&self) -> u32 {
        self.limiter
            .instances
            .load(std::sync::atomic::Ordering::Relaxed)
            .max(1)
    }
}

impl ApiState {
    /// The key with this text, from the short-lived cache or the database.
    pub async fn authenticate(
        &self,
        store: &Store,
        token: &str,
    ) -> StoreResult<Option<ApiKeyAuth>> {
        let hash = hash_api_key(token);
        if let Ok(map) = self.keys.lock()
            && let Some((key, at)) = map.get(&hash)
            && at.elapsed() < KEY_CACHE_TTL
        {
            return Ok(key.clone());
        }
        let key = store.authenticate_api_key(token).await?;
        if let Some(k) = &key {
            // Recorded at most once per cache period, not per request; a busy writer must not
            // fail the call it is for.
            if let Err(e) = store.touch_api_key(k.id).await {
                tracing::warn!(key = k.id, error = %e, "could not record the key's last use");
            }
        }
        if let Ok(mut map) = self.keys.lock() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(hash, (key.clone(), Instant::now()));
        }
        Ok(key)
    }
}

/// A token bucket per key: its share of `rate` tokens a second, bursts up to one second's
/// worth. The share is `rate / instances`, the instances being those alive on the database
/// (their heartbeats), so the whole cluster allows the key's rate, not one rate per instance.
/// Written out because a keyed limiter crate fixes one quota for all keys, and here each key
/// has its own.
#[derive(Debug, Clone)]
struct RateLimiter {
    buckets: Arc<Mutex<HashMap<i64, (f64, Instant)>>>,
    instances: Arc<std::sync::atomic::AtomicU32>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter {
            buckets: Arc::default(),
            instances: Arc::new(std::sync::atomic::AtomicU32::new(1)),
        }
    }
}

impl RateLimiter {
    /// Spends a token, or says how many whole seconds until one is free.
    fn take(&self, key: i64, rate: u32) -> Result<(), u64> {
        let instances = f64::from(
            self.instances
                .load(std::sync::atomic::Ordering::Relaxed)
                .max(1),
        );
        // Never below one request a second per instance, or a small rate could not be used.
        let rate = (f64::from(rate.max(1)) / instances).max(1.0);
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        let (tokens, last) = map.entry(key).or_insert((rate, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(rate);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_rate_then_refuses_with_a_wait() {
        let l = RateLimiter::default();
        for _ in 0..5 {
            assert!(l.take(1, 5).is_ok());
        }
        assert_eq!(l.take(1, 5), Err(1));
        // Another key has its own bucket.
        assert!(l.take(2, 5).is_ok());
    }

    #[test]
    fn instances_share_a_keys_rate() {
        let l = RateLimiter::default();
        l.instances.store(2, std::sync::atomic::Ordering::Relaxed);
        let allowed = (0..20).filter(|_| l.take(1, 10).is_ok()).count();
        assert_eq!(allowed, 5, "half of 10 a second on each of two instances");
    }
}
