//! The cart use case (PRM-1): what a till's cart gets from the live promotions and the coupons
//! it names (`open`, no side effect), closing it exactly once per cart id (`closed`: coupon
//! redemptions and promotion uses recorded, limits held under concurrency), and cancelling a
//! closed cart (`cancelled`: all of it reversed).
//!
//! Order of application: promotions first (`domain::promotion::evaluate`), then coupons on
//! what the promotions left of the bill, in the order the codes were given; a coupon's discount
//! is spread over the lines in proportion to what is left of each (`spread`), so every line's
//! discount is the sum of its promotions' and coupons' parts and never more than the line.

use super::redeem::OfferCache;
use crate::domain::coupon::normalise_code;
use crate::domain::ids::{CustomerId, OrgId, PromotionId};
use crate::domain::issue::CustomerRef;
use crate::domain::promotion::{
    Cart, CartLine, Customer, Evaluation, Promotion, Reason, Remaining, Usage, Used, evaluate,
    spread,
};
use crate::domain::redemption::{LineInput, RedeemRequest, Redeemed};
use crate::store::promotions::UsageAsk;
use crate::store::{Store, StoreError, StoreResult, carts, promotions};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// What the till asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartState {
    Open,
    Closed,
    Cancelled,
}

impl CartState {
    pub fn as_str(self) -> &'static str {
        match self {
            CartState::Open => "open",
            CartState::Closed => "closed",
            CartState::Cancelled => "cancelled",
        }
    }
}

/// A cart as the API parsed it.
#[derive(Debug, Clone)]
pub struct CartInput {
    pub org_id: OrgId,
    pub cart_id: String,
    pub state: CartState,
    pub store_code: Option<String>,
    pub till_code: Option<String>,
    pub customer: Option<CustomerRef>,
    pub payment_mode: Option<String>,
    pub gift_vouchers: Vec<String>,
    pub codes: Vec<String>,
    pub lines: Vec<CartLine>,
    pub api_key_id: Option<i64>,
    pub consumer_id: Option<i64>,
}

/// The answer to a cart call (the API's body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartAnswer {
    pub cart_id: String,
    pub state: String,
    pub subtotal: i64,
    pub discount: i64,
    pub total: i64,
    pub lines: Vec<AnswerLine>,
    pub applied: Vec<AppliedOut>,
    pub rejected: Vec<RejectedOut>,
    pub hints: Vec<HintOut>,
    /// Promotions the open cart had that a close could not give: another cart took the last
    /// use of a limit first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<RejectedOut>,
    /// A close answered again (the cart was closed before).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnswerLine {
    pub sku: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub discount: i64,
    /// A free product a promotion added.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub added: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedOut {
    /// `promotion` or `coupon`.
    pub kind: String,
    /// The promotion's id, or the coupon's series (offer) id.
    pub id: i64,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub discount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RejectedOut {
    /// The code as entered (a dropped promotion's name when it had none).
    pub code: String,
    /// Stable snake_case reason.
    pub reason: String,
    /// The reason in words.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HintOut {
    pub promotion_id: i64,
    pub name: String,
    /// "add 200.00 more to the cart for Ten percent over 2,000".
    pub message: String,
}

/// Why a cart call was refused as a whole.
#[derive(Debug)]
pub enum CartError {
    /// The cart was cancelled; it cannot be closed again.
    Cancelled,
    Store(StoreError),
}

impl From<StoreError> for CartError {
    fn from(e: StoreError) -> Self {
        CartError::Store(e)
    }
}

/// The live promotions of each org this instance evaluated carts for, with the org's
/// `promotions_version` they were read at: reused while the version (read with the org on every
/// call) has not moved, so a promotion written on any instance applies from the next call.
#[derive(Debug, Clone, Default)]
pub struct PromotionCache(Arc<Mutex<HashMap<OrgId, Versioned>>>);

/// An org's live promotions as read at its `promotions_version`.
type Versioned = (i64, Arc<Vec<Promotion>>);

impl PromotionCache {
    async fn live(
        &self,
        store: &Store,
        org_id: OrgId,
        version: i64,
    ) -> StoreResult<Arc<Vec<Promotion>>> {
        if let Ok(map) = self.0.lock()
            && let Some((v, list)) = map.get(&org_id)
            && *v == version
        {
            return Ok(list.clone());
        }
        let list = Arc::new(store.live_promotions(org_id).await?);
        if let Ok(mut map) = self.0.lock() {
            map.insert(org_id, (version, list.clone()));
        }
        Ok(list)
    }
}

/// What an evaluation needs of the org.
struct OrgFacts {
    tz: Tz,
    currency: crate::domain::org::Currency,
}

/// Everything about the cart that does not change between its evaluations.
struct Prepared {
    cart: Cart,
    customer: Option<CustomerId>,
    promotions: Arc<Vec<Promotion>>,
    org: OrgFacts,
}

/// Answers a cart call.
#[tracing::instrument(name = "app.cart", skip_all, fields(org = input.org_id.get(), state = input.state.as_str()))]
pub async fn cart(
    store: &Store,
    offers: &OfferCache,
    cache: &PromotionCache,
    input: &CartInput,
) -> Result<CartAnswer, CartError> {
    match input.state {
        CartState::Open => {
            let now = Utc::now();
            let p = prepare(store, cache, input, now).await?;
            let (_, eval) = usage_for(store, &p, now).await?;
            let coupons = validate_coupons(store, offers, input, &p, &eval).await?;
            Ok(answer(input, &p, &eval, coupons))
        }
        CartState::Closed => close(store, offers, cache, input).await,
        CartState::Cancelled => cancel(store, input).await,
    }
}

async fn prepare(
    store: &Store,
    cache: &PromotionCache,
    input: &CartInput,
    now: DateTime<Utc>,
) -> StoreResult<Prepared> {
    let org = store.get_org(input.org_id).await?;
    let facts = OrgFacts {
        tz: org.time_zone.0,
        currency: org.currency,
    };
    // Lines that do not say their category, brand or attributes get them from the catalogue.
    let unknown: Vec<&str> = input
        .lines
        .iter()
        .filter(|l| l.category.is_none() || l.brand.is_none() || l.attributes.is_empty())
        .map(|l| l.sku.as_str())
        .collect();
    let known = store.products_by_sku(input.org_id, &unknown).await?;
    let lines = input
        .lines
        .iter()
        .map(|l| {
            let mut line = l.clone();
            if let Some(p) = known.get(&l.sku) {
                line.category = line.category.or_else(|| p.category.clone());
                line.brand = line.brand.or_else(|| p.brand.clone());
                if line.attributes.is_empty() {
                    line.attributes = p.attribute_map();
                }
            }
            line
        })
        .collect();
    let (customer_id, customer) = match &input.customer {
        None => (None, None),
        Some(c) => match store.cart_customer(input.org_id, c).await? {
            Some((id, tiers, segments)) => (
                Some(id),
                Some(Customer {
                    tiers,
                    segments,
                    held: Vec::new(),
                }),
            ),
            // Named but new: no tags, no uses yet.
            None => (None, Some(Customer::default())),
        },
    };
    let zone = match &input.store_code {
        Some(s) => store.store_zone(input.org_id, s).await?,
        None => None,
    };
    Ok(Prepared {
        cart: Cart {
            lines,
            store: input.store_code.clone(),
            zone,
            payment_mode: input.payment_mode.clone(),
            gift_vouchers: input.gift_vouchers.clone(),
            codes: input.codes.clone(),
            customer,
            at: now,
        },
        customer: customer_id,
        promotions: cache
            .live(store, input.org_id, org.promotions_version)
            .await?,
        org: facts,
    })
}

/// What to count of a promotion's uses at `now`: its global window and the customer's.
fn ask(p: &Promotion, customer: Option<CustomerId>, now: DateTime<Utc>, tz: Tz) -> UsageAsk {
    // Limits without a reset count every use (the bounds are in range for both databases and
    // order as text in SQLite, unlike chrono's MIN/MAX).
    let forever = DateTime::<Utc>::from_timestamp(253_402_214_400, 0).unwrap_or(now); // 9999-12-31
    let always = (DateTime::<Utc>::UNIX_EPOCH, forever);
    let global = p.limits.global_uses.map(|_| {
        p.limits
            .global_reset
            .as_ref()
            .map_or(always, |r| r.window(now, tz))
    });
    let mine = customer.filter(|_| p.limits.per_customer()).map(|c| {
        let (from, to) = p
            .limits
            .customer_reset
            .as_ref()
            .map_or(always, |r| r.window(now, tz));
        (c, from, to)
    });
    UsageAsk {
        promotion: PromotionId(p.id),
        global,
        customer: mine,
    }
}

/// Sets what is left of each asked promotion's limits from the uses counted.
fn remaining(usage: &mut Usage, asked: &[&Promotion], used: &HashMap<PromotionId, Used>) {
    for q in asked {
        let u = used.get(&PromotionId(q.id)).copied().unwrap_or_default();
        usage.set(q.id, Remaining::from_used(&q.limits, u));
    }
}

fn limited(p: &Promotion) -> bool {
    p.limits.global_uses.is_some() || p.limits.per_customer()
}

/// Counts the uses of the limited promotions that could apply to the cart and evaluates it on
/// them: evaluates with no limit known, counts the limited promotions it touched, and evaluates
/// again only when a count binds (no use left, or less discount value left than it gave) —
/// limits only take promotions away, so this ends, and an unchanged evaluation stands.
async fn usage_for(
    store: &Store,
    p: &Prepared,
    now: DateTime<Utc>,
) -> StoreResult<(Usage, Evaluation)> {
    let mut usage = Usage::new();
    let mut counted: HashSet<i64> = HashSet::new();
    let mut eval = evaluate(&p.cart, &p.promotions, &usage, p.org.tz);
    loop {
        let fresh: Vec<&Promotion> = candidates(&eval, &p.promotions)
            .filter(|q| !counted.contains(&q.id))
            .collect();
        if fresh.is_empty() {
            return Ok((usage, eval));
        }
        let asks: Vec<UsageAsk> = fresh
            .iter()
            .map(|q| ask(q, p.customer, now, p.org.tz))
            .collect();
        let used = store.promotions_used(&asks).await?;
        remaining(&mut usage, &fresh, &used);
        counted.extend(fresh.iter().map(|q| q.id));
        if fresh.iter().any(|q| binds(&usage, &eval, q.id)) {
            eval = evaluate(&p.cart, &p.promotions, &usage, p.org.tz);
        }
    }
}

/// Whether what is left of promotion `id`'s limits changes `eval`: no use left, or less
/// discount value left than it gave.
fn binds(usage: &Usage, eval: &Evaluation, id: i64) -> bool {
    let r = usage.of(id);
    let gave = eval
        .applied
        .iter()
        .find(|a| a.promotion == id)
        .map_or(0, |a| a.discount);
    r.uses == Some(0) || r.customer_uses == Some(0) || r.customer_value.is_some_and(|v| v < gave)
}

/// The limited promotions an evaluation applied or left out with their conditions met.
fn candidates<'a>(
    eval: &'a Evaluation,
    promotions: &'a [Promotion],
) -> impl Iterator<Item = &'a Promotion> + 'a {
    let ids: HashSet<i64> = eval
        .applied
        .iter()
        .map(|a| a.promotion)
        .chain(eval.not_applied.iter().map(|n| n.promotion))
        .chain(eval.rejected.iter().filter_map(|r| r.promotion))
        // A hinted promotion whose limit is used up must not be hinted.
        .chain(eval.hints.iter().map(|h| h.promotion))
        .collect();
    promotions
        .iter()
        .filter(move |q| ids.contains(&q.id) && limited(q))
}

/// A coupon the cart uses, or why not.
enum CouponResult {
    Applied {
        code: String,
        series: i64,
        name: String,
        discount: i64,
    },
    Rejected(RejectedOut),
}

/// The codes no promotion knows: they may be coupons.
fn coupon_codes(eval: &Evaluation) -> Vec<String> {
    eval.rejected
        .iter()
        .filter(|r| matches!(r.reason, Reason::NoSuchCode))
        .map(|r| r.code.clone())
        .collect()
}

fn redeem_request(
    input: &CartInput,
    p: &Prepared,
    eval: &Evaluation,
    codes: &[String],
) -> RedeemRequest {
    RedeemRequest {
        org_id: input.org_id,
        transaction_number: String::new(),
        bill_amount: eval.subtotal - eval.discount,
        bill_unknown: false,
        store_code: input.store_code.clone(),
        till_code: input.till_code.clone(),
        customer: input.customer.clone(),
        codes: codes.iter().filter_map(|c| normalise_code(c)).collect(),
        lines: p
            .cart
            .lines
            .iter()
            .zip(&eval.lines)
            .map(|(l, d)| LineInput {
                sku: l.sku.clone(),
                category: l.category.clone(),
                brand: l.brand.clone(),
                quantity: l.quantity,
                // What the line costs after its promotions, per unit (rounded down).
                unit_price: if l.quantity > 0 {
                    (l.amount() - d) / l.quantity
                } else {
                    l.unit_price
                },
                on_sale: false,
            })
            .collect(),
        api_key_id: input.api_key_id,
        consumer_id: input.consumer_id,
    }
}

/// Each coupon code on its own against the bill the promotions left (an open cart).
async fn validate_coupons(
    store: &Store,
    offers: &OfferCache,
    input: &CartInput,
    p: &Prepared,
    eval: &Evaluation,
) -> StoreResult<Vec<CouponResult>> {
    let codes = coupon_codes(eval);
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let req = redeem_request(input, p, eval, &codes);
    let outcomes = super::redeem::validate(store, offers, &req).await?;
    let mut left = eval.subtotal - eval.discount;
    Ok(outcomes
        .into_iter()
        .map(|o| match (&o.result, &o.offer) {
            (Ok(d), Some(offer)) => {
                let discount = (*d).min(left).max(0);
                left -= discount;
                CouponResult::Applied {
                    code: o.code.to_string(),
                    series: offer.id.get(),
                    name: offer.name.clone(),
                    discount,
                }
            }
            (Err(r), _) => CouponResult::Rejected(RejectedOut {
                code: o.code.to_string(),
                reason: r.code().to_string(),
                message: o.message(),
            }),
            (Ok(_), None) => CouponResult::Rejected(RejectedOut {
                code: o.code.to_string(),
                reason: "unknown_code".into(),
                message: "no promotion or coupon has this code".into(),
            }),
        })
        .collect())
}

/// Redeems the coupon codes for a closing cart, the cart id as the transaction number (a retry
/// replays): a refused code is dropped and the rest redeemed without it.
async fn redeem_coupons(
    store: &Store,
    offers: &OfferCache,
    input: &CartInput,
    p: &Prepared,
    eval: &Evaluation,
) -> StoreResult<Vec<CouponResult>> {
    let mut codes = coupon_codes(eval);
    let mut out = Vec::new();
    if codes.is_empty() {
        return Ok(out);
    }
    // A close that failed after redeeming left its redemptions under the cart id: the retry
    // takes them as they are instead of redeeming again.
    let earlier = store.cart_redemptions(input.org_id, &input.cart_id).await?;
    if !earlier.is_empty() {
        let reversed = earlier.iter().any(|r| r.reversed);
        for code in codes {
            let n = normalise_code(&code)
                .map(|c| c.into_string())
                .unwrap_or(code);
            match earlier.iter().find(|r| r.code == n) {
                Some(r) if !reversed => out.push(CouponResult::Applied {
                    code: n,
                    series: r.offer_id.get(),
                    name: r.offer_name.clone(),
                    discount: r.discount,
                }),
                _ => out.push(CouponResult::Rejected(RejectedOut {
                    code: n,
                    reason: if reversed {
                        "transaction_reversed".into()
                    } else {
                        "not_redeemed".into()
                    },
                    message: if reversed {
                        "this cart's coupons were reversed; close the sale under a new cart id"
                            .into()
                    } else {
                        "this code was not redeemed when the cart was first closed".into()
                    },
                })),
            }
        }
        return Ok(out);
    }
    while !codes.is_empty() {
        let mut req = redeem_request(input, p, eval, &codes);
        req.transaction_number = input.cart_id.clone();
        match super::redeem::redeem(store, offers, &req).await? {
            Redeemed::Done { codes: done, .. } => {
                let outcomes = super::redeem::validate(
                    store,
                    offers,
                    &RedeemRequest {
                        transaction_number: String::new(),
                        ..req.clone()
                    },
                )
                .await
                .unwrap_or_default();
                for (code, series, discount) in done {
                    let name = outcomes
                        .iter()
                        .find(|o| o.code == code)
                        .and_then(|o| o.offer.as_ref().map(|f| f.name.clone()))
                        .unwrap_or_default();
                    out.push(CouponResult::Applied {
                        code: code.into_string(),
                        series: series.get(),
                        name,
                        discount,
                    });
                }
                break;
            }
            Redeemed::Refused(o) => {
                let code = o.code.to_string();
                out.push(CouponResult::Rejected(RejectedOut {
                    code: code.clone(),
                    reason: o
                        .result
                        .as_ref()
                        .err()
                        .map_or("refused", |r| r.code())
                        .to_string(),
                    message: o.message(),
                }));
                codes.retain(|c| normalise_code(c).is_none_or(|n| n.as_str() != code));
            }
            Redeemed::TransactionMismatch(_) | Redeemed::TransactionReversed(_) => {
                // Redeemed under this cart id by the coupon API before: not this cart's.
                for code in codes.drain(..) {
                    out.push(CouponResult::Rejected(RejectedOut {
                        code: normalise_code(&code).map(|c| c.into_string()).unwrap_or(code),
                        reason: "transaction_mismatch".into(),
                        message: "this cart id was used as a transaction number for other coupons; use another cart id".into(),
                    }));
                }
            }
        }
    }
    Ok(out)
}

/// Closes a cart: coupons redeemed, then, in one transaction holding the limited promotions'
/// rows, the uses counted again, the cart evaluated on them, its uses and answer written.
async fn close(
    store: &Store,
    offers: &OfferCache,
    cache: &PromotionCache,
    input: &CartInput,
) -> Result<CartAnswer, CartError> {
    if let Some(done) = store.get_cart(input.org_id, &input.cart_id).await? {
        return replay(done);
    }
    let now = Utc::now();
    let mut p = prepare(store, cache, input, now).await?;
    let (_, first) = usage_for(store, &p, now).await?;
    let coupons = redeem_coupons(store, offers, input, &p, &first).await?;
    let limited: Vec<&Promotion> = candidates(&first, &p.promotions).collect();
    let mut tx = store.begin().await?;
    promotions::lock_promotions(
        &mut tx,
        &limited
            .iter()
            .map(|q| PromotionId(q.id))
            .collect::<Vec<_>>(),
    )
    .await?;
    if let Some(done) = carts::cart_in(&mut tx, input.org_id, &input.cart_id).await? {
        drop(tx);
        return replay_or_undo(store, input, done).await;
    }
    // A customer seen for the first time is recorded now, so that their uses count against
    // per-customer limits from this cart on.
    if p.customer.is_none()
        && let Some(c) = &input.customer
    {
        let ids = crate::store::customers::customer_ids(
            &mut tx,
            input.org_id,
            std::slice::from_ref(c),
            now,
        )
        .await?;
        p.customer = ids.get(c).copied();
    }
    let asks: Vec<UsageAsk> = limited
        .iter()
        .map(|q| ask(q, p.customer, now, p.org.tz))
        .collect();
    let used = promotions::promotions_used_in(&mut tx, &asks).await?;
    let mut usage = Usage::new();
    remaining(&mut usage, &limited, &used);
    let eval = evaluate(&p.cart, &p.promotions, &usage, p.org.tz);
    let mut answer = answer(input, &p, &eval, coupons);
    answer.dropped = first
        .applied
        .iter()
        .filter(|a| !eval.applied.iter().any(|b| b.promotion == a.promotion))
        .filter(|a| {
            !eval
                .rejected
                .iter()
                .any(|r| r.promotion == Some(a.promotion))
        })
        .map(|a| RejectedOut {
            code: a.code.clone().unwrap_or_else(|| a.name.clone()),
            reason: "limit_reached".into(),
            message: format!("{} reached its limit while the cart was closing", a.name),
        })
        .collect();
    let stored = serde_json::to_string(&answer)
        .map_err(|e| StoreError::Db(sqlx::Error::Encode(Box::new(e))))?;
    // The cart row first: a concurrent close of the same cart stops here (and answers the
    // first result) instead of failing on the uses' unique index.
    if !carts::insert_closed(
        &mut tx,
        input.org_id,
        &input.cart_id,
        p.customer,
        &stored,
        now,
    )
    .await?
    {
        drop(tx);
        let done = store
            .get_cart(input.org_id, &input.cart_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        return replay_or_undo(store, input, done).await;
    }
    for a in &eval.applied {
        carts::insert_use(
            &mut tx,
            input.org_id,
            PromotionId(a.promotion),
            &input.cart_id,
            p.customer,
            a.discount,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(answer)
}

/// The first close's answer; or, when the cart was cancelled while this close redeemed its
/// coupons, those coupons reversed and the cancellation answered.
async fn replay_or_undo(
    store: &Store,
    input: &CartInput,
    done: carts::CartRow,
) -> Result<CartAnswer, CartError> {
    if done.state == carts::CartStatus::Cancelled {
        reverse_coupons(store, input).await?;
    }
    replay(done)
}

fn replay(done: carts::CartRow) -> Result<CartAnswer, CartError> {
    if done.state == carts::CartStatus::Cancelled {
        return Err(CartError::Cancelled);
    }
    let mut answer: CartAnswer = serde_json::from_str(&done.result)
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))?;
    answer.replayed = true;
    Ok(answer)
}

/// Cancels a cart: a closed one has its promotion uses and coupon redemptions reversed and
/// answers its close with state `cancelled`; an open one is recorded as cancelled so it cannot
/// be closed later.
async fn cancel(store: &Store, input: &CartInput) -> Result<CartAnswer, CartError> {
    let now = Utc::now();
    let mut tx = store.begin().await?;
    let existing = carts::cart_in(&mut tx, input.org_id, &input.cart_id).await?;
    let stored = match existing {
        Some(row) if row.state == carts::CartStatus::Cancelled => row.result,
        Some(row) => {
            carts::cancel_closed(&mut tx, input.org_id, &input.cart_id, now).await?;
            row.result
        }
        None => {
            let empty = CartAnswer {
                cart_id: input.cart_id.clone(),
                state: "cancelled".into(),
                subtotal: input
                    .lines
                    .iter()
                    .fold(0i64, |t, l| t.saturating_add(l.amount())),
                discount: 0,
                total: input
                    .lines
                    .iter()
                    .fold(0i64, |t, l| t.saturating_add(l.amount())),
                lines: Vec::new(),
                applied: Vec::new(),
                rejected: Vec::new(),
                hints: Vec::new(),
                dropped: Vec::new(),
                replayed: false,
            };
            let json = serde_json::to_string(&empty)
                .map_err(|e| StoreError::Db(sqlx::Error::Encode(Box::new(e))))?;
            carts::insert_closed(&mut tx, input.org_id, &input.cart_id, None, &json, now).await?;
            carts::cancel_closed(&mut tx, input.org_id, &input.cart_id, now).await?;
            json
        }
    };
    tx.commit().await?;
    reverse_coupons(store, input).await?;
    let mut answer: CartAnswer = serde_json::from_str(&stored)
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))?;
    answer.state = "cancelled".into();
    answer.replayed = false;
    Ok(answer)
}

/// Reverses the coupons redeemed under the cart id (their transaction number); a cart without
/// coupons has none. Another error fails the call: the till retries, and the retry reverses
/// what is left (reversal is idempotent).
async fn reverse_coupons(store: &Store, input: &CartInput) -> StoreResult<()> {
    match super::redeem::reverse(store, input.org_id, &input.cart_id).await {
        Ok(_) | Err(StoreError::NotFound) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The API's answer from an evaluation and the coupons.
fn answer(
    input: &CartInput,
    p: &Prepared,
    eval: &Evaluation,
    coupons: Vec<CouponResult>,
) -> CartAnswer {
    // Amounts in words with the org's currency ("add ₹200 more to the cart").
    let money = |m: i64| {
        crate::domain::money::format_amount(m, p.org.currency.code(), p.org.currency.minor_digits())
    };
    let mut line_discounts = eval.lines.clone();
    let mut applied: Vec<AppliedOut> = eval
        .applied
        .iter()
        .map(|a| AppliedOut {
            kind: "promotion".into(),
            id: a.promotion,
            name: a.name.clone(),
            code: a.code.clone(),
            discount: a.discount,
        })
        .collect();
    let coupon_codes: HashSet<String> = coupons
        .iter()
        .map(|c| match c {
            CouponResult::Applied { code, .. } => code.clone(),
            CouponResult::Rejected(r) => r.code.clone(),
        })
        .collect();
    // Codes the engine did not know and that are not coupons either stay rejected as unknown.
    let mut rejected: Vec<RejectedOut> = eval
        .rejected
        .iter()
        .filter(|r| {
            !(matches!(r.reason, Reason::NoSuchCode)
                && normalise_code(&r.code).is_some_and(|n| coupon_codes.contains(n.as_str())))
        })
        .map(|r| RejectedOut {
            code: r.code.clone(),
            reason: r.reason.code().to_string(),
            message: r.reason.words_in(&money),
        })
        .collect();
    let mut scratch = Vec::new();
    let mut parts = vec![0; line_discounts.len()];
    for c in coupons {
        match c {
            CouponResult::Applied {
                code,
                series,
                name,
                discount,
            } => {
                let left: Vec<i64> = p
                    .cart
                    .lines
                    .iter()
                    .zip(&line_discounts)
                    .map(|(l, d)| l.amount() - d)
                    .collect();
                spread(discount, &left, &mut parts, &mut scratch);
                for (d, part) in line_discounts.iter_mut().zip(&parts) {
                    *d += part;
                }
                applied.push(AppliedOut {
                    kind: "coupon".into(),
                    id: series,
                    name,
                    code: Some(code),
                    discount: parts.iter().sum(),
                });
            }
            CouponResult::Rejected(r) => rejected.push(r),
        }
    }
    let mut lines: Vec<AnswerLine> = p
        .cart
        .lines
        .iter()
        .zip(&line_discounts)
        .map(|(l, d)| AnswerLine {
            sku: l.sku.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price,
            discount: *d,
            added: false,
        })
        .collect();
    lines.extend(eval.added.iter().map(|a| AnswerLine {
        sku: a.sku.clone(),
        quantity: a.quantity,
        unit_price: 0,
        discount: 0,
        added: true,
    }));
    let discount: i64 = line_discounts.iter().sum();
    CartAnswer {
        cart_id: input.cart_id.clone(),
        state: input.state.as_str().into(),
        subtotal: eval.subtotal,
        discount,
        total: eval.subtotal - discount,
        lines,
        applied,
        rejected,
        hints: eval
            .hints
            .iter()
            .map(|h| HintOut {
                promotion_id: h.promotion,
                name: h.name.clone(),
                message: format!(
                    "{} for {}",
                    h.needs
                        .iter()
                        .map(|n| n.words_in(&money))
                        .collect::<Vec<_>>()
                        .join(" and "),
                    h.name
                ),
            })
            .collect(),
        dropped: Vec::new(),
        replayed: false,
    }
}
