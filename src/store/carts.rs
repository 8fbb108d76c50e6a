//! Carts a till closed or cancelled (the cart API): the answer of a close, kept so that a
//! retried close answers it again, and the promotion uses it recorded.

use super::dyntx::{Arg, DynTx};
use super::{Store, StoreResult};
use crate::domain::ids::{CustomerId, OrgId, PromotionId};
use chrono::{DateTime, Utc};

/// Where a recorded cart is: closed (its sale stands) or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartStatus {
    Closed,
    Cancelled,
}

impl CartStatus {
    pub fn parse(s: &str) -> Option<CartStatus> {
        match s {
            "closed" => Some(CartStatus::Closed),
            "cancelled" => Some(CartStatus::Cancelled),
            _ => None,
        }
    }
}

/// A closed or cancelled cart.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CartRow {
    pub state: CartStatus,
    /// The close's answer (JSON), as it was sent.
    pub result: String,
    pub closed_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// A coupon redemption recorded under a cart's id (its transaction number).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CartRedemption {
    pub code: String,
    pub offer_id: crate::domain::ids::OfferId,
    pub offer_name: String,
    pub discount: i64,
    pub reversed: bool,
}

impl Store {
    /// The coupon redemptions recorded under `cart_id` as transaction number (a close that
    /// failed after redeeming its coupons left them; its retry takes them as they are).
    pub async fn cart_redemptions(
        &self,
        org_id: OrgId,
        cart_id: &str,
    ) -> StoreResult<Vec<CartRedemption>> {
        self.fetch_all_read(
            "SELECT r.code, r.offer_id, o.name AS offer_name, r.discount, \
             CASE WHEN r.reversed_at IS NULL THEN FALSE ELSE TRUE END AS reversed \
             FROM redemptions r JOIN offers o ON o.id = r.offer_id \
             WHERE r.org_id = $1 AND r.transaction_number = $2 ORDER BY r.id",
            &[org_id.into(), cart_id.into()],
        )
        .await
    }

    /// The closed cart's answer with its coupons (written after they were redeemed) in place of
    /// `pending`, its answer before them. False when the cart is no longer closed (cancelled
    /// meanwhile) or another close of it stored its coupons first.
    pub async fn set_cart_result(
        &self,
        org_id: OrgId,
        cart_id: &str,
        pending: &str,
        result: &str,
    ) -> StoreResult<bool> {
        let done = self
            .execute_autocommit(
                "UPDATE carts SET result = $1 WHERE org_id = $2 AND cart_id = $3 AND state = 'closed' AND result = $4",
                &[result.into(), org_id.into(), cart_id.into(), pending.into()],
            )
            .await?;
        Ok(done == 1)
    }

    pub async fn get_cart(&self, org_id: OrgId, cart_id: &str) -> StoreResult<Option<CartRow>> {
        self.fetch_optional_read(
            "SELECT state, result, closed_at, cancelled_at FROM carts WHERE org_id = $1 AND cart_id = $2",
            &[org_id.into(), cart_id.into()],
        )
        .await
    }
}

/// The cart's row inside its closing transaction, if another close got there first.
pub async fn cart_in(tx: &mut DynTx, org_id: OrgId, cart_id: &str) -> StoreResult<Option<CartRow>> {
    tx.fetch_optional(
        "SELECT state, result, closed_at, cancelled_at FROM carts WHERE org_id = $1 AND cart_id = $2",
        &[org_id.into(), cart_id.into()],
    )
    .await
}

/// Records a closed cart and its answer. Returns false when the cart was closed already (the
/// caller answers the stored result instead).
pub async fn insert_closed(
    tx: &mut DynTx,
    org_id: OrgId,
    cart_id: &str,
    customer: Option<CustomerId>,
    result: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = tx
        .execute(
            "INSERT INTO carts (org_id, cart_id, state, customer_id, result, closed_at) \
             VALUES ($1, $2, 'closed', $3, $4, $5) ON CONFLICT (org_id, cart_id) DO NOTHING",
            &[
                org_id.into(),
                cart_id.into(),
                customer.into(),
                result.into(),
                now.into(),
            ],
        )
        .await?;
    Ok(done == 1)
}

/// Replaces the answer of a cart this transaction closed (it was evaluated again on the uses
/// counted under the promotions' rows).
pub async fn set_result_in(
    tx: &mut DynTx,
    org_id: OrgId,
    cart_id: &str,
    result: &str,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE carts SET result = $1 WHERE org_id = $2 AND cart_id = $3",
        &[result.into(), org_id.into(), cart_id.into()],
    )
    .await?;
    Ok(())
}

/// The uses of the promotions a closed cart got, (promotion, discount) each, by one statement
/// per hundred.
pub async fn insert_uses(
    tx: &mut DynTx,
    org_id: OrgId,
    cart_id: &str,
    customer: Option<CustomerId>,
    uses: &[(PromotionId, i64)],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for chunk in uses.chunks(100) {
        // $1 org, $2 cart, $3 customer, $4 instant; then promotion and discount per use.
        let mut args: Vec<Arg> = vec![org_id.into(), cart_id.into(), customer.into(), now.into()];
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, (promotion, discount))| {
                args.extend([Arg::from(*promotion), Arg::from(*discount)]);
                format!("($1, ${}, $2, $3, ${}, $4)", 5 + 2 * i, 6 + 2 * i)
            })
            .collect();
        tx.execute(
            &format!(
                "INSERT INTO promotion_uses (org_id, promotion_id, cart_id, customer_id, discount, used_at) VALUES {}",
                rows.join(", ")
            ),
            &args,
        )
        .await?;
    }
    Ok(())
}

/// Cancels a closed cart: its promotion uses stop counting. False when it was not closed (or
/// is cancelled already).
pub async fn cancel_closed(
    tx: &mut DynTx,
    org_id: OrgId,
    cart_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = tx
        .execute(
            "UPDATE carts SET state = 'cancelled', cancelled_at = $1 WHERE org_id = $2 AND cart_id = $3 AND state = 'closed'",
            &[now.into(), org_id.into(), cart_id.into()],
        )
        .await?;
    if done == 0 {
        return Ok(false);
    }
    tx.execute(
        "UPDATE promotion_uses SET reversed_at = $1 WHERE org_id = $2 AND cart_id = $3 AND reversed_at IS NULL",
        &[now.into(), org_id.into(), cart_id.into()],
    )
    .await?;
    Ok(true)
}
