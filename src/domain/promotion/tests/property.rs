//! Properties over a few hundred random carts and promotion sets (a small xorshift generator,
//! no extra crate), and the documented cases where adding a line lowers a discount.

use super::*;
use chrono::Duration;

/// xorshift64: a tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: i64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as i64
    }

    fn chance(&mut self, percent: i64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as i64) as usize]
    }

    fn some(&mut self, from: &[&str]) -> NameSet {
        (0..1 + self.below(2))
            .map(|_| self.pick(from).to_string())
            .collect()
    }
}

const SKUS: [&str; 6] = ["A", "B", "C", "D", "E", "F"];
const BRANDS: [&str; 2] = ["Nike", "Puma"];
const CATEGORIES: [&str; 3] = ["tees", "jeans", "shoes"];
const COLOURS: [&str; 2] = ["red", "blue"];
const CODES: [&str; 4] = ["C1", "C2", "C3", "NONE"];

fn random_line(g: &mut Rng) -> CartLine {
    let mut line = CartLine::new(
        g.pick(&SKUS),
        if g.chance(5) {
            g.below(2) - 1
        } else {
            1 + g.below(4)
        },
        if g.chance(5) { 0 } else { 1 + g.below(60_000) },
    );
    if g.chance(80) {
        line = line.category(g.pick(&CATEGORIES));
    }
    if g.chance(60) {
        line = line.brand(g.pick(&BRANDS));
    }
    if g.chance(40) {
        line = line.attribute("colour", g.pick(&COLOURS));
    }
    line
}

fn random_cart(g: &mut Rng) -> Cart {
    let lines = (0..g.below(9)).map(|_| random_line(g)).collect();
    let mut c = Cart::new(lines, noon() + Duration::hours(g.below(24 * 20) - 24 * 10));
    c.store = g.chance(70).then(|| g.pick(&["S1", "S2"]).to_string());
    c.payment_mode = g.chance(60).then(|| g.pick(&["card", "cash"]).to_string());
    c.codes = (0..g.below(3))
        .map(|_| g.pick(&CODES).to_string())
        .collect();
    c.gift_vouchers = (0..g.below(2)).map(|_| "GV".to_string()).collect();
    if g.chance(70) {
        c.customer = Some(Customer {
            tiers: vec![g.pick(&["GOLD", "SILVER"]).to_string()],
            segments: vec![],
            held: (1..=8)
                .filter(|_| g.chance(50))
                .map(|promotion| Held {
                    promotion,
                    until: None,
                })
                .collect(),
        });
    }
    c
}

/// A product set naming one or two dimensions (never empty).
fn random_set(g: &mut Rng) -> ProductSet {
    let mut set = ProductSet::default();
    while set.is_empty() {
        match g.below(4) {
            0 => set.skus = g.some(&SKUS),
            1 => set.brands = g.some(&BRANDS),
            2 => set.categories = g.some(&CATEGORIES),
            _ => set = set.with_attribute("colour", g.pick(&COLOURS)),
        }
    }
    set
}

/// A filter that always includes something (so a line of a new SKU without brand, category
/// or attributes matches none), sometimes with an exclusion.
fn random_filter(g: &mut Rng) -> ProductFilter {
    let f = ProductFilter::only(random_set(g));
    if g.chance(30) {
        f.except(random_set(g))
    } else {
        f
    }
}

fn random_condition(g: &mut Rng, combinable: bool) -> Condition {
    let amount = 1 + g.below(100_000);
    match g.below(if combinable { 3 } else { 6 }) {
        0 => Condition::ProductAmount {
            products: random_filter(g),
            at_least: amount,
        },
        1 => at_least_units(random_filter(g), 1 + g.below(4)),
        2 => Condition::PaymentMode {
            modes: vec!["card".into()],
        },
        3 => Condition::CartAmount { at_least: amount },
        4 => Condition::DistinctItems {
            at_least: 1 + g.below(4),
        },
        _ => Condition::GiftVoucher {
            codes: vec!["gv".into()],
        },
    }
}

fn random_promotion(g: &mut Rng, id: i64) -> Promotion {
    let mut p = promo(id);
    p.kind = match g.below(10) {
        0..=4 => Kind::Automatic,
        5..=7 => Kind::CodeLinked {
            codes: vec![g.pick(&CODES[..3]).to_string()],
        },
        8 => Kind::Earned,
        _ => Kind::Reward,
    };
    if g.chance(15) {
        p.eligibility.tiers = vec!["GOLD".into()];
    }
    if g.chance(15) {
        p.eligibility.stores = vec!["S1".into()];
    }
    if g.chance(30) {
        p.validity.ends = Some(noon() + Duration::days(1 + g.below(20)));
    }
    p.conditions = match g.below(4) {
        0 => vec![],
        1 => vec![random_condition(g, false)],
        _ => (0..1 + g.below(2))
            .map(|_| random_condition(g, true))
            .collect(),
    };
    p.benefit.target = match g.below(3) {
        0 => Target::Cart,
        1 => Target::ConditionItems,
        _ => Target::Products {
            criteria: match g.below(3) {
                0 => one_sku(g.pick(&SKUS)),
                1 => Criteria::AllOf {
                    skus: ["A", "B", "C"][..2 + g.below(2) as usize]
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                },
                _ => Criteria::Filter {
                    products: random_filter(g),
                },
            },
            quantity: g.chance(70).then(|| 1 + g.below(3)),
        },
    };
    p.benefit.value = match g.below(4) {
        0 => off(1 + g.below(20_000)),
        1 => Value::Percent {
            basis_points: 1 + g.below(10_000),
        },
        2 => Value::Free,
        _ => Value::FixedPrice {
            price: g.below(50_000),
        },
    };
    p.benefit.recurrence = match g.below(3) {
        0 => Some(Recurrence::Items {
            every: 1 + g.below(3),
        }),
        1 => Some(Recurrence::Amount {
            every: 1 + g.below(50_000),
        }),
        _ => None,
    };
    if g.chance(25) {
        p.stacking = Stacking::Exclusive;
    }
    if g.chance(20) {
        p.limits.per_cart = Some(1 + g.below(2));
    }
    p
}

/// Random valid promotions (ids 1..=n; invalid draws are redrawn).
fn random_promotions(g: &mut Rng, n: i64) -> Vec<Promotion> {
    (1..=n)
        .map(|id| {
            loop {
                let p = random_promotion(g, id);
                if p.validate().is_ok() {
                    break p;
                }
            }
        })
        .collect()
}

fn random_usage(g: &mut Rng, promotions: &[Promotion]) -> Usage {
    let mut usage = Usage::new();
    for p in promotions {
        if g.chance(20) {
            let remaining = Remaining {
                uses: g.chance(50).then(|| g.below(2)),
                customer_uses: None,
                customer_value: g.chance(50).then(|| g.below(5_000)),
            };
            usage.set(p.id, remaining);
        }
    }
    usage
}

/// The evaluation with line indices replaced by the lines themselves, sorted, so that two
/// evaluations of the same lines in another order compare equal.
fn by_content(c: &Cart, e: &Evaluation) -> String {
    let mut lines: Vec<(&CartLine, i64)> = c.lines.iter().zip(e.lines.iter().copied()).collect();
    lines.sort();
    let applied: Vec<_> = e
        .applied
        .iter()
        .map(|a| {
            let mut shares: Vec<(&CartLine, i64)> = a
                .lines
                .iter()
                .map(|l| (&c.lines[l.line], l.discount))
                .collect();
            shares.sort();
            let head = (
                a.promotion,
                a.discount,
                a.applications,
                &a.code,
                a.added_units,
            );
            format!("{head:?} {:?} {shares:?}", a.limited_by)
        })
        .collect();
    format!(
        "{} {} {lines:?} {applied:?} {:?} {:?} {:?} {:?}",
        e.subtotal, e.discount, e.added, e.rejected, e.not_applied, e.hints
    )
}

#[test]
fn property_discounts_are_bounded_by_lines_and_cart() {
    let mut g = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..400 {
        let c = random_cart(&mut g);
        let n = 1 + g.below(8);
        let promotions = random_promotions(&mut g, n);
        let usage = random_usage(&mut g, &promotions);
        let e = evaluate(&c, &promotions, &usage, IST);
        sane(&c, &e);
        for a in &e.applied {
            let r = usage.of(a.promotion);
            assert!(r.customer_value.is_none_or(|v| a.discount <= v), "{a:?}");
            assert!(r.uses.is_none_or(|u| u > 0), "{a:?}");
            let p = promotions.iter().find(|p| p.id == a.promotion).unwrap();
            if let Some(max) = p.limits.per_cart {
                assert!(a.applications <= max, "{a:?}");
            }
        }
        let exclusive = e.applied.iter().any(|a| a.stacking == Stacking::Exclusive);
        assert!(!exclusive || e.applied.len() == 1, "{e:#?}");
    }
}

#[test]
fn property_even_invalid_promotions_stay_bounded() {
    let mut g = Rng(0xD1B5_4A32_D192_ED03);
    for _ in 0..400 {
        let c = random_cart(&mut g);
        let promotions: Vec<Promotion> = (1..=1 + g.below(6))
            .map(|id| {
                let mut p = random_promotion(&mut g, id);
                if g.chance(30) {
                    p.conditions.push(random_condition(&mut g, false));
                }
                if g.chance(20) {
                    p.benefit.recurrence = Some(Recurrence::Items {
                        every: g.below(2) - 1,
                    });
                }
                if g.chance(10) {
                    p.limits.per_cart = Some(0);
                }
                p
            })
            .collect();
        sane(&c, &evaluate(&c, &promotions, &Usage::new(), IST));
    }
}

#[test]
fn property_order_of_lines_promotions_and_codes_does_not_matter() {
    let mut g = Rng(0x2545_F491_4F6C_DD1D);
    for _ in 0..300 {
        let c = random_cart(&mut g);
        let n = 1 + g.below(8);
        let promotions = random_promotions(&mut g, n);
        let usage = random_usage(&mut g, &promotions);
        let e = evaluate(&c, &promotions, &usage, IST);
        assert_eq!(e, evaluate(&c, &promotions, &usage, IST), "deterministic");
        let (mut c2, mut p2) = (c.clone(), promotions.clone());
        for _ in 0..6 {
            let (lines, codes) = (c2.lines.len() as i64, c2.codes.len() as i64);
            if lines > 1 {
                c2.lines
                    .swap(g.below(lines) as usize, g.below(lines) as usize);
            }
            if codes > 1 {
                c2.codes
                    .swap(g.below(codes) as usize, g.below(codes) as usize);
            }
            p2.swap(g.below(n) as usize, g.below(n) as usize);
        }
        let e2 = evaluate(&c2, &p2, &usage, IST);
        assert_eq!(by_content(&c, &e), by_content(&c2, &e2));
    }
}

/// A close evaluates its cart before its transaction and, when the limits read inside it bear on
/// the cart alike (`same_bearing`), keeps that evaluation: usages that bear alike must give the
/// same evaluation.
#[test]
fn property_usages_that_bear_alike_give_the_same_evaluation() {
    let mut g = Rng(0x94D0_49BB_1331_11EB);
    let (mut alike, mut told_apart) = (0, 0);
    for _ in 0..400 {
        let c = random_cart(&mut g);
        let n = 1 + g.below(8);
        let promotions = random_promotions(&mut g, n);
        let before = random_usage(&mut g, &promotions);
        // Other carts took uses, or gave some back, meanwhile; some limits counted on one side
        // only (no entry: nothing known of it).
        let mut after = Usage::new();
        for p in &promotions {
            if g.chance(10) {
                continue;
            }
            let mut r = before.of(p.id);
            let moved = |g: &mut Rng, left: Option<i64>| match left {
                Some(u) => Some(u + g.below(5) - 2),
                None => g.chance(10).then(|| g.below(3)),
            };
            r.uses = moved(&mut g, r.uses);
            r.customer_uses = moved(&mut g, r.customer_uses);
            if g.chance(20) {
                r.customer_value = r.customer_value.map(|v| v - g.below(3_000));
            }
            after.set(p.id, r);
        }
        let (a, b) = (
            evaluate(&c, &promotions, &before, IST),
            evaluate(&c, &promotions, &after, IST),
        );
        if same_bearing(&before, &after) {
            assert_eq!(a, b, "{before:?} {after:?}");
            alike += usize::from(before != after);
        } else {
            told_apart += usize::from(a != b);
        }
    }
    // Both sides were met: usages that differ yet bear alike, and ones whose difference shows.
    assert!(alike > 20 && told_apart > 5, "{alike} {told_apart}");
}

/// A line of a SKU no promotion names, without brand, category or attributes.
fn unrelated() -> CartLine {
    CartLine::new("ZZ-NEW", 1, 12_345)
}

/// Adding an unrelated line never makes a met promotion unmet and never lowers its discount
/// on its own: its eligibility is unchanged; each condition is a lower bound on the cart
/// amount or distinct items (which grow) or on products the line is not (unchanged); a
/// product benefit sees the same units in the same order; a cart benefit sees a larger base
/// and as many steps or more, and a fixed amount, a percentage and a count of steps are
/// non-decreasing in the base.
#[test]
fn property_an_unrelated_line_never_lowers_a_met_promotions_discount_alone() {
    let mut g = Rng(0xA076_1D64_78BD_642F);
    let mut compared = 0;
    for _ in 0..400 {
        let c = random_cart(&mut g);
        let mut more = c.clone();
        more.lines
            .insert(g.below(c.lines.len() as i64 + 1) as usize, unrelated());
        for p in random_promotions(&mut g, 4) {
            let before = run(&c, std::slice::from_ref(&p));
            let Some(a) = before.applied.first() else {
                continue;
            };
            let after = run(&more, std::slice::from_ref(&p));
            let b = after.applied.first().unwrap_or_else(|| {
                panic!("{p:#?} no longer applies: {after:#?} (before: {before:#?})")
            });
            assert!(b.discount >= a.discount, "{p:#?} {before:#?} {after:#?}");
            assert!(b.added_units >= a.added_units);
            compared += 1;
        }
    }
    assert!(compared > 200, "only {compared} comparisons");
}

/// When no promotion looks at the whole cart (no cart amount or item count condition, no
/// cart-wide benefit, no recurrence counted on the whole cart), a line none of them names
/// changes nothing: the other lines keep their discounts and it gets none.
#[test]
fn property_a_line_no_promotion_looks_at_changes_nothing() {
    let mut g = Rng(0xE703_7ED1_A0B4_28DB);
    let mut checked = 0;
    for _ in 0..400 {
        let c = random_cart(&mut g);
        let promotions: Vec<Promotion> = random_promotions(&mut g, 6)
            .into_iter()
            .filter(|p| {
                let whole_cart = p.conditions.iter().any(Condition::is_standalone_only)
                    || p.benefit.target == Target::Cart
                    || (p.benefit.recurrence.is_some()
                        && !p.conditions.iter().any(|c| c.products().is_some()));
                !whole_cart
            })
            .collect();
        let at = g.below(c.lines.len() as i64 + 1) as usize;
        let mut more = c.clone();
        more.lines.insert(at, unrelated());
        let (before, mut after) = (run(&c, &promotions), run(&more, &promotions));
        assert_eq!(after.lines.remove(at), 0);
        assert_eq!(before.lines, after.lines);
        assert_eq!(applied(&before), applied(&after));
        checked += usize::from(!before.applied.is_empty());
    }
    assert!(checked > 50, "only {checked} carts with a discount");
}

#[test]
fn adding_a_line_can_qualify_an_exclusive_that_blocks_the_rest() {
    // A stackable 20% off tees, and an exclusive 5% off carts of 1000 or more.
    let mut tees = with(1, Target::ConditionItems, pct(20));
    tees.conditions = vec![at_least_units(category("tees"), 1)];
    let mut big = with(2, Target::Cart, pct(5));
    big.conditions = vec![Condition::CartAmount { at_least: rs(1000) }];
    big.stacking = Stacking::Exclusive;
    let c = cart(vec![item("T", "tees", 1, rs(900))]);
    assert_eq!(
        applied(&run(&c, &[tees.clone(), big.clone()])),
        vec![(1, rs(180))]
    );
    let mut more = c.clone();
    more.lines.push(unrelated());
    // 900 + 123.45: the exclusive 5% now applies alone, the tees lose their 20%.
    assert_eq!(applied(&run(&more, &[tees, big])), vec![(2, 5_117)]);
}

#[test]
fn adding_a_line_can_reorder_stackables_by_maximum_discount() {
    // Any 3 jeans for 999 (1500 → 501 off) and 10% off the cart, both stackable.
    let mut jeans = with(
        1,
        Target::ConditionItems,
        Value::FixedPrice { price: rs(999) },
    );
    jeans.conditions = vec![at_least_units(category("jeans"), 3)];
    let tenth = with(2, Target::Cart, pct(10));
    let c = cart(vec![
        item("J", "jeans", 3, rs(500)),
        item("X", "other", 1, rs(3500)),
    ]);
    // 10% of 5000 = 500 < 501: the bundle first, then 10% of the 4499 left.
    assert_eq!(
        applied(&run(&c, &[jeans.clone(), tenth.clone()])),
        vec![(1, rs(501)), (2, 44_990)]
    );
    let mut more = c.clone();
    more.lines.push(CartLine::new("ZZ-NEW", 1, rs(20)));
    // 10% of 5020 = 502 > 501: the 10% first, then the bundle on 1350 left of the jeans.
    assert_eq!(
        applied(&run(&more, &[jeans, tenth])),
        vec![(2, rs(502)), (1, rs(351))]
    );
}
