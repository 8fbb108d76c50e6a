//! The uses cart promotions' limits count (PRM-1): counted for many promotions by one fixed
//! statement, and the same count under the rows a closing cart holds. A window's uses before
//! the org's folded point (migration 24, `store::promotion_folds`) are summed from the folded
//! counts — and an open keeps those sums while the org's counts keep their version — the rest
//! counted one by one.

use super::dyntx::{Arg, DynTx};
use super::{Store, StoreResult};
use crate::domain::ids::{CustomerId, OrgId, PromotionId};
use crate::domain::promotion::Used;
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// What to count of one promotion's uses: all uses inside the global window, and the
/// customer's uses and discount inside theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageAsk {
    pub promotion: PromotionId,
    pub global: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub customer: Option<(CustomerId, DateTime<Utc>, DateTime<Utc>)>,
    /// For a closing cart on PostgreSQL, a promotion limited by its global uses only: (the
    /// limit, the uses left as the cart saw them before its transaction — its own count, or one
    /// its instance read up to 250 ms earlier far from the limit). Far enough from the limit,
    /// closes count it side by side (migration 23); it only picks the lock mode, the limit is
    /// held by the count under the row.
    pub headroom: Option<(i64, i64)>,
}

/// Where an org's uses were folded to when a cart read it, and the version of its counts then
/// (`promotion_use_folds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldPoint {
    pub org: OrgId,
    pub at: DateTime<Utc>,
    pub version: i64,
}

/// What a closing cart counted under the rows it holds.
#[derive(Debug)]
pub enum Held {
    Counted(HashMap<PromotionId, Used>),
    /// A promotion counted side by side came near its limit meanwhile: roll back and close
    /// again with every row held alone (`UsageAsk::headroom` None).
    TooNear,
}

/// Per instance, each promotion's folded sum as an open last read it: (the org's counts'
/// version its cart read before, the days and quarter hours summed, the sum). An open uses it
/// while its own cart reads that version (a use written or reversed before the folded point
/// changes it; a fold does not: it never adds to what a kept sum covers); a close passes it
/// to its count, which uses it only when that version is current in the count's own snapshot.
#[derive(Debug, Default)]
pub struct FoldedSums(Mutex<HashMap<PromotionId, KeptSum>>);

/// (version, ranges summed, sum).
type KeptSum = (i64, [Range; 3], i64);

impl FoldedSums {
    fn get(&self, promotion: PromotionId, version: i64, w: &Parts) -> Option<i64> {
        let map = self.0.lock().ok()?;
        map.get(&promotion)
            .filter(|(v, summed, _)| *v == version && *summed == w.summed())
            .map(|(_, _, sum)| *sum)
    }

    /// The sums kept for the asks whose windows sum folded counts, at `fold`'s version.
    fn kept(
        &self,
        asks: &[UsageAsk],
        parts: &[Parts],
        fold: Option<FoldPoint>,
    ) -> Vec<Option<i64>> {
        asks.iter()
            .zip(parts)
            .map(|(a, w)| match fold {
                Some(f) if w.folds() => self.get(a.promotion, f.version, w),
                _ => None,
            })
            .collect()
    }

    fn put(&self, promotion: PromotionId, version: i64, w: &Parts, sum: i64) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(promotion, (version, w.summed(), sum));
        }
    }
}

/// Each ask's uses counted one by one in its parts [r1f, r1t) and [r2f, r2t) (`parts`; the
/// whole window when nothing is folded), the customer's in [cf, ct): PostgreSQL.
const PARTS_PG: &str = "SELECT a.p, \
     CASE WHEN a.r1f < a.r1t THEN (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p \
      AND u.reversed_at IS NULL AND u.used_at >= a.r1f AND u.used_at < a.r1t) ELSE 0 END \
     + CASE WHEN a.r2f < a.r2t THEN (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p \
      AND u.reversed_at IS NULL AND u.used_at >= a.r2f AND u.used_at < a.r2t) ELSE 0 END AS uses, \
     CAST(0 AS BIGINT) AS folded, m.n AS customer_uses, m.v AS customer_value \
     FROM jsonb_to_recordset($1::jsonb) AS a(p BIGINT, r1f TIMESTAMPTZ, r1t TIMESTAMPTZ, \
      r2f TIMESTAMPTZ, r2t TIMESTAMPTZ, c BIGINT, cf TIMESTAMPTZ, ct TIMESTAMPTZ) \
     CROSS JOIN LATERAL (SELECT COUNT(*) AS n, CAST(COALESCE(SUM(u.discount), 0) AS BIGINT) AS v \
      FROM promotion_uses u WHERE u.promotion_id = a.p AND u.customer_id = a.c AND u.reversed_at IS NULL \
      AND u.used_at >= a.cf AND u.used_at < a.ct) m \
     WHERE EXISTS (SELECT 1 FROM promotion_uses u WHERE u.promotion_id = a.p)";

/// The same and the folded sums of the days in [df, dt) and the quarter hours in [q1f, q1t)
/// and [q2f, q2t) — or the sum `k` an instance kept, while org $2's counts are at version $3:
/// migration 24's `promotion_counts`.
const FOLDED_PG: &str = "SELECT p, uses, folded, customer_uses, customer_value FROM promotion_counts($1::jsonb, $2, $3)";

/// SQLite's two: the asks one JSON array read by `jsonb_each` (each ask handed over parsed:
/// `json_each` gave text that every `->>` parsed again), [p, r1f, r1t, r2f, r2t, c, cf, ct,
/// df, dt, q1f, q1t, q2f, q2t, k]; instants compared as the text SQLite stores them.
const PARTS_SQLITE: &str = "SELECT a.p, \
     CASE WHEN a.r1f < a.r1t THEN (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p \
      AND u.reversed_at IS NULL AND u.used_at >= a.r1f AND u.used_at < a.r1t) ELSE 0 END \
     + CASE WHEN a.r2f < a.r2t THEN (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p \
      AND u.reversed_at IS NULL AND u.used_at >= a.r2f AND u.used_at < a.r2t) ELSE 0 END AS uses, \
     FOLDED AS folded, \
     (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p AND u.customer_id = a.c \
      AND u.reversed_at IS NULL AND u.used_at >= a.cf AND u.used_at < a.ct) AS customer_uses, \
     (SELECT COALESCE(SUM(u.discount), 0) FROM promotion_uses u WHERE u.promotion_id = a.p \
      AND u.customer_id = a.c AND u.reversed_at IS NULL AND u.used_at >= a.cf AND u.used_at < a.ct) \
      AS customer_value \
     FROM (SELECT CAST(value ->> '$[0]' AS INTEGER) AS p, \
      value ->> '$[1]' AS r1f, value ->> '$[2]' AS r1t, value ->> '$[3]' AS r2f, value ->> '$[4]' AS r2t, \
      CAST(value ->> '$[5]' AS INTEGER) AS c, value ->> '$[6]' AS cf, value ->> '$[7]' AS ct, \
      value ->> '$[8]' AS df, value ->> '$[9]' AS dt, value ->> '$[10]' AS q1f, value ->> '$[11]' AS q1t, \
      value ->> '$[12]' AS q2f, value ->> '$[13]' AS q2t, value ->> '$[14]' AS k \
      FROM jsonb_each($1)) AS a \
     WHERE EXISTS (SELECT 1 FROM promotion_uses u WHERE u.promotion_id = a.p AND u.reversed_at IS NULL)";

/// What SQLite's longer statement puts in place of `FOLDED`: the sum kept, while org $2's
/// counts are at version $3, or the sums.
const FOLDED_SQLITE: &str = "CASE WHEN a.k IS NOT NULL AND \
      (SELECT f.version FROM promotion_use_folds f WHERE f.org_id = $2) = $3 THEN a.k ELSE \
     CASE WHEN a.df < a.dt THEN (SELECT COALESCE(SUM(c.uses), 0) \
      FROM promotion_use_counts c WHERE c.promotion_id = a.p AND c.span = 1 AND c.at >= a.df AND c.at < a.dt) ELSE 0 END \
     + CASE WHEN a.q1f < a.q1t THEN (SELECT COALESCE(SUM(c.uses), 0) FROM promotion_use_counts c \
      WHERE c.promotion_id = a.p AND c.span = 0 AND c.at >= a.q1f AND c.at < a.q1t) ELSE 0 END \
     + CASE WHEN a.q2f < a.q2t THEN (SELECT COALESCE(SUM(c.uses), 0) FROM promotion_use_counts c \
      WHERE c.promotion_id = a.p AND c.span = 0 AND c.at >= a.q2f AND c.at < a.q2t) ELSE 0 END END";

/// SQLite's statements, each built once.
fn sqlite_statement(layout: Layout) -> &'static str {
    static PARTS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static FOLDED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    match layout {
        Layout::Folded => FOLDED.get_or_init(|| PARTS_SQLITE.replace("FOLDED", FOLDED_SQLITE)),
        Layout::Rows | Layout::Parts => PARTS.get_or_init(|| PARTS_SQLITE.replace("FOLDED", "0")),
    }
}

/// A quarter hour and a day, in seconds: the spans uses are folded into (migration 24).
const QUARTER: i64 = 900;
const DAY: i64 = 86_400;

/// The first multiple of `span` seconds at or after `t`.
fn ceil_to(t: DateTime<Utc>, span: i64) -> DateTime<Utc> {
    let s = t.timestamp();
    let up = if s.rem_euclid(span) == 0 && t.timestamp_subsec_nanos() == 0 {
        s
    } else {
        (s.div_euclid(span) + 1) * span
    };
    DateTime::from_timestamp(up, 0).unwrap_or(t)
}

/// The last multiple of `span` seconds at or before `t`.
fn floor_to(t: DateTime<Utc>, span: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp().div_euclid(span) * span, 0).unwrap_or(t)
}

type Range = (DateTime<Utc>, DateTime<Utc>);

/// How a global window [from, to) is counted once its org's uses are folded to `folded`: the
/// uses of `rows` one by one, the days of `days` and the quarter hours of `quarters` from the
/// folded counts. The counts of every quarter hour and UTC day before `folded`'s quarter hour
/// are complete (a fold adds to them only after it; a use written there later is added by the
/// triggers), so any `folded` read earlier than the count serves — a stale one only leaves
/// more uses to count one by one. Together the ranges cover the window exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parts {
    rows: [Range; 2],
    days: Range,
    quarters: [Range; 2],
}

impl Parts {
    /// The ranges summed from the folded counts.
    fn summed(&self) -> [Range; 3] {
        [self.days, self.quarters[0], self.quarters[1]]
    }

    /// Whether anything is summed from the folded counts.
    fn folds(&self) -> bool {
        self.summed().iter().any(|(from, to)| from < to)
    }
}

fn parts(from: DateTime<Utc>, to: DateTime<Utc>, folded: Option<DateTime<Utc>>) -> Parts {
    // Folds start in 1970: anything earlier is counted one by one.
    let fa = ceil_to(from.max(DateTime::UNIX_EPOCH), QUARTER);
    // The folded region [fa, e): whole quarter hours inside the window, before `folded`.
    let e = folded
        .map(|f| floor_to(f, QUARTER).min(floor_to(to, QUARTER)))
        .filter(|e| *e > fa)
        .unwrap_or(fa);
    let fd = ceil_to(fa, DAY);
    let ld = floor_to(e, DAY);
    Parts {
        rows: [(from, fa.min(to)), (fa.max(e), to)],
        days: (fd, ld.max(fd)),
        quarters: [(fa, fd.min(e)), (fd.max(ld), e)],
    }
}

/// Which statement counts the asks: uses one by one over each whole window (migration 23's
/// function for a PostgreSQL close), over the parts not summed, or with the folded sums too.
/// Each part a statement has costs its setup on every execution, used or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Rows,
    Parts,
    Folded,
}

/// The asks as the statements' one JSON parameter in `layout`: PostgreSQL reads objects,
/// SQLite arrays (`PARTS_SQLITE`'s order). Written as text directly (`perf`: building it
/// through `serde_json::Value` was 6% of an open); most asks share their windows, so each
/// instant is formatted once, and an empty range goes as two nulls (nothing to parse; its part
/// is skipped).
fn usage_json(
    asks: &[UsageAsk],
    parts: &[Parts],
    kept: &[Option<i64>],
    layout: Layout,
    postgres: bool,
) -> Arg {
    let far = DateTime::<Utc>::UNIX_EPOCH;
    let mut out = String::with_capacity(16 + asks.len() * 300);
    let mut formatted: Vec<(DateTime<Utc>, String)> = Vec::new();
    // SQLite compares the instants as text: they go in as sqlx writes them to its columns.
    let mut range = |out: &mut String, keys: [&str; 2], (from, to): Range| {
        for (key, t) in keys.iter().zip([from, to]) {
            out.push(',');
            if postgres {
                out.push_str(key);
            }
            if from >= to {
                out.push_str("null");
                continue;
            }
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
        }
    };
    out.push('[');
    for (n, ((a, w), k)) in asks.iter().zip(parts).zip(kept).enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(if postgres { "{\"p\":" } else { "[" });
        out.push_str(&a.promotion.get().to_string());
        if layout == Layout::Rows {
            range(
                &mut out,
                ["\"gf\":", "\"gt\":"],
                a.global.unwrap_or((far, far)),
            );
        } else {
            range(&mut out, ["\"r1f\":", "\"r1t\":"], w.rows[0]);
            range(&mut out, ["\"r2f\":", "\"r2t\":"], w.rows[1]);
        }
        out.push_str(if postgres { ",\"c\":" } else { "," });
        out.push_str(&a.customer.map_or(0, |(c, _, _)| c.get()).to_string());
        range(
            &mut out,
            ["\"cf\":", "\"ct\":"],
            a.customer.map_or((far, far), |(_, f, t)| (f, t)),
        );
        if layout == Layout::Folded {
            range(&mut out, ["\"df\":", "\"dt\":"], w.days);
            range(&mut out, ["\"q1f\":", "\"q1t\":"], w.quarters[0]);
            range(&mut out, ["\"q2f\":", "\"q2t\":"], w.quarters[1]);
            out.push_str(if postgres { ",\"k\":" } else { "," });
            match k {
                Some(k) => out.push_str(&k.to_string()),
                None => out.push_str("null"),
            }
        }
        if let (true, Some((limit, left))) = (postgres, a.headroom) {
            out.push_str(&format!(",\"l\":{limit},\"r\":{left}"));
        }
        out.push(if postgres { '}' } else { ']' });
    }
    out.push(']');
    Arg::Text(out)
}

/// Each ask's window in parts, as counted with the org's uses folded to `folded`.
fn windows(asks: &[UsageAsk], folded: Option<DateTime<Utc>>) -> Vec<Parts> {
    let far = DateTime::<Utc>::UNIX_EPOCH;
    asks.iter()
        .map(|a| {
            let (from, to) = a.global.unwrap_or((far, far));
            parts(from, to, folded)
        })
        .collect()
}

/// The open's statement in `layout` and its arguments: the asks, and for the folded sums the
/// org and the version its kept sums were read at.
fn statement(
    asks: &[UsageAsk],
    parts: &[Parts],
    kept: &[Option<i64>],
    layout: Layout,
    fold: Option<FoldPoint>,
    postgres: bool,
) -> (&'static str, Vec<Arg>) {
    let mut args = vec![usage_json(asks, parts, kept, layout, postgres)];
    if layout == Layout::Folded {
        args.extend([
            Arg::OptI64(fold.map(|f| f.org.get())),
            Arg::OptI64(fold.map(|f| f.version)),
        ]);
    }
    let sql = match (layout, postgres) {
        (Layout::Folded, true) => FOLDED_PG,
        (_, true) => PARTS_PG,
        (layout, false) => sqlite_statement(layout),
    };
    (sql, args)
}

/// (promotion, uses counted one by one, folded sum, the customer's uses, their discount).
type UsageRow = (PromotionId, i64, i64, i64, i64);

fn used(uses: i64, customer_uses: i64, customer_value: i64) -> Used {
    Used {
        uses,
        customer_uses,
        customer_value,
    }
}

impl Store {
    /// The folded sums this instance's opens kept (a close may use them, checked).
    pub fn folded_sums(&self) -> &FoldedSums {
        &self.sums
    }

    /// The uses of each asked promotion (an open cart's read); `fold`: where the org's uses
    /// were folded to when the cart read it (`CartOrg::folded`). A folded sum kept at the
    /// current version is not read again (`FoldedSums`).
    pub async fn promotions_used(
        &self,
        fold: Option<FoldPoint>,
        asks: &[UsageAsk],
    ) -> StoreResult<HashMap<PromotionId, Used>> {
        if asks.is_empty() {
            return Ok(HashMap::new());
        }
        let postgres = matches!(self.backend, super::Backend::Postgres { .. });
        let parts = windows(asks, fold.map(|f| f.at));
        let kept = self.sums.kept(asks, &parts, fold);
        let layout = if kept
            .iter()
            .zip(&parts)
            .all(|(k, w)| k.is_some() || !w.folds())
        {
            Layout::Parts
        } else {
            Layout::Folded
        };
        let (sql, args) = statement(asks, &parts, &kept, layout, fold, postgres);
        let rows: Vec<UsageRow> = self.fetch_all_read(sql, &args).await?;
        let mut found: HashMap<PromotionId, UsageRow> =
            rows.into_iter().map(|r| (r.0, r)).collect();
        let mut out = HashMap::with_capacity(found.len());
        for ((a, w), kept) in asks.iter().zip(&parts).zip(kept) {
            let row = found.remove(&a.promotion);
            let sum = match (kept, layout, fold) {
                (Some(sum), Layout::Parts, _) => sum,
                // A promotion never used is left out: nothing folded either.
                (_, _, Some(fold)) if w.folds() => {
                    let sum = row.map_or(0, |r| r.2);
                    self.sums.put(a.promotion, fold.version, w, sum);
                    sum
                }
                _ => row.map_or(0, |r| r.2),
            };
            if let Some((p, uses, _, customer_uses, customer_value)) = row {
                out.insert(p, used(uses + sum, customer_uses, customer_value));
            }
        }
        Ok(out)
    }
}

/// The same count inside a closing cart's transaction, after taking the asked promotions' rows
/// in id order, so that two closes counting the same promotion's uses run one after the other —
/// unless, on PostgreSQL, the promotion is so far from its limit that the closes in flight
/// cannot reach it (`UsageAsk::headroom`, migrations 23 and 24). One call on PostgreSQL; on
/// SQLite the count alone (its one writer already orders closes). A folded sum an open kept
/// (`sums`) is used only when the org's counts are at its version in the count's own snapshot,
/// so the count under the rows is exact.
pub async fn lock_and_count(
    tx: &mut DynTx,
    sums: &FoldedSums,
    fold: Option<FoldPoint>,
    asks: &[UsageAsk],
) -> StoreResult<Held> {
    if asks.is_empty() {
        return Ok(Held::Counted(HashMap::new()));
    }
    let parts = windows(asks, fold.map(|f| f.at));
    let kept = sums.kept(asks, &parts, fold);
    let postgres = tx.is_postgres();
    let layout = match (parts.iter().any(Parts::folds), postgres) {
        (true, _) => Layout::Folded,
        (false, true) => Layout::Rows,
        (false, false) => Layout::Parts,
    };
    let (sql, args) = statement(asks, &parts, &kept, layout, fold, postgres);
    if !postgres {
        let rows: Vec<UsageRow> = tx.fetch_all(sql, &args).await?;
        return Ok(Held::Counted(
            rows.into_iter()
                .map(|(p, uses, sum, cu, cv)| (p, used(uses + sum, cu, cv)))
                .collect(),
        ));
    }
    let sql = match layout {
        // Migration 23's function counts each window use by use.
        Layout::Rows => {
            "SELECT p, uses, customer_uses, customer_value, short FROM promotions_used_held($1::jsonb)"
        }
        Layout::Parts => {
            return Err(super::StoreError::Db(sqlx::Error::Protocol(
                "a PostgreSQL close counts whole windows or with the folded sums".into(),
            )));
        }
        Layout::Folded => {
            "SELECT p, uses, customer_uses, customer_value, short \
             FROM promotion_counts_held($1::jsonb, $2, $3)"
        }
    };
    let rows: Vec<(PromotionId, i64, i64, i64, bool)> = tx.fetch_all(sql, &args).await?;
    if rows.iter().any(|r| r.4) {
        return Ok(Held::TooNear);
    }
    Ok(Held::Counted(
        rows.into_iter()
            .map(|(p, uses, cu, cv, _)| (p, used(uses, cu, cv)))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn folded_counts_start_and_end_on_whole_spans_inside_the_window() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        // (instant, next quarter hour at or after, last at or before, next UTC midnight)
        let table = [
            (
                "2026-12-01T10:00:00Z",
                "2026-12-01T10:00:00Z",
                "2026-12-01T10:00:00Z",
                "2026-12-02T00:00:00Z",
            ),
            (
                "2026-12-01T10:00:00.001Z",
                "2026-12-01T10:15:00Z",
                "2026-12-01T10:00:00Z",
                "2026-12-02T00:00:00Z",
            ),
            (
                "2026-12-01T10:14:59Z",
                "2026-12-01T10:15:00Z",
                "2026-12-01T10:00:00Z",
                "2026-12-02T00:00:00Z",
            ),
            (
                "2026-12-01T23:50:00Z",
                "2026-12-02T00:00:00Z",
                "2026-12-01T23:45:00Z",
                "2026-12-02T00:00:00Z",
            ),
            (
                "2026-12-02T00:00:00Z",
                "2026-12-02T00:00:00Z",
                "2026-12-02T00:00:00Z",
                "2026-12-02T00:00:00Z",
            ),
            (
                "1970-01-01T00:00:00Z",
                "1970-01-01T00:00:00Z",
                "1970-01-01T00:00:00Z",
                "1970-01-01T00:00:00Z",
            ),
        ];
        for (at, up, down, day) in table {
            assert_eq!(ceil_to(t(at), QUARTER), t(up), "{at}");
            assert_eq!(floor_to(t(at), QUARTER), t(down), "{at}");
            assert_eq!(ceil_to(t(at), DAY), t(day), "{at}");
        }
    }

    /// Random windows and folded points: every instant of the window lies in exactly one part
    /// and nothing outside it in any; what is summed is whole quarter hours and UTC days, all
    /// before the folded point's quarter hour.
    #[test]
    fn the_parts_cover_each_window_exactly_once_and_sum_only_what_is_folded() {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: i64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as i64
        };
        let base = Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let at = |s: i64, us: i64| {
            DateTime::from_timestamp(s, 0).unwrap() + chrono::Duration::microseconds(us)
        };
        for _ in 0..2_000 {
            // Odd instants, and now and then whole quarter hours and midnights.
            let instant = |next: &mut dyn FnMut(i64) -> i64| {
                let s = base + next(60 * 86_400);
                match next(4) {
                    0 => at(s / 900 * 900, 0),
                    1 => at(s / 86_400 * 86_400, 0),
                    _ => at(s, next(1_000_000)),
                }
            };
            let (from, to, folded) = (instant(&mut next), instant(&mut next), instant(&mut next));
            let folded = (next(5) > 0).then_some(folded);
            let w = parts(from, to, folded);
            let limit = folded.map_or(DateTime::UNIX_EPOCH, |f| floor_to(f, QUARTER));
            for (f, t) in w.summed() {
                if f < t {
                    assert!(t <= limit, "{w:?} sums past {limit}");
                }
            }
            for (f, t) in [w.days] {
                if f < t {
                    assert_eq!((f.timestamp() % DAY, t.timestamp() % DAY), (0, 0), "{w:?}");
                }
            }
            for (f, t) in w.quarters {
                if f < t {
                    assert_eq!((f.timestamp() % QUARTER, t.timestamp() % QUARTER), (0, 0));
                }
            }
            let ranges = [w.rows[0], w.rows[1], w.days, w.quarters[0], w.quarters[1]];
            let probes = [from, to, from - chrono::Duration::microseconds(1)]
                .into_iter()
                .chain((0..20).map(|_| instant(&mut next)))
                .chain(ranges.iter().flat_map(|(f, t)| {
                    [
                        *f,
                        *t,
                        *f - chrono::Duration::microseconds(1),
                        *t - chrono::Duration::microseconds(1),
                    ]
                }));
            for p in probes {
                let inside = ranges.iter().filter(|(f, t)| *f <= p && p < *t).count();
                let expected = usize::from(from <= p && p < to);
                assert_eq!(
                    inside, expected,
                    "{p} in [{from}, {to}) folded {folded:?}: {w:?}"
                );
            }
        }
    }

    /// (window, folded to, expected parts) — written out by hand.
    #[test]
    fn a_window_is_counted_by_uses_at_its_edges_and_folded_days_and_quarter_hours_between() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let r = |a: &str, b: &str| (t(a), t(b));
        let table = [
            // December in Kolkata, folded to 07:50 on the 10th.
            (
                r("2026-11-30T18:30:00Z", "2026-12-31T18:30:00Z"),
                Some(t("2026-12-10T07:50:00Z")),
                Parts {
                    rows: [
                        r("2026-11-30T18:30:00Z", "2026-11-30T18:30:00Z"),
                        r("2026-12-10T07:45:00Z", "2026-12-31T18:30:00Z"),
                    ],
                    days: r("2026-12-01T00:00:00Z", "2026-12-10T00:00:00Z"),
                    quarters: [
                        r("2026-11-30T18:30:00Z", "2026-12-01T00:00:00Z"),
                        r("2026-12-10T00:00:00Z", "2026-12-10T07:45:00Z"),
                    ],
                },
            ),
            // The same, nothing folded: every use one by one.
            (
                r("2026-11-30T18:30:00Z", "2026-12-31T18:30:00Z"),
                None,
                Parts {
                    rows: [
                        r("2026-11-30T18:30:00Z", "2026-11-30T18:30:00Z"),
                        r("2026-11-30T18:30:00Z", "2026-12-31T18:30:00Z"),
                    ],
                    days: r("2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z"),
                    quarters: [
                        r("2026-11-30T18:30:00Z", "2026-11-30T18:30:00Z"),
                        r("2026-12-01T00:00:00Z", "2026-11-30T18:30:00Z"),
                    ],
                },
            ),
            // Odd instants inside one day, folded past its end: no whole day.
            (
                r("2026-12-03T10:07:13Z", "2026-12-03T13:20:00Z"),
                Some(t("2026-12-05T00:00:00Z")),
                Parts {
                    rows: [
                        r("2026-12-03T10:07:13Z", "2026-12-03T10:15:00Z"),
                        r("2026-12-03T13:15:00Z", "2026-12-03T13:20:00Z"),
                    ],
                    days: r("2026-12-04T00:00:00Z", "2026-12-04T00:00:00Z"),
                    quarters: [
                        r("2026-12-03T10:15:00Z", "2026-12-03T13:15:00Z"),
                        r("2026-12-04T00:00:00Z", "2026-12-03T13:15:00Z"),
                    ],
                },
            ),
            // Inside one quarter hour: nothing folded to sum.
            (
                r("2026-12-03T10:01:00Z", "2026-12-03T10:09:00Z"),
                Some(t("2026-12-05T00:00:00Z")),
                Parts {
                    rows: [
                        r("2026-12-03T10:01:00Z", "2026-12-03T10:09:00Z"),
                        r("2026-12-03T10:15:00Z", "2026-12-03T10:09:00Z"),
                    ],
                    days: r("2026-12-04T00:00:00Z", "2026-12-04T00:00:00Z"),
                    quarters: [
                        r("2026-12-03T10:15:00Z", "2026-12-03T10:15:00Z"),
                        r("2026-12-04T00:00:00Z", "2026-12-03T10:15:00Z"),
                    ],
                },
            ),
            // Two days and a bit, folded to its middle at an odd second.
            (
                r("2026-12-01T23:50:00Z", "2026-12-04T02:00:00Z"),
                Some(t("2026-12-03T05:31:09Z")),
                Parts {
                    rows: [
                        r("2026-12-01T23:50:00Z", "2026-12-02T00:00:00Z"),
                        r("2026-12-03T05:30:00Z", "2026-12-04T02:00:00Z"),
                    ],
                    days: r("2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z"),
                    quarters: [
                        r("2026-12-02T00:00:00Z", "2026-12-02T00:00:00Z"),
                        r("2026-12-03T00:00:00Z", "2026-12-03T05:30:00Z"),
                    ],
                },
            ),
        ];
        for ((from, to), folded, expected) in table {
            assert_eq!(
                parts(from, to, folded),
                expected,
                "[{from}, {to}) folded {folded:?}"
            );
        }
    }

    #[test]
    fn the_asks_are_one_json_parameter_in_each_databases_shape() {
        // December in Kolkata (UTC+5:30).
        let month = (
            Utc.with_ymd_and_hms(2026, 11, 30, 18, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 31, 18, 30, 0).unwrap(),
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
        let folded = Some(Utc.with_ymd_and_hms(2026, 12, 10, 7, 50, 0).unwrap());
        // The first ask's folded sum kept at 1,234.
        let json = |folded, layout, postgres| match usage_json(
            &asks,
            &windows(&asks, folded),
            &[Some(1_234), None],
            layout,
            postgres,
        ) {
            Arg::Text(t) => serde_json::from_str::<serde_json::Value>(&t).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            json(folded, Layout::Folded, true),
            serde_json::json!([
                {"p": 7, "r1f": null, "r1t": null,
                 "r2f": "2026-12-10T07:45:00Z", "r2t": "2026-12-31T18:30:00Z",
                 "c": 0, "cf": null, "ct": null,
                 "df": "2026-12-01T00:00:00Z", "dt": "2026-12-10T00:00:00Z",
                 "q1f": "2026-11-30T18:30:00Z", "q1t": "2026-12-01T00:00:00Z",
                 "q2f": "2026-12-10T00:00:00Z", "q2t": "2026-12-10T07:45:00Z", "k": 1_234,
                 "l": 1_000_000, "r": 999_000},
                {"p": 9, "r1f": null, "r1t": null, "r2f": null, "r2t": null, "c": 3,
                 "cf": "2026-11-30T18:30:00Z", "ct": "2026-12-31T18:30:00Z",
                 "df": null, "dt": null, "q1f": null, "q1t": null, "q2f": null, "q2t": null,
                 "k": null}
            ])
        );
        // SQLite compares with the text sqlx stores: `+00:00`, not `Z`; arrays in
        // `PARTS_SQLITE`'s order.
        let e = serde_json::Value::Null;
        assert_eq!(
            json(folded, Layout::Folded, false),
            serde_json::json!([
                [
                    7,
                    e,
                    e,
                    "2026-12-10T07:45:00+00:00",
                    "2026-12-31T18:30:00+00:00",
                    0,
                    e,
                    e,
                    "2026-12-01T00:00:00+00:00",
                    "2026-12-10T00:00:00+00:00",
                    "2026-11-30T18:30:00+00:00",
                    "2026-12-01T00:00:00+00:00",
                    "2026-12-10T00:00:00+00:00",
                    "2026-12-10T07:45:00+00:00",
                    1_234
                ],
                [
                    9,
                    e,
                    e,
                    e,
                    e,
                    3,
                    "2026-11-30T18:30:00+00:00",
                    "2026-12-31T18:30:00+00:00",
                    e,
                    e,
                    e,
                    e,
                    e,
                    e,
                    e
                ]
            ])
        );
        // The parts counted one by one only (the sums kept), and nothing folded.
        assert_eq!(
            json(folded, Layout::Parts, false),
            serde_json::json!([
                [
                    7,
                    e,
                    e,
                    "2026-12-10T07:45:00+00:00",
                    "2026-12-31T18:30:00+00:00",
                    0,
                    e,
                    e
                ],
                [
                    9,
                    e,
                    e,
                    e,
                    e,
                    3,
                    "2026-11-30T18:30:00+00:00",
                    "2026-12-31T18:30:00+00:00"
                ]
            ])
        );
        assert_eq!(
            json(None, Layout::Parts, true),
            serde_json::json!([
                {"p": 7, "r1f": null, "r1t": null,
                 "r2f": "2026-11-30T18:30:00Z", "r2t": "2026-12-31T18:30:00Z",
                 "c": 0, "cf": null, "ct": null, "l": 1_000_000, "r": 999_000},
                {"p": 9, "r1f": null, "r1t": null, "r2f": null, "r2t": null, "c": 3,
                 "cf": "2026-11-30T18:30:00Z", "ct": "2026-12-31T18:30:00Z"}
            ])
        );
        // Migration 23's function: whole windows.
        assert_eq!(
            json(None, Layout::Rows, true),
            serde_json::json!([
                {"p": 7, "gf": "2026-11-30T18:30:00Z", "gt": "2026-12-31T18:30:00Z", "c": 0,
                 "cf": null, "ct": null, "l": 1_000_000, "r": 999_000},
                {"p": 9, "gf": null, "gt": null, "c": 3,
                 "cf": "2026-11-30T18:30:00Z", "ct": "2026-12-31T18:30:00Z"}
            ])
        );
    }
}
