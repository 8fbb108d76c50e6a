//! A customer's wallet (issue #18, WAL-1): load (their issuals with coupons and offers, the
//! offers' scopes, the org's calendar and currency) → `domain::wallet::wallet` decides each
//! coupon's state and the order. Read only. The customers' pages, the kiosk and the till API
//! (`api::wallet`) show it.

use crate::domain::ids::{CustomerId, OrgId};
use crate::domain::issue::CustomerRef;
use crate::domain::wallet::Wallet;
use crate::store::{Store, StoreResult};
use chrono::{DateTime, Utc};

/// The customer's wallet on `now`: active coupons best first, the others newest first.
#[tracing::instrument(name = "app.wallet", skip_all, fields(org = org_id.get(), customer = customer_id.get()))]
pub async fn wallet(
    store: &Store,
    org_id: OrgId,
    customer_id: CustomerId,
    now: DateTime<Utc>,
) -> StoreResult<Wallet> {
    let mut rows = store.wallet_rows(org_id, customer_id).await?;
    if rows.is_empty() {
        return Ok(Wallet::default());
    }
    let scopes = store.wallet_scopes(org_id, customer_id).await?;
    for row in &mut rows {
        if let Some(scope) = scopes.by_offer.get(&row.offer_id) {
            row.scope = scope.clone();
        }
    }
    let org = store.get_org(org_id).await?;
    Ok(crate::domain::wallet::wallet(
        rows,
        now,
        org.time_zone.0,
        org.currency.code(),
        org.currency.minor_digits(),
        &scopes.names,
    ))
}

/// The org's customer with this identifier, if known (reuses the cart's customer read).
pub async fn customer_by_ref(
    store: &Store,
    org_id: OrgId,
    customer: &CustomerRef,
) -> StoreResult<Option<CustomerId>> {
    Ok(store
        .cart_customer(org_id, customer)
        .await?
        .map(|(id, _, _)| id))
}

/// One of the customer's active coupons checked against a cart: its discount, or why not.
#[derive(Debug, Clone)]
pub struct CartCheck {
    pub coupon: crate::domain::wallet::WalletCoupon,
    pub outcome: crate::domain::redemption::CodeOutcome,
}

/// Checks each of the customer's active coupons against the cart of `cart` (its place,
/// customer, bill and lines; its codes are not used), each on its own as
/// `app::redeem::validate` answers one code, and writes nothing. Coupons that apply come
/// first, the larger discount first; then the others, best first.
#[tracing::instrument(name = "app.wallet_cart", skip_all, fields(org = cart.org_id.get(), customer = customer_id.get()))]
pub async fn check_cart(
    store: &Store,
    cache: &crate::app::redeem::OfferCache,
    cart: &crate::domain::redemption::RedeemRequest,
    customer_id: CustomerId,
    now: DateTime<Utc>,
) -> StoreResult<Vec<CartCheck>> {
    let w = wallet(store, cart.org_id, customer_id, now).await?;
    let mut checks = Vec::with_capacity(w.active.len());
    for coupon in w.active {
        // Stored codes are normalised already; a code that is not cannot be validated.
        let Some(code) = crate::domain::coupon::normalise_code(&coupon.code) else {
            continue;
        };
        let one = crate::domain::redemption::RedeemRequest {
            transaction_number: String::new(),
            codes: vec![code],
            ..cart.clone()
        };
        let outcome = crate::app::redeem::validate(store, cache, &one)
            .await?
            .into_iter()
            .next()
            .ok_or(crate::store::StoreError::NotFound)?;
        checks.push(CartCheck { coupon, outcome });
    }
    // A stable sort keeps the best-first order among equals and among those that do not apply.
    checks.sort_by_key(|c| match c.outcome.result {
        Ok(discount) => (0, std::cmp::Reverse(discount)),
        Err(_) => (1, std::cmp::Reverse(0)),
    });
    Ok(checks)
}
