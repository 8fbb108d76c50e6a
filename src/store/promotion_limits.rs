//! The uses cart promotions' limits count (PRM-1): counted for many promotions in one
//! statement, and the rows a closing cart holds while it counts.

use super::dialect::Lock;
use super::dyntx::{Arg, DynTx, placeholders};
use super::{Store, StoreResult};
use crate::domain::ids::{CustomerId, PromotionId};
use crate::domain::promotion::Used;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Promotions counted by one statement (SQLite allows 500 terms in a compound SELECT; the
/// statement is padded to a power of two).
const USAGE_CHUNK: usize = 256;

/// What to count of one promotion's uses: all uses inside the global window, and the
/// customer's uses and discount inside theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageAsk {
    pub promotion: PromotionId,
    pub global: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub customer: Option<(CustomerId, DateTime<Utc>, DateTime<Utc>)>,
}

/// One statement counting every asked promotion's uses (one branch per promotion, each an
/// index range of `promotion_uses`).
fn usage_query(asks: &[UsageAsk]) -> (String, Vec<Arg>) {
    let far = DateTime::<Utc>::UNIX_EPOCH;
    // Padded to a power of two with asks that match nothing (promotion 0), so that the
    // statement's text takes a handful of shapes the connections' statement caches keep,
    // instead of a new one (parsed and planned again) for every count.
    let nothing = UsageAsk {
        promotion: PromotionId(0),
        global: None,
        customer: None,
    };
    let padded: Vec<UsageAsk> = asks
        .iter()
        .copied()
        .chain(std::iter::repeat(nothing))
        .take(asks.len().next_power_of_two())
        .collect();
    let mut args = Vec::with_capacity(padded.len() * 6);
    let branches: Vec<String> = padded
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let (g_from, g_to) = a.global.unwrap_or((far, far));
            let (c, c_from, c_to) = a.customer.unwrap_or((CustomerId(0), far, far));
            args.extend([
                a.promotion.into(),
                g_from.into(),
                g_to.into(),
                c.into(),
                c_from.into(),
                c_to.into(),
            ]);
            let n = |k: usize| format!("${}", i * 6 + k);
            let (p, gf, gt, cu, cf, ct) = (n(1), n(2), n(3), n(4), n(5), n(6));
            let mine = format!("customer_id = {cu} AND used_at >= {cf} AND used_at < {ct}");
            // PostgreSQL sums a BIGINT column as NUMERIC: each total is cast back.
            format!(
                "SELECT promotion_id, \
                 CAST(COALESCE(SUM(CASE WHEN used_at >= {gf} AND used_at < {gt} THEN 1 ELSE 0 END), 0) AS BIGINT) AS uses, \
                 CAST(COALESCE(SUM(CASE WHEN {mine} THEN 1 ELSE 0 END), 0) AS BIGINT) AS customer_uses, \
                 CAST(COALESCE(SUM(CASE WHEN {mine} THEN discount ELSE 0 END), 0) AS BIGINT) AS customer_value \
                 FROM promotion_uses WHERE promotion_id = {p} AND reversed_at IS NULL \
                 AND ((used_at >= {gf} AND used_at < {gt}) OR ({mine})) GROUP BY promotion_id"
            )
        })
        .collect();
    (branches.join(" UNION ALL "), args)
}

/// PostgreSQL: every asked promotion counted by one statement whose text never changes (the asks
/// are one JSON parameter), so each connection parses and plans it once instead of planning a
/// new `UNION` shape on every count.
const USAGE_PG: &str = "SELECT a.p, \
     (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p AND u.reversed_at IS NULL \
      AND u.used_at >= a.gf AND u.used_at < a.gt) AS uses, m.n AS customer_uses, m.v AS customer_value \
     FROM jsonb_to_recordset($1::jsonb) AS a(p BIGINT, gf TIMESTAMPTZ, gt TIMESTAMPTZ, c BIGINT, cf TIMESTAMPTZ, ct TIMESTAMPTZ) \
     CROSS JOIN LATERAL (SELECT COUNT(*) AS n, CAST(COALESCE(SUM(u.discount), 0) AS BIGINT) AS v \
      FROM promotion_uses u WHERE u.promotion_id = a.p AND u.customer_id = a.c AND u.reversed_at IS NULL \
      AND u.used_at >= a.cf AND u.used_at < a.ct) m";

fn usage_json(asks: &[UsageAsk]) -> Arg {
    let far = DateTime::<Utc>::UNIX_EPOCH;
    let rows: Vec<serde_json::Value> = asks
        .iter()
        .map(|a| {
            let (gf, gt) = a.global.unwrap_or((far, far));
            let (c, cf, ct) = a.customer.unwrap_or((CustomerId(0), far, far));
            serde_json::json!({"p": a.promotion.get(), "gf": gf, "gt": gt,
                "c": c.get(), "cf": cf, "ct": ct})
        })
        .collect();
    Arg::Text(serde_json::Value::Array(rows).to_string())
}

/// The statements counting `asks`: one on PostgreSQL, one per chunk on SQLite.
fn usage_statements(asks: &[UsageAsk], postgres: bool) -> Vec<(String, Vec<Arg>)> {
    if postgres {
        return vec![(USAGE_PG.to_string(), vec![usage_json(asks)])];
    }
    asks.chunks(USAGE_CHUNK).map(usage_query).collect()
}

type UsageRow = (PromotionId, i64, i64, i64);

fn used_map(rows: Vec<UsageRow>) -> HashMap<PromotionId, Used> {
    rows.into_iter()
        .map(|(p, uses, customer_uses, customer_value)| {
            (
                p,
                Used {
                    uses,
                    customer_uses,
                    customer_value,
                },
            )
        })
        .collect()
}

impl Store {
    /// The uses of each asked promotion (an open cart's read; a promotion with none is absent).
    pub async fn promotions_used(
        &self,
        asks: &[UsageAsk],
    ) -> StoreResult<HashMap<PromotionId, Used>> {
        let mut all = HashMap::new();
        if asks.is_empty() {
            return Ok(all);
        }
        let postgres = matches!(self.backend, super::Backend::Postgres(_));
        for (sql, args) in usage_statements(asks, postgres) {
            all.extend(used_map(self.fetch_all_read(&sql, &args).await?));
        }
        Ok(all)
    }
}

/// The same count inside a closing cart's transaction, after `lock_promotions`.
pub async fn promotions_used_in(
    tx: &mut DynTx,
    asks: &[UsageAsk],
) -> StoreResult<HashMap<PromotionId, Used>> {
    let mut all = HashMap::new();
    if asks.is_empty() {
        return Ok(all);
    }
    for (sql, args) in usage_statements(asks, tx.is_postgres()) {
        all.extend(used_map(tx.fetch_all(&sql, &args).await?));
    }
    Ok(all)
}

/// Takes the rows of the limited promotions a closing cart may use, in id order, so that two
/// closes counting the same promotion's uses run one after the other (PostgreSQL; SQLite's one
/// writer already orders them).
pub async fn lock_promotions(tx: &mut DynTx, ids: &[PromotionId]) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let lock = tx.dialect().lock(Lock::NoKeyUpdate);
    if lock.is_empty() {
        return Ok(());
    }
    let mut sorted = ids.to_vec();
    sorted.sort();
    let args: Vec<Arg> = sorted.iter().map(|i| Arg::from(*i)).collect();
    let _: Vec<(PromotionId,)> = tx
        .fetch_all(
            &format!(
                "SELECT id FROM promotions WHERE id IN ({}) ORDER BY id{lock}",
                placeholders(1, sorted.len())
            ),
            &args,
        )
        .await?;
    Ok(())
}
