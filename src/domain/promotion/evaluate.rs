//! `evaluate`: which promotions apply to a cart, in which order, for how much — and why the
//! others do not. See the rules in the module documentation (`mod.rs`).

use super::benefit::{Effect, effect};
use super::cart::{Cart, Held};
use super::check::{Gap, Moment, eligibility, gaps};
use super::model::{Kind, Promotion, Remaining, Stacking, Target, Usage, Value};
use super::outcome::{
    AddedLine, Applied, Evaluation, Hint, Limit, LineDiscount, Need, NotApplied, Reason,
    RejectedCode,
};
use super::products::Criteria;
use super::view::{CartView, Scratch, match_conditions};
use chrono::{Datelike, Timelike};
use chrono_tz::Tz;
use std::cmp::{Ordering, Reverse};

/// A promotion's place in the seed's ranking order; the smaller ranks first: segmented,
/// then reward, then code-linked (each a yes/no, compared in that order), then earliest
/// expiry, then the larger discount, then the lower id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    class: u8,
    /// Microseconds of the earlier of the promotion's end and the customer's hold; MAX = never.
    expiry: i64,
    discount: Reverse<i64>,
    id: i64,
}

fn rank(p: &Promotion, hold: Option<&Held>, discount: i64) -> Rank {
    let not = |yes: bool| u8::from(!yes);
    let ends = [p.validity.ends, hold.and_then(|h| h.until)];
    Rank {
        class: not(p.eligibility.is_segmented()) << 2
            | not(p.kind == Kind::Reward) << 1
            | not(matches!(p.kind, Kind::CodeLinked { .. })),
        expiry: ends
            .iter()
            .flatten()
            .map(|e| e.timestamp_micros())
            .min()
            .unwrap_or(i64::MAX),
        discount: Reverse(discount),
        id: p.id,
    }
}

/// A promotion that reaches the cart, is eligible, within its limits, and whose conditions
/// are met; `masks` is where its lines' product conditions are kept in `Run::mask_store`.
#[derive(Debug, Clone, Copy)]
struct Qualified<'a> {
    index: usize,
    code: Option<usize>,
    hold: Option<&'a Held>,
    masks: usize,
}

/// A qualified promotion that gives something on its own, with its rank.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    index: usize,
    code: Option<usize>,
    masks: usize,
    rank: Rank,
}

#[derive(Debug, Default)]
struct CodeState {
    matched: bool,
    applied: bool,
    promotion: Option<i64>,
    reason: Option<Reason>,
    /// The first entered code of the same promotion, when this one is another of its codes.
    same_as: Option<usize>,
}

/// Compares codes ignoring ASCII case.
fn cmp_codes(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_uppercase())
        .cmp(b.bytes().map(|c| c.to_ascii_uppercase()))
        .then(a.cmp(b))
}

/// The entered codes trimmed, without blanks and case-insensitive duplicates, sorted.
fn entered_codes(raw: &[String]) -> Vec<&str> {
    let mut codes: Vec<&str> = raw
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    codes.sort_by(|a, b| cmp_codes(a, b));
    codes.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    codes
}

/// The first limit with nothing left.
fn exhausted(r: &Remaining) -> Option<Limit> {
    let none_left = |v: Option<i64>| v.is_some_and(|v| v <= 0);
    if none_left(r.uses) {
        Some(Limit::GlobalUses)
    } else if none_left(r.customer_uses) {
        Some(Limit::CustomerUses)
    } else if none_left(r.customer_value) {
        Some(Limit::CustomerValue)
    } else {
        None
    }
}

/// Whether `evaluate` reads usages `a` and `b` alike, so that all else equal they give the same
/// evaluation: of a promotion's usage it reads only which limit has nothing left and the
/// discount value left (uses left above zero make no difference).
pub fn same_bearing(a: &Usage, b: &Usage) -> bool {
    a.ids().chain(b.ids()).all(|id| {
        let (x, y) = (a.of(id), b.of(id));
        exhausted(&x) == exhausted(&y) && x.customer_value == y.customer_value
    })
}

/// Evaluates `cart` against `promotions` (ids unique) with what is left of their limits in
/// `usage`, days and hours read in `tz`. Pure and deterministic: the same cart, promotions and
/// usage give the same evaluation whatever the order of lines, promotions and codes.
pub fn evaluate(cart: &Cart, promotions: &[Promotion], usage: &Usage, tz: Tz) -> Evaluation {
    let local = cart.at.with_timezone(&tz);
    let view = CartView::new(&cart.lines);
    let codes = entered_codes(&cart.codes);
    let mut run = Run {
        cart,
        promotions,
        usage,
        moment: Moment {
            at: cart.at,
            weekday: local.weekday(),
            minute: (local.hour() * 60 + local.minute()) as u16,
        },
        code_state: codes.iter().map(|_| CodeState::default()).collect(),
        codes,
        remaining: view.amount.clone(),
        out: Evaluation {
            subtotal: view.subtotal,
            lines: vec![0; view.len()],
            ..Evaluation::default()
        },
        view,
        s: Scratch::default(),
        gaps: Vec::new(),
        qualified: Vec::new(),
        mask_store: Vec::new(),
        hints: Vec::new(),
    };
    let mut order: Vec<usize> = (0..promotions.len()).collect();
    order.sort_by_key(|&i| promotions[i].id);
    for i in order {
        run.consider(i);
    }
    run.resolve();
    run.finish()
}

struct Run<'a> {
    cart: &'a Cart,
    promotions: &'a [Promotion],
    usage: &'a Usage,
    view: CartView<'a>,
    moment: Moment,
    codes: Vec<&'a str>,
    code_state: Vec<CodeState>,
    /// Each canonical line's amount not yet discounted.
    remaining: Vec<i64>,
    s: Scratch,
    gaps: Vec<Gap<'a>>,
    qualified: Vec<Qualified<'a>>,
    /// The qualified promotions' product-condition masks, one block of lines each.
    mask_store: Vec<u64>,
    hints: Vec<(Rank, Hint)>,
    out: Evaluation,
}

impl<'a> Run<'a> {
    /// How `p` reaches the cart: (its first entered code, the customer's hold), or None when
    /// it does not (code not entered, promotion not held).
    fn reach(&mut self, p: &Promotion) -> Option<(Option<usize>, Option<&'a Held>)> {
        match &p.kind {
            Kind::Automatic => Some((None, None)),
            Kind::Earned | Kind::Reward => {
                let hold = self.cart.customer.as_ref()?.holds(p.id, self.cart.at)?;
                Some((None, Some(hold)))
            }
            Kind::CodeLinked { codes } => {
                let mut first = None;
                for (ci, entered) in self.codes.iter().enumerate() {
                    if codes.iter().any(|c| c.trim().eq_ignore_ascii_case(entered)) {
                        let state = &mut self.code_state[ci];
                        state.matched = true;
                        state.promotion.get_or_insert(p.id);
                        match first {
                            None => first = Some(ci),
                            Some(f) => state.same_as = Some(f),
                        }
                    }
                }
                first.map(|ci| (Some(ci), None))
            }
        }
    }

    fn reject(&mut self, code: Option<usize>, reason: Reason) {
        if let Some(ci) = code {
            self.code_state[ci].reason.get_or_insert(reason);
        }
    }

    /// A promotion that qualified but did not apply: a rejected code, or a note.
    fn leave_out(&mut self, p: &Promotion, code: Option<usize>, reason: Reason) {
        if code.is_some() {
            self.reject(code, reason);
        } else {
            self.out.not_applied.push(NotApplied {
                promotion: p.id,
                name: p.name.clone(),
                reason,
            });
        }
    }

    fn hint(&mut self, p: &Promotion, hold: Option<&Held>, needs: Vec<Need>) {
        let hint = Hint {
            promotion: p.id,
            name: p.name.clone(),
            needs,
        };
        self.hints.push((rank(p, hold, 0), hint));
    }

    /// Checks whether one promotion reaches the cart, is eligible, within its limits and has
    /// its conditions met; keeps it as qualified, or notes why not (rejected code, hint).
    fn consider(&mut self, index: usize) {
        let p: &'a Promotion = &self.promotions[index];
        let Some((code, hold)) = self.reach(p) else {
            return;
        };
        if let Err(reason) = eligibility(p, self.cart, &self.moment) {
            return self.reject(code, reason);
        }
        let limit = exhausted(&self.usage.of(p.id));
        if let (Some(limit), Some(_)) = (limit, code) {
            return self.reject(code, Reason::LimitReached { limit });
        }
        let mut found = std::mem::take(&mut self.gaps);
        match_conditions(p, &self.view, &mut self.s);
        gaps(p, &self.view, self.cart, &self.s.masks, &mut found);
        if let Some(first) = found.first() {
            if code.is_some() {
                let reason = first.reason(&self.view);
                self.reject(code, reason);
            }
            if limit.is_none() && found.iter().all(Gap::nearly) {
                let needs = found.iter().filter_map(|g| g.need(&self.view)).collect();
                self.hint(p, hold, needs);
            }
            self.gaps = found;
            return;
        }
        self.gaps = found;
        if let Some(limit) = limit {
            return self.leave_out(p, code, Reason::LimitReached { limit });
        }
        let masks = self.mask_store.len();
        self.mask_store.extend_from_slice(&self.s.masks);
        self.qualified.push(Qualified {
            index,
            code,
            hold,
            masks,
        });
    }

    /// The qualified promotion's benefit on its own (on the gross cart), as a candidate; or
    /// None, with the reason noted, when it gives nothing.
    fn alone(&mut self, q: &Qualified<'a>) -> Option<Candidate> {
        let p: &'a Promotion = &self.promotions[q.index];
        let masks = &self.mask_store[q.masks..q.masks + self.view.len()];
        let alone = effect(p, &self.view, masks, &self.view.amount, &mut self.s, false);
        if alone.applications == 0 || (alone.discount == 0 && alone.added == 0) {
            let reason = match &p.benefit.target {
                Target::Products { criteria, .. }
                    if alone.applications == 0 && p.benefit.value != Value::Free =>
                {
                    Reason::RewardMissing {
                        sku: match criteria {
                            Criteria::Sku { sku } => Some(sku.clone()),
                            _ => None,
                        },
                    }
                }
                _ => Reason::NothingToDiscount,
            };
            if let Reason::RewardMissing { sku: Some(sku) } = &reason {
                let need = Need::AddProduct { sku: sku.clone() };
                self.hint(p, q.hold, vec![need]);
            }
            self.reject(q.code, reason);
            return None;
        }
        let discount = self
            .usage
            .of(p.id)
            .customer_value
            .map_or(alone.discount, |v| alone.discount.min(v));
        Some(Candidate {
            index: q.index,
            code: q.code,
            masks: q.masks,
            rank: rank(p, q.hold, discount),
        })
    }

    /// Exclusive beats stackable: the best-ranked exclusive candidate applies alone and the
    /// others are left out (stackables are not even computed, unless a missing reward could
    /// be hinted). Without one, every stackable candidate applies in rank order, each on what
    /// the earlier ones left of each line.
    fn resolve(&mut self) {
        let (exclusive, stackable): (Vec<Qualified>, Vec<Qualified>) =
            std::mem::take(&mut self.qualified)
                .into_iter()
                .partition(|q| self.promotions[q.index].stacking == Stacking::Exclusive);
        let exclusives: Vec<Candidate> = exclusive.iter().filter_map(|q| self.alone(q)).collect();
        if let Some(&winner) = exclusives.iter().min_by_key(|c| (c.rank, c.index)) {
            let p = &self.promotions[winner.index];
            let blocked = Reason::BlockedByExclusive {
                promotion: p.id,
                name: p.name.clone(),
            };
            self.apply(winner);
            for c in exclusives.iter().filter(|c| c.index != winner.index) {
                self.leave_out(&self.promotions[c.index], c.code, blocked.clone());
            }
            for q in &stackable {
                let p: &'a Promotion = &self.promotions[q.index];
                let hintable = p.benefit.value != Value::Free
                    && matches!(
                        p.benefit.target,
                        Target::Products {
                            criteria: Criteria::Sku { .. },
                            ..
                        }
                    );
                if !(hintable && self.alone(q).is_none()) {
                    self.leave_out(p, q.code, blocked.clone());
                }
            }
        } else {
            let mut candidates: Vec<Candidate> =
                stackable.iter().filter_map(|q| self.alone(q)).collect();
            candidates.sort_by_key(|c| (c.rank, c.index));
            for c in candidates {
                self.apply(c);
            }
        }
    }

    /// Applies a candidate on the remaining amounts, within its customer-value limit.
    fn apply(&mut self, c: Candidate) {
        let p: &'a Promotion = &self.promotions[c.index];
        let masks = &self.mask_store[c.masks..c.masks + self.view.len()];
        let Effect {
            mut discount,
            applications,
            added,
            per_cart_capped,
        } = effect(p, &self.view, masks, &self.remaining, &mut self.s, true);
        let mut limited_by = Vec::new();
        if per_cart_capped {
            limited_by.push(Limit::PerCart);
        }
        if let Some(v) = self.usage.of(p.id).customer_value
            && discount > v
        {
            self.s.trim_shares(v);
            discount = v;
            limited_by.push(Limit::CustomerValue);
        }
        if applications == 0 || (discount == 0 && added == 0) {
            return self.leave_out(p, c.code, Reason::NothingLeft);
        }
        let mut lines = Vec::new();
        for (i, &share) in self.s.share.iter().enumerate() {
            if share > 0 {
                let line = self.view.input[i];
                self.remaining[i] -= share;
                self.out.lines[line] += share;
                lines.push(LineDiscount {
                    line,
                    discount: share,
                });
            }
        }
        lines.sort_by_key(|l| l.line);
        if added > 0
            && let Target::Products {
                criteria: Criteria::Sku { sku },
                ..
            } = &p.benefit.target
        {
            self.out.added.push(AddedLine {
                sku: sku.clone(),
                quantity: added,
                promotion: p.id,
            });
        }
        if let Some(ci) = c.code {
            self.code_state[ci].applied = true;
        }
        self.out.discount += discount;
        self.out.applied.push(Applied {
            promotion: p.id,
            name: p.name.clone(),
            kind: p.kind.name(),
            stacking: p.stacking,
            code: c.code.map(|ci| self.codes[ci].to_string()),
            discount,
            applications,
            lines,
            added_units: added,
            limited_by,
        });
    }

    fn finish(mut self) -> Evaluation {
        for ci in 0..self.codes.len() {
            let state = &self.code_state[ci];
            if state.applied {
                continue;
            }
            let first = state.same_as.map(|f| &self.code_state[f]);
            let reason = match (state.matched, first) {
                (false, _) => Reason::NoSuchCode,
                (true, Some(f)) if f.applied => Reason::SamePromotionAs {
                    code: self.codes[state.same_as.unwrap_or(ci)].to_string(),
                },
                _ => state
                    .reason
                    .clone()
                    .or_else(|| first.and_then(|f| f.reason.clone()))
                    .unwrap_or(Reason::NothingToDiscount),
            };
            self.out.rejected.push(RejectedCode {
                code: self.codes[ci].to_string(),
                promotion: state.promotion,
                reason,
            });
        }
        self.hints
            .sort_by_key(|(r, h)| (r.class, r.expiry, h.promotion));
        self.out.hints = self.hints.into_iter().map(|(_, h)| h).collect();
        self.out.not_applied.sort_by_key(|n| n.promotion);
        debug_assert_eq!(self.out.discount, self.out.lines.iter().sum::<i64>());
        self.out
    }
}
