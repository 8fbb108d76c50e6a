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
    /// For a closing cart on PostgreSQL, a promotion limited by its global uses only: (the
    /// limit, the uses left when the cart counted before its transaction). Far enough from the
    /// limit, closes count it side by side (migration 23).
    pub headroom: Option<(i64, i64)>,
}

/// What a closing cart counted under the rows it holds.
#[derive(Debug)]
pub enum Held {
    Counted(HashMap<PromotionId, Used>),
    /// A promotion counted side by side came near its limit meanwhile: roll back and close
    /// again with every row held alone (`UsageAsk::headroom` None).
    TooNear,
}

/// SQLite: the same fixed statement as PostgreSQL's (`USAGE_PG`), the asks one JSON array read
/// by `jsonb_each` (each ask handed over parsed: `json_each` gave text that every `->>` parsed
/// again); instants are compared as the text SQLite stores them. Promotions never used
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
      FROM jsonb_each($1)) AS a \
     WHERE EXISTS (SELECT 1 FROM promotion_uses u WHERE u.promotion_id = a.p AND u.reversed_at IS NULL)";

/// PostgreSQL: every asked promotion counted by one statement whose text never changes (the asks
/// are one JSON parameter), so each connection parses and plans it once instead of planning a
/// new `UNION` shape on every count. Promotions never used are left out, as on SQLite (one
/// index probe instead of their counts).
const USAGE_PG: &str = "SELECT a.p, \
     (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p AND u.reversed_at IS NULL \
      AND u.used_at >= a.gf AND u.used_at < a.gt) AS uses, m.n AS customer_uses, m.v AS customer_value \
     FROM jsonb_to_recordset($1::jsonb) AS a(p BIGINT, gf TIMESTAMPTZ, gt TIMESTAMPTZ, c BIGINT, cf TIMESTAMPTZ, ct TIMESTAMPTZ) \
     CROSS JOIN LATERAL (SELECT COUNT(*) AS n, CAST(COALESCE(SUM(u.discount), 0) AS BIGINT) AS v \
      FROM promotion_uses u WHERE u.promotion_id = a.p AND u.customer_id = a.c AND u.reversed_at IS NULL \
      AND u.used_at >= a.cf AND u.used_at < a.ct) m \
     WHERE EXISTS (SELECT 1 FROM promotion_uses u WHERE u.promotion_id = a.p)";

/// The asks as the statements' one JSON parameter: PostgreSQL reads objects, SQLite arrays.
/// Written as text directly (`perf`: building it through `serde_json::Value` was 6% of an
/// open); most asks share their windows (a calendar month, forever), so each instant is
/// formatted once.
fn usage_json(asks: &[UsageAsk], postgres: bool) -> Arg {
    let far = DateTime::<Utc>::UNIX_EPOCH;
    let mut out = String::with_capacity(16 + asks.len() * 160);
    let mut formatted: Vec<(DateTime<Utc>, String)> = Vec::new();
    // SQLite compares the instants as text: they go in as sqlx writes them to its columns.
    let mut at = |out: &mut String, t: DateTime<Utc>| {
        let i = match formatted.iter().position(|(d, _)| *d == t) {
            Some(i) => i,
            None => {
                formatted.push((t, t.to_rfc3339_opts(SecondsFormat::AutoSi, postgres)));
                formatted.len() - 1
            }
        };
        out.push('"');
        out.push_str(&formatted[i].1);
        out.push('"');
    };
    out.push('[');
    for (n, a) in asks.iter().enumerate() {
        let (gf, gt) = a.global.unwrap_or((far, far));
        let (c, cf, ct) = a.customer.unwrap_or((CustomerId(0), far, far));
        if n > 0 {
            out.push(',');
        }
        let keys: [&str; 6] = if postgres {
            [
                "{\"p\":", ",\"gf\":", ",\"gt\":", ",\"c\":", ",\"cf\":", ",\"ct\":",
            ]
        } else {
            ["[", ",", ",", ",", ",", ","]
        };
        out.push_str(keys[0]);
        out.push_str(&a.promotion.get().to_string());
        out.push_str(keys[1]);
        at(&mut out, gf);
        out.push_str(keys[2]);
        at(&mut out, gt);
        out.push_str(keys[3]);
        out.push_str(&c.get().to_string());
        out.push_str(keys[4]);
        at(&mut out, cf);
        out.push_str(keys[5]);
        at(&mut out, ct);
        if let (true, Some((limit, left))) = (postgres, a.headroom) {
            out.push_str(&format!(",\"l\":{limit},\"r\":{left}"));
        }
        out.push(if postgres { '}' } else { ']' });
    }
    out.push(']');
    Arg::Text(out)
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
/// in id order, so that two closes counting the same promotion's uses run one after the other —
/// unless, on PostgreSQL, the promotion is so far from its limit that the closes in flight
/// cannot reach it (`UsageAsk::headroom`, `promotions_used_held`, migration 23). One call on
/// PostgreSQL; on SQLite the count alone (its one writer already orders closes).
pub async fn lock_and_count(tx: &mut DynTx, asks: &[UsageAsk]) -> StoreResult<Held> {
    if asks.is_empty() {
        return Ok(Held::Counted(HashMap::new()));
    }
    if !tx.is_postgres() {
        let (sql, args) = usage_statement(asks, false);
        return Ok(Held::Counted(used_map(tx.fetch_all(sql, &args).await?)));
    }
    let rows: Vec<(PromotionId, i64, i64, i64, bool)> = tx
        .fetch_all(
            "SELECT p, uses, customer_uses, customer_value, short FROM promotions_used_held($1::jsonb)",
            &[usage_json(asks, true)],
        )
        .await?;
    if rows.iter().any(|r| r.4) {
        return Ok(Held::TooNear);
    }
    Ok(Held::Counted(used_map(
        rows.into_iter()
            .map(|(p, u, cu, cv, _)| (p, u, cu, cv))
            .collect(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_asks_are_one_json_parameter_in_each_databases_shape() {
        let month = (
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
        );
        let asks = [
            UsageAsk {
                promotion: PromotionId(7),
                global: Some(month),
                customer: None,
                headroom: Some((1_000_000, 999_000)),
            },
            UsageAsk {
                promotion: PromotionId(9),
                global: None,
                customer: Some((CustomerId(3), month.0, month.1)),
                headroom: None,
            },
        ];
        let text = |postgres| match usage_json(&asks, postgres) {
            Arg::Text(t) => serde_json::from_str::<serde_json::Value>(&t).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            text(true),
            serde_json::json!([
                {"p": 7, "gf": "2026-12-01T00:00:00Z", "gt": "2027-01-01T00:00:00Z",
                 "c": 0, "cf": "1970-01-01T00:00:00Z", "ct": "1970-01-01T00:00:00Z",
                 "l": 1_000_000, "r": 999_000},
                {"p": 9, "gf": "1970-01-01T00:00:00Z", "gt": "1970-01-01T00:00:00Z",
                 "c": 3, "cf": "2026-12-01T00:00:00Z", "ct": "2027-01-01T00:00:00Z"}
            ])
        );
        // SQLite compares with the text sqlx stores: `+00:00`, not `Z`.
        assert_eq!(
            text(false),
            serde_json::json!([
                [
                    7,
                    "2026-12-01T00:00:00+00:00",
                    "2027-01-01T00:00:00+00:00",
                    0,
                    "1970-01-01T00:00:00+00:00",
                    "1970-01-01T00:00:00+00:00"
                ],
                [
                    9,
                    "1970-01-01T00:00:00+00:00",
                    "1970-01-01T00:00:00+00:00",
                    3,
                    "2026-12-01T00:00:00+00:00",
                    "2027-01-01T00:00:00+00:00"
                ]
            ])
        );
    }
}
