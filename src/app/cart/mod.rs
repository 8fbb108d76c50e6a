//! The cart use case (PRM-1): what a till's cart gets from the live promotions and the coupons
//! it names (`open`, no side effect), closing it exactly once per cart id (`closed`: coupon
//! redemptions and promotion uses recorded, limits held under concurrency), and cancelling a
//! closed cart (`cancelled`: all of it reversed).
//!
//! Order of application: promotions first (`domain::promotion::evaluate`), then coupons on
//! what the promotions left of the bill, in the order the codes were given; a coupon's discount
//! is spread over the lines in proportion to what is left of each (`spread`), so every line's
//! discount is the sum of its promotions' and coupons' parts and never more than the line.

use crate::app::redeem::OfferCache;
use crate::domain::coupon::normalise_code;
use crate::domain::ids::{CustomerId, OrgId, PromotionId};
use crate::domain::issue::CustomerRef;
use crate::domain::promotion::{
    Cart, CartLine, Customer, Evaluation, Promotion, Reason, Remaining, Usage, Used, evaluate,
    same_bearing, spread,
};
use crate::domain::redemption::{LineInput, RedeemRequest, Redeemed};
use crate::store::dyntx::DynTx;
use crate::store::group_commit::{RunFuture, Work};
use crate::store::promotion_limits::UsageAsk;
use crate::store::{Store, StoreError, StoreResult, carts, promotion_limits};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

mod answer;
mod cache;
mod coupons;
mod limits;

pub use answer::{AnswerLine, AppliedOut, CartAnswer, HintOut, RejectedOut};
use answer::{add_coupons, promotions_answer};
pub use cache::{CartCache, LineFacts};
use coupons::{redeem_coupons, validate_coupons};
use limits::{candidates, close_ask, remaining, usage_for};

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

/// What an evaluation needs of the org.
pub(super) struct OrgFacts {
    /// Where the org's promotion uses were folded to when the cart read it (limits' counts).
    folded: Option<crate::store::promotion_limits::FoldPoint>,
    tz: Tz,
    currency: crate::domain::org::Currency,
}

/// Everything about the cart that does not change between its evaluations.
pub(super) struct Prepared {
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
    cache: &CartCache,
    input: &CartInput,
) -> Result<CartAnswer, CartError> {
    match input.state {
        CartState::Open => {
            let now = Utc::now();
            let p = prepare(store, cache, input, now).await?;
            let (_, eval) = usage_for(store, cache.counts(), &p, now).await?;
            let mut answer = promotions_answer(input, &p, &eval);
            let coupons = validate_coupons(store, offers, input, &p.cart.lines, &answer).await?;
            add_coupons(&mut answer, &p.cart.lines, coupons);
            Ok(answer)
        }
        CartState::Closed => close(store, offers, cache, input).await,
        CartState::Cancelled => cancel(store, input).await,
    }
}

pub(super) async fn prepare(
    store: &Store,
    cache: &CartCache,
    input: &CartInput,
    now: DateTime<Utc>,
) -> StoreResult<Prepared> {
    // The org and the customer by one read (with warm caches, the call's only read but the
    // use counts).
    let (org, known_customer) = store
        .cart_context(input.org_id, input.customer.as_ref())
        .await?;
    let facts = OrgFacts {
        folded: org.folded(),
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
    let known = cache
        .products(store, input.org_id, org.catalogue_version, &unknown)
        .await?;
    let lines = input
        .lines
        .iter()
        .map(|l| {
            let mut line = l.clone();
            if let Some(p) = known.get(&l.sku) {
                line.category = line.category.or_else(|| p.category.clone());
                line.brand = line.brand.or_else(|| p.brand.clone());
                if line.attributes.is_empty() {
                    line.attributes = p.attributes.clone();
                }
            }
            line
        })
        .collect();
    let promotions = cache
        .live(store, input.org_id, org.promotions_version)
        .await?;
    // What the customer holds matters only when an earned or reward promotion is live.
    let holdable = promotions.iter().any(|p| {
        matches!(
            p.kind,
            crate::domain::promotion::Kind::Earned | crate::domain::promotion::Kind::Reward
        )
    });
    let (customer_id, customer) = match &input.customer {
        None => (None, None),
        Some(_) => match known_customer {
            Some((id, tiers, segments)) => {
                let held = if holdable {
                    store.customer_holds(input.org_id, id, now).await?
                } else {
                    Vec::new()
                };
                (
                    Some(id),
                    Some(Customer {
                        tiers,
                        segments,
                        held,
                    }),
                )
            }
            // Named but new: no tags, no uses, nothing held yet.
            None => (None, Some(Customer::default())),
        },
    };
    let zone = match &input.store_code {
        Some(s) => {
            cache
                .zone(store, input.org_id, org.catalogue_version, s)
                .await?
        }
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
        promotions,
        org: facts,
    })
}

/// The promotions' answer of a closing cart evaluated as `eval`: the codes no promotion knows
/// kept as `pending` with the lines, and the promotions `first` applied that `eval` does not
/// (they reached a limit while the cart was closing) named as dropped.
fn closed_answer(
    input: &CartInput,
    p: &Prepared,
    eval: &Evaluation,
    first: &Evaluation,
) -> CartAnswer {
    let mut answer = promotions_answer(input, p, eval);
    if !answer.pending.is_empty() {
        answer.pending_lines = p.cart.lines.clone();
    }
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
    answer
}

/// Closes a cart: in one transaction, its row written, then under the limited promotions' rows
/// the uses counted again, the cart evaluated on them (when they bear otherwise than before),
/// its uses written (`Closer`; on SQLite in a group with the other writes in flight); then its
/// coupons redeemed on the bill those promotions left (`finish`), so a promotion dropped at the
/// close (another cart took its last use) leaves the coupons the bill without it.
async fn close(
    store: &Store,
    offers: &OfferCache,
    cache: &CartCache,
    input: &CartInput,
) -> Result<CartAnswer, CartError> {
    // A retry is found by the cart row's insert (`Closing::Done`), not by a read first: most
    // closes are first closes, and a read each was one more hand-off per close.
    let now = Utc::now();
    let p = prepare(store, cache, input, now).await?;
    let (counted, first) = usage_for(store, cache.counts(), &p, now).await?;
    // The first evaluation's answer, made before the transaction (the row is written with it).
    let answer = closed_answer(input, &p, &first, &first);
    let stored = to_json(&answer)?;
    let mut work = Closer {
        store: store.clone(),
        input: input.clone(),
        known: p.customer,
        p,
        counted,
        first,
        stored,
        // Far from their limits, closes count a promotion side by side; one that finds it came
        // near meanwhile closes again holding every row alone.
        shared: true,
        now,
        closing: None,
    };
    loop {
        work = store.run_grouped(work).await?;
        match work.closing.take() {
            Some(Closing::Closed(again)) => {
                let (answer, stored) = match again {
                    Some(b) => *b,
                    None => (answer, work.stored),
                };
                let lines = &work.p.cart.lines;
                return finish(store, offers, input, lines, answer, &stored).await;
            }
            Some(Closing::Done) => break,
            Some(Closing::TooNear) if work.shared => work.shared = false,
            // Cannot happen: a close that holds every row alone counts exactly.
            Some(Closing::TooNear) => {
                return Err(StoreError::Db(sqlx::Error::Protocol(
                    "a close holding every promotion alone was told it came too near".into(),
                ))
                .into());
            }
            // Cannot happen: a run that returned says how the close ended.
            None => {
                return Err(StoreError::Db(sqlx::Error::Protocol(
                    "a close's transaction ended without saying how".into(),
                ))
                .into());
            }
        }
    }
    let done = store
        .get_cart(input.org_id, &input.cart_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    replay(store, offers, input, done).await
}

/// How a close's transaction ended.
enum Closing {
    /// Committed, with the first evaluation's answer (`None`) or that of the evaluation on the
    /// uses counted under the rows (the answer and its JSON, as stored).
    Closed(Option<Box<(CartAnswer, String)>>),
    /// Another close of the cart wrote its row first (committed: what is kept is the customer's
    /// record, which that close would have made too).
    Done,
    /// Rolled back: a promotion counted side by side came near its limit.
    TooNear,
}

/// A close's transaction (`close_in`), owned so that SQLite's writer task can run it in a
/// group (`store::group_commit`); given back with `closing` set.
struct Closer {
    store: Store,
    input: CartInput,
    /// The customer's id before the close (none: first seen, recorded by the close).
    known: Option<CustomerId>,
    p: Prepared,
    counted: Usage,
    first: Evaluation,
    /// The first evaluation's answer as JSON.
    stored: String,
    /// The promotions far from their limits are counted side by side with other closes
    /// (PostgreSQL).
    shared: bool,
    now: DateTime<Utc>,
    closing: Option<Closing>,
}

impl Work for Closer {
    fn run<'a>(&'a mut self, tx: &'a mut DynTx) -> RunFuture<'a> {
        Box::pin(async move {
            self.p.customer = self.known;
            let closing = close_in(tx, self).await?;
            let commit = !matches!(closing, Closing::TooNear);
            self.closing = Some(closing);
            Ok(commit)
        })
    }
}

/// A close's statements on `tx`.
async fn close_in(tx: &mut DynTx, c: &mut Closer) -> StoreResult<Closing> {
    let (input, p, now) = (&c.input, &mut c.p, c.now);
    // A customer seen for the first time is recorded now, so that their uses count against
    // per-customer limits from this cart on.
    if p.customer.is_none()
        && let Some(customer) = &input.customer
    {
        let ids = crate::store::customers::customer_ids(
            tx,
            input.org_id,
            std::slice::from_ref(customer),
            now,
        )
        .await?;
        p.customer = ids.get(customer).copied();
    }
    // The cart row first, with the first evaluation's answer: a concurrent close of the same
    // cart stops here (and answers the first result). The limited promotions' rows are taken
    // only after it, so closes that meet the same promotions hold them for the count, the uses
    // and the commit only — and an evaluation when the counts changed (PostgreSQL; SQLite's one
    // writer orders everything anyway).
    if !carts::insert_closed(tx, input.org_id, &input.cart_id, p.customer, &c.stored, now).await? {
        return Ok(Closing::Done);
    }
    let limited: Vec<&Promotion> = candidates(&c.first, &p.promotions).collect();
    let asks: Vec<UsageAsk> = limited
        .iter()
        .map(|q| close_ask(q, p.customer, &c.counted, c.shared, now, p.org.tz))
        .collect();
    let used =
        match promotion_limits::lock_and_count(tx, c.store.folded_sums(), p.org.folded, &asks)
            .await?
        {
            promotion_limits::Held::Counted(used) => used,
            promotion_limits::Held::TooNear => return Ok(Closing::TooNear),
        };
    let mut usage = c.counted.clone();
    remaining(&mut usage, &limited, &used);
    // Limits that bear on the cart as they did on the first evaluation (always the evaluation
    // of `counted`) give it again; otherwise the cart is evaluated on what is left and its row
    // gets that answer.
    let again = (!same_bearing(&usage, &c.counted))
        .then(|| evaluate(&p.cart, &p.promotions, &usage, p.org.tz));
    let mut closed = None;
    if let Some(eval) = &again {
        let answer = closed_answer(input, p, eval, &c.first);
        let stored = to_json(&answer)?;
        carts::set_result_in(tx, input.org_id, &input.cart_id, &stored).await?;
        closed = Some(Box::new((answer, stored)));
    }
    let eval = again.as_ref().unwrap_or(&c.first);
    let uses: Vec<(PromotionId, i64)> = eval
        .applied
        .iter()
        .map(|a| (PromotionId(a.promotion), a.discount))
        .collect();
    carts::insert_uses(tx, input.org_id, &input.cart_id, p.customer, &uses, now).await?;
    Ok(Closing::Closed(closed))
}

/// A closed cart's coupons: redeemed under the cart id on the bill its promotions left, added
/// to its answer, the answer stored in place of `stored` (the row's answer with the codes
/// pending). The first to store wins: a close and its retry finishing at once answer the same.
/// A cart cancelled meanwhile has the coupons reversed.
async fn finish(
    store: &Store,
    offers: &OfferCache,
    input: &CartInput,
    lines: &[CartLine],
    mut answer: CartAnswer,
    stored: &str,
) -> Result<CartAnswer, CartError> {
    if answer.pending.is_empty() {
        return Ok(answer);
    }
    let coupons = redeem_coupons(store, offers, input, lines, &answer).await?;
    add_coupons(&mut answer, lines, coupons);
    if store
        .set_cart_result(input.org_id, &input.cart_id, stored, &to_json(&answer)?)
        .await?
    {
        return Ok(answer);
    }
    let row = store
        .get_cart(input.org_id, &input.cart_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if row.state == carts::CartStatus::Cancelled {
        reverse_coupons(store, input).await?;
        return Err(CartError::Cancelled);
    }
    Ok(serde_json::from_str(&row.result)
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))?)
}

fn to_json(answer: &CartAnswer) -> StoreResult<String> {
    serde_json::to_string(answer).map_err(|e| StoreError::Db(sqlx::Error::Encode(Box::new(e))))
}

/// The first close's answer again. When that close has not finished its coupons (it stopped
/// after its commit, or is still redeeming them) this one finishes them: redemptions under the
/// cart id are taken as they are, so the coupons are redeemed once either way.
async fn replay(
    store: &Store,
    offers: &OfferCache,
    input: &CartInput,
    done: carts::CartRow,
) -> Result<CartAnswer, CartError> {
    if done.state == carts::CartStatus::Cancelled {
        // A close that redeemed its coupons after the cancel reversed none has them reversed
        // now (reversal is idempotent).
        reverse_coupons(store, input).await?;
        return Err(CartError::Cancelled);
    }
    let answer: CartAnswer = serde_json::from_str(&done.result)
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))?;
    let mut answer = if answer.pending.is_empty() {
        answer
    } else {
        let lines = answer.pending_lines.clone();
        finish(store, offers, input, &lines, answer, &done.result).await?
    };
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
        Some(row) => cancel_row(&mut tx, input, row, now).await?,
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
                pending: Vec::new(),
                pending_lines: Vec::new(),
            };
            let json = serde_json::to_string(&empty)
                .map_err(|e| StoreError::Db(sqlx::Error::Encode(Box::new(e))))?;
            if carts::insert_closed(&mut tx, input.org_id, &input.cart_id, None, &json, now).await?
            {
                carts::cancel_closed(&mut tx, input.org_id, &input.cart_id, now).await?;
                json
            } else {
                // A close of the cart was writing its row (PostgreSQL waited for it to commit):
                // that close is the one cancelled, and its answer the one given.
                let row = carts::cart_in(&mut tx, input.org_id, &input.cart_id)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                cancel_row(&mut tx, input, row, now).await?
            }
        }
    };
    tx.commit().await?;
    reverse_coupons(store, input).await?;
    let mut answer: CartAnswer = serde_json::from_str(&stored)
        .map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))?;
    answer.state = "cancelled".into();
    answer.replayed = false;
    answer.pending.clear();
    answer.pending_lines.clear();
    Ok(answer)
}

/// Cancels the closed cart `row` (reversing its promotion uses) unless it is cancelled already;
/// its stored answer.
async fn cancel_row(
    tx: &mut DynTx,
    input: &CartInput,
    row: carts::CartRow,
    now: DateTime<Utc>,
) -> StoreResult<String> {
    if row.state != carts::CartStatus::Cancelled {
        carts::cancel_closed(tx, input.org_id, &input.cart_id, now).await?;
    }
    Ok(row.result)
}

/// Reverses the coupons redeemed under the cart id (their transaction number); a cart without
/// coupons has none. Another error fails the call: the till retries, and the retry reverses
/// what is left (reversal is idempotent).
async fn reverse_coupons(store: &Store, input: &CartInput) -> StoreResult<()> {
    match crate::app::redeem::reverse(store, input.org_id, &input.cart_id).await {
        Ok(_) | Err(StoreError::NotFound) => Ok(()),
        Err(e) => Err(e),
    }
}
