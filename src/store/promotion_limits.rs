//! The uses cart promotions' limits count (PRM-1): counted for many promotions by one fixed
//! statement, and the same count under the rows a closing cart holds.

use super::dyntx::{Arg, DynTx};
use super::{Store, StoreResult};
use crate::domain::ids::{CustomerId, PromotionId};
use crate::domain::promotion::Used;
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;

/// What to count of one promotion's uses: all uses inside the global window, and the
/// customer's uses and discount inside theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageAsk {
    pub promotion: PromotionId,
    pub global: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub customer: Option<(CustomerId, DateTime<Utc>, DateTime<Utc>)>,
}

/// SQLite: the same fixed statement as PostgreSQL's (`USAGE_PG`), the asks one JSON array read
/// by `json_each`; instants are compared as the text SQLite stores them. Promotions never used
/// are left out (each row is one more hand-off from the connection's thread).
const USAGE_SQLITE: &str = "SELECT a.p, \
     (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p AND u.reversed_at IS NULL \
      AND u.used_at >= a.gf AND u.used_at < a.gt) AS uses, \
     (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p AND u.customer_id = a.c \
      AND u.reversed_at IS NULL AND u.used_at >= a.cf AND u.used_at < a.ct) AS customer_uses, \
     (SELECT COALESCE(SUM(u.discount), 0) FROM promotion_uses u WHERE u.promotion_id = a.p \
      AND u.customer_id = a.c AND u.reversed_at IS NULL AND u.used_at >= a.cf AND u.used_at < a.ct) \
      AS customer_value \
     FROM (SELECT CAST(value ->> '$[0]' AS INTEGER) AS p, value ->> '$[1]' AS gf, value ->> '$[2]' AS gt, \
      CAST(value ->> '$[3]' AS INTEGER) AS c, value ->> '$[4]' AS cf, value ->> '$[5]' AS ct \
      FROM json_each($1)) AS a \
     WHERE EXISTS (SELECT 1 FROM promotion_uses u WHERE u.promotion_id = a.p AND u.reversed_at IS NULL)";

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

fn usage_json(asks: &[UsageAsk], postgres: bool) -> Arg {
    let far = DateTime::<Utc>::UNIX_EPOCH;
    // SQLite compares the instants as text: they go in as sqlx writes them to its columns.
    let at = |t: DateTime<Utc>| -> serde_json::Value {
        if postgres {
            serde_json::json!(t)
        } else {
            t.to_rfc3339_opts(SecondsFormat::AutoSi, false).into()
        }
    };
    let rows: Vec<serde_json::Value> = asks
        .iter()
        .map(|a| {
            let (gf, gt) = a.global.unwrap_or((far, far));
            let (c, cf, ct) = a.customer.unwrap_or((CustomerId(0), far, far));
            if postgres {
                serde_json::json!({"p": a.promotion.get(), "gf": at(gf), "gt": at(gt),
                    "c": c.get(), "cf": at(cf), "ct": at(ct)})
            } else {
                serde_json::json!([a.promotion.get(), at(gf), at(gt), c.get(), at(cf), at(ct)])
            }
        })
        .collect();
    Arg::Text(serde_json::Value::Array(rows).to_string())
}

/// The statement counting `asks`, whose text never changes (planned once per connection).
fn usage_statement(asks: &[UsageAsk], postgres: bool) -> (&'static str, Vec<Arg>) {
    let sql = if postgres { USAGE_PG } else { USAGE_SQLITE };
    (sql, vec![usage_json(asks, postgres)])
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
    /// The uses of each asked promotion (an open cart's read).
    pub async fn promotions_used(
        &self,
        asks: &[UsageAsk],
    ) -> StoreResult<HashMap<PromotionId, Used>> {
        if asks.is_empty() {
            return Ok(HashMap::new());
        }
        let postgres = matches!(self.backend, super::Backend::Postgres { .. });
        let (sql, args) = usage_statement(asks, postgres);
        Ok(used_map(self.fetch_all_read(sql, &args).await?))
    }
}

/// The same count inside a closing cart's transaction, after taking the asked promotions' rows
/// in id order, so that two closes counting the same promotion's uses run one after the other:
/// one call on PostgreSQL (`promotions_used_locked`, migration 22); on SQLite the count alone
/// (its one writer already orders them).
pub async fn lock_and_count(
    tx: &mut DynTx,
    asks: &[UsageAsk],
) -> StoreResult<HashMap<PromotionId, Used>> {
    if asks.is_empty() {
        return Ok(HashMap::new());
    }
    let postgres = tx.is_postgres();
    let (sql, args) = if postgres {
        (
            "SELECT p, uses, customer_uses, customer_value FROM promotions_used_locked($1::jsonb)",
            vec![usage_json(asks, true)],
        )
    } else {
        usage_statement(asks, false)
    };
    Ok(used_map(tx.fetch_all(sql, &args).await?))
}
