//! A promotion in plain words, written from the engine's rules (`domain::promotion` "Rules"):
//! a one-line headline ("Buy 2 or more of category PANTS, get 1 of category BELTS at 50% off,
//! stackable with other promotions") and the details by section.

use crate::domain::money::{format_amount, format_count, format_percent, plural};
use crate::domain::promotion::{
    Condition, Criteria, NameSet, ProductFilter, ProductSet, Promotion, Recurrence, Stacking,
    Target, Value,
};
use chrono_tz::Tz;

/// The promotion in words.
#[derive(Debug, Clone)]
pub struct Words {
    pub headline: String,
    pub sections: Vec<(&'static str, Vec<String>)>,
}

/// How amounts and dates are written for one org.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    pub currency: &'a str,
    pub digits: u32,
    pub tz: Tz,
}

/// The most names of one list written out; the rest are counted.
const SHOWN_NAMES: usize = 8;

pub(super) fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// "A", "A or B", "A, B or C", "A, B, … and 12 more" (sorted).
pub(super) fn any_of(names: impl IntoIterator<Item = impl Into<String>>, or: &str) -> String {
    let mut v: Vec<String> = names.into_iter().map(Into::into).collect();
    v.sort();
    if v.len() > SHOWN_NAMES {
        let more = v.len() - SHOWN_NAMES;
        v.truncate(SHOWN_NAMES);
        return format!("{} {or} {more} more", v.join(", "));
    }
    match v.len() {
        0 => String::new(),
        1 => v.remove(0),
        n => format!("{} {or} {}", v[..n - 1].join(", "), v[n - 1]),
    }
}

fn dimension(set: &NameSet, one: &str, many: &str) -> Option<String> {
    match set.len() {
        0 => None,
        1 => Some(format!("{one} {}", any_of(set.iter(), "or"))),
        _ => Some(format!("{many} {}", any_of(set.iter(), "or"))),
    }
}

/// Each dimension a set names: "category PANTS", "brands Nike or Puma", "colour blue".
fn dimensions(set: &ProductSet) -> Vec<String> {
    let mut parts: Vec<String> = [
        dimension(&set.skus, "SKU", "SKUs"),
        dimension(&set.brands, "brand", "brands"),
        dimension(&set.categories, "category", "categories"),
    ]
    .into_iter()
    .flatten()
    .collect();
    for (key, values) in &set.attributes {
        if !values.is_empty() {
            parts.push(format!("{key} {}", any_of(values.iter().cloned(), "or")));
        }
    }
    parts
}

/// The products of a filter: an include matches every dimension it names (and), an exclude
/// anything it names (or).
pub fn products(f: &ProductFilter) -> String {
    let include = if f.include.is_empty() {
        "any product".to_string()
    } else {
        dimensions(&f.include).join(" and ")
    };
    if f.exclude.is_empty() {
        include
    } else {
        format!("{include} (not {})", any_of(dimensions(&f.exclude), "or"))
    }
}

impl Writer<'_> {
    pub(super) fn money(&self, minor: i64) -> String {
        format_amount(minor, self.currency, self.digits)
    }

    /// One condition as a clause of the headline ("buy 2 or more of category PANTS").
    pub(super) fn condition(&self, c: &Condition) -> String {
        match c {
            Condition::CartAmount { at_least } => {
                format!("spend {} or more", self.money(*at_least))
            }
            Condition::DistinctItems { at_least } => {
                format!("buy {} or more different items", format_count(*at_least))
            }
            Condition::ProductQuantity {
                products: p,
                at_least,
            } => {
                format!("buy {} or more of {}", format_count(*at_least), products(p))
            }
            Condition::ProductAmount {
                products: p,
                at_least,
            } => {
                format!("spend {} or more on {}", self.money(*at_least), products(p))
            }
            Condition::PaymentMode { modes } => format!("pay by {}", any_of(modes.clone(), "or")),
            Condition::GiftVoucher { codes } => {
                format!("apply gift voucher {}", any_of(codes.clone(), "or"))
            }
        }
    }

    /// The products the promotion counts: those of its product conditions, or the whole cart.
    fn pool(&self, p: &Promotion) -> String {
        let filters: Vec<String> = p
            .conditions
            .iter()
            .filter_map(Condition::products)
            .map(products)
            .collect();
        if filters.is_empty() {
            "items in the cart".into()
        } else {
            any_of(filters, "or")
        }
    }

    fn rewarded(&self, criteria: &Criteria, quantity: Option<i64>) -> String {
        match (criteria, quantity) {
            (Criteria::AllOf { skus }, q) => {
                let set = format!("SKUs {}", any_of(skus.iter().cloned(), "and"));
                match q {
                    Some(1) => format!("one each of {set} bought together"),
                    Some(n) => format!("up to {} sets of {set} bought together", format_count(n)),
                    None => format!("every set of {set} bought together"),
                }
            }
            (Criteria::Sku { sku }, Some(q)) => format!("{} of SKU {sku}", format_count(q)),
            (Criteria::Sku { sku }, None) => format!("all units of SKU {sku}"),
            (Criteria::Filter { products: f }, Some(q)) => {
                format!("{} of {}", format_count(q), products(f))
            }
            (Criteria::Filter { products: f }, None) => format!("all of {}", products(f)),
        }
    }

    /// The benefit as a clause of the headline ("get 1 of category BELTS at 50% off").
    pub(super) fn benefit(&self, p: &Promotion) -> String {
        let b = &p.benefit;
        let value = |v: Value| match v {
            Value::Amount { amount } => format!("{} off", self.money(amount)),
            Value::Percent { basis_points } => format!("{} off", format_percent(basis_points)),
            Value::Free => "free".into(),
            Value::FixedPrice { price } => format!("for {} together", self.money(price)),
        };
        let every = |r: Recurrence, of: &str| match r {
            Recurrence::Items { every } => {
                format!("for every {} of {of}", plural(every, "unit", "units"))
            }
            Recurrence::Amount { every } => {
                format!("for every {} spent on {of}", self.money(every))
            }
        };
        match &b.target {
            Target::Cart => {
                let base = format!("get {} the whole cart", value(b.value));
                match b.recurrence {
                    None => base,
                    Some(r) => format!("{base}, {}", every(r, &self.pool(p))),
                }
            }
            Target::ConditionItems => match (b.recurrence, b.value) {
                (None, Value::FixedPrice { price }) => {
                    let size = bundle_size(p);
                    format!(
                        "get the dearest {} of them for {} together",
                        format_count(size),
                        self.money(price)
                    )
                }
                (None, v) => format!("get {} those items", value(v)),
                (Some(Recurrence::Items { every: n }), Value::Amount { amount }) => format!(
                    "get {} off for every {} of them",
                    self.money(amount),
                    plural(n, "unit", "units")
                ),
                (Some(Recurrence::Items { every: n }), Value::FixedPrice { price }) => format!(
                    "get every {} of them for {} together",
                    plural(n, "unit", "units"),
                    self.money(price)
                ),
                (Some(Recurrence::Items { every: n }), v) => format!(
                    "get {} each full group of {} of them",
                    value(v),
                    plural(n, "unit", "units")
                ),
                (Some(Recurrence::Amount { every: m }), v) => {
                    format!("get {} for every {} spent on them", value(v), self.money(m))
                }
            },
            Target::Products { criteria, quantity } => {
                let what = self.rewarded(criteria, *quantity);
                let base = match b.value {
                    Value::Amount { amount } => format!("get {} off {what}", self.money(amount)),
                    Value::Percent { basis_points } => {
                        format!("get {what} at {} off", format_percent(basis_points))
                    }
                    Value::Free => format!("get {what} free"),
                    Value::FixedPrice { price } => {
                        format!("get {what} for {} together", self.money(price))
                    }
                };
                match b.recurrence {
                    None => base,
                    Some(r) => format!("{base}, {} bought", every(r, &self.pool(p))),
                }
            }
        }
    }

    /// The one-line summary.
    pub fn headline(&self, p: &Promotion) -> String {
        let conditions: Vec<String> = p.conditions.iter().map(|c| self.condition(c)).collect();
        let benefit = self.benefit(p);
        let stacking = match p.stacking {
            Stacking::Stackable => "stackable with other promotions",
            Stacking::Exclusive => "exclusive: no other promotion applies with it",
        };
        if conditions.is_empty() {
            let benefit = benefit.strip_prefix("get ").unwrap_or(&benefit);
            format!("{}, {stacking}", capitalized(benefit))
        } else {
            format!(
                "{}, {benefit}, {stacking}",
                capitalized(&conditions.join(" and "))
            )
        }
    }
}

/// A "selected in condition" bundle's size: the largest product quantity condition.
pub(super) fn bundle_size(p: &Promotion) -> i64 {
    p.conditions
        .iter()
        .filter_map(|c| match c {
            Condition::ProductQuantity { at_least, .. } => Some(*at_least),
            _ => None,
        })
        .max()
        .unwrap_or(1)
}
