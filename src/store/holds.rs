//! Earned and reward promotions as stored (seed 003): customers' events (unique per org and
//! event id, with the answer kept for a retry), milestone trackers (moved in one atomic
//! statement that answers the new value, so of two concurrent events exactly one sees the
//! target crossed), and holds (unique per source and reference). The flows are `app::holds`.

use super::dialect::Lock;
use super::dyntx::{Arg, DynTx};
use super::{Store, StoreResult};
use crate::domain::ids::{CustomerId, OrgId};
use crate::domain::promotion::Held;
use chrono::{DateTime, Utc};

/// A customer's event to record.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub org_id: OrgId,
    pub event_id: &'a str,
    pub customer_id: CustomerId,
    pub kind: &'a str,
    pub occurred_at: DateTime<Utc>,
    pub amount: Option<i64>,
    pub transaction_number: Option<&'a str>,
    pub attributes: String,
}

/// A hold to write.
#[derive(Debug, Clone)]
pub struct NewHold<'a> {
    pub org_id: OrgId,
    pub promotion_id: i64,
    pub customer_id: CustomerId,
    pub source: &'static str,
    pub reference: &'a str,
    /// When the customer got it (an event's time, or now).
    pub acquired_at: DateTime<Utc>,
    pub valid_till: Option<DateTime<Utc>>,
    pub cost_points: Option<i64>,
    pub cost_amount: Option<i64>,
}

impl Store {
    /// The answer kept for an event already recorded, if any.
    pub async fn event_result(&self, org_id: OrgId, event_id: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = self
            .fetch_optional_read(
                "SELECT result FROM customer_events WHERE org_id = $1 AND event_id = $2",
                &[org_id.into(), event_id.into()],
            )
            .await?;
        Ok(row.map(|(r,)| r))
    }

    /// The promotions the customer holds at `now`, for the cart's evaluation.
    pub async fn customer_holds(
        &self,
        org_id: OrgId,
        customer_id: CustomerId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Held>> {
        let rows: Vec<(i64, Option<DateTime<Utc>>)> = self
            .fetch_all_read(
                "SELECT promotion_id, valid_till FROM promotion_holds WHERE org_id = $1 AND customer_id = $2 \
                 AND (valid_till IS NULL OR valid_till > $3)",
                &[org_id.into(), customer_id.into(), now.into()],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(promotion, until)| Held { promotion, until })
            .collect())
    }

    /// The answer kept for a reward request already made, if any: the hold's id and end.
    pub async fn reward_hold(
        &self,
        org_id: OrgId,
        request_id: &str,
    ) -> StoreResult<Option<(i64, i64, Option<DateTime<Utc>>)>> {
        self.fetch_optional_read(
            "SELECT id, promotion_id, valid_till FROM promotion_holds \
             WHERE org_id = $1 AND source = 'reward' AND reference = $2",
            &[org_id.into(), request_id.into()],
        )
        .await
    }
}

/// Takes the customer's row for the rest of `tx` (PostgreSQL), so one customer's holds and
/// events are decided one at a time (SQLite's single writer already does).
pub async fn lock_customer(tx: &mut DynTx, customer_id: CustomerId) -> StoreResult<()> {
    let lock = tx.dialect().lock(Lock::Update);
    let _: Option<(i64,)> = tx
        .fetch_optional(
            &format!("SELECT id FROM customers WHERE id = $1{lock}"),
            &[customer_id.into()],
        )
        .await?;
    Ok(())
}

/// Records an event; false when the org has one with this id already.
pub async fn insert_event(
    tx: &mut DynTx,
    e: &NewEvent<'_>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "INSERT INTO customer_events (org_id, event_id, customer_id, kind, occurred_at, amount, \
             transaction_number, attributes, result, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '', $9) ON CONFLICT (org_id, event_id) DO NOTHING",
            &[
                e.org_id.into(),
                e.event_id.into(),
                e.customer_id.into(),
                e.kind.into(),
                e.occurred_at.into(),
                e.amount.into(),
                Arg::OptText(e.transaction_number.map(str::to_string)),
                e.attributes.as_str().into(),
                now.into(),
            ],
        )
        .await?;
    Ok(n == 1)
}

/// Keeps an event's answer.
pub async fn set_event_result(
    tx: &mut DynTx,
    org_id: OrgId,
    event_id: &str,
    result: &str,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE customer_events SET result = $1 WHERE org_id = $2 AND event_id = $3",
        &[result.into(), org_id.into(), event_id.into()],
    )
    .await?;
    Ok(())
}

/// Adds each `(promotion, window key, step)` to the customer's trackers in one atomic
/// statement; the progress of each promotion's tracker after it. Each row's upsert is atomic,
/// so of two concurrent events exactly one sees a target crossed.
pub async fn advance_trackers(
    tx: &mut DynTx,
    org_id: OrgId,
    customer_id: CustomerId,
    steps: &[(i64, String, i64)],
    now: DateTime<Utc>,
) -> StoreResult<std::collections::HashMap<i64, i64>> {
    if steps.is_empty() {
        return Ok(Default::default());
    }
    let mut args: Vec<Arg> = vec![org_id.into(), customer_id.into(), now.into()];
    let mut tuples = Vec::with_capacity(steps.len());
    for (promotion, key, step) in steps {
        let n = args.len();
        tuples.push(format!("($1, ${}, $2, ${}, ${}, $3)", n + 1, n + 2, n + 3));
        args.extend([Arg::from(*promotion), key.as_str().into(), Arg::from(*step)]);
    }
    let rows: Vec<(i64, i64)> = tx
        .fetch_all(
            &format!(
                "INSERT INTO promotion_trackers (org_id, promotion_id, customer_id, window_key, progress, updated_at) \
                 VALUES {} ON CONFLICT (promotion_id, customer_id, window_key) \
                 DO UPDATE SET progress = promotion_trackers.progress + excluded.progress, updated_at = excluded.updated_at \
                 RETURNING promotion_id, progress",
                tuples.join(", ")
            ),
            &args,
        )
        .await?;
    Ok(rows.into_iter().collect())
}

/// When the customer got each hold of `promotions` they have had (to count them against each
/// promotion's maximum in one read).
pub async fn holds_got(
    tx: &mut DynTx,
    customer_id: CustomerId,
    promotions: &[i64],
) -> StoreResult<Vec<(i64, DateTime<Utc>)>> {
    if promotions.is_empty() {
        return Ok(Vec::new());
    }
    let mut args: Vec<Arg> = vec![customer_id.into()];
    args.extend(promotions.iter().map(|p| Arg::from(*p)));
    tx.fetch_all(
        &format!(
            "SELECT promotion_id, acquired_at FROM promotion_holds WHERE customer_id = $1 AND promotion_id IN ({})",
            super::dyntx::placeholders(2, promotions.len())
        ),
        &args,
    )
    .await
}

/// How many times the customer has held the promotion.
pub async fn times_held(
    tx: &mut DynTx,
    promotion_id: i64,
    customer_id: CustomerId,
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> StoreResult<i64> {
    let (from, to) = (window.map(|w| w.0), window.map(|w| w.1));
    let (n,): (i64,) = tx
        .fetch_optional(
            "SELECT COUNT(*) FROM promotion_holds WHERE promotion_id = $1 AND customer_id = $2 \
             AND ($3 IS NULL OR acquired_at >= $3) AND ($4 IS NULL OR acquired_at < $4)",
            &[
                promotion_id.into(),
                customer_id.into(),
                Arg::OptTime(from),
                Arg::OptTime(to),
            ],
        )
        .await?
        .unwrap_or((0,));
    Ok(n)
}

/// Writes a hold; its id, or `None` when this source's reference holds the promotion already
/// (a retried request).
pub async fn insert_hold(tx: &mut DynTx, h: &NewHold<'_>) -> StoreResult<Option<i64>> {
    let id: Option<(i64,)> = tx
        .fetch_optional(
            "INSERT INTO promotion_holds (org_id, promotion_id, customer_id, source, reference, acquired_at, \
             valid_till, cost_points, cost_amount) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (org_id, source, reference, promotion_id) DO NOTHING RETURNING id",
            &[
                h.org_id.into(),
                h.promotion_id.into(),
                h.customer_id.into(),
                h.source.into(),
                h.reference.into(),
                h.acquired_at.into(),
                Arg::OptTime(h.valid_till),
                h.cost_points.into(),
                h.cost_amount.into(),
            ],
        )
        .await?;
    Ok(id.map(|(i,)| i))
}

/// The name customers know the org by: its brand name, else its name.
pub async fn org_brand_name(tx: &mut DynTx, org_id: OrgId) -> StoreResult<String> {
    let (name,): (String,) = tx
        .fetch_optional(
            "SELECT COALESCE(brand_name, name) FROM orgs WHERE id = $1",
            &[org_id.into()],
        )
        .await?
        .ok_or(super::StoreError::NotFound)?;
    Ok(name)
}

/// A hold whose window ends soon, with how its customer is reached.
#[derive(Debug, sqlx::FromRow)]
struct RemindRow {
    hold_id: i64,
    valid_till: DateTime<Utc>,
    #[sqlx(flatten)]
    customer: super::contacts::ReachRow,
}

impl Store {
    /// Up to `limit` holds of the promotion, after hold `after`, whose window ends (exclusive)
    /// in `(ends.0, ends.1]` and after `now`, and whose customer has not used the promotion in
    /// a cart (not cancelled) since getting it: the ones a reminder is due for.
    pub async fn holds_to_remind(
        &self,
        promotion_id: i64,
        ends: (DateTime<Utc>, DateTime<Utc>),
        now: DateTime<Utc>,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, DateTime<Utc>, super::contacts::CustomerReach)>> {
        let rows: Vec<RemindRow> = self
            .fetch_all_read(
                "SELECT h.id AS hold_id, h.valid_till, cu.id, cu.identifier_type, cu.identifier, cu.mobile, \
                 cu.email, cu.preferred_channel, cu.first_name \
                 FROM promotion_holds h JOIN customers cu ON cu.id = h.customer_id \
                 WHERE h.promotion_id = $1 AND h.valid_till > $2 AND h.valid_till <= $3 AND h.valid_till > $4 \
                 AND h.id > $5 AND NOT EXISTS (SELECT 1 FROM promotion_uses u WHERE u.promotion_id = h.promotion_id \
                 AND u.customer_id = h.customer_id AND u.used_at >= h.acquired_at AND u.reversed_at IS NULL) \
                 ORDER BY h.id LIMIT $6",
                &[
                    promotion_id.into(),
                    ends.0.into(),
                    ends.1.into(),
                    now.into(),
                    after.into(),
                    limit.into(),
                ],
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                let (_, reach) = r.customer.into_reach()?;
                Ok((r.hold_id, r.valid_till, reach))
            })
            .collect()
    }

    /// The orgs with live promotions, and their time zones.
    pub async fn orgs_with_live_promotions(
        &self,
    ) -> StoreResult<Vec<(OrgId, crate::domain::org::OrgTz, String)>> {
        self.fetch_all_read(
            "SELECT g.id, g.time_zone, COALESCE(g.brand_name, g.name) FROM orgs g \
             WHERE EXISTS (SELECT 1 FROM promotions p WHERE p.org_id = g.id AND p.status = 'live') ORDER BY g.id",
            &[],
        )
        .await
    }
}
