//! Tests of the promotions engine: every example of seed 003, ranking and stacking,
//! eligibility, limits, codes and hints, reset periods, validation, and properties.

use super::*;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

mod eligibility;
mod periods;
mod property;
mod ranking;
mod seed;
mod validation;

/// The org's time zone in most tests.
pub(super) const IST: Tz = chrono_tz::Asia::Kolkata;

/// A local time in India as a UTC instant.
pub(super) fn ist(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    IST.with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

pub(super) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Wednesday 10 June 2026, 12:00 in India.
pub(super) fn noon() -> DateTime<Utc> {
    ist(2026, 6, 10, 12, 0)
}

/// Rupees to paise.
pub(super) const fn rs(rupees: i64) -> i64 {
    rupees * 100
}

/// An automatic, stackable promotion valid through June 2026 (IST) giving 10% off the cart,
/// with no condition.
pub(super) fn promo(id: i64) -> Promotion {
    Promotion {
        id,
        name: format!("P{id}"),
        kind: Kind::Automatic,
        eligibility: Eligibility::default(),
        validity: Validity::from_dates(date(2026, 6, 1), Some(date(2026, 6, 30)), IST),
        conditions: Vec::new(),
        benefit: Benefit {
            target: Target::Cart,
            value: Value::Percent { basis_points: 1000 },
            recurrence: None,
        },
        stacking: Stacking::Stackable,
        limits: Limits::default(),
        holding: Default::default(),
    }
}

/// `promo(id)` with another benefit.
pub(super) fn with(id: i64, target: Target, value: Value) -> Promotion {
    let mut p = promo(id);
    p.benefit.target = target;
    p.benefit.value = value;
    p
}

pub(super) fn pct(percent: i64) -> Value {
    Value::Percent {
        basis_points: percent * 100,
    }
}

pub(super) fn off(amount: i64) -> Value {
    Value::Amount { amount }
}

pub(super) fn sku(s: &str) -> ProductFilter {
    ProductFilter::only(ProductSet::skus([s]))
}

pub(super) fn category(c: &str) -> ProductFilter {
    ProductFilter::only(ProductSet::categories([c]))
}

pub(super) fn at_least_units(products: ProductFilter, n: i64) -> Condition {
    Condition::ProductQuantity {
        products,
        at_least: n,
    }
}

pub(super) fn reward(criteria: Criteria, quantity: Option<i64>) -> Target {
    Target::Products { criteria, quantity }
}

pub(super) fn one_sku(s: &str) -> Criteria {
    Criteria::Sku { sku: s.to_string() }
}

/// A line in a category.
pub(super) fn item(sku: &str, cat: &str, quantity: i64, unit_price: i64) -> CartLine {
    CartLine::new(sku, quantity, unit_price).category(cat)
}

pub(super) fn cart(lines: Vec<CartLine>) -> Cart {
    Cart::new(lines, noon())
}

/// Evaluates in India with no usage recorded.
pub(super) fn run(cart: &Cart, promotions: &[Promotion]) -> Evaluation {
    evaluate(cart, promotions, &Usage::new(), IST)
}

/// Checks the invariants every evaluation keeps.
pub(super) fn sane(cart: &Cart, e: &Evaluation) {
    assert_eq!(e.lines.len(), cart.lines.len());
    assert_eq!(e.subtotal, cart.subtotal());
    assert_eq!(e.discount, e.lines.iter().sum::<i64>(), "{e:#?}");
    assert_eq!(
        e.discount,
        e.applied.iter().map(|a| a.discount).sum::<i64>(),
        "{e:#?}"
    );
    assert!(0 <= e.discount && e.discount <= e.subtotal, "{e:#?}");
    for (line, d) in cart.lines.iter().zip(&e.lines) {
        assert!(0 <= *d && *d <= line.amount(), "{line:?} {d} {e:#?}");
    }
    for a in &e.applied {
        assert_eq!(
            a.discount,
            a.lines.iter().map(|l| l.discount).sum::<i64>(),
            "{a:?}"
        );
        assert!(a.lines.windows(2).all(|w| w[0].line < w[1].line));
    }
}

/// The applied promotions' (id, discount), in application order.
pub(super) fn applied(e: &Evaluation) -> Vec<(i64, i64)> {
    e.applied
        .iter()
        .map(|a| (a.promotion, a.discount))
        .collect()
}

/// The reason codes of the rejected codes.
pub(super) fn rejected(e: &Evaluation) -> Vec<(&str, &'static str)> {
    e.rejected
        .iter()
        .map(|r| (r.code.as_str(), r.reason.code()))
        .collect()
}
