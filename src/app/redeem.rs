//! Validating, redeeming and reversing coupons (RED-1..5), as load → decide → apply: the store
//! reads the request's coupons, customer, place and history in one query; the offers come from
//! a per-instance cache; `domain::redemption::decide_all` decides every code; the store writes
//! the outcome with every guard in its statements. A write that loses a race is answered with
//! the rule that now refuses (or, for a concurrent retry of the same transaction, its first
//! result).

use crate::domain::coupon::CouponCode;
use crate::domain::ids::{OfferId, OrgId};
use crate::domain::issue::offer_ends_on;
use crate::domain::offer::Applicability;
use crate::domain::redeem::{CartLine, CustomerRedemptions, Place};
use crate::domain::redemption::*;
use crate::store::redeem::{CouponLoad, Lost};
use crate::store::{Store, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a cached offer is trusted without seeing its `updated_at` again.
const OFFER_CACHE_TTL_SECS: i64 = 30;

/// The per-instance cache of offers being redeemed: loaded once, reloaded when the offer's
/// `updated_at` moves (an edit, a claim) or after a short TTL.
#[derive(Debug, Clone, Default)]
pub struct OfferCache(Arc<Mutex<HashMap<OfferId, Arc<RedeemOffer>>>>);

/// The offer as redemption needs it, from `cache` while its `updated_at` is unchanged.
async fn offer(
    store: &Store,
    cache: &OfferCache,
    org_id: OrgId,
    offer_id: OfferId,
    version: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Arc<RedeemOffer>> {
    if let Ok(map) = cache.0.lock()
        && let Some(o) = map.get(&offer_id)
        && o.version == version
        && (now - o.loaded_at).num_seconds() < OFFER_CACHE_TTL_SECS
    {
        return Ok(o.clone());
    }
    let offer = store.get_offer(org_id, offer_id).await?;
    let org = store.get_org(org_id).await?;
    let campaign_end = match &offer.claimed_by {
        Some((id, _, _)) => store.get_consumer(org_id, *id).await?.ends_on,
        None => None,
    };
    let loaded = Arc::new(RedeemOffer {
        id: offer.id,
        org_id,
        offer_code: offer.offer_code.clone(),
        name: offer.rules.name.clone(),
        ends_on: offer_ends_on(&offer.rules.expiry, campaign_end),
        tz: org.time_zone.0,
        digits: org.currency.minor_digits(),
        currency: org.currency.code().to_string(),
        claimed_by: offer.claimed_by.map(|(id, name, _)| (id, name)),
        rules: offer.rules,
        version,
        loaded_at: now,
    });
    if let Ok(mut map) = cache.0.lock() {
        map.insert(offer_id, loaded.clone());
    }
    Ok(loaded)
}

/// Reads everything a decision needs: the coupons, customer, place and histories (one query),
/// the offers (cache), the cart's categories and brands and common-code issues when needed.
async fn load(
    store: &Store,
    cache: &OfferCache,
    req: &RedeemRequest,
    now: DateTime<Utc>,
) -> StoreResult<RedeemInputs> {
    let rows: Vec<CouponLoad> = store.redeem_rows(req).await?;
    let transaction_used = rows.iter().any(|r| r.transaction_used);
    let customer_id = rows.iter().find_map(|r| r.known_customer);
    // With no known code every answer is `unknown_code`: customer and place do not matter.
    let place = rows
        .first()
        .map(|r| Place {
            store: r.place_store,
            till: r.place_till,
            zone: r.place_zone,
            concept: r.place_concept,
        })
        .unwrap_or_default();
    let mut history = HashMap::new();
    let mut coupons = HashMap::with_capacity(rows.len());
    for row in rows {
        if let Some(count) = row.history_count {
            history.insert(
                row.offer_id,
                CustomerRedemptions {
                    count: count.max(0) as u32,
                    last_on: row.history_last,
                },
            );
        }
        let offer = offer(store, cache, req.org_id, row.offer_id, row.updated_at, now).await?;
        let state = CouponState {
            id: row.id,
            status: row.status,
            customer_id: row.customer_id,
            issued_at: row.issued_at,
            valid_till: row.valid_till,
            redeem_count: row.redeem_count,
            redeemed: row.redeemed,
        };
        coupons.insert(CouponCode::stored(row.code), (state, offer));
    }
    let selected = coupons
        .values()
        .any(|(_, o)| matches!(o.rules.applicability, Applicability::Selected { .. }));
    let ids = if selected && !req.lines.is_empty() {
        store.category_and_brand_ids(req.org_id).await?
    } else {
        HashMap::new()
    };
    let find = |kind: &'static str, code: &Option<String>| {
        code.as_ref()
            .and_then(|c| ids.get(&(kind, c.trim().to_ascii_uppercase())).copied())
    };
    let lines = req
        .lines
        .iter()
        .map(|l| CartLine {
            sku: l.sku.clone(),
            category: find("category", &l.category),
            brand: find("brand", &l.brand),
            quantity: l.quantity,
            unit_price: l.unit_price,
            on_sale: l.on_sale,
        })
        .collect();
    let mut issuals = HashMap::new();
    if let Some(customer) = customer_id {
        for (_, o) in coupons.values().filter(|(_, o)| o.common()) {
            if let Some(issual) = store.latest_issual(o.id, customer).await? {
                issuals.insert(o.id, issual);
            }
        }
    }
    Ok(RedeemInputs {
        transaction_used,
        coupons,
        customer_id,
        place,
        lines,
        history,
        issuals,
    })
}

/// Answers each code of a request: redeemable with its discount, or the refusal (RED-1).
/// Writes nothing.
#[tracing::instrument(name = "app.validate", skip_all, fields(org = req.org_id.get(), codes = req.codes.len()))]
pub async fn validate(
    store: &Store,
    cache: &OfferCache,
    req: &RedeemRequest,
) -> StoreResult<Vec<CodeOutcome>> {
    let now = Utc::now();
    let inputs = load(store, cache, req, now).await?;
    Ok(decide_all(req, &inputs, now))
}

/// Redeems every code of the request in one transaction, or none (RED-2, RED-5). Idempotent on
/// the transaction number: a retry answers the first result.
#[tracing::instrument(name = "app.redeem", skip_all, fields(org = req.org_id.get(), codes = req.codes.len()))]
pub async fn redeem(
    store: &Store,
    cache: &OfferCache,
    req: &RedeemRequest,
) -> StoreResult<Redeemed> {
    let _turn = store.redeem_turn().await;
    let now = Utc::now();
    let inputs = load(store, cache, req, now).await?;
    if inputs.transaction_used
        && let Some(replay) = store.replay(req).await?
    {
        return Ok(replay);
    }
    let outcomes = decide_all(req, &inputs, now);
    if let Some(refused) = outcomes.iter().find(|o| o.result.is_err()) {
        return Ok(Redeemed::Refused(Box::new(refused.clone())));
    }
    let mut applied = store.apply_redemption(req, &inputs, &outcomes, now).await;
    for _ in 0..2 {
        // PostgreSQL broke a deadlock between batches by failing this one: try it again.
        match &applied {
            Err(Lost::Store(StoreError::Db(d)))
                if d.as_database_error().and_then(|x| x.code()).as_deref() == Some("40P01") =>
            {
                applied = store.apply_redemption(req, &inputs, &outcomes, now).await;
            }
            _ => break,
        }
    }
    match applied {
        Ok(()) => Ok(Redeemed::Done {
            codes: outcomes
                .iter()
                .map(|o| {
                    (
                        o.code.clone(),
                        o.offer.as_ref().map(|f| f.id).unwrap_or_default(),
                        o.result.clone().unwrap_or(0),
                    )
                })
                .collect(),
            redeemed_at: now,
            replay: false,
        }),
        Err(Lost::Guard(code, guard)) => {
            // A guard refused: another request got there first. The same transaction retried
            // concurrently answers its first result; otherwise say why now.
            if let Some(replay) = store.replay(req).await? {
                return Ok(replay);
            }
            let inputs = load(store, cache, req, Utc::now()).await?;
            let outcomes = decide_all(req, &inputs, Utc::now());
            let refused = outcomes
                .iter()
                .find(|o| o.result.is_err())
                .or_else(|| outcomes.iter().find(|o| o.code == code))
                .cloned()
                .map(|mut o| {
                    if o.result.is_ok() {
                        // Lost a race on a guard whose reason the fresh read cannot see yet
                        // (the winner is still committing): name that guard's rule.
                        let today = o
                            .offer
                            .as_ref()
                            .map(|f| Utc::now().with_timezone(&f.tz).date_naive())
                            .unwrap_or_else(|| Utc::now().date_naive());
                        o.result =
                            Err(Refusal::Rule(refusal_for(guard, o.offer.as_deref(), today)));
                    }
                    o
                });
            match refused {
                Some(o) => Ok(Redeemed::Refused(Box::new(o))),
                None => Err(StoreError::Conflict(code.into_string())),
            }
        }
        Err(Lost::Store(e)) => Err(e),
    }
}

/// Reverses every redemption of a transaction (RED-4).
pub async fn reverse(
    store: &Store,
    org_id: OrgId,
    transaction_number: &str,
) -> StoreResult<Reversed> {
    store.reverse(org_id, transaction_number).await
}
