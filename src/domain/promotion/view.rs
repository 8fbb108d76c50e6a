//! The cart as the engine reads it (lines in canonical order, names hashed once) and the
//! working space reused across promotions within one evaluation.

use super::cart::CartLine;
use super::model::{Condition, Promotion};
use super::products::LineKeys;
use super::spread::spread;

/// The cart's lines in canonical order (by SKU, quantity, unit price, category, brand,
/// attributes, then input position), with their units and gross amounts.
pub(super) struct CartView<'a> {
    pub lines: Vec<&'a CartLine>,
    /// Each line's names, hashed.
    pub keys: Vec<LineKeys>,
    /// Canonical position → index in `Cart::lines`.
    pub input: Vec<usize>,
    pub units: Vec<i64>,
    /// Unit price, never negative.
    pub price: Vec<i64>,
    pub amount: Vec<i64>,
    pub subtotal: i64,
    /// Distinct SKUs with units.
    pub distinct: i64,
}

impl<'a> CartView<'a> {
    /// The view of `lines`.
    pub fn new(lines: &'a [CartLine]) -> CartView<'a> {
        let mut input: Vec<usize> = (0..lines.len()).collect();
        input.sort_by(|&a, &b| lines[a].cmp(&lines[b]).then(a.cmp(&b)));
        let lines: Vec<&CartLine> = input.iter().map(|&i| &lines[i]).collect();
        let keys = lines.iter().map(|l| LineKeys::of(l)).collect();
        let units: Vec<i64> = lines.iter().map(|l| l.units()).collect();
        let price = lines.iter().map(|l| l.unit_price.max(0)).collect();
        let amount: Vec<i64> = lines.iter().map(|l| l.amount()).collect();
        let subtotal = amount.iter().fold(0i64, |a, &b| a.saturating_add(b));
        let mut distinct = 0;
        let mut last: Option<&str> = None;
        for (l, &u) in lines.iter().zip(&units) {
            if u > 0 && last != Some(l.sku.as_str()) {
                distinct += 1;
                last = Some(l.sku.as_str());
            }
        }
        CartView {
            lines,
            keys,
            input,
            units,
            price,
            amount,
            subtotal,
            distinct,
        }
    }

    /// How many lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }
}

/// Working space reused across promotions within one evaluation (no allocation per
/// promotion once warmed up).
#[derive(Default)]
pub(super) struct Scratch {
    /// Per canonical line: bit `c` set when the line is one of condition `c`'s products
    /// (conditions 0..63; see `match_conditions`).
    pub masks: Vec<u64>,
    /// Per line: counted by the promotion (pool) and/or rewarded by it (target).
    pub flags: Vec<u8>,
    /// Per line: units consumed by conditions or taken by the benefit.
    pub used: Vec<i64>,
    /// Per line: units taken by the benefit (for their cumulative value).
    pub taken: Vec<i64>,
    /// Per line: units planned for an application not yet committed.
    pub pending: Vec<i64>,
    /// Per line: value the benefit applies to (all but bundles).
    pub base: Vec<i64>,
    /// After `effect`: the promotion's discount on each canonical line.
    pub share: Vec<i64>,
    /// Rewarded lines, cheapest unit first.
    pub reward_order: Vec<usize>,
    /// Counted lines, in the order the condition consumes them.
    pub consume_order: Vec<usize>,
    /// The application being planned: (line, units, rewarded?).
    pub plan: Vec<(usize, i64, bool)>,
    /// The bundle being formed: its lines and their values, and its split.
    pub group_lines: Vec<usize>,
    pub group_values: Vec<i64>,
    pub group_parts: Vec<i64>,
    /// Working space of `spread`.
    pub remainders: Vec<(i128, usize)>,
}

impl Scratch {
    /// Clears the per-promotion space for `n` lines (keeps `masks`).
    pub fn reset(&mut self, n: usize) {
        for v in [
            &mut self.used,
            &mut self.taken,
            &mut self.pending,
            &mut self.base,
            &mut self.share,
        ] {
            v.clear();
            v.resize(n, 0);
        }
        self.flags.clear();
        self.flags.resize(n, 0);
        self.plan.clear();
        self.group_lines.clear();
        self.group_values.clear();
    }

    /// Re-spreads `total` (≤ the current shares) over the current shares.
    pub fn trim_shares(&mut self, total: i64) {
        let weights = std::mem::take(&mut self.share);
        self.share.resize(weights.len(), 0);
        spread(total, &weights, &mut self.share, &mut self.remainders);
    }
}

/// Fills `s.masks` with the product conditions of `p` each line matches; `gaps` and `effect`
/// read them, so product filters are matched once per line and promotion.
pub(super) fn match_conditions(p: &Promotion, view: &CartView, s: &mut Scratch) {
    s.masks.clear();
    s.masks
        .extend(view.lines.iter().zip(&view.keys).map(|(line, keys)| {
            let products = p.conditions.iter().take(63).map(Condition::products);
            products.enumerate().fold(0u64, |mask, (c, f)| match f {
                Some(f) if f.matches_keyed(line, keys) => mask | (1 << c),
                _ => mask,
            })
        }));
}

/// Whether canonical line `i` is one of condition `c`'s products, from `masks`.
pub(super) fn in_condition(
    p: &Promotion,
    view: &CartView,
    masks: &[u64],
    c: usize,
    i: usize,
) -> bool {
    match p.conditions[c].products() {
        None => false,
        Some(_) if c < 63 => masks[i] >> c & 1 == 1,
        Some(f) => f.matches_keyed(view.lines[i], &view.keys[i]),
    }
}
