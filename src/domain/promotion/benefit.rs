//! What one promotion's benefit is worth on a cart whose conditions it meets, and how it
//! splits over the lines: applications, consumed and rewarded units, free units added.
//!
//! Lines are looked at in canonical order (see `CartView`). Within one promotion, units are
//! chosen by their value per unit (the line's remaining amount ÷ its units): the condition
//! takes the dearest units, the reward the cheapest; ties go to the earlier canonical line.

use super::model::{Condition, Promotion, Recurrence, Target, Value};
use super::products::Criteria;
use super::spread::{percent_of, spread};
use super::view::{CartView, Scratch, in_condition};
use std::cmp::Ordering;

/// The most applications of one promotion in one cart (a guard against absurd quantities).
pub const MAX_APPLICATIONS: i64 = 10_000;

const POOL: u8 = 1;
const TARGET: u8 = 2;

/// One promotion's benefit on the cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Effect {
    pub discount: i64,
    pub applications: i64,
    /// Units of the free SKU to add as a new line.
    pub added: i64,
    /// More applications were possible than the per-cart limit allows.
    pub per_cart_capped: bool,
}

/// The benefit of `p` on lines whose remaining amounts are `remaining` (canonical order),
/// assuming its conditions are met; `masks` are its lines' product conditions
/// (`match_conditions`). With `split`, leaves the per-line split in `s.share` (ranking needs
/// only the total).
pub(super) fn effect(
    p: &Promotion,
    view: &CartView,
    masks: &[u64],
    remaining: &[i64],
    s: &mut Scratch,
    split: bool,
) -> Effect {
    s.reset(view.len());
    let mut calc = Calc {
        p,
        view,
        masks,
        remaining,
        s,
        split,
        bundle: match p.benefit.value {
            Value::FixedPrice { price } => Some(price.max(0)),
            _ => None,
        },
        bundle_discount: 0,
        added: 0,
        plan_added: 0,
        has_product_condition: p.conditions.iter().any(|c| c.products().is_some()),
    };
    calc.mark();
    let cap = p
        .limits
        .per_cart
        .map_or(MAX_APPLICATIONS, |c| c.clamp(0, MAX_APPLICATIONS));
    let (applications, per_cart_capped) = match &p.benefit.target {
        Target::Cart => calc.whole_cart(cap),
        Target::ConditionItems => calc.condition_items(cap),
        Target::Products { criteria, quantity } => calc.over_and_above(criteria, *quantity, cap),
    };
    let base: i64 = calc.s.base.iter().fold(0i64, |a, &b| a.saturating_add(b));
    let discount = match p.benefit.value {
        _ if applications == 0 => 0,
        Value::Amount { amount } => applications.saturating_mul(amount.max(0)).min(base),
        Value::Percent { basis_points } => percent_of(base, basis_points),
        Value::Free => base,
        Value::FixedPrice { .. } => calc.bundle_discount,
    };
    let added = calc.added;
    if split && calc.bundle.is_none() {
        spread(discount, &s.base, &mut s.share, &mut s.remainders);
    }
    Effect {
        discount,
        applications,
        added,
        // Not when only the MAX_APPLICATIONS guard stopped it.
        per_cart_capped: per_cart_capped && p.limits.per_cart.is_some(),
    }
}

/// Units of the promotion's counted products ("pool"): the lines of its product conditions,
/// or every line when it has none.
fn pool_steps(recurrence: Option<Recurrence>, units: i64, amount: i64) -> i64 {
    match recurrence {
        None => 1,
        Some(Recurrence::Items { every }) => units / every.max(1),
        Some(Recurrence::Amount { every }) => amount / every.max(1),
    }
}

struct Calc<'p, 'v, 'a, 'r, 's> {
    p: &'p Promotion,
    view: &'v CartView<'a>,
    masks: &'r [u64],
    remaining: &'r [i64],
    s: &'s mut Scratch,
    /// Whether to split the discount over the lines.
    split: bool,
    /// The bundle price of a fixed-price benefit.
    bundle: Option<i64>,
    bundle_discount: i64,
    added: i64,
    plan_added: i64,
    has_product_condition: bool,
}

impl Calc<'_, '_, '_, '_, '_> {
    fn mark(&mut self) {
        let criteria = match &self.p.benefit.target {
            Target::Products { criteria, .. } => Some(criteria),
            _ => None,
        };
        for (i, line) in self.view.lines.iter().enumerate() {
            if self.view.units[i] <= 0 {
                continue;
            }
            let in_pool = !self.has_product_condition
                || (0..self.p.conditions.len()).any(|c| self.in_condition(c, i));
            let in_target = criteria.is_some_and(|c| c.matches_keyed(line, &self.view.keys[i]));
            self.s.flags[i] = (u8::from(in_pool) * POOL) | (u8::from(in_target) * TARGET);
        }
    }

    fn in_condition(&self, c: usize, i: usize) -> bool {
        in_condition(self.p, self.view, self.masks, c, i)
    }

    fn pool_totals(&self) -> (i64, i64) {
        (0..self.view.len())
            .filter(|&i| self.s.flags[i] & POOL != 0)
            .fold((0i64, 0i64), |(u, a), i| {
                (
                    u.saturating_add(self.view.units[i]),
                    a.saturating_add(self.view.amount[i]),
                )
            })
    }

    fn avail(&self, i: usize) -> i64 {
        self.view.units[i] - self.s.used[i] - self.s.pending[i]
    }

    /// Compares the remaining value per unit of two lines.
    fn by_value(&self, a: usize, b: usize) -> Ordering {
        let (ra, rb) = (
            i128::from(self.remaining[a].max(0)),
            i128::from(self.remaining[b].max(0)),
        );
        let (ua, ub) = (
            i128::from(self.view.units[a]),
            i128::from(self.view.units[b]),
        );
        (ra * ub).cmp(&(rb * ua))
    }

    /// Cheapest unit first, then canonical position.
    fn cheaper(&self, a: usize, b: usize) -> Ordering {
        self.by_value(a, b).then(a.cmp(&b))
    }

    /// Dearest unit first, then canonical position.
    fn dearer(&self, a: usize, b: usize) -> Ordering {
        self.by_value(b, a).then(a.cmp(&b))
    }

    /// Refills `order` with the lines having `flag`, sorted by `by`.
    fn fill_order(
        &self,
        order: &mut Vec<usize>,
        flag: u8,
        by: impl Fn(&Self, usize, usize) -> Ordering,
    ) {
        order.clear();
        order.extend((0..self.view.len()).filter(|&i| self.s.flags[i] & flag != 0));
        order.sort_by(|&a, &b| by(self, a, b));
    }

    /// Takes `k` units of line `i` for the benefit: their share of the line's remaining
    /// amount (cumulative, so all of a line's units add up to exactly its remaining amount).
    fn take(&mut self, i: usize, k: i64) {
        if k <= 0 {
            return;
        }
        let (q, r, t) = (
            self.view.units[i],
            self.remaining[i].max(0),
            self.s.taken[i],
        );
        let value = match r.checked_mul(t + k) {
            Some(upto) => upto / q - r * t / q,
            None => {
                let (q, r, t) = (i128::from(q), i128::from(r), i128::from(t));
                i64::try_from(r * (t + i128::from(k)) / q - r * t / q).unwrap_or(0)
            }
        };
        self.s.taken[i] += k;
        self.s.used[i] += k;
        if self.bundle.is_some() {
            self.s.group_lines.push(i);
            self.s.group_values.push(value);
        } else {
            self.s.base[i] = self.s.base[i].saturating_add(value);
        }
    }

    /// Ends one bundle: its units together cost the bundle price.
    fn close_group(&mut self) {
        let Some(price) = self.bundle else { return };
        let s = &mut *self.s;
        let value: i64 = s
            .group_values
            .iter()
            .fold(0i64, |a, &b| a.saturating_add(b));
        let discount = value.saturating_sub(price).max(0);
        if self.split {
            s.group_parts.clear();
            s.group_parts.resize(s.group_values.len(), 0);
            spread(
                discount,
                &s.group_values,
                &mut s.group_parts,
                &mut s.remainders,
            );
            for (j, &i) in s.group_lines.iter().enumerate() {
                s.share[i] += s.group_parts[j];
            }
        }
        self.bundle_discount = self.bundle_discount.saturating_add(discount);
        s.group_lines.clear();
        s.group_values.clear();
    }

    /// Scope cart: the steps counted on the pool, the benefit on every line.
    fn whole_cart(&mut self, cap: i64) -> (i64, bool) {
        let (units, amount) = self.pool_totals();
        let wanted = pool_steps(self.p.benefit.recurrence, units, amount);
        let apps = wanted.min(cap);
        if apps > 0 {
            for i in 0..self.view.len() {
                self.take(i, self.view.units[i].max(0));
            }
            self.close_group();
        }
        (apps, wanted > apps)
    }

    /// "Selected in condition": the benefit on the units that met the product conditions —
    /// all of them, or the dearest `every` units per step for a per-item recurrence or a
    /// bundle.
    fn condition_items(&mut self, cap: i64) -> (i64, bool) {
        let (units, amount) = self.pool_totals();
        let recurrence = self.p.benefit.recurrence;
        let wanted = pool_steps(recurrence, units, amount);
        let mut apps = wanted.min(cap);
        let group = match recurrence {
            Some(Recurrence::Items { every }) => Some(every.max(1)),
            Some(Recurrence::Amount { .. }) => None,
            None if self.bundle.is_some() => self
                .p
                .conditions
                .iter()
                .filter_map(|c| match c {
                    Condition::ProductQuantity { at_least, .. } => Some(*at_least),
                    _ => None,
                })
                .max()
                .filter(|&g| g > 0),
            None => None,
        };
        match group {
            Some(size) => {
                if units < size {
                    apps = 0;
                }
                let mut order = std::mem::take(&mut self.s.consume_order);
                self.fill_order(&mut order, POOL, Self::dearer);
                for _ in 0..apps {
                    let mut need = size;
                    for &i in &order {
                        let k = self.avail(i).min(need);
                        self.take(i, k);
                        need -= k.max(0);
                    }
                    self.close_group();
                }
                self.s.consume_order = order;
            }
            None if apps > 0 => {
                for i in 0..self.view.len() {
                    if self.s.flags[i] & POOL != 0 {
                        self.take(i, self.view.units[i]);
                    }
                }
                self.close_group();
            }
            None => {}
        }
        (apps, wanted > apps)
    }

    /// "Over and above the condition": each application consumes the condition's units
    /// (dearest first, products that are not rewarded first) and rewards the cheapest
    /// rewarded units left.
    fn over_and_above(
        &mut self,
        criteria: &Criteria,
        quantity: Option<i64>,
        cap: i64,
    ) -> (i64, bool) {
        let mut order = std::mem::take(&mut self.s.reward_order);
        if quantity.is_none() && !matches!(criteria, Criteria::AllOf { .. }) {
            // Every rewarded unit is taken: their order does not matter.
            self.fill_order(&mut order, TARGET, |_, a, b| a.cmp(&b));
        } else {
            self.fill_order(&mut order, TARGET, Self::cheaper);
        }
        self.s.reward_order = order;
        if self.has_product_condition {
            let mut order = std::mem::take(&mut self.s.consume_order);
            self.fill_order(&mut order, POOL, |c, a, b| {
                (c.s.flags[a] & TARGET)
                    .cmp(&(c.s.flags[b] & TARGET))
                    .then(c.dearer(a, b))
            });
            self.s.consume_order = order;
        }
        let recurring = self.p.benefit.recurrence.is_some();
        let wanted = if self.has_product_condition {
            if recurring { i64::MAX } else { 1 }
        } else {
            let (units, amount) = self.pool_totals();
            pool_steps(self.p.benefit.recurrence, units, amount)
        };
        let mut apps = 0;
        while apps < wanted.min(cap) {
            if !self.plan_application(criteria, quantity) {
                self.drop_plan();
                break;
            }
            self.commit();
            apps += 1;
        }
        let capped = apps == cap
            && wanted > cap
            && (!self.has_product_condition || {
                let more = self.plan_application(criteria, quantity);
                self.drop_plan();
                more
            });
        (apps, capped)
    }

    fn plan_application(&mut self, criteria: &Criteria, quantity: Option<i64>) -> bool {
        if self.has_product_condition {
            let consumed = match self.p.benefit.recurrence {
                Some(Recurrence::Items { every }) => self.plan_units(None, every.max(1)),
                Some(Recurrence::Amount { every }) => self.plan_amount(None, every.max(1)),
                None => (0..self.p.conditions.len()).all(|c| match self.p.conditions[c] {
                    Condition::ProductQuantity { at_least, .. } => {
                        self.plan_units(Some(c), at_least)
                    }
                    Condition::ProductAmount { at_least, .. } => {
                        self.plan_amount(Some(c), at_least)
                    }
                    _ => true,
                }),
            };
            if !consumed {
                return false;
            }
        }
        let (got, added) = self.plan_reward(criteria, quantity);
        self.plan_added = added;
        got > 0 || added > 0
    }

    fn plan(&mut self, i: usize, k: i64, reward: bool) {
        self.s.pending[i] += k;
        self.s.plan.push((i, k, reward));
    }

    /// Plans `need` units of the pool (or of condition `only`'s products) for the condition.
    fn plan_units(&mut self, only: Option<usize>, need: i64) -> bool {
        let mut got = 0;
        for j in 0..self.s.consume_order.len() {
            if got >= need {
                break;
            }
            let i = self.s.consume_order[j];
            if only.is_some_and(|c| !self.in_condition(c, i)) {
                continue;
            }
            let k = self.avail(i).min(need - got);
            if k > 0 {
                self.plan(i, k, false);
                got += k;
            }
        }
        got >= need
    }

    /// Plans units of the pool (or of condition `only`'s products) worth at least `need`
    /// (gross).
    fn plan_amount(&mut self, only: Option<usize>, need: i64) -> bool {
        let mut got = 0i64;
        for j in 0..self.s.consume_order.len() {
            if got >= need {
                break;
            }
            let i = self.s.consume_order[j];
            let price = self.view.price[i];
            if price == 0 || only.is_some_and(|c| !self.in_condition(c, i)) {
                continue;
            }
            let short = need - got;
            let k = self.avail(i).min((short - 1) / price + 1);
            if k > 0 {
                self.plan(i, k, false);
                got = got.saturating_add(k.saturating_mul(price));
            }
        }
        got >= need
    }

    /// Plans the rewarded units of one application: (units found, free units to add).
    fn plan_reward(&mut self, criteria: &Criteria, quantity: Option<i64>) -> (i64, i64) {
        let want = quantity.unwrap_or(i64::MAX);
        let mut got = 0;
        match criteria {
            Criteria::AllOf { skus } => {
                let mut sets = want;
                for sku in skus {
                    let here: i64 = (0..self.view.len())
                        .filter(|&i| {
                            self.s.flags[i] & TARGET != 0 && self.view.lines[i].sku == *sku
                        })
                        .map(|i| self.avail(i))
                        .sum();
                    sets = sets.min(here);
                }
                if skus.is_empty() || sets <= 0 {
                    return (0, 0);
                }
                for sku in skus {
                    let mut need = sets;
                    for j in 0..self.s.reward_order.len() {
                        let i = self.s.reward_order[j];
                        if need > 0 && self.view.lines[i].sku == *sku {
                            let k = self.avail(i).min(need);
                            self.plan(i, k, true);
                            need -= k;
                        }
                    }
                }
                (sets.saturating_mul(skus.len() as i64), 0)
            }
            Criteria::Sku { .. } | Criteria::Filter { .. } => {
                for j in 0..self.s.reward_order.len() {
                    if got >= want {
                        break;
                    }
                    let i = self.s.reward_order[j];
                    let k = self.avail(i).min(want - got);
                    if k > 0 {
                        self.plan(i, k, true);
                        got += k;
                    }
                }
                let adds = matches!(criteria, Criteria::Sku { .. })
                    && self.p.benefit.value == Value::Free
                    && quantity.is_some();
                (got, if adds { want - got } else { 0 })
            }
        }
    }

    fn commit(&mut self) {
        let plan = std::mem::take(&mut self.s.plan);
        for &(i, k, reward) in &plan {
            self.s.pending[i] -= k;
            if reward {
                self.take(i, k);
            } else {
                self.s.used[i] += k;
            }
        }
        self.s.plan = plan;
        self.s.plan.clear();
        self.added = self.added.saturating_add(self.plan_added);
        self.plan_added = 0;
        self.close_group();
    }

    fn drop_plan(&mut self) {
        for &(i, k, _) in &self.s.plan {
            self.s.pending[i] -= k;
        }
        self.s.plan.clear();
        self.plan_added = 0;
    }
}
