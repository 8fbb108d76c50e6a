//! What an evaluation returns: per-line discounts, added free lines, applied promotions,
//! rejected codes and promotions left out (with reasons), and hints.

use super::model::{KindName, Stacking};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The result of `evaluate`: everything the cart API answers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// Gross amount of the cart's lines.
    pub subtotal: i64,
    /// Total discount: the sum of `lines` and of the applied promotions' discounts; never
    /// more than `subtotal`.
    pub discount: i64,
    /// Discount on each input line, by the line's index in `Cart::lines`; never more than
    /// the line's amount.
    pub lines: Vec<i64>,
    /// Lines added at price 0 (free products the cart did not have).
    pub added: Vec<AddedLine>,
    /// The promotions applied, in the order they were applied.
    pub applied: Vec<Applied>,
    /// Entered codes that give nothing, in the codes' canonical order, with the reason.
    pub rejected: Vec<RejectedCode>,
    /// Promotions (other than rejected codes) whose conditions are met but that were left
    /// out: blocked by an exclusive one, a limit reached, nothing left to discount.
    pub not_applied: Vec<NotApplied>,
    /// Promotions the cart nearly qualifies for.
    pub hints: Vec<Hint>,
}

/// A line the engine adds: `quantity` units of `sku` at price 0, given by `promotion`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddedLine {
    pub sku: String,
    pub quantity: i64,
    pub promotion: i64,
}

/// The part of one promotion's discount on one input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineDiscount {
    pub line: usize,
    pub discount: i64,
}

/// A limit that stopped or trimmed a promotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Limit {
    /// The per-cart count of applications.
    PerCart,
    /// Uses across all customers.
    GlobalUses,
    /// This customer's uses.
    CustomerUses,
    /// This customer's total discount.
    CustomerValue,
}

/// One applied promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    pub promotion: i64,
    pub name: String,
    pub kind: KindName,
    pub stacking: Stacking,
    /// The entered code that brought it, for a code-linked promotion.
    pub code: Option<String>,
    pub discount: i64,
    /// Times the benefit applied (recurring benefits, buy X get Y).
    pub applications: i64,
    /// Its discount per input line (lines with a share only, by line index).
    pub lines: Vec<LineDiscount>,
    /// Units of free product it added (see `Evaluation::added`).
    pub added_units: i64,
    /// Limits that trimmed it: fewer applications (per cart) or a smaller discount
    /// (customer value).
    pub limited_by: Vec<Limit>,
}

/// An entered code that gives nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedCode {
    /// As entered (trimmed).
    pub code: String,
    /// The promotion the code belongs to, if any.
    pub promotion: Option<i64>,
    pub reason: Reason,
}

/// A promotion whose conditions are met that did not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotApplied {
    pub promotion: i64,
    pub name: String,
    pub reason: Reason,
}

/// A promotion the cart nearly qualifies for, and what it still needs (all of `needs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hint {
    pub promotion: i64,
    pub name: String,
    pub needs: Vec<Need>,
}

/// One thing a nearly-met promotion still needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Need {
    /// Add this much to the cart.
    AddAmount { missing: i64 },
    /// Add this many more different products.
    AddItems { missing: i64 },
    /// Spend this much more on the products of condition `condition` (index in
    /// `Promotion::conditions`; `None` = the products the recurrence counts).
    AddProductAmount {
        missing: i64,
        condition: Option<usize>,
    },
    /// Add this many more units of the products of condition `condition`.
    AddProductQuantity {
        missing: i64,
        condition: Option<usize>,
    },
    /// Add one of this SKU.
    AddProduct { sku: String },
    /// Pay in one of these modes.
    PayWith { modes: Vec<String> },
}

/// Why a code gives nothing or a promotion did not apply. `code()` is stable snake_case for
/// the API; `words()` is what a person reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Reason {
    NoSuchCode,
    NotStarted {
        starts: DateTime<Utc>,
    },
    Ended {
        ended: DateTime<Utc>,
    },
    WrongStore,
    WrongDay,
    WrongTime,
    CustomerRequired,
    CustomerNotEligible,
    CartAmountBelow {
        at_least: i64,
        missing: i64,
    },
    TooFewItems {
        at_least: i64,
        missing: i64,
    },
    ProductAmountBelow {
        at_least: i64,
        missing: i64,
    },
    ProductQuantityBelow {
        at_least: i64,
        missing: i64,
    },
    PaymentMode {
        modes: Vec<String>,
    },
    GiftVoucherRequired,
    /// Products that must all be in the cart together are missing.
    ProductsMissing {
        skus: Vec<String>,
    },
    /// The conditions are met but the rewarded product is not in the cart.
    RewardMissing {
        sku: Option<String>,
    },
    /// The conditions are met but the benefit is worth nothing on this cart.
    NothingToDiscount,
    LimitReached {
        limit: Limit,
    },
    /// An exclusive promotion applies instead.
    BlockedByExclusive {
        promotion: i64,
        name: String,
    },
    /// Promotions applied before it left nothing for it to discount.
    NothingLeft,
    /// Another code of the same promotion is already applied.
    SamePromotionAs {
        code: String,
    },
}

/// An amount in minor units written plainly with `digits` decimals: `50000` → `500.00`.
pub fn plain_amount(minor: i64, digits: u32) -> String {
    if digits == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(digits.min(18));
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    let s = scale.unsigned_abs();
    format!("{sign}{}.{:0w$}", m / s, m % s, w = digits.min(18) as usize)
}

fn units(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Reason {
    /// Stable snake_case name.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NoSuchCode => "no_such_code",
            Reason::NotStarted { .. } => "not_started",
            Reason::Ended { .. } => "ended",
            Reason::WrongStore => "wrong_store",
            Reason::WrongDay => "wrong_day",
            Reason::WrongTime => "wrong_time",
            Reason::CustomerRequired => "customer_required",
            Reason::CustomerNotEligible => "customer_not_eligible",
            Reason::CartAmountBelow { .. } => "cart_amount_below",
            Reason::TooFewItems { .. } => "too_few_items",
            Reason::ProductAmountBelow { .. } => "product_amount_below",
            Reason::ProductQuantityBelow { .. } => "product_quantity_below",
            Reason::PaymentMode { .. } => "payment_mode",
            Reason::GiftVoucherRequired => "gift_voucher_required",
            Reason::ProductsMissing { .. } => "products_missing",
            Reason::RewardMissing { .. } => "reward_missing",
            Reason::NothingToDiscount => "nothing_to_discount",
            Reason::LimitReached { .. } => "limit_reached",
            Reason::BlockedByExclusive { .. } => "blocked_by_exclusive",
            Reason::NothingLeft => "nothing_left",
            Reason::SamePromotionAs { .. } => "same_promotion_as",
        }
    }

    /// What a person reads, amounts written plainly with the currency's `digits` decimals.
    pub fn words(&self, digits: u32) -> String {
        self.words_in(&|m| plain_amount(m, digits))
    }

    /// What a person reads, amounts written by `money` (e.g. with a currency symbol).
    pub fn words_in(&self, money: &dyn Fn(i64) -> String) -> String {
        match self {
            Reason::NoSuchCode => "no promotion has this code".into(),
            Reason::NotStarted { .. } => "the promotion has not started yet".into(),
            Reason::Ended { .. } => "the promotion has ended".into(),
            Reason::WrongStore => "the promotion does not apply at this store".into(),
            Reason::WrongDay => "the promotion does not apply on this day".into(),
            Reason::WrongTime => "the promotion does not apply at this time of day".into(),
            Reason::CustomerRequired => "the promotion needs a known customer".into(),
            Reason::CustomerNotEligible => "the promotion is for other customers".into(),
            Reason::CartAmountBelow { at_least, .. } => {
                format!("cart total must be at least {}", money(*at_least))
            }
            Reason::TooFewItems { at_least, .. } => format!(
                "the cart must contain at least {}",
                units(*at_least, "item", "different items")
            ),
            Reason::ProductAmountBelow { at_least, .. } => format!(
                "the promotion's products must add up to at least {}",
                money(*at_least)
            ),
            Reason::ProductQuantityBelow { at_least, .. } => format!(
                "the cart must contain at least {} of the promotion's products",
                units(*at_least, "unit", "units")
            ),
            Reason::PaymentMode { modes } => format!("pay by {} to qualify", modes.join(" or ")),
            Reason::GiftVoucherRequired => "apply the promotion's gift voucher to qualify".into(),
            Reason::ProductsMissing { skus } => {
                format!("add {} to the cart to qualify", skus.join(" and "))
            }
            Reason::RewardMissing { sku: Some(sku) } => {
                format!("add {sku} to the cart to get the benefit")
            }
            Reason::RewardMissing { sku: None } => {
                "add one of the promotion's products to get the benefit".into()
            }
            Reason::NothingToDiscount => {
                "nothing in the cart gets a discount from this promotion".into()
            }
            Reason::LimitReached { limit } => match limit {
                Limit::PerCart => "the promotion applies no more times to this cart",
                Limit::GlobalUses => "the promotion has been used as often as allowed",
                Limit::CustomerUses => "the customer has used the promotion as often as allowed",
                Limit::CustomerValue => "the customer has had the most discount allowed",
            }
            .into(),
            Reason::BlockedByExclusive { name, .. } => {
                format!("\"{name}\" applies and cannot be combined with other promotions")
            }
            Reason::NothingLeft => {
                "promotions applied before it left nothing for it to discount".into()
            }
            Reason::SamePromotionAs { code } => {
                format!("code {code} of the same promotion is already applied")
            }
        }
    }
}

impl Need {
    /// What a person reads ("add 200.00 more to the cart"), amounts plain with `digits`.
    pub fn words(&self, digits: u32) -> String {
        self.words_in(&|m| plain_amount(m, digits))
    }

    /// What a person reads, amounts written by `money` (e.g. "add ₹200 more to the cart").
    pub fn words_in(&self, money: &dyn Fn(i64) -> String) -> String {
        match self {
            Need::AddAmount { missing } => format!("add {} more to the cart", money(*missing)),
            Need::AddItems { missing } => format!(
                "add {} to the cart",
                units(*missing, "more product", "more different products")
            ),
            Need::AddProductAmount { missing, .. } => {
                format!("add {} more of the promotion's products", money(*missing))
            }
            Need::AddProductQuantity { missing, .. } => format!(
                "add {} of the promotion's products",
                units(*missing, "more unit", "more units")
            ),
            Need::AddProduct { sku } => format!("add {sku} to the cart"),
            Need::PayWith { modes } => format!("pay by {}", modes.join(" or ")),
        }
    }
}
