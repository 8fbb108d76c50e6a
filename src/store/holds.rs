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

/// Adds `step` to a customer's tracker of a promotion in a window; its new value.
pub async fn advance_tracker(
    tx: &mut DynTx,
    org_id: OrgId,
    promotion_id: i64,
    customer_id: CustomerId,
    window_key: &str,
    step: i64,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let (progress,): (i64,) = tx
        .fetch_optional(
            "INSERT INTO promotion_trackers (org_id, promotion_id, customer_id, window_key, progress, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (promotion_id, customer_id, window_key) \
             DO UPDATE SET progress = promotion_trackers.progress + excluded.progress, updated_at = excluded.updated_at \
             RETURNING progress",
            &[
                org_id.into(),
                promotion_id.into(),
                customer_id.into(),
                window_key.into(),
                step.into(),
                now.into(),
            ],
        )
        .await?
        .ok_or(super::StoreError::NotFound)?;
    Ok(progress)
}

/// How many times the customer has held the promotion.
pub async fn times_held(
    tx: &mut DynTx,
    promotion_id: i64,
    customer_id: CustomerId,
) -> StoreResult<i64> {
    let (n,): (i64,) = tx
        .fetch_optional(
            "SELECT COUNT(*) FROM promotion_holds WHERE promotion_id = $1 AND customer_id = $2",
            &[promotion_id.into(), customer_id.into()],
        )
        .await?
        .unwrap_or((0,));
    Ok(n)
}

/// Writes a hold; its id, or `None` when this source's reference holds the promotion already
/// (a retried request).
pub async fn insert_hold(
    tx: &mut DynTx,
    h: &NewHold<'_>,
    now: DateTime<Utc>,
) -> StoreResult<Option<i64>> {
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
                now.into(),
                Arg::OptTime(h.valid_till),
                h.cost_points.into(),
                h.cost_amount.into(),
            ],
        )
        .await?;
    Ok(id.map(|(i,)| i))
}
