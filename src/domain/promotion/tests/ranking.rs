//! Stacking and the seed's ranking order.

use super::*;

fn code_linked(id: i64, code: &str, value: Value) -> Promotion {
    let mut p = with(id, Target::Cart, value);
    p.kind = Kind::CodeLinked {
        codes: vec![code.to_string()],
    };
    p
}

fn exclusive(mut p: Promotion) -> Promotion {
    p.stacking = Stacking::Exclusive;
    p
}

fn thousand() -> Cart {
    cart(vec![item("A", "x", 1, rs(600)), item("B", "y", 1, rs(400))])
}

fn gold_customer_holding(held: &[(i64, Option<DateTime<Utc>>)]) -> Customer {
    Customer {
        tiers: vec!["GOLD".into()],
        segments: vec![],
        held: held
            .iter()
            .map(|&(promotion, until)| Held { promotion, until })
            .collect(),
    }
}

#[test]
fn an_exclusive_promotion_blocks_every_other_one() {
    let mut c = thousand();
    c.codes = vec!["SAVE100".into()];
    let promotions = [
        exclusive(with(1, Target::Cart, pct(50))),
        with(2, Target::Cart, pct(10)),
        code_linked(3, "SAVE100", off(rs(100))),
    ];
    let e = run(&c, &promotions);
    sane(&c, &e);
    assert_eq!(applied(&e), vec![(1, rs(500))]);
    let blocked = Reason::BlockedByExclusive {
        promotion: 1,
        name: "P1".into(),
    };
    assert_eq!(e.not_applied.len(), 1);
    assert_eq!(
        (e.not_applied[0].promotion, &e.not_applied[0].reason),
        (2, &blocked)
    );
    assert_eq!(rejected(&e), vec![("SAVE100", "blocked_by_exclusive")]);
    assert_eq!(
        e.rejected[0].reason.words(2),
        "\"P1\" applies and cannot be combined with other promotions"
    );
}

#[test]
fn an_exclusive_applies_even_when_the_stackables_together_give_more() {
    let c = thousand();
    let promotions = [
        exclusive(with(1, Target::Cart, pct(5))),
        with(2, Target::Cart, pct(10)),
        with(3, Target::Cart, pct(10)),
    ];
    let e = run(&c, &promotions);
    assert_eq!(
        applied(&e),
        vec![(1, rs(50))],
        "the seed: exclusive takes precedence"
    );
}

#[test]
fn each_ranking_tie_break_decides_between_two_exclusives() {
    let june = |d| Some(ist(2026, 6, d, 0, 0));
    // (what is compared, the winner, the two promotions, what the customer holds)
    type Case = (
        &'static str,
        i64,
        [Promotion; 2],
        Vec<(i64, Option<DateTime<Utc>>)>,
    );
    let cases: Vec<Case> = vec![
        (
            "segmented beats reward",
            1,
            [
                {
                    let mut p = with(1, Target::Cart, pct(10));
                    p.eligibility.tiers = vec!["GOLD".into()];
                    p
                },
                {
                    let mut p = with(2, Target::Cart, pct(30));
                    p.kind = Kind::Reward;
                    p
                },
            ],
            vec![(2, None)],
        ),
        (
            "reward beats code-linked",
            2,
            [code_linked(1, "BIG", pct(30)), {
                let mut p = with(2, Target::Cart, pct(10));
                p.kind = Kind::Reward;
                p
            }],
            vec![(2, None)],
        ),
        (
            "code-linked beats automatic",
            2,
            [
                with(1, Target::Cart, pct(30)),
                code_linked(2, "BIG", pct(10)),
            ],
            vec![],
        ),
        (
            "earliest expiry beats a larger discount",
            2,
            [with(1, Target::Cart, pct(30)), {
                let mut p = with(2, Target::Cart, pct(10));
                p.validity.ends = june(15);
                p
            }],
            vec![],
        ),
        (
            "an earned promotion expires when the customer's hold does",
            2,
            [with(1, Target::Cart, pct(30)), {
                let mut p = with(2, Target::Cart, pct(10));
                p.kind = Kind::Earned;
                p
            }],
            vec![(2, june(12))],
        ),
        (
            "maximum discount, all else equal",
            2,
            [
                with(1, Target::Cart, pct(10)),
                with(2, Target::Cart, pct(20)),
            ],
            vec![],
        ),
        (
            "then the lower id",
            1,
            [
                with(1, Target::Cart, off(rs(100))),
                with(2, Target::Cart, pct(10)),
            ],
            vec![],
        ),
    ];
    for (says, winner, promotions, held) in cases {
        let mut c = thousand();
        c.codes = vec!["big".into()];
        c.customer = Some(gold_customer_holding(&held));
        let promotions = promotions.map(exclusive);
        for order in [[0, 1], [1, 0]] {
            let given = [promotions[order[0]].clone(), promotions[order[1]].clone()];
            let e = run(&c, &given);
            sane(&c, &e);
            let ids: Vec<i64> = e.applied.iter().map(|a| a.promotion).collect();
            assert_eq!(ids, vec![winner], "{says}: {e:#?}");
        }
    }
}

#[test]
fn stackables_apply_in_rank_order_each_on_what_is_left() {
    // A code-linked 100 off ranks before an automatic 10%: 100, then 10% of 900.
    let mut c = thousand();
    c.codes = vec!["SAVE100".into()];
    let promotions = [
        with(1, Target::Cart, pct(10)),
        code_linked(2, "SAVE100", off(rs(100))),
    ];
    let e = run(&c, &promotions);
    sane(&c, &e);
    assert_eq!(applied(&e), vec![(2, rs(100)), (1, rs(90))]);
    assert_eq!(e.applied[0].code.as_deref(), Some("SAVE100"));
    // Made segmented, the 10% ranks first: 10% of 1000, then 100.
    let mut segmented = promotions.clone();
    segmented[0].eligibility.segments = vec!["STUDENTS".into()];
    c.customer = Some(Customer {
        segments: vec!["STUDENTS".into()],
        ..Customer::default()
    });
    let e = run(&c, &segmented);
    assert_eq!(applied(&e), vec![(1, rs(100)), (2, rs(100))]);
}

#[test]
fn a_later_stackable_computes_on_the_already_discounted_lines() {
    // 50% off A (code), then 10% off the cart: on 500 left of A and 400 of B.
    let mut half_a = with(1, reward(one_sku("A"), None), pct(50));
    half_a.kind = Kind::CodeLinked {
        codes: vec!["HALF".into()],
    };
    let mut c = thousand();
    c.codes = vec!["half".into()];
    let e = run(&c, &[half_a, with(2, Target::Cart, pct(10))]);
    sane(&c, &e);
    assert_eq!(applied(&e), vec![(1, rs(300)), (2, rs(70))]);
    assert_eq!(e.lines, vec![rs(330), rs(40)]);
    assert_eq!(e.applied[0].code.as_deref(), Some("half"), "as entered");
}

#[test]
fn the_larger_discount_applies_first_among_otherwise_equal_stackables() {
    let c = thousand();
    let e = run(
        &c,
        &[
            with(1, Target::Cart, off(rs(100))),
            with(2, Target::Cart, pct(20)),
        ],
    );
    assert_eq!(applied(&e), vec![(2, rs(200)), (1, rs(100))]);
}

#[test]
fn a_stackable_with_nothing_left_is_reported() {
    let c = thousand();
    let everything = with(1, Target::Cart, pct(100));
    let e = run(&c, &[everything, with(2, Target::Cart, pct(10))]);
    assert_eq!(applied(&e), vec![(1, rs(1000))]);
    assert_eq!(e.not_applied[0].reason, Reason::NothingLeft);
}

#[test]
fn a_missing_reward_is_still_hinted_when_an_exclusive_wins() {
    // Buy 2 pants get a belt 30% off (stackable, code-linked) while a 5% exclusive applies.
    let mut belt = with(1, reward(one_sku("BELT"), Some(1)), pct(30));
    belt.conditions = vec![at_least_units(category("pants"), 2)];
    belt.kind = Kind::CodeLinked {
        codes: vec!["BELT30".into()],
    };
    let mut c = cart(vec![item("PANT", "pants", 2, rs(1000))]);
    c.codes = vec!["BELT30".into()];
    let e = run(
        &c,
        &[belt.clone(), exclusive(with(2, Target::Cart, pct(5)))],
    );
    assert_eq!(applied(&e), vec![(2, rs(100))]);
    assert_eq!(rejected(&e), vec![("BELT30", "reward_missing")]);
    assert_eq!(
        e.rejected[0].reason.words(2),
        "add BELT to the cart to get the benefit"
    );
    let add_belt = Need::AddProduct { sku: "BELT".into() };
    assert_eq!(e.hints.len(), 1);
    assert_eq!(e.hints[0].needs, vec![add_belt]);
    // With the belt, it qualifies and is blocked by the exclusive.
    c.lines.push(item("BELT", "belts", 1, rs(500)));
    let e = run(&c, &[belt, exclusive(with(2, Target::Cart, pct(5)))]);
    assert_eq!(rejected(&e), vec![("BELT30", "blocked_by_exclusive")]);
    assert!(e.hints.is_empty());
}

#[test]
fn absurd_quantities_stop_at_the_application_guard() {
    // Every unit 1.00 off: a million units give MAX_APPLICATIONS applications.
    let mut p = with(1, Target::ConditionItems, off(100));
    p.conditions = vec![at_least_units(sku("NAIL"), 1)];
    p.benefit.recurrence = Some(Recurrence::Items { every: 1 });
    let c = cart(vec![CartLine::new("NAIL", 1_000_000, 500)]);
    let e = run(&c, &[p]);
    sane(&c, &e);
    assert_eq!(e.applied[0].applications, MAX_APPLICATIONS);
    assert_eq!(e.discount, MAX_APPLICATIONS * 100);
    assert!(e.applied[0].limited_by.is_empty(), "not a per-cart limit");
}
