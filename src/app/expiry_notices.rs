//! Coupons' expiry notices (seed 001 "expiry notifications"): at 10:00 org time on the first
//! day a customer's coupon is no longer valid, when it expired unused.

use crate::store::Store;
use chrono::{DateTime, Utc};

/// Queues the notices due at `now`; the number queued.
pub async fn expiry_notices(_store: &Store, _now: DateTime<Utc>) -> anyhow::Result<u64> {
    Ok(0)
}
