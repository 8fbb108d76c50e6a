//! The SQL of redemption (RED-1..5): one read of a request's coupons, customer, place and
//! histories; the write, with every guard in the statement that changes the row (coupon use,
//! per-customer count and gap, offer cap), so concurrent requests on any number of instances
//! redeem a single-use coupon exactly once and never pass a cap; replays and reversals. The
//! decision is `domain::redemption`; the flow is `app::redeem`.

use super::dyntx::{Arg, DynTx, placeholders};
use super::{Store, StoreError, StoreResult};
use crate::domain::coupon::CouponCode;
use crate::domain::ids::{CustomerId, OfferId, OrgId};
use crate::domain::issue::CustomerRef;
use crate::domain::redeem::*;
use crate::domain::redemption::*;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;

/// Counter rows per uncapped offer: concurrent redemptions of one offer spread over them.
const COUNTER_SHARDS: i64 = 16;

/// One row of the request's read: a coupon with its offer's version and count, the request's
/// customer and their history with the offer, the store or till, whether the number was used.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct CouponLoad {
    pub id: i64,
    pub offer_id: OfferId,
    pub code: String,
    pub status: crate::domain::redeem::CouponStatus,
    pub customer_id: Option<CustomerId>,
    pub issued_at: Option<DateTime<Utc>>,
    pub valid_till: Option<NaiveDate>,
    pub redeem_count: i64,
    pub updated_at: DateTime<Utc>,
    pub redeemed: i64,
    /// The request's customer, when known, and their redemptions of this coupon's offer.
    pub known_customer: Option<CustomerId>,
    pub history_count: Option<i64>,
    pub history_last: Option<NaiveDate>,
    /// The request's store or till with the store's zone and concept.
    pub place_store: Option<i64>,
    pub place_till: Option<i64>,
    pub place_zone: Option<i64>,
    pub place_concept: Option<i64>,
    /// Whether the transaction number was used before (then the first result is answered).
    pub transaction_used: bool,
}

/// A transaction's redemption as a replay reads it: code, offer, discount, redeemed and
/// reversed at.
type ReplayRow = (String, OfferId, i64, DateTime<Utc>, Option<DateTime<Utc>>);

/// A redemption as a reversal reads it: id, offer, coupon, customer, code, reversed at.
type RedemptionRow = (i64, i64, i64, Option<i64>, String, Option<DateTime<Utc>>);

/// Redemptions of offers: the offer row's count (capped offers) plus the counter rows.
pub const REDEEMED_SQL: &str = "(o.redeemed_count + COALESCE((SELECT CAST(SUM(oc.redeemed) AS BIGINT) FROM offer_counters oc WHERE oc.offer_id = o.id), 0))";

/// One read for everything a decision needs of a request's codes: the coupons with their
/// offer's version and count, the customer and their history with each offer, the store or
/// till, and whether the transaction number was used. $1 org, $2/$3 customer kind/value,
/// $4 store code, $5 till code, $6 transaction number, then the codes.
const LOAD_COUPONS: &str = "SELECT c.id, c.offer_id, c.code, c.status, c.customer_id, c.issued_at, c.valid_till, c.redeem_count, o.updated_at, \
    CASE WHEN o.total_redemption_cap IS NULL THEN 0 ELSE (o.redeemed_count + COALESCE((SELECT CAST(SUM(oc.redeemed) AS BIGINT) FROM offer_counters oc WHERE oc.offer_id = o.id), 0)) END AS redeemed, \
    cu.id AS known_customer, cr.redeem_count AS history_count, cr.last_redeemed_on AS history_last, \
    COALESCE(ts.id, s.id) AS place_store, t.id AS place_till, COALESCE(ts.zone_id, s.zone_id) AS place_zone, \
    COALESCE(ts.concept_id, s.concept_id) AS place_concept, \
    EXISTS (SELECT 1 FROM redemptions r WHERE r.org_id = $1 AND r.transaction_number = $6) AS transaction_used \
    FROM coupons c JOIN offers o ON o.id = c.offer_id \
    LEFT JOIN customers cu ON cu.org_id = $1 AND cu.identifier_type = $2 AND cu.identifier = $3 \
    LEFT JOIN customer_redemptions cr ON cr.offer_id = c.offer_id AND cr.customer_id = cu.id \
    LEFT JOIN tills t ON t.org_id = $1 AND t.code = $5 LEFT JOIN stores ts ON ts.id = t.store_id \
    LEFT JOIN stores s ON s.org_id = $1 AND s.code = $4 AND t.id IS NULL \
    WHERE c.org_id = $1 AND c.code IN ";

impl Store {
    /// The request's coupons (unknown codes are absent) with everything the decision reads
    /// about them, in one query on the read pool.
    pub async fn redeem_rows(&self, req: &RedeemRequest) -> StoreResult<Vec<CouponLoad>> {
        let upper = |c: &Option<String>| Arg::OptText(c.as_ref().map(|c| c.to_ascii_uppercase()));
        let mut args: Vec<Arg> = vec![
            req.org_id.into(),
            Arg::OptText(req.customer.as_ref().map(|c| c.kind.as_str().to_string())),
            Arg::OptText(req.customer.as_ref().map(|c| c.value.clone())),
            upper(&req.store_code),
            upper(&req.till_code),
            req.transaction_number.as_str().into(),
        ];
        args.extend(req.codes.iter().map(|c| Arg::from(c.as_str())));
        self.fetch_all_read(
            &format!(
                "{LOAD_COUPONS}({})",
                placeholders(7, req.codes.len().max(1))
            ),
            &args,
        )
        .await
    }

    /// ("category" | "brand", code) → id of the org's categories and brands, for cart lines.
    pub async fn category_and_brand_ids(
        &self,
        org_id: OrgId,
    ) -> StoreResult<HashMap<(&'static str, String), i64>> {
        let mut ids = HashMap::new();
        for (table, kind) in [("categories", "category"), ("brands", "brand")] {
            let rows: Vec<(i64, String)> = self
                .fetch_all_read(
                    &format!("SELECT id, code FROM {table} WHERE org_id = $1"),
                    &[org_id.into()],
                )
                .await?;
            for (id, code) in rows {
                ids.insert((kind, code), id);
            }
        }
        Ok(ids)
    }

    /// A customer's latest issue of a (common-code) offer: issued at and valid till.
    pub async fn latest_issual(
        &self,
        offer_id: OfferId,
        customer_id: CustomerId,
    ) -> StoreResult<Option<(DateTime<Utc>, Option<NaiveDate>)>> {
        Ok(self
            .fetch_all_read(
                "SELECT issued_at, valid_till FROM issuals WHERE offer_id = $1 AND customer_id = $2 ORDER BY id DESC LIMIT 1",
                &[offer_id.into(), customer_id.into()],
            )
            .await?
            .into_iter()
            .next())
    }

    /// The first result of a transaction number already used in the org, if any.
    pub async fn replay(&self, req: &RedeemRequest) -> StoreResult<Option<Redeemed>> {
        let rows: Vec<ReplayRow> = self
            .fetch_all_read(
                "SELECT code, offer_id, discount, redeemed_at, reversed_at FROM redemptions WHERE org_id = $1 AND transaction_number = $2 ORDER BY id",
                &[req.org_id.into(), req.transaction_number.as_str().into()],
            )
            .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut before: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        let mut now: Vec<&str> = req.codes.iter().map(CouponCode::as_str).collect();
        before.sort_unstable();
        now.sort_unstable();
        if before != now {
            return Ok(Some(Redeemed::TransactionMismatch(
                rows.into_iter().map(|r| r.0).collect(),
            )));
        }
        if rows.iter().any(|r| r.4.is_some()) {
            return Ok(Some(Redeemed::TransactionReversed(
                rows.into_iter().map(|r| r.0).collect(),
            )));
        }
        let redeemed_at = rows[0].3;
        Ok(Some(Redeemed::Done {
            codes: rows
                .into_iter()
                .map(|r| (CouponCode::stored(r.0), r.1, r.2))
                .collect(),
            redeemed_at,
            replay: true,
        }))
    }

    /// Writes a decided redemption with every guard in its statement; a guard that refuses
    /// rolls the whole transaction back with `Conflict(code)`.
    pub async fn apply_redemption(
        &self,
        req: &RedeemRequest,
        loaded: &RedeemInputs,
        outcomes: &[CodeOutcome],
        now: DateTime<Utc>,
    ) -> Result<(), Lost> {
        // The common case — one code, a known (or no) customer, no per-customer row, no cap —
        // is one statement: the redemption row, whose insert triggers use the coupon under its
        // guard and count the offer.
        if let [o] = outcomes {
            let (_, offer) = &loaded.coupons[&o.code];
            let simple = !offer.keeps_customer_row()
                && offer.rules.redemption.total_cap.is_none()
                && (loaded.customer_id.is_some() || req.customer.is_none());
            if simple {
                let (sql, args) = redemption_insert(req, loaded, o, loaded.customer_id, now);
                return self
                    .execute_grouped(sql, args)
                    .await
                    .map(|_| ())
                    .map_err(|e| coupon_conflict(e, &o.code));
            }
        }
        let mut tx = self.begin().await?;
        let customer = match (loaded.customer_id, &req.customer) {
            (Some(id), _) => Some(id),
            (None, Some(c)) => Some(upsert_customer(&mut tx, req.org_id, c, now).await?),
            (None, None) => None,
        };
        // Rows are locked offer by offer, coupons in id order, each offer's counter row chosen
        // by the transaction: two batches lock in the same order (a deadlock PostgreSQL still
        // finds is retried by `redeem`).
        let mut ordered: Vec<&CodeOutcome> = outcomes.iter().collect();
        ordered.sort_by_key(|o| {
            let (coupon, offer) = &loaded.coupons[&o.code];
            (offer.id, coupon.id)
        });
        for o in ordered {
            let (_, offer) = &loaded.coupons[&o.code];
            let conflict = |guard| Lost::Guard(o.code.clone(), guard);
            let today = now.with_timezone(&offer.tz).date_naive();
            let (sql, args) = redemption_insert(req, loaded, o, customer, now);
            tx.execute(sql, &args)
                .await
                .map_err(|e| coupon_conflict(e, &o.code))?;
            if let Some(customer) = customer.filter(|_| offer.keeps_customer_row()) {
                let max = per_customer_limit(&offer.rules, offer.common()).map(i64::from);
                let latest = offer
                    .rules
                    .redemption
                    .multiple
                    .and_then(|m| m.gap_days)
                    .map(|g| today - Duration::days(i64::from(g)));
                let counted: Option<(i64,)> = tx
                    .fetch_optional(
                        "INSERT INTO customer_redemptions (offer_id, customer_id, redeem_count, last_redeemed_on) VALUES ($1, $2, 1, $3) \
                         ON CONFLICT (offer_id, customer_id) DO UPDATE SET redeem_count = customer_redemptions.redeem_count + 1, \
                         last_redeemed_on = excluded.last_redeemed_on \
                         WHERE ($4 IS NULL OR customer_redemptions.redeem_count < $4) \
                         AND ($5 IS NULL OR customer_redemptions.last_redeemed_on IS NULL OR customer_redemptions.last_redeemed_on <= $5) \
                         RETURNING redeem_count",
                        &[
                            offer.id.into(),
                            customer.into(),
                            Arg::OptDate(Some(today)),
                            Arg::OptI64(max),
                            Arg::OptDate(latest),
                        ],
                    )
                    .await?;
                counted.ok_or_else(|| conflict(Guard::Customer))?;
            }
            if let Some(cap) = offer.rules.redemption.total_cap {
                count_capped_redemption(&mut tx, offer.id, cap, now)
                    .await?
                    .ok_or_else(|| conflict(Guard::Cap))?;
            }
        }
        Ok(tx.commit().await?)
    }

    /// Reverses every redemption of a transaction (RED-4): counts and caps are restored; a
    /// revoked coupon stays revoked and an expired one stays unusable (its date has passed).
    #[tracing::instrument(name = "store.reverse", skip_all, fields(org = org_id.get()))]
    pub async fn reverse(&self, org_id: OrgId, transaction_number: &str) -> StoreResult<Reversed> {
        let now = Utc::now();
        let mut tx = self.begin().await?;
        let rows: Vec<RedemptionRow> = tx
            .fetch_all(
                "SELECT id, offer_id, coupon_id, customer_id, code, reversed_at FROM redemptions WHERE org_id = $1 AND transaction_number = $2 ORDER BY id",
                &[org_id.into(), transaction_number.into()],
            )
            .await?;
        if rows.is_empty() {
            return Err(StoreError::NotFound);
        }
        let codes: Vec<String> = rows.iter().map(|r| r.4.clone()).collect();
        let open: Vec<_> = rows.iter().filter(|r| r.5.is_none()).collect();
        if open.is_empty() {
            return Ok(Reversed {
                codes,
                already: true,
            });
        }
        let mut reversed_now = 0;
        let mut tz: Option<Tz> = None;
        for (id, offer_id, coupon_id, customer_id, _, _) in open {
            let marked = tx
                .execute(
                    "UPDATE redemptions SET reversed_at = $1 WHERE id = $2 AND reversed_at IS NULL",
                    &[now.into(), (*id).into()],
                )
                .await?;
            if marked == 0 {
                // A concurrent reversal of the same transaction got this row first.
                continue;
            }
            reversed_now += 1;
            tx.execute(
                "UPDATE coupons SET redeem_count = redeem_count - 1, \
                 status = CASE WHEN status = 'redeemed' THEN 'issued' ELSE status END WHERE id = $1",
                &[(*coupon_id).into()],
            )
            .await?;
            if let Some(customer) = customer_id {
                // The gap counts from the customer's last redemption that still stands, not
                // from the reversed sale.
                let last: Option<(Option<DateTime<Utc>>,)> = tx
                    .fetch_optional(
                        "SELECT MAX(redeemed_at) FROM redemptions WHERE offer_id = $1 AND customer_id = $2 AND reversed_at IS NULL",
                        &[(*offer_id).into(), (*customer).into()],
                    )
                    .await?;
                let last = last.and_then(|r| r.0);
                let tz = match tz {
                    Some(tz) => tz,
                    None => {
                        let (zone,): (crate::domain::org::OrgTz,) = tx
                            .fetch_optional(
                                "SELECT time_zone FROM orgs WHERE id = $1",
                                &[org_id.into()],
                            )
                            .await?
                            .ok_or(StoreError::NotFound)?;
                        *tz.insert(zone.0)
                    }
                };
                tx.execute(
                    "UPDATE customer_redemptions SET redeem_count = CASE WHEN redeem_count > 0 THEN redeem_count - 1 ELSE 0 END, \
                     last_redeemed_on = $3 WHERE offer_id = $1 AND customer_id = $2",
                    &[
                        (*offer_id).into(),
                        (*customer).into(),
                        Arg::OptDate(last.map(|t| t.with_timezone(&tz).date_naive())),
                    ],
                )
                .await?;
            }
            let capped: Option<(Option<i64>,)> = tx
                .fetch_optional(
                    "SELECT total_redemption_cap FROM offers WHERE id = $1",
                    &[(*offer_id).into()],
                )
                .await?;
            let sql = if capped.and_then(|c| c.0).is_some() {
                "UPDATE offers SET redeemed_count = redeemed_count - 1 WHERE id = $1"
            } else {
                "INSERT INTO offer_counters (offer_id, shard, redeemed) VALUES ($1, 0, -1) \
                 ON CONFLICT (offer_id, shard) DO UPDATE SET redeemed = offer_counters.redeemed - 1"
            };
            tx.execute(sql, &[(*offer_id).into()]).await?;
        }
        tx.commit().await?;
        Ok(Reversed {
            codes,
            // True to what this call did: a racing reversal that found every row taken by
            // another one reversed nothing.
            already: reversed_now == 0,
        })
    }
}

/// Creates (or finds) a customer inside a redemption.
async fn upsert_customer(
    tx: &mut DynTx,
    org_id: OrgId,
    c: &CustomerRef,
    now: DateTime<Utc>,
) -> StoreResult<CustomerId> {
    let ids = super::issue::customer_ids(tx, org_id, std::slice::from_ref(c), now).await?;
    ids.get(c).copied().ok_or(StoreError::NotFound)
}

/// The redemption row of one code. Its insert triggers use the coupon under the guard
/// (`coupon_limit`) and, for an uncapped offer, count it on a counter row (`counter_shard`).
fn redemption_insert(
    req: &RedeemRequest,
    loaded: &RedeemInputs,
    o: &CodeOutcome,
    customer: Option<CustomerId>,
    now: DateTime<Utc>,
) -> (&'static str, Vec<Arg>) {
    let (coupon, offer) = &loaded.coupons[&o.code];
    let shard = match offer.rules.redemption.total_cap {
        Some(_) => None,
        None => Some(counter_shard(&req.transaction_number)),
    };
    (
        "INSERT INTO redemptions (org_id, offer_id, coupon_id, code, customer_id, transaction_number, store_id, till_id, \
         bill_amount, discount, redeemed_at, api_key_id, consumer_id, counter_shard, coupon_limit) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        vec![
            req.org_id.into(),
            offer.id.into(),
            coupon.id.into(),
            o.code.as_str().into(),
            customer.into(),
            req.transaction_number.as_str().into(),
            Arg::OptI64(loaded.place.store),
            Arg::OptI64(loaded.place.till),
            req.bill_amount.into(),
            o.result.clone().unwrap_or(0).into(),
            now.into(),
            Arg::OptI64(req.api_key_id),
            Arg::OptI64(req.consumer_id),
            Arg::OptI64(shard),
            Arg::OptI64(coupon_redeem_limit(&offer.rules, offer.common())),
        ],
    )
}

/// The counter row a transaction counts on: spread over `COUNTER_SHARDS`, the same for every
/// code of one transaction.
fn counter_shard(transaction_number: &str) -> i64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    transaction_number.hash(&mut h);
    (h.finish() % COUNTER_SHARDS as u64) as i64
}

/// A refused coupon guard (`coupon_taken` from the insert trigger) or a repeated
/// (transaction, code) is `Conflict(code)`; anything else stays an error.
fn coupon_conflict(e: StoreError, code: &CouponCode) -> Lost {
    match e {
        StoreError::Db(d)
            if d.as_database_error().is_some_and(|x| {
                x.is_unique_violation() || x.message().contains("coupon_taken")
            }) =>
        {
            Lost::Guard(code.clone(), Guard::Coupon)
        }
        e => Lost::Store(e),
    }
}

/// Why a decided redemption was not written.
#[derive(Debug)]
pub enum Lost {
    /// A guard refused (another request got there first): the code and which guard.
    Guard(CouponCode, Guard),
    Store(StoreError),
}

impl From<StoreError> for Lost {
    fn from(e: StoreError) -> Lost {
        Lost::Store(e)
    }
}

/// Counts one redemption of a capped offer on its row, guarded by the cap; `None` when the
/// cap is reached (by redemptions counted on the row and on its counter rows).
async fn count_capped_redemption(
    tx: &mut DynTx,
    offer_id: OfferId,
    cap: i64,
    now: DateTime<Utc>,
) -> StoreResult<Option<(i64,)>> {
    tx.fetch_optional(
        &format!(
            "UPDATE offers AS o SET redeemed_count = redeemed_count + 1, last_redeemed_at = $1 \
             WHERE id = $2 AND {REDEEMED_SQL} < $3 RETURNING id"
        ),
        &[now.into(), offer_id.into(), cap.into()],
    )
    .await
}
