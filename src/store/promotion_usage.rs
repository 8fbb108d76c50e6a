//! What promotions gave (#16 item 6): carts and discount per day of the org's calendar over the
//! last 30 days for one promotion, and the org's top promotions in those days. Day bounds are
//! computed in Rust (`performance::window`) and bound as instants, as for offers.

use super::dyntx::Arg;
use super::performance::{PERFORMANCE_DAYS, window};
use super::{Store, StoreError, StoreResult};
use crate::domain::ids::{OrgId, PromotionId};
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use std::sync::LazyLock;

/// Promotions listed under "Top promotions".
pub const TOP_PROMOTIONS: i64 = 5;

/// One day: closed carts the promotion applied to (not cancelled) and the discount it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayUses {
    pub day: NaiveDate,
    pub carts: i64,
    pub discount: i64,
}

/// A promotion's use in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionTotal {
    pub id: PromotionId,
    pub name: String,
    pub carts: i64,
    pub discount: i64,
}

/// One row per day `n`: uses and discount between bounds `$n+2` and `$n+3` (`$1` the
/// promotion).
static PER_DAY_SQL: LazyLock<String> = LazyLock::new(|| {
    (0..PERFORMANCE_DAYS)
        .map(|n| {
            let (from, to) = (n + 2, n + 3);
            format!(
                "SELECT CAST({n} AS BIGINT), COUNT(*), COALESCE(CAST(SUM(discount) AS BIGINT), 0) \
                 FROM promotion_uses WHERE promotion_id = $1 AND reversed_at IS NULL \
                 AND used_at >= ${from} AND used_at < ${to}"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
});

impl Store {
    /// The promotion's carts and discount per day for the 30 days ending `today` (zeros
    /// included). Another org's promotion is `NotFound`.
    pub async fn promotion_usage(
        &self,
        org_id: OrgId,
        promotion: PromotionId,
        tz: Tz,
        today: NaiveDate,
    ) -> StoreResult<Vec<DayUses>> {
        let owned: Vec<(i64,)> = self
            .fetch_all_read(
                "SELECT id FROM promotions WHERE id = $1 AND org_id = $2",
                &[promotion.into(), org_id.into()],
            )
            .await?;
        if owned.is_empty() {
            return Err(StoreError::NotFound);
        }
        let (first, bounds) = window(tz, today);
        let mut args: Vec<Arg> = vec![promotion.into()];
        args.extend(bounds.iter().map(|b| Arg::Time(*b)));
        let rows: Vec<(i64, i64, i64)> = self.fetch_all_read(&PER_DAY_SQL, &args).await?;
        let mut days: Vec<DayUses> = (0..PERFORMANCE_DAYS as i64)
            .map(|n| DayUses {
                day: first + Duration::days(n),
                carts: 0,
                discount: 0,
            })
            .collect();
        for (n, carts, discount) in rows {
            if let Some(d) = usize::try_from(n).ok().and_then(|n| days.get_mut(n)) {
                d.carts = carts;
                d.discount = discount;
            }
        }
        Ok(days)
    }

    /// The org's promotions that gave most discount in the 30 days ending `today`.
    pub async fn top_promotions(
        &self,
        org_id: OrgId,
        tz: Tz,
        today: NaiveDate,
    ) -> StoreResult<Vec<PromotionTotal>> {
        let (_, bounds) = window(tz, today);
        let rows: Vec<(PromotionId, String, i64, i64)> = self
            .fetch_all_read(
                "SELECT p.id, p.name, COUNT(*) AS carts, COALESCE(CAST(SUM(u.discount) AS BIGINT), 0) AS given \
                 FROM promotion_uses u JOIN promotions p ON p.id = u.promotion_id \
                 WHERE u.org_id = $1 AND u.reversed_at IS NULL AND u.used_at >= $2 AND u.used_at < $3 \
                 GROUP BY p.id, p.name ORDER BY given DESC, carts DESC, p.id LIMIT $4",
                &[
                    org_id.into(),
                    Arg::Time(bounds[0]),
                    Arg::Time(bounds[PERFORMANCE_DAYS]),
                    TOP_PROMOTIONS.into(),
                ],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, carts, discount)| PromotionTotal {
                id,
                name,
                carts,
                discount,
            })
            .collect())
    }
}
