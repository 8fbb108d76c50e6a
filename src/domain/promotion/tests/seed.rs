//! Every example sentence of seed 003's benefit tables, as a table of carts and the
//! discounts expected on each line.

use super::*;

/// One example: promotions, a cart, the discount expected on each line, free lines added.
struct Example {
    says: &'static str,
    promotions: Vec<Promotion>,
    lines: Vec<CartLine>,
    discounts: Vec<i64>,
    added: Vec<(&'static str, i64)>,
}

fn check(examples: Vec<Example>) {
    for ex in examples {
        for p in &ex.promotions {
            assert_eq!(p.validate(), Ok(()), "{}: {p:?}", ex.says);
        }
        let c = cart(ex.lines);
        let e = run(&c, &ex.promotions);
        sane(&c, &e);
        assert_eq!(e.lines, ex.discounts, "{}: {e:#?}", ex.says);
        let added: Vec<(&str, i64)> = e
            .added
            .iter()
            .map(|a| (a.sku.as_str(), a.quantity))
            .collect();
        assert_eq!(added, ex.added, "{}", ex.says);
    }
}

fn buy_two_pants_get_a_belt_half_off() -> Promotion {
    let mut p = with(
        1,
        reward(
            Criteria::Filter {
                products: category("belts"),
            },
            Some(1),
        ),
        pct(50),
    );
    p.conditions = vec![at_least_units(category("pants"), 2)];
    p
}

fn buy_two_pants_get_ten_percent_off_those() -> Promotion {
    let mut p = with(2, Target::ConditionItems, pct(10));
    p.conditions = vec![at_least_units(category("pants"), 2)];
    p
}

fn any_three_jeans_for_999() -> Promotion {
    let mut p = with(
        3,
        Target::ConditionItems,
        Value::FixedPrice { price: rs(999) },
    );
    p.conditions = vec![at_least_units(category("jeans"), 3)];
    p
}

fn every_two_shirts_50_off() -> Promotion {
    let mut p = with(4, Target::ConditionItems, off(rs(50)));
    p.conditions = vec![at_least_units(category("shirts"), 2)];
    p.benefit.recurrence = Some(Recurrence::Items { every: 2 });
    p
}

fn every_1000_on_denim_100_off() -> Promotion {
    let mut p = with(5, Target::ConditionItems, off(rs(100)));
    p.conditions = vec![Condition::ProductAmount {
        products: category("denim"),
        at_least: rs(1000),
    }];
    p.benefit.recurrence = Some(Recurrence::Amount { every: rs(1000) });
    p
}

fn free_tote_over_50() -> Promotion {
    let mut p = with(6, reward(one_sku("TOTE"), Some(1)), Value::Free);
    p.conditions = vec![Condition::CartAmount { at_least: rs(50) }];
    p
}

fn sandwich_and_coffee_20_off() -> Promotion {
    let skus = ["SANDWICH", "COFFEE"].map(String::from).into();
    with(7, reward(Criteria::AllOf { skus }, None), pct(20))
}

fn nike_shoes_10_off_over_200() -> Promotion {
    let nike_shoes = ProductSet::brands(["Nike"]).with_categories(["shoes"]);
    let products = ProductFilter::only(nike_shoes);
    let mut p = with(8, reward(Criteria::Filter { products }, None), pct(10));
    p.conditions = vec![Condition::CartAmount { at_least: rs(200) }];
    p
}

/// Buy 2 coffees, get 1 free, for every 2 bought.
fn coffee_buy_two_get_one(per_cart: Option<i64>) -> Promotion {
    let mut p = with(9, reward(one_sku("COFFEE"), Some(1)), Value::Free);
    p.conditions = vec![at_least_units(sku("COFFEE"), 2)];
    p.benefit.recurrence = Some(Recurrence::Items { every: 2 });
    p.limits.per_cart = per_cart;
    p
}

#[test]
fn product_benefit_logic_examples() {
    check(vec![
        Example {
            says: "buy 2 pants, get 1 belt for 50% off; the pants stay at full price",
            promotions: vec![buy_two_pants_get_a_belt_half_off()],
            lines: vec![
                item("PANT-1", "pants", 2, rs(2000)),
                item("BELT-1", "belts", 1, rs(800)),
            ],
            discounts: vec![0, rs(400)],
            added: vec![],
        },
        Example {
            says: "the cheapest belt is the one at half price",
            promotions: vec![buy_two_pants_get_a_belt_half_off()],
            lines: vec![
                item("BELT-9", "belts", 1, rs(900)),
                item("PANT-1", "pants", 1, rs(2000)),
                item("BELT-5", "belts", 1, rs(500)),
                item("PANT-2", "pants", 1, rs(1500)),
            ],
            discounts: vec![0, 0, rs(250), 0],
            added: vec![],
        },
        Example {
            says: "one pant is not enough",
            promotions: vec![buy_two_pants_get_a_belt_half_off()],
            lines: vec![
                item("PANT-1", "pants", 1, rs(2000)),
                item("BELT-1", "belts", 1, rs(800)),
            ],
            discounts: vec![0, 0],
            added: vec![],
        },
        Example {
            says: "buy 2 pants, get 10% off those pants (all the pants, not the belt)",
            promotions: vec![buy_two_pants_get_ten_percent_off_those()],
            lines: vec![
                item("PANT-1", "pants", 2, rs(2000)),
                item("PANT-2", "pants", 1, 1_005),
                item("BELT-1", "belts", 1, rs(800)),
            ],
            // 10% of 4010.05 = 401.005 → 401.01 (half up), split by value: 400.004987… and
            // 1.005012…; the unit left goes to the larger remainder → 400.00 and 1.01.
            discounts: vec![rs(400), 101, 0],
            added: vec![],
        },
    ]);
}

#[test]
fn benefit_value_examples() {
    check(vec![
        Example {
            says: "any 3 jeans for 999: 1350 of jeans get 351 off, split by price",
            promotions: vec![any_three_jeans_for_999()],
            lines: vec![
                item("J-500", "jeans", 1, rs(500)),
                item("J-450", "jeans", 1, rs(450)),
                item("J-400", "jeans", 1, rs(400)),
            ],
            discounts: vec![rs(130), rs(117), rs(104)],
            added: vec![],
        },
        Example {
            says: "a fourth pair of jeans stays at full price: the 3 dearest make the bundle",
            promotions: vec![any_three_jeans_for_999()],
            lines: vec![
                item("J-300", "jeans", 1, rs(300)),
                item("J-500", "jeans", 1, rs(500)),
                item("J-450", "jeans", 1, rs(450)),
                item("J-400", "jeans", 1, rs(400)),
            ],
            discounts: vec![0, rs(130), rs(117), rs(104)],
            added: vec![],
        },
        Example {
            says: "jeans already cheaper than the bundle price get nothing",
            promotions: vec![any_three_jeans_for_999()],
            lines: vec![item("J-300", "jeans", 3, rs(300))],
            discounts: vec![0],
            added: vec![],
        },
        Example {
            says: "a free tote when spending over 50: the tote is added at 0",
            promotions: vec![free_tote_over_50()],
            lines: vec![item("SHIRT", "shirts", 1, rs(60))],
            discounts: vec![0],
            added: vec![("TOTE", 1)],
        },
        Example {
            says: "a tote already in the cart becomes free instead",
            promotions: vec![free_tote_over_50()],
            lines: vec![
                item("SHIRT", "shirts", 1, rs(60)),
                item("TOTE", "bags", 1, rs(15)),
            ],
            discounts: vec![0, rs(15)],
            added: vec![],
        },
        Example {
            says: "fixed amount: 150 off 500 leaves 350",
            promotions: vec![with(10, Target::Cart, off(rs(150)))],
            lines: vec![item("X", "misc", 1, rs(500))],
            discounts: vec![rs(150)],
            added: vec![],
        },
        Example {
            says: "percentage: 20% off 100 leaves 80",
            promotions: vec![with(11, Target::Cart, pct(20))],
            lines: vec![item("X", "misc", 1, rs(100))],
            discounts: vec![rs(20)],
            added: vec![],
        },
        Example {
            says: "a fixed amount never takes a line below 0",
            promotions: vec![with(12, Target::Cart, off(rs(500)))],
            lines: vec![item("X", "misc", 1, rs(300))],
            discounts: vec![rs(300)],
            added: vec![],
        },
    ]);
}

#[test]
fn product_criteria_examples() {
    check(vec![
        Example {
            says: "sandwich and coffee together: 20% off both",
            promotions: vec![sandwich_and_coffee_20_off()],
            lines: vec![
                CartLine::new("SANDWICH", 1, rs(150)),
                CartLine::new("COFFEE", 1, rs(100)),
                CartLine::new("MUFFIN", 1, rs(80)),
            ],
            discounts: vec![rs(30), rs(20), 0],
            added: vec![],
        },
        Example {
            says: "a sandwich alone gets nothing",
            promotions: vec![sandwich_and_coffee_20_off()],
            lines: vec![CartLine::new("SANDWICH", 2, rs(150))],
            discounts: vec![0],
            added: vec![],
        },
        Example {
            says: "two sandwiches and one coffee: one complete set",
            promotions: vec![sandwich_and_coffee_20_off()],
            lines: vec![
                CartLine::new("SANDWICH", 2, rs(150)),
                CartLine::new("COFFEE", 1, rs(100)),
            ],
            discounts: vec![rs(30), rs(20)],
            added: vec![],
        },
        Example {
            says: "10% off Nike shoes when spending 200 or more",
            promotions: vec![nike_shoes_10_off_over_200()],
            lines: vec![
                CartLine::new("AIR", 1, rs(150))
                    .brand("Nike")
                    .category("shoes"),
                CartLine::new("TEE", 1, rs(40))
                    .brand("Nike")
                    .category("shirts"),
                CartLine::new("ULTRA", 1, rs(100))
                    .brand("Adidas")
                    .category("shoes"),
            ],
            discounts: vec![rs(15), 0, 0],
            added: vec![],
        },
        Example {
            says: "Nike shoes in a cart under 200 get nothing",
            promotions: vec![nike_shoes_10_off_over_200()],
            lines: vec![
                CartLine::new("AIR", 1, rs(150))
                    .brand("Nike")
                    .category("shoes"),
                CartLine::new("TEE", 1, rs(40))
                    .brand("Nike")
                    .category("shirts"),
            ],
            discounts: vec![0, 0],
            added: vec![],
        },
    ]);
}

#[test]
fn recurring_benefit_examples() {
    check(vec![
        Example {
            says: "every 2 shirts = 50 off: 4 shirts = 100 off",
            promotions: vec![every_two_shirts_50_off()],
            lines: vec![item("SHIRT", "shirts", 4, rs(500))],
            discounts: vec![rs(100)],
            added: vec![],
        },
        Example {
            says: "every 2 shirts = 50 off: 5 shirts = still 100 off, on the 4 dearest",
            promotions: vec![every_two_shirts_50_off()],
            lines: vec![
                item("SHIRT-A", "shirts", 4, rs(500)),
                item("SHIRT-B", "shirts", 1, rs(400)),
            ],
            discounts: vec![rs(100), 0],
            added: vec![],
        },
        Example {
            says: "every 1000 spent on denim = 100 off: 2500 = 200 off",
            promotions: vec![every_1000_on_denim_100_off()],
            lines: vec![
                item("D-1500", "denim", 1, rs(1500)),
                item("D-1000", "denim", 1, rs(1000)),
                item("TEE", "shirts", 1, rs(700)),
            ],
            discounts: vec![rs(120), rs(80), 0],
            added: vec![],
        },
    ]);
}

#[test]
fn six_coffees_buy_two_get_one_with_a_cart_limit_of_one_gives_one_free() {
    let lines = vec![CartLine::new("COFFEE", 6, rs(150))];
    check(vec![
        Example {
            says: "cart limit 1: only one free coffee",
            promotions: vec![coffee_buy_two_get_one(Some(1))],
            lines: lines.clone(),
            discounts: vec![rs(150)],
            added: vec![],
        },
        Example {
            says: "no cart limit: every 2 bought gives 1 free, 6 coffees = 2 free",
            promotions: vec![coffee_buy_two_get_one(None)],
            lines: lines.clone(),
            discounts: vec![rs(300)],
            added: vec![],
        },
        Example {
            says: "5 coffees: 4 bought, 1 free in the cart and 1 free added",
            promotions: vec![coffee_buy_two_get_one(None)],
            lines: vec![CartLine::new("COFFEE", 5, rs(150))],
            discounts: vec![rs(150)],
            added: vec![("COFFEE", 1)],
        },
        Example {
            says: "as 100% off instead of a free product, nothing is added",
            promotions: vec![{
                let mut p = coffee_buy_two_get_one(None);
                p.benefit.value = pct(100);
                p
            }],
            lines: vec![CartLine::new("COFFEE", 5, rs(150))],
            discounts: vec![rs(150)],
            added: vec![],
        },
        Example {
            says: "2 coffees: the free one is added",
            promotions: vec![coffee_buy_two_get_one(None)],
            lines: vec![CartLine::new("COFFEE", 2, rs(150))],
            discounts: vec![0],
            added: vec![("COFFEE", 1)],
        },
    ]);
    let c = cart(lines);
    let e = run(&c, &[coffee_buy_two_get_one(Some(1))]);
    assert_eq!(e.applied[0].applications, 1);
    assert_eq!(e.applied[0].limited_by, vec![Limit::PerCart], "says so");
    let e = run(&c, &[coffee_buy_two_get_one(None)]);
    assert_eq!(e.applied[0].applications, 2);
    assert!(e.applied[0].limited_by.is_empty());
}

#[test]
fn buy_x_get_y_on_the_same_products_takes_the_dearest_for_the_condition() {
    // Buy 2 coffees get 1 at 50%: of 3 sizes, the small one is the rewarded one.
    let mut p = with(1, reward(one_sku("COFFEE"), Some(1)), pct(50));
    p.conditions = vec![at_least_units(sku("COFFEE"), 2)];
    let mut big = CartLine::new("COFFEE", 1, rs(200));
    big.attributes.insert("size".into(), "L".into());
    let c = cart(vec![
        big,
        CartLine::new("COFFEE", 1, rs(120)),
        CartLine::new("COFFEE", 1, rs(160)),
    ]);
    let e = run(&c, &[p.clone()]);
    sane(&c, &e);
    assert_eq!(e.lines, vec![0, rs(60), 0]);
    // Only 2 coffees: the condition takes both, nothing is left to reward; the hint says
    // to add one.
    let two = cart(vec![CartLine::new("COFFEE", 2, rs(150))]);
    let e = run(&two, &[p]);
    assert!(e.applied.is_empty());
    assert_eq!(e.hints.len(), 1);
    assert_eq!(
        e.hints[0].needs,
        vec![Need::AddProduct {
            sku: "COFFEE".into()
        }]
    );
}

#[test]
fn a_bundle_can_repeat_per_items() {
    let mut p = any_three_jeans_for_999();
    p.benefit.recurrence = Some(Recurrence::Items { every: 3 });
    let c = cart(vec![
        item("J-500", "jeans", 3, rs(500)),
        item("J-400", "jeans", 3, rs(400)),
    ]);
    let e = run(&c, &[p]);
    sane(&c, &e);
    // Bundle 1: three at 500 (1500 → 999, 501 off); bundle 2: three at 400 (1200 → 999).
    assert_eq!(e.lines, vec![rs(501), rs(201)]);
    assert_eq!(e.applied[0].applications, 2);
}

#[test]
fn a_recurring_cart_discount_counts_the_whole_cart() {
    // Every 1000 spent: 100 off the bill.
    let mut p = with(1, Target::Cart, off(rs(100)));
    p.benefit.recurrence = Some(Recurrence::Amount { every: rs(1000) });
    let c = cart(vec![
        item("A", "x", 1, rs(1800)),
        item("B", "y", 1, rs(700)),
    ]);
    let e = run(&c, &[p.clone()]);
    sane(&c, &e);
    assert_eq!(applied(&e), vec![(1, rs(200))]);
    assert_eq!(e.lines, vec![14_400, 5_600], "200 split 18:7");
    let small = cart(vec![item("A", "x", 1, rs(850))]);
    let e = run(&small, &[p]);
    assert!(e.applied.is_empty());
    assert_eq!(e.hints[0].needs, vec![Need::AddAmount { missing: rs(150) }]);
}

#[test]
fn a_sandwich_alone_is_told_to_add_a_coffee() {
    let mut p = sandwich_and_coffee_20_off();
    let c = cart(vec![CartLine::new("SANDWICH", 1, rs(150))]);
    let e = run(&c, &[p.clone()]);
    let add_coffee = Need::AddProduct {
        sku: "COFFEE".into(),
    };
    assert_eq!(e.hints[0].needs, vec![add_coffee.clone()]);
    assert_eq!(add_coffee.words(2), "add COFFEE to the cart");
    p.kind = Kind::CodeLinked {
        codes: vec!["COMBO".into()],
    };
    let mut c = c;
    c.codes = vec!["combo".into()];
    let e = run(&c, &[p]);
    assert_eq!(
        e.rejected[0].reason,
        Reason::ProductsMissing {
            skus: vec!["COFFEE".into()]
        }
    );
    assert_eq!(
        e.rejected[0].reason.words(2),
        "add COFFEE to the cart to qualify"
    );
}

#[test]
fn the_cart_must_contain_at_least_5_items() {
    let mut p = promo(1);
    p.conditions = vec![Condition::DistinctItems { at_least: 5 }];
    let lines = |n: usize| {
        (0..n)
            .map(|i| CartLine::new(&format!("S{i}"), 2, rs(10)))
            .collect()
    };
    let e = run(&cart(lines(4)), &[p.clone()]);
    assert!(e.applied.is_empty());
    assert_eq!(e.hints[0].needs, vec![Need::AddItems { missing: 1 }]);
    assert_eq!(
        Reason::TooFewItems {
            at_least: 5,
            missing: 1
        }
        .words(2),
        "the cart must contain at least 5 different items"
    );
    assert_eq!(applied(&run(&cart(lines(5)), &[p])), vec![(1, rs(10))]);
}

#[test]
fn every_reason_has_its_own_code_and_words() {
    let at = noon();
    let all = [
        Reason::NoSuchCode,
        Reason::NotStarted { starts: at },
        Reason::Ended { ended: at },
        Reason::WrongStore,
        Reason::WrongDay,
        Reason::WrongTime,
        Reason::CustomerRequired,
        Reason::CustomerNotEligible,
        Reason::CartAmountBelow {
            at_least: 50_000,
            missing: 1,
        },
        Reason::TooFewItems {
            at_least: 1,
            missing: 1,
        },
        Reason::ProductAmountBelow {
            at_least: 1,
            missing: 1,
        },
        Reason::ProductQuantityBelow {
            at_least: 1,
            missing: 1,
        },
        Reason::PaymentMode {
            modes: vec!["card".into()],
        },
        Reason::GiftVoucherRequired,
        Reason::ProductsMissing {
            skus: vec!["A".into()],
        },
        Reason::RewardMissing { sku: None },
        Reason::NothingToDiscount,
        Reason::LimitReached {
            limit: Limit::PerCart,
        },
        Reason::BlockedByExclusive {
            promotion: 1,
            name: "X".into(),
        },
        Reason::NothingLeft,
        Reason::SamePromotionAs { code: "A".into() },
    ];
    let codes: std::collections::BTreeSet<&str> = all.iter().map(Reason::code).collect();
    assert_eq!(codes.len(), all.len());
    assert!(all.iter().all(|r| !r.words(2).is_empty()));
    assert_eq!(all[8].words(2), "cart total must be at least 500.00");
    assert_eq!(all[8].words(0), "cart total must be at least 50000");
    let rupees = |m: i64| format!("₹{}", plain_amount(m, 2));
    assert_eq!(
        all[8].words_in(&rupees),
        "cart total must be at least ₹500.00"
    );
}
