//! Eligibility, conditions, product filters, codes, limits and hints.

use super::*;

fn ids(e: &Evaluation) -> Vec<i64> {
    e.applied.iter().map(|a| a.promotion).collect()
}

fn one_line() -> Cart {
    cart(vec![item("A", "x", 1, rs(1000))])
}

/// The reason a code-linked copy of `p` is rejected with in `c` (None when it applies).
fn code_reason(p: &Promotion, c: &Cart) -> Option<Reason> {
    let mut p = p.clone();
    p.kind = Kind::CodeLinked {
        codes: vec!["TRY".into()],
    };
    let mut c = c.clone();
    c.codes = vec!["try".into()];
    let e = run(&c, &[p]);
    sane(&c, &e);
    e.rejected.first().map(|r| r.reason.clone())
}

#[test]
fn store_or_zone() {
    let mut p = promo(1);
    p.eligibility.stores = vec!["BLR-1".into()];
    p.eligibility.zones = vec!["KERALA".into()];
    let cases = [
        (Some("BLR-1"), None, true),
        (Some("KOCHI-3"), Some("KERALA"), true),
        (Some("MUM-1"), Some("WEST"), false),
        (None, None, false),
    ];
    for (store, zone, applies) in cases {
        let mut c = one_line();
        c.store = store.map(String::from);
        c.zone = zone.map(String::from);
        assert_eq!(
            !ids(&run(&c, &[p.clone()])).is_empty(),
            applies,
            "{store:?} {zone:?}"
        );
        let expected = (!applies).then_some(Reason::WrongStore);
        assert_eq!(code_reason(&p, &c), expected);
    }
}

#[test]
fn happy_hour_on_weekdays_between_4_and_6_pm_in_the_org_time_zone() {
    let mut p = promo(1);
    p.eligibility.weekdays = Weekdays::MONDAY_TO_FRIDAY;
    p.eligibility.hours = vec![TimeWindow::hours(16, 18)];
    // 10 June 2026 is a Wednesday; 13 June a Saturday.
    let cases = [
        (ist(2026, 6, 10, 16, 0), None),
        (ist(2026, 6, 10, 17, 59), None),
        (ist(2026, 6, 10, 15, 59), Some(Reason::WrongTime)),
        (ist(2026, 6, 10, 18, 0), Some(Reason::WrongTime)),
        (ist(2026, 6, 13, 17, 0), Some(Reason::WrongDay)),
    ];
    for (at, reason) in cases {
        let mut c = one_line();
        c.at = at;
        assert_eq!(code_reason(&p, &c), reason, "{at}");
        assert_eq!(ids(&run(&c, &[p.clone()])).is_empty(), reason.is_some());
    }
    // The same instant is 16:30 in Berlin (summer time) but 20:00 in India.
    let mut c = one_line();
    c.at = Utc.with_ymd_and_hms(2026, 6, 10, 14, 30, 0).unwrap();
    let berlin = evaluate(&c, &[p.clone()], &Usage::new(), chrono_tz::Europe::Berlin);
    assert_eq!(ids(&berlin), vec![1]);
    assert!(ids(&run(&c, &[p.clone()])).is_empty());
    // The day is the org's: 23:30 UTC Friday is Saturday 05:00 in India.
    p.eligibility.hours.clear();
    c.at = Utc.with_ymd_and_hms(2026, 6, 12, 23, 30, 0).unwrap();
    assert!(ids(&run(&c, &[p.clone()])).is_empty());
    assert_eq!(
        ids(&evaluate(&c, &[p], &Usage::new(), chrono_tz::UTC)),
        vec![1]
    );
}

#[test]
fn a_time_window_may_cross_midnight() {
    let mut p = promo(1);
    p.eligibility.hours = vec![TimeWindow::hours(22, 2)];
    for (h, applies) in [(23, true), (1, true), (2, false), (12, false)] {
        let mut c = one_line();
        c.at = ist(2026, 6, 10, h, 0);
        assert_eq!(ids(&run(&c, &[p.clone()])) == vec![1], applies, "{h}:00");
    }
}

#[test]
fn validity_start_and_end() {
    let p = promo(1); // 1 to 30 June 2026, India
    let cases = [
        (ist(2026, 5, 31, 23, 59), "not_started"),
        (ist(2026, 6, 1, 0, 0), ""),
        (ist(2026, 6, 30, 23, 59), ""),
        (ist(2026, 7, 1, 0, 0), "ended"),
    ];
    for (at, code) in cases {
        let mut c = one_line();
        c.at = at;
        assert_eq!(code_reason(&p, &c).map_or("", |r| r.code()), code, "{at}");
    }
    assert_eq!(p.validity.last_day(IST), Some(date(2026, 6, 30)));
}

#[test]
fn a_tier_only_promotion() {
    let mut p = promo(1);
    p.eligibility.tiers = vec!["GOLD".into()];
    let customer = |tier: &str| Customer {
        tiers: vec![tier.into()],
        ..Customer::default()
    };
    let mut c = one_line();
    assert_eq!(code_reason(&p, &c), Some(Reason::CustomerRequired));
    c.customer = Some(customer("SILVER"));
    assert_eq!(code_reason(&p, &c), Some(Reason::CustomerNotEligible));
    c.customer = Some(customer("GOLD"));
    assert_eq!(code_reason(&p, &c), None);
    // Tiers and segments both named: the customer needs both.
    p.eligibility.segments = vec!["NEW".into()];
    assert_eq!(code_reason(&p, &c), Some(Reason::CustomerNotEligible));
    c.customer.as_mut().unwrap().segments = vec!["LAPSED".into(), "NEW".into()];
    assert_eq!(code_reason(&p, &c), None);
}

#[test]
fn payment_mode_and_gift_voucher_conditions() {
    let mut card = promo(1);
    card.conditions = vec![Condition::PaymentMode {
        modes: vec!["credit_card".into()],
    }];
    let mut c = one_line();
    c.payment_mode = Some("upi".into());
    let e = run(&c, &[card.clone()]);
    assert!(e.applied.is_empty());
    let pay = Need::PayWith {
        modes: vec!["credit_card".into()],
    };
    assert_eq!(e.hints[0].needs, vec![pay]);
    assert_eq!(
        code_reason(&card, &c).unwrap().words(2),
        "pay by credit_card to qualify"
    );
    c.payment_mode = Some("credit_card".into());
    assert_eq!(ids(&run(&c, &[card])), vec![1]);

    let mut voucher = promo(2);
    voucher.conditions = vec![Condition::GiftVoucher {
        codes: vec!["Employee_Special_Voucher".into()],
    }];
    let mut c = one_line();
    let e = run(&c, &[voucher.clone()]);
    assert!(e.applied.is_empty() && e.hints.is_empty(), "never hinted");
    assert_eq!(code_reason(&voucher, &c), Some(Reason::GiftVoucherRequired));
    c.gift_vouchers = vec!["EMPLOYEE_SPECIAL_VOUCHER".into()];
    assert_eq!(ids(&run(&c, &[voucher])), vec![2]);
}

#[test]
fn include_and_exclude_filters() {
    // Spend 1000 on anything but clearance, get 10% off those products.
    let not_clearance = ProductFilter::default().except(ProductSet::categories(["clearance"]));
    let mut p = with(1, Target::ConditionItems, pct(10));
    p.conditions = vec![Condition::ProductAmount {
        products: not_clearance,
        at_least: rs(1000),
    }];
    let c = cart(vec![
        item("A", "shirts", 1, rs(800)),
        item("B", "clearance", 1, rs(500)),
    ]);
    let e = run(&c, &[p.clone()]);
    assert!(e.applied.is_empty(), "the clearance line does not count");
    assert_eq!(
        code_reason(&p, &c),
        Some(Reason::ProductAmountBelow {
            at_least: rs(1000),
            missing: rs(200)
        })
    );
    let c = cart(vec![
        item("A", "shirts", 1, rs(800)),
        item("B", "clearance", 1, rs(500)),
        item("C", "shirts", 1, rs(300)),
    ]);
    let e = run(&c, &[p]);
    sane(&c, &e);
    assert_eq!(e.lines, vec![rs(80), 0, rs(30)], "nor is it discounted");

    // Include: red Nike products, from a SKU list (CSV), except one SKU.
    let red_nike = ProductSet::brands(["Nike"]).with_attribute("colour", "red");
    let from_csv = ProductSet::skus(["N-1", "N-2", "N-3"]);
    let mut p = with(2, Target::ConditionItems, pct(50));
    let products = ProductFilter::only(red_nike).except(ProductSet::skus(["N-3"]));
    p.conditions = vec![at_least_units(products, 1)];
    let nike = |s: &str, colour: &str| {
        CartLine::new(s, 1, rs(100))
            .brand("Nike")
            .attribute("colour", colour)
    };
    let c = cart(vec![
        nike("N-1", "red"),
        nike("N-2", "blue"),
        nike("N-3", "red"),
    ]);
    assert_eq!(run(&c, &[p.clone()]).lines, vec![rs(50), 0, 0]);
    let mut csv = p.clone();
    csv.conditions = vec![at_least_units(ProductFilter::only(from_csv), 1)];
    assert_eq!(run(&c, &[csv]).lines, vec![rs(50), rs(50), rs(50)]);
}

#[test]
fn codes_are_matched_ignoring_case_and_unknown_ones_are_rejected() {
    let mut p = promo(1);
    p.kind = Kind::CodeLinked {
        codes: vec!["SUMMER10".into(), "JUNE10".into()],
    };
    p.conditions = vec![Condition::CartAmount { at_least: rs(500) }];
    let mut c = cart(vec![item("A", "x", 1, rs(300))]);
    c.codes = vec![" summer10 ".into(), "NOPE".into(), "Nope".into(), "".into()];
    let e = run(&c, &[p.clone()]);
    assert_eq!(
        rejected(&e),
        vec![("NOPE", "no_such_code"), ("summer10", "cart_amount_below")]
    );
    assert_eq!(
        e.rejected[1].reason.words(2),
        "cart total must be at least 500.00"
    );
    assert_eq!(e.rejected[1].promotion, Some(1));
    // Nearly met (300 of 500 is not): no hint.
    assert!(e.hints.is_empty());
    c.lines[0].unit_price = rs(600);
    c.codes.push("june10".into());
    let e = run(&c, &[p.clone()]);
    assert_eq!(ids(&e), vec![1]);
    assert_eq!(
        e.applied[0].code.as_deref(),
        Some("june10"),
        "first in order"
    );
    assert_eq!(
        rejected(&e),
        vec![("NOPE", "no_such_code"), ("summer10", "same_promotion_as")]
    );
    // Without its code, a code-linked promotion does not apply.
    c.codes.clear();
    assert!(run(&c, &[p]).applied.is_empty());
}

#[test]
fn earned_and_reward_promotions_apply_while_held() {
    let mut p = promo(7);
    p.kind = Kind::Earned;
    let mut c = one_line();
    assert!(run(&c, &[p.clone()]).applied.is_empty(), "anonymous");
    let hold = |until| Customer {
        held: vec![Held {
            promotion: 7,
            until,
        }],
        ..Customer::default()
    };
    c.customer = Some(hold(None));
    assert_eq!(ids(&run(&c, &[p.clone()])), vec![7]);
    c.customer = Some(hold(Some(noon())));
    assert!(
        run(&c, &[p.clone()]).applied.is_empty(),
        "the window closed"
    );
    p.kind = Kind::Reward;
    c.customer = Some(hold(Some(ist(2026, 6, 11, 0, 0))));
    assert_eq!(ids(&run(&c, &[p])), vec![7]);
}

#[test]
fn limits_left_by_usage_stop_or_trim_a_promotion() {
    let mut p = promo(1);
    p.limits.global_uses = Some(1000);
    p.limits.customer_value = Some(rs(500));
    let mut c = one_line(); // 10% = 100
    assert_eq!(code_reason(&p, &c), Some(Reason::CustomerRequired));
    c.customer = Some(Customer::default());
    let used = |uses, value| {
        let used = Used {
            uses,
            customer_uses: 0,
            customer_value: value,
        };
        Usage::from_iter([(1, Remaining::from_used(&p.limits, used))])
    };
    let e = evaluate(&c, &[p.clone()], &used(999, rs(470)), IST);
    sane(&c, &e);
    assert_eq!(applied(&e), vec![(1, rs(30))]);
    assert_eq!(e.applied[0].limited_by, vec![Limit::CustomerValue]);
    let e = evaluate(&c, &[p.clone()], &used(999, rs(500)), IST);
    assert!(e.applied.is_empty());
    let reason = Reason::LimitReached {
        limit: Limit::CustomerValue,
    };
    assert_eq!(e.not_applied[0].reason, reason);
    let e = evaluate(&c, &[p.clone()], &used(1000, 0), IST);
    assert_eq!(
        e.not_applied[0].reason.words(2),
        "the promotion has been used as often as allowed"
    );
    let remaining = Remaining {
        customer_uses: Some(0),
        ..Remaining::default()
    };
    let e = evaluate(&c, &[p], &Usage::from_iter([(1, remaining)]), IST);
    assert_eq!(e.not_applied[0].reason.code(), "limit_reached");
}

#[test]
fn hints_name_nearly_met_promotions() {
    let mut amount = promo(1);
    amount.conditions = vec![Condition::CartAmount { at_least: rs(500) }];
    let mut three = with(2, Target::ConditionItems, pct(10));
    three.conditions = vec![at_least_units(category("tees"), 3)];
    let mut ten = with(3, Target::ConditionItems, pct(10));
    ten.conditions = vec![at_least_units(category("socks"), 10)];
    let promotions = [amount, three, ten];
    // (cart, promotions hinted with their first need)
    type Case = (Vec<CartLine>, Vec<(i64, Need)>);
    let cases: Vec<Case> = vec![
        (
            vec![item("T", "tees", 2, rs(200))],
            vec![
                (1, Need::AddAmount { missing: rs(100) }),
                (
                    2,
                    Need::AddProductQuantity {
                        missing: 1,
                        condition: Some(0),
                    },
                ),
            ],
        ),
        (vec![item("T", "tees", 1, rs(399))], vec![]),
        (
            vec![item("S", "socks", 8, rs(10))],
            vec![(
                3,
                Need::AddProductQuantity {
                    missing: 2,
                    condition: Some(0),
                },
            )],
        ),
        (vec![item("S", "socks", 7, rs(10))], vec![]),
    ];
    for (lines, hinted) in cases {
        let c = cart(lines);
        let e = run(&c, &promotions);
        let got: Vec<(i64, Need)> = e
            .hints
            .iter()
            .map(|h| (h.promotion, h.needs[0].clone()))
            .collect();
        assert_eq!(got, hinted, "{c:?}");
    }
    assert_eq!(
        Need::AddAmount { missing: rs(200) }.words(2),
        "add 200.00 more to the cart"
    );
}

#[test]
fn a_cart_discount_is_spread_by_value_and_reported_by_input_line() {
    let c = cart(vec![
        item("C", "x", 1, rs(10)),
        item("A", "x", 1, rs(10)),
        item("B", "x", 1, rs(10)),
    ]);
    let e = run(&c, &[with(1, Target::Cart, off(100))]);
    sane(&c, &e);
    // 1.00 over three equal lines: 0.34 to the first in canonical order (SKU A).
    assert_eq!(e.lines, vec![33, 34, 33]);
    let shares: Vec<(usize, i64)> = e.applied[0]
        .lines
        .iter()
        .map(|l| (l.line, l.discount))
        .collect();
    assert_eq!(shares, vec![(0, 33), (1, 34), (2, 33)]);
}

#[test]
fn lines_without_units_or_price_count_for_nothing() {
    let c = cart(vec![
        item("A", "x", -2, rs(100)),
        item("B", "x", 3, -5),
        item("C", "x", 1, rs(100)),
    ]);
    let e = run(&c, &[with(1, Target::Cart, off(rs(500)))]);
    sane(&c, &e);
    assert_eq!(e.lines, vec![0, 0, rs(100)]);
}
