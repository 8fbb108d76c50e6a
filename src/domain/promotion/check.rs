//! Eligibility (when, where, who) and qualifying conditions (what the cart holds), with how
//! far a cart is from each unmet condition.

use super::cart::Cart;
use super::model::{Condition, Promotion, Recurrence, Target};
use super::outcome::{Need, Reason};
use super::products::Criteria;
use super::view::{CartView, in_condition};
use chrono::{DateTime, Utc, Weekday};
use std::collections::BTreeSet;

/// The evaluation instant and its local weekday and minute of day in the org's time zone.
#[derive(Debug, Clone, Copy)]
pub(super) struct Moment {
    pub at: DateTime<Utc>,
    pub weekday: Weekday,
    pub minute: u16,
}

fn listed(list: &[String], value: Option<&String>) -> bool {
    value.is_some_and(|v| list.iter().any(|x| x == v))
}

/// Validity, store/zone, day, time of day, customer; the first that fails.
pub(super) fn eligibility(p: &Promotion, cart: &Cart, m: &Moment) -> Result<(), Reason> {
    let v = &p.validity;
    if m.at < v.starts {
        return Err(Reason::NotStarted { starts: v.starts });
    }
    if let Some(ended) = v.ends.filter(|&e| e <= m.at) {
        return Err(Reason::Ended { ended });
    }
    let e = &p.eligibility;
    if (!e.stores.is_empty() || !e.zones.is_empty())
        && !listed(&e.stores, cart.store.as_ref())
        && !listed(&e.zones, cart.zone.as_ref())
    {
        return Err(Reason::WrongStore);
    }
    if !e.weekdays.has(m.weekday) {
        return Err(Reason::WrongDay);
    }
    if !e.hours.is_empty() && !e.hours.iter().any(|w| w.contains(m.minute)) {
        return Err(Reason::WrongTime);
    }
    if e.is_segmented() || p.limits.per_customer() {
        let Some(c) = &cart.customer else {
            return Err(Reason::CustomerRequired);
        };
        let any_of = |wanted: &[String], has: &[String]| {
            wanted.is_empty() || has.iter().any(|h| wanted.contains(h))
        };
        if !any_of(&e.tiers, &c.tiers) || !any_of(&e.segments, &c.segments) {
            return Err(Reason::CustomerNotEligible);
        }
    }
    Ok(())
}

/// How a cart falls short of one condition.
#[derive(Debug, Clone, Copy)]
pub(super) enum Gap<'p> {
    CartAmount {
        at_least: i64,
        missing: i64,
    },
    Items {
        at_least: i64,
        missing: i64,
    },
    /// `condition` None: the products a recurrence counts.
    ProductAmount {
        condition: Option<usize>,
        at_least: i64,
        missing: i64,
    },
    ProductQuantity {
        condition: Option<usize>,
        at_least: i64,
        missing: i64,
    },
    Payment(&'p [String]),
    Voucher,
    /// SKUs that must all be present; `missing` of them are not.
    Missing(&'p BTreeSet<String>, usize),
}

/// Whether `missing` is at most a fifth of `at_least` (amounts).
fn near_amount(at_least: i64, missing: i64) -> bool {
    i128::from(missing) * 5 <= i128::from(at_least)
}

/// Whether `missing` is at most one, or a fifth of `at_least` (counts).
fn near_count(at_least: i64, missing: i64) -> bool {
    missing <= (at_least / 5).max(1)
}

fn present(view: &CartView, sku: &str) -> bool {
    (0..view.len()).any(|i| view.units[i] > 0 && view.lines[i].sku == sku)
}

impl Gap<'_> {
    /// "Nearly met": an amount short by at most 20% of its threshold; a count short by one,
    /// or by at most 20% of its threshold; a payment mode; one missing product of a set.
    /// A gift voucher is never nearly met.
    pub fn nearly(&self) -> bool {
        match *self {
            Gap::CartAmount { at_least, missing } => near_amount(at_least, missing),
            Gap::ProductAmount {
                at_least, missing, ..
            } => near_amount(at_least, missing),
            Gap::Items { at_least, missing }
            | Gap::ProductQuantity {
                at_least, missing, ..
            } => near_count(at_least, missing),
            Gap::Payment(_) => true,
            Gap::Voucher => false,
            Gap::Missing(_, missing) => missing == 1,
        }
    }

    /// Why the promotion does not apply, for a rejected code.
    pub fn reason(&self, view: &CartView) -> Reason {
        match *self {
            Gap::CartAmount { at_least, missing } => Reason::CartAmountBelow { at_least, missing },
            Gap::Items { at_least, missing } => Reason::TooFewItems { at_least, missing },
            Gap::ProductAmount {
                at_least, missing, ..
            } => Reason::ProductAmountBelow { at_least, missing },
            Gap::ProductQuantity {
                at_least, missing, ..
            } => Reason::ProductQuantityBelow { at_least, missing },
            Gap::Payment(modes) => Reason::PaymentMode {
                modes: modes.to_vec(),
            },
            Gap::Voucher => Reason::GiftVoucherRequired,
            Gap::Missing(skus, _) => Reason::ProductsMissing {
                skus: skus.iter().filter(|s| !present(view, s)).cloned().collect(),
            },
        }
    }

    /// What the cart needs to close the gap; None for a gift voucher (never hinted).
    pub fn need(&self, view: &CartView) -> Option<Need> {
        Some(match *self {
            Gap::CartAmount { missing, .. } => Need::AddAmount { missing },
            Gap::Items { missing, .. } => Need::AddItems { missing },
            Gap::ProductAmount {
                condition, missing, ..
            } => Need::AddProductAmount { missing, condition },
            Gap::ProductQuantity {
                condition, missing, ..
            } => Need::AddProductQuantity { missing, condition },
            Gap::Payment(modes) => Need::PayWith {
                modes: modes.to_vec(),
            },
            Gap::Voucher => return None,
            Gap::Missing(skus, _) => Need::AddProduct {
                sku: skus.iter().find(|s| !present(view, s))?.clone(),
            },
        })
    }
}

/// Every way the cart falls short of `p`'s conditions (explicit conditions in order; then,
/// when those are met, the first step of a recurring benefit and the presence of every SKU
/// of an all-of-several-SKUs benefit). Empty = the conditions are met. `masks` are the
/// lines' product conditions (`match_conditions`).
pub(super) fn gaps<'p>(
    p: &'p Promotion,
    view: &CartView,
    cart: &Cart,
    masks: &[u64],
    out: &mut Vec<Gap<'p>>,
) {
    out.clear();
    let matches = |c: usize, i: usize| in_condition(p, view, masks, c, i);
    for (ci, c) in p.conditions.iter().enumerate() {
        let gap = match c {
            Condition::CartAmount { at_least } => {
                (view.subtotal < *at_least).then(|| Gap::CartAmount {
                    at_least: *at_least,
                    missing: at_least - view.subtotal,
                })
            }
            Condition::DistinctItems { at_least } => {
                (view.distinct < *at_least).then(|| Gap::Items {
                    at_least: *at_least,
                    missing: at_least - view.distinct,
                })
            }
            Condition::ProductAmount { at_least, .. } => {
                let sum = (0..view.len())
                    .filter(|&i| matches(ci, i))
                    .fold(0i64, |a, i| a.saturating_add(view.amount[i]));
                (sum < *at_least).then(|| Gap::ProductAmount {
                    condition: Some(ci),
                    at_least: *at_least,
                    missing: at_least - sum,
                })
            }
            Condition::ProductQuantity { at_least, .. } => {
                let sum = (0..view.len())
                    .filter(|&i| matches(ci, i))
                    .fold(0i64, |a, i| a.saturating_add(view.units[i]));
                (sum < *at_least).then(|| Gap::ProductQuantity {
                    condition: Some(ci),
                    at_least: *at_least,
                    missing: at_least - sum,
                })
            }
            Condition::PaymentMode { modes } => {
                (!listed(modes, cart.payment_mode.as_ref())).then_some(Gap::Payment(modes))
            }
            Condition::GiftVoucher { codes } => {
                let applied = cart.gift_vouchers.iter().any(|g| {
                    codes
                        .iter()
                        .any(|c| c.trim().eq_ignore_ascii_case(g.trim()))
                });
                (!applied).then_some(Gap::Voucher)
            }
        };
        out.extend(gap);
    }
    if !out.is_empty() {
        return;
    }
    if let Some(step) = p.benefit.recurrence {
        let has_pc = p.conditions.iter().any(|c| c.products().is_some());
        let (mut units, mut amount) = (0i64, 0i64);
        for i in 0..view.len() {
            if !has_pc || (0..p.conditions.len()).any(|c| matches(c, i)) {
                units = units.saturating_add(view.units[i]);
                amount = amount.saturating_add(view.amount[i]);
            }
        }
        out.extend(match step {
            Recurrence::Items { every } if units < every => Some(Gap::ProductQuantity {
                condition: None,
                at_least: every,
                missing: every - units,
            }),
            Recurrence::Amount { every } if amount < every && has_pc => Some(Gap::ProductAmount {
                condition: None,
                at_least: every,
                missing: every - amount,
            }),
            Recurrence::Amount { every } if amount < every => Some(Gap::CartAmount {
                at_least: every,
                missing: every - amount,
            }),
            _ => None,
        });
    }
    if let Target::Products {
        criteria: Criteria::AllOf { skus },
        ..
    } = &p.benefit.target
    {
        let missing = skus.iter().filter(|s| !present(view, s)).count();
        if missing > 0 {
            out.push(Gap::Missing(skus, missing));
        }
    }
}
