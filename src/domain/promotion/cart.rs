//! The cart a till or a shop sends for evaluation, and what is known about its customer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One line of a cart: a product, how many, at what unit price (minor units), with the
/// catalogue facts the product filters look at (sent by the caller or looked up by SKU).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartLine {
    pub sku: String,
    /// Units; a line with 0 or fewer units counts for nothing (amount 0, no units).
    pub quantity: i64,
    /// Price of one unit in minor units before any discount; a negative price counts as 0.
    pub unit_price: i64,
    pub category: Option<String>,
    pub brand: Option<String>,
    /// Catalogue attributes (`colour` → `blue`) matched by attribute filters.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

impl CartLine {
    /// A plain line: `quantity` units of `sku` at `unit_price`, no category, brand or attributes.
    pub fn new(sku: &str, quantity: i64, unit_price: i64) -> CartLine {
        CartLine {
            sku: sku.to_string(),
            quantity,
            unit_price,
            ..CartLine::default()
        }
    }

    /// The same line in a category.
    pub fn category(mut self, category: &str) -> CartLine {
        self.category = Some(category.to_string());
        self
    }

    /// The same line of a brand.
    pub fn brand(mut self, brand: &str) -> CartLine {
        self.brand = Some(brand.to_string());
        self
    }

    /// The same line with one more attribute.
    pub fn attribute(mut self, key: &str, value: &str) -> CartLine {
        self.attributes.insert(key.to_string(), value.to_string());
        self
    }

    /// Units that count: the quantity, or 0 when it is not positive.
    pub fn units(&self) -> i64 {
        self.quantity.max(0)
    }

    /// Gross amount of the line in minor units: units × unit price, saturating, never negative.
    pub fn amount(&self) -> i64 {
        self.units().saturating_mul(self.unit_price.max(0))
    }
}

/// An earned or reward promotion the customer holds, and until when (exclusive; the end of
/// its redemption window, computed by the caller); `None` = until the promotion ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Held {
    pub promotion: i64,
    pub until: Option<DateTime<Utc>>,
}

/// What the caller knows about the cart's customer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// The customer's tiers (usually one), matched by tier-targeted promotions.
    #[serde(default)]
    pub tiers: Vec<String>,
    /// The segments the customer belongs to.
    #[serde(default)]
    pub segments: Vec<String>,
    /// Earned and reward promotions the customer holds right now.
    #[serde(default)]
    pub held: Vec<Held>,
}

impl Customer {
    /// The hold on promotion `id` that is still open at `at`, if any.
    pub fn holds(&self, id: i64, at: DateTime<Utc>) -> Option<&Held> {
        self.held
            .iter()
            .filter(|h| h.promotion == id && h.until.is_none_or(|u| at < u))
            .max_by_key(|h| h.until.map_or(i64::MAX, |u| u.timestamp_micros()))
    }
}

/// A cart at one instant: its lines, where and how it is paid, the codes and gift vouchers
/// entered, and its customer (`None` = anonymous).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cart {
    pub lines: Vec<CartLine>,
    pub store: Option<String>,
    pub zone: Option<String>,
    /// How the cart is paid (`credit_card`, `upi` …), matched exactly.
    pub payment_mode: Option<String>,
    /// Gift voucher codes applied to the cart (matched ignoring ASCII case).
    #[serde(default)]
    pub gift_vouchers: Vec<String>,
    /// Promotion codes the customer entered (matched ignoring ASCII case and outer spaces).
    /// Codes the caller resolved as coupons may be left in: they come back rejected as
    /// `no_such_code`, which the caller drops for the codes it applied as coupons.
    #[serde(default)]
    pub codes: Vec<String>,
    pub customer: Option<Customer>,
    /// The instant of the evaluation; the engine never reads the clock.
    pub at: DateTime<Utc>,
}

impl Cart {
    /// An anonymous cart with these lines at `at`, nothing else set.
    pub fn new(lines: Vec<CartLine>, at: DateTime<Utc>) -> Cart {
        Cart {
            lines,
            store: None,
            zone: None,
            payment_mode: None,
            gift_vouchers: Vec::new(),
            codes: Vec::new(),
            customer: None,
            at,
        }
    }

    /// Sum of the lines' gross amounts, saturating.
    pub fn subtotal(&self) -> i64 {
        self.lines
            .iter()
            .fold(0i64, |acc, l| acc.saturating_add(l.amount()))
    }
}
