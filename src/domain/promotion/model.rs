//! A cart promotion as configured: kind, eligibility, validity, qualifying conditions,
//! benefit, stacking and limits; and the usage the caller counted for it.

use super::period::{Period, local_midnight};
use super::products::{Criteria, ProductFilter};
use chrono::{DateTime, Days, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One cart promotion. Build it with the fields, then `validate()` it once (on save): the
/// engine assumes a valid promotion and stays bounded (never a negative or oversized
/// discount) even for one that is not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    /// Unique among the promotions given to one evaluation.
    pub id: i64,
    pub name: String,
    pub kind: Kind,
    #[serde(default)]
    pub eligibility: Eligibility,
    pub validity: Validity,
    /// All must be met (AND); none means the promotion always qualifies.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    pub benefit: Benefit,
    pub stacking: Stacking,
    #[serde(default)]
    pub limits: Limits,
    /// How an earned or reward promotion is held, and what earns it.
    #[serde(default)]
    pub holding: super::holding::Holding,
}

/// How a promotion reaches a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Kind {
    /// Applies by itself to every eligible cart.
    Automatic,
    /// Applies only when one of its codes is entered (ignoring ASCII case).
    CodeLinked { codes: Vec<String> },
    /// Earned by the customer's activity; applies while the customer holds it.
    Earned,
    /// Acquired by the customer for points or money; applies while the customer holds it.
    Reward,
}

/// The kind without its codes, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KindName {
    Automatic,
    CodeLinked,
    Earned,
    Reward,
}

impl Kind {
    /// The kind's name.
    pub fn name(&self) -> KindName {
        match self {
            Kind::Automatic => KindName::Automatic,
            Kind::CodeLinked { .. } => KindName::CodeLinked,
            Kind::Earned => KindName::Earned,
            Kind::Reward => KindName::Reward,
        }
    }
}

/// Days of the week as bits, Monday = bit 0 … Sunday = bit 6 (as `offer::Weekdays`);
/// 0 and 0x7f both mean every day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Weekdays(pub u8);

/// The days as JSON names them (`["mon", "fri"]`; empty = every day).
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl TryFrom<Vec<String>> for Weekdays {
    type Error = String;
    fn try_from(names: Vec<String>) -> Result<Self, Self::Error> {
        names.iter().try_fold(Weekdays(0), |days, name| {
            let lower = name.trim().to_ascii_lowercase();
            DAY_NAMES
                .iter()
                .position(|d| lower.starts_with(d))
                .map(|i| Weekdays(days.0 | 1 << i))
                .ok_or_else(|| format!("{name:?} is not a day of the week (mon … sun)"))
        })
    }
}

impl From<Weekdays> for Vec<String> {
    fn from(days: Weekdays) -> Self {
        if days.is_every_day() {
            return Vec::new();
        }
        DAY_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| days.0 & (1 << i) != 0)
            .map(|(_, d)| d.to_string())
            .collect()
    }
}

impl Weekdays {
    /// Every day of the week.
    pub const EVERY_DAY: Weekdays = Weekdays(0);
    /// Monday to Friday.
    pub const MONDAY_TO_FRIDAY: Weekdays = Weekdays(0b001_1111);

    /// These days only.
    pub fn of(days: &[Weekday]) -> Weekdays {
        Weekdays(
            days.iter()
                .fold(0, |bits, d| bits | 1 << d.num_days_from_monday()),
        )
    }

    /// Whether no day is left out.
    pub fn is_every_day(self) -> bool {
        self.0 & 0x7f == 0 || self.0 & 0x7f == 0x7f
    }

    /// Whether `day` is one of the days.
    pub fn has(self, day: Weekday) -> bool {
        self.is_every_day() || self.0 & (1 << day.num_days_from_monday()) != 0
    }
}

/// A time of day window in the org's time zone, minutes after midnight, start inclusive and
/// end exclusive; a window whose end is before its start crosses midnight (22:00–02:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct TimeWindow {
    pub start: u16,
    pub end: u16,
}

impl TimeWindow {
    /// From `start_hour`:00 to `end_hour`:00.
    pub fn hours(start_hour: u16, end_hour: u16) -> TimeWindow {
        TimeWindow {
            start: start_hour * 60,
            end: end_hour * 60,
        }
    }

    /// Whether minute-of-day `minute` is inside the window.
    pub fn contains(self, minute: u16) -> bool {
        if self.start <= self.end {
            self.start <= minute && minute < self.end
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

/// Who and where may get the promotion. Every list that names something must match; an
/// empty list allows everything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Eligibility {
    /// Store codes; with `zones`, a cart qualifies at a listed store OR in a listed zone.
    #[serde(default)]
    pub stores: Vec<String>,
    #[serde(default)]
    pub zones: Vec<String>,
    /// Days of the week of the cart's local date (org time zone).
    #[serde(default)]
    pub weekdays: Weekdays,
    /// Times of day (org time zone); the cart must be inside one of them.
    #[serde(default)]
    pub hours: Vec<TimeWindow>,
    /// Customer tiers; with `segments`, the customer must be in a listed tier AND in a listed
    /// segment (each list that names something must match).
    #[serde(default)]
    pub tiers: Vec<String>,
    #[serde(default)]
    pub segments: Vec<String>,
}

impl Eligibility {
    /// A segmented promotion targets customer tiers or segments (the highest rank).
    pub fn is_segmented(&self) -> bool {
        !self.tiers.is_empty() || !self.segments.is_empty()
    }
}

/// When the promotion runs: from `starts` (inclusive) to `ends` (exclusive; `None` = open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Validity {
    pub starts: DateTime<Utc>,
    pub ends: Option<DateTime<Utc>>,
}

impl Validity {
    /// "From June 1 to June 30" in the org's calendar: from the first day's local midnight to
    /// the local midnight after the last day.
    pub fn from_dates(first: NaiveDate, last: Option<NaiveDate>, tz: Tz) -> Validity {
        Validity {
            starts: local_midnight(first, tz),
            ends: last.map(|d| local_midnight(d.checked_add_days(Days::new(1)).unwrap_or(d), tz)),
        }
    }

    /// Whether `at` is inside.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.starts <= at && self.ends.is_none_or(|e| at < e)
    }

    /// The last local day of the promotion, for people (`None` when open-ended).
    pub fn last_day(&self, tz: Tz) -> Option<NaiveDate> {
        self.ends.map(|e| {
            (e - chrono::Duration::seconds(1))
                .with_timezone(&tz)
                .date_naive()
        })
    }
}

/// One qualifying condition. Per the seed, cart amount, distinct item count and gift voucher
/// are standalone only; the others combine with AND.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Condition {
    /// Gross cart value (before discounts) at least this much.
    CartAmount { at_least: i64 },
    /// At least this many distinct SKUs in the cart.
    DistinctItems { at_least: i64 },
    /// Gross amount of the selected products at least this much.
    ProductAmount {
        products: ProductFilter,
        at_least: i64,
    },
    /// Units of the selected products at least this many.
    ProductQuantity {
        products: ProductFilter,
        at_least: i64,
    },
    /// The cart is paid in one of these modes.
    PaymentMode { modes: Vec<String> },
    /// One of these gift voucher codes is applied.
    GiftVoucher { codes: Vec<String> },
}

impl Condition {
    /// The product filter of a product condition.
    pub fn products(&self) -> Option<&ProductFilter> {
        match self {
            Condition::ProductAmount { products, .. }
            | Condition::ProductQuantity { products, .. } => Some(products),
            _ => None,
        }
    }

    /// Whether the seed allows it only on its own.
    pub fn is_standalone_only(&self) -> bool {
        matches!(
            self,
            Condition::CartAmount { .. }
                | Condition::DistinctItems { .. }
                | Condition::GiftVoucher { .. }
        )
    }
}

/// What the benefit applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[allow(clippy::large_enum_variant)] // one per promotion: boxing would buy nothing
pub enum Target {
    /// The whole bill, as one unit.
    Cart,
    /// "Selected in condition": the products that met the product conditions.
    ConditionItems,
    /// "Over and above the condition" (buy X get Y): other units, chosen by `criteria`;
    /// `quantity` units (or complete sets, for `AllOf`) per application, `None` = all of them.
    Products {
        criteria: Criteria,
        quantity: Option<i64>,
    },
}

/// How much the benefit is worth, per application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Value {
    /// This many minor units off.
    Amount { amount: i64 },
    /// This many basis points (1500 = 15%) off, rounded half up to the minor unit.
    Percent { basis_points: i64 },
    /// The rewarded units for 0 (added to the cart when it lacks them, for a single SKU).
    Free,
    /// The units of one application together cost this much (a bundle price).
    FixedPrice { price: i64 },
}

/// "Apply benefit on each unit": the benefit repeats for every step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Recurrence {
    /// Every this many units of the counted products.
    Items { every: i64 },
    /// Every this much gross amount of the counted products.
    Amount { every: i64 },
}

/// The reward of a promotion whose conditions are met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Benefit {
    pub target: Target,
    pub value: Value,
    pub recurrence: Option<Recurrence>,
}

/// Whether other promotions may apply to the same cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stacking {
    /// When it applies, nothing else does.
    Exclusive,
    /// Combines with other stackable promotions.
    Stackable,
}

/// The configured limits. The engine applies `per_cart` itself; the caller counts uses in the
/// reset windows and passes what is left in `Usage`. A per-customer limit needs a known
/// customer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Most applications in one cart (no reset period, per the seed).
    pub per_cart: Option<i64>,
    /// Most carts across all customers.
    pub global_uses: Option<i64>,
    pub global_reset: Option<Period>,
    /// Most carts per customer.
    pub customer_uses: Option<i64>,
    /// Most total discount per customer, minor units.
    pub customer_value: Option<i64>,
    pub customer_reset: Option<Period>,
}

impl Limits {
    /// Whether some limit counts per customer.
    pub fn per_customer(&self) -> bool {
        self.customer_uses.is_some() || self.customer_value.is_some()
    }
}

/// What is left of a promotion's limits for this cart, counted by the caller inside the
/// current reset windows. A use is one cart in which the promotion applied (whatever its
/// number of applications). `None` = no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Remaining {
    pub uses: Option<i64>,
    pub customer_uses: Option<i64>,
    pub customer_value: Option<i64>,
}

/// What was used inside the current windows: carts overall, carts and discount of this
/// customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Used {
    pub uses: i64,
    pub customer_uses: i64,
    pub customer_value: i64,
}

impl Remaining {
    /// The limits minus what was used (never below 0).
    pub fn from_used(limits: &Limits, used: Used) -> Remaining {
        let left = |limit: Option<i64>, used: i64| limit.map(|l| l.saturating_sub(used).max(0));
        Remaining {
            uses: left(limits.global_uses, used.uses),
            customer_uses: left(limits.customer_uses, used.customer_uses),
            customer_value: left(limits.customer_value, used.customer_value),
        }
    }
}

/// Remaining limits by promotion id; a promotion without an entry has no limit left to
/// enforce beyond its per-cart limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage(BTreeMap<i64, Remaining>);

impl Usage {
    /// No usage recorded.
    pub fn new() -> Usage {
        Usage::default()
    }

    /// Sets what is left of promotion `id`.
    pub fn set(&mut self, id: i64, remaining: Remaining) -> &mut Usage {
        self.0.insert(id, remaining);
        self
    }

    /// What is left of promotion `id`.
    pub fn of(&self, id: i64) -> Remaining {
        self.0.get(&id).copied().unwrap_or_default()
    }

    /// The promotions with an entry.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.0.keys().copied()
    }
}

impl FromIterator<(i64, Remaining)> for Usage {
    fn from_iter<I: IntoIterator<Item = (i64, Remaining)>>(iter: I) -> Usage {
        Usage(iter.into_iter().collect())
    }
}
