//! Cart promotions (seed 003, PRM-1): a pure engine that answers "what does this cart get?".
//! `evaluate(cart, promotions, usage, tz)` takes the cart at an instant, the live promotions,
//! what is left of their limits (counted by the store inside `Period::window`) and the org's
//! time zone, and returns per-line discounts, added free lines, the applied promotions,
//! rejected codes with reasons, promotions left out, and hints. No I/O, no clock.
//!
//! # Rules
//!
//! Money is `i64` minor units; percentages are basis points. Promotion ids are unique. A line
//! with no units or a negative price counts as nothing; lines added by promotions (free
//! products, price 0) are not counted by conditions nor discounted by other promotions.
//!
//! - **Reach.** An automatic promotion reaches every cart; a code-linked one only when one of
//!   its codes is entered (ignoring ASCII case and outer spaces); an earned or reward one only
//!   when the customer holds it (`Customer::held`, an open hold).
//! - **Eligibility**, checked first, in order: validity `[starts, ends)`; store OR zone listed;
//!   the local weekday; the local time of day (a window may cross midnight; the day is the
//!   local calendar day of the instant); tiers AND segments (each list that names something
//!   must match one of the customer's). A tier/segment promotion, or one with a per-customer
//!   limit, needs a known customer.
//! - **Conditions** are all required (AND) and measured on gross amounts (before any
//!   discount). Cart amount, distinct item count (distinct SKUs) and gift voucher are
//!   standalone only, and at most `MAX_PRODUCT_CONDITIONS` (4) product conditions combine
//!   (`validate`). A payment mode matches exactly; a gift voucher ignoring ASCII case. A
//!   recurring benefit also needs one full step; an all-of-several-SKUs benefit needs every SKU
//!   in the cart.
//! - **Product filters**: an include set matches a line when it matches every dimension that
//!   names something (SKU, brand, category, each attribute key) — "Nike" + "shoes" is Nike
//!   shoes — and any value within a dimension; an exclude set removes lines matching anything
//!   it names. A SKU CSV is a SKU set.
//! - **Benefit.** Scope cart: on every line. "Selected in condition": on all the units of the
//!   product conditions' products, or, for a per-item recurrence or a bundle, on the dearest
//!   `every` (or bundle-size) units per application. "Over and above" (buy X get Y): each
//!   application consumes the condition's units — products that are not rewarded first,
//!   dearest first, per condition threshold or per recurrence step — then rewards the
//!   cheapest `quantity` units (or complete sets for all-of-several SKUs) left; units are not
//!   split between condition and reward. A free single SKU the cart lacks is added as a line at
//!   0. Non-recurring: one application; recurring: as many as fit (counted on the products of
//!   the product conditions, or the whole cart without one), at most the per-cart limit and
//!   at most `MAX_APPLICATIONS`.
//! - **Value.** Fixed amount: `applications × amount`, at most the value of the units it
//!   applies to. Percentage: of those units' value, rounded half up to the minor unit once
//!   for the promotion. Free: their whole value. Bundle: each application's units cost the
//!   bundle price together (no discount when they cost less already).
//! - **Spreading.** A promotion's discount is split over its units' lines in proportion to
//!   their value, by largest remainder (`spread`): the parts sum exactly to the discount and
//!   none exceeds its line's remaining amount, so no line goes below 0 and the total never
//!   exceeds the subtotal.
//! - **Stacking and ranking** (seed, literally). Rank order: segmented, then reward, then
//!   code-linked, then earliest expiry (the earlier of the promotion's end and the customer's
//!   hold), then larger discount (computed alone on the gross cart), then lower id. If any
//!   exclusive promotion qualifies, the best-ranked exclusive applies alone and blocks every
//!   other one, even when the stackables together would give more. Otherwise every
//!   stackable applies, in rank order, each computed on what earlier ones left of each line
//!   (the already-discounted amounts, never the original ones); one that finds nothing left
//!   is reported as `nothing_left`. Earned promotions rank like automatic ones (the seed
//!   ranks only deliberate choices above expiry). Every qualified promotion left out is
//!   reported (`not_applied`, or its code in `rejected`); when an exclusive wins, the
//!   stackables are not computed, so one whose conditions are met is reported blocked even if
//!   it would have given nothing.
//! - **Limits.** Per-cart caps applications (reported as `limited_by`). A "use" is one cart in
//!   which the promotion applies; with no global or customer use left it does not apply
//!   (`limit_reached`, reported once its conditions are met, or at once for an entered code);
//!   the remaining customer discount value caps its discount (re-spread over its lines,
//!   `limited_by`). The caller counts uses inside `Period::window` and passes `Remaining`.
//! - **Codes.** Every entered code that gives nothing is rejected with the first reason found:
//!   no such code (possibly a coupon — the caller drops those), not eligible, a condition
//!   unmet (e.g. "cart total must be at least 500.00"), limits, blocked by an exclusive,
//!   nothing left; a second code of an applied promotion is `same_promotion_as`.
//! - **Hints.** A promotion that reaches the cart, is eligible and within limits, and whose
//!   every unmet condition is *nearly met*: an amount short by at most 20% of its threshold,
//!   a count short by one or by at most 20%, a payment mode, one missing SKU of a set, or a
//!   buy-X-get-Y whose single rewarded SKU is not in the cart. Stacking is not considered.
//! - **Reset periods** (`Period::window`, org time zone): every X days from an anchor date;
//!   every N weeks from a weekday (aligned on the anchor); the calendar month; the last X days
//!   to the instant (same wall-clock time X days ago); the current Sunday–Saturday week and
//!   the X−1 before it. Windows are `[start, end)`; a local midnight that falls in a DST gap
//!   is the first valid quarter hour after it.
//! - **Determinism.** Lines are processed in canonical order (sorted by content, identical
//!   lines are interchangeable), promotions by id, codes sorted; outputs are in application,
//!   code or id order. Shuffling the inputs gives the same evaluation, line indices aside.
//! - **Monotonicity** (tested as a property). Adding an *unrelated* line — a new SKU with no
//!   brand, category or attributes, where every product filter includes something — never
//!   turns a met promotion into an unmet one and never lowers its discount *alone*. It can
//!   lower what a promotion gets inside the full evaluation, because the seed's rules let the
//!   new line qualify an exclusive promotion (which then blocks the others) or reorder
//!   stackables by the maximum-discount tie-break; both cases are tested as such. When no
//!   promotion looks at the whole cart (no cart amount or item count condition, no cart scope,
//!   no recurrence counted on the whole cart), such a line changes nothing at all.

mod benefit;
mod cart;
mod check;
mod evaluate;
pub mod holding;
mod model;
mod outcome;
mod period;
mod products;
mod spread;
mod status;
mod validate;
mod view;

#[cfg(test)]
mod tests;

pub use benefit::MAX_APPLICATIONS;
pub use cart::{Cart, CartLine, Customer, Held};
pub use evaluate::{evaluate, same_bearing};
pub use model::{
    Benefit, Condition, Eligibility, Kind, KindName, Limits, Promotion, Recurrence, Remaining,
    Stacking, Target, TimeWindow, Usage, Used, Validity, Value, Weekdays,
};
pub use outcome::{
    AddedLine, Applied, Evaluation, Hint, Limit, LineDiscount, Need, NotApplied, Reason,
    RejectedCode, plain_amount,
};
pub use period::{Period, local_midnight, local_to_utc};
pub use products::{Criteria, LineKeys, NameSet, ProductFilter, ProductSet, name_hash};
pub use spread::{percent_of, spread};
pub use status::Status;
pub use validate::{MAX_PRODUCT_CONDITIONS, PromotionError, PromotionErrors, PromotionField};
