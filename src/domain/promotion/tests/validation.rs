//! Shapes the seed does not allow are refused with an error on the right field.

use super::*;
use PromotionField as F;

/// The fields and messages of `p`'s errors.
fn errors(p: &Promotion) -> Vec<(PromotionField, String)> {
    match p.validate() {
        Ok(()) => vec![],
        Err(e) => e.0.into_iter().map(|e| (e.field, e.message)).collect(),
    }
}

fn refused(p: &Promotion, field: PromotionField, words: &str) {
    let found = errors(p);
    assert!(
        found.iter().any(|(f, m)| *f == field && m.contains(words)),
        "expected {field:?} «{words}» in {found:?}"
    );
}

#[test]
fn a_standalone_condition_cannot_be_combined() {
    for alone in [
        Condition::CartAmount { at_least: rs(500) },
        Condition::DistinctItems { at_least: 5 },
        Condition::GiftVoucher {
            codes: vec!["EMP".into()],
        },
    ] {
        let mut p = promo(1);
        p.conditions = vec![alone.clone()];
        assert_eq!(errors(&p), vec![], "alone is fine");
        p.conditions.push(Condition::PaymentMode {
            modes: vec!["card".into()],
        });
        refused(&p, F::Conditions, "is standalone only");
    }
    let mut p = promo(1);
    p.conditions = vec![
        at_least_units(category("tees"), 3),
        Condition::ProductAmount {
            products: category("denim"),
            at_least: rs(1000),
        },
        Condition::PaymentMode {
            modes: vec!["card".into()],
        },
    ];
    assert_eq!(errors(&p), vec![], "these combine with AND");
    let err = Promotion {
        conditions: vec![
            Condition::CartAmount { at_least: rs(500) },
            at_least_units(category("tees"), 3),
        ],
        ..promo(1)
    }
    .validate()
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "conditions a cart amount condition is standalone only: it cannot be combined with \
         other conditions"
    );
    assert!(err.of(F::Conditions).is_some());
}

#[test]
fn conditions_need_thresholds_and_products() {
    let mut p = promo(1);
    p.conditions = vec![at_least_units(ProductFilter::default(), 0)];
    refused(&p, F::Conditions, "condition 1 must have a threshold");
    p.conditions = vec![at_least_units(ProductFilter::default(), 2)];
    refused(&p, F::Conditions, "condition 1 must select products");
    p.conditions = vec![
        Condition::PaymentMode { modes: vec![] },
        Condition::PaymentMode {
            modes: vec!["upi".into()],
        },
    ];
    refused(&p, F::Conditions, "can be set once");
    refused(&p, F::Conditions, "condition 1 must name a payment mode");
}

#[test]
fn at_most_four_product_conditions_combine() {
    let mut p = promo(1);
    p.conditions = vec![Condition::PaymentMode {
        modes: vec!["card".into()],
    }];
    for (i, c) in ["tees", "denim", "belts", "caps"].into_iter().enumerate() {
        p.conditions.push(if i % 2 == 0 {
            at_least_units(category(c), 1)
        } else {
            Condition::ProductAmount {
                products: category(c),
                at_least: rs(500),
            }
        });
    }
    assert_eq!(MAX_PRODUCT_CONDITIONS, 4);
    assert_eq!(
        errors(&p),
        vec![],
        "four product conditions and a payment mode"
    );
    p.conditions.push(at_least_units(category("socks"), 2));
    assert_eq!(
        errors(&p),
        vec![(
            F::Conditions,
            "must have at most 4 product conditions (it has 5)".to_string()
        )]
    );
}
#[test]
fn benefit_shapes() {
    let cases: Vec<(Promotion, PromotionField, &str)> = vec![
        (
            with(1, Target::Cart, Value::Free),
            F::Value,
            "over and above",
        ),
        (
            with(1, Target::Cart, Value::FixedPrice { price: 100 }),
            F::Value,
            "selected products",
        ),
        (
            with(1, Target::ConditionItems, pct(10)),
            F::Target,
            "needs a condition",
        ),
        (
            with(1, reward(one_sku("TOTE"), None), Value::Free),
            F::RewardQuantity,
            "is required",
        ),
        (
            with(1, reward(one_sku(" "), Some(1)), pct(10)),
            F::Criteria,
            "SKU",
        ),
        (
            with(
                1,
                reward(
                    Criteria::AllOf {
                        skus: ["A".to_string()].into(),
                    },
                    None,
                ),
                pct(10),
            ),
            F::Criteria,
            "two SKUs",
        ),
        (
            with(1, reward(one_sku("A"), Some(0)), pct(10)),
            F::RewardQuantity,
            "at least 1",
        ),
        (with(1, Target::Cart, pct(0)), F::Value, "percentage"),
        (with(1, Target::Cart, pct(101)), F::Value, "percentage"),
        (with(1, Target::Cart, off(0)), F::Value, "amount off"),
        (
            {
                let mut p = with(1, Target::Cart, pct(10));
                p.benefit.recurrence = Some(Recurrence::Items { every: 2 });
                p
            },
            F::Recurrence,
            "whole cart cannot repeat",
        ),
        (
            {
                let mut p = with(1, Target::Cart, off(10));
                p.benefit.recurrence = Some(Recurrence::Amount { every: 0 });
                p
            },
            F::Recurrence,
            "more than zero",
        ),
        (
            {
                let mut p = with(1, Target::ConditionItems, Value::FixedPrice { price: 1 });
                p.conditions = vec![Condition::ProductAmount {
                    products: category("jeans"),
                    at_least: 1,
                }];
                p
            },
            F::Value,
            "bundle size",
        ),
    ];
    for (p, field, words) in cases {
        refused(&p, field, words);
    }
}

#[test]
fn name_codes_validity_and_eligibility() {
    let mut p = promo(1);
    p.name = "  ".into();
    p.kind = Kind::CodeLinked {
        codes: vec!["SUMMER".into(), "summer".into(), "no spaces".into()],
    };
    p.validity.ends = Some(p.validity.starts);
    p.eligibility.hours = vec![TimeWindow { start: 60, end: 60 }];
    p.eligibility.tiers = vec!["".into()];
    let found: Vec<PromotionField> = errors(&p).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        found,
        vec![
            F::Name,
            F::Codes,
            F::Codes,
            F::Validity,
            F::Hours,
            F::Customers
        ]
    );
    p.kind = Kind::CodeLinked { codes: vec![] };
    refused(&p, F::Codes, "at least one code");
    assert_eq!(F::CustomerValue.api(), "customerValue");
    assert_eq!(F::ALL.len(), 20);
}

#[test]
fn limits_and_reset_periods() {
    let mut p = promo(1);
    p.limits = Limits {
        per_cart: Some(0),
        global_uses: None,
        global_reset: Some(Period::CalendarMonth),
        customer_uses: Some(3),
        customer_value: Some(-1),
        customer_reset: Some(Period::LastDays { days: 0 }),
    };
    refused(&p, F::PerCart, "more than zero");
    refused(&p, F::CustomerValue, "more than zero");
    refused(&p, F::GlobalReset, "needs a limit");
    refused(&p, F::CustomerReset, "between 1 and 3660 days");
    p.limits.customer_reset = Some(Period::LastWeeks { weeks: 521 });
    refused(&p, F::CustomerReset, "520 weeks");
}

#[test]
fn limits_of_a_live_promotion_are_immutable() {
    let live = promo(1);
    let mut edited = live.clone();
    edited.name = "Renamed".into();
    assert!(live.limit_changes(&edited).is_empty());
    edited.limits.customer_uses = Some(5);
    edited.limits.customer_reset = Some(Period::CalendarMonth);
    assert_eq!(
        live.limit_changes(&edited),
        vec![F::CustomerUses, F::CustomerReset]
    );
}

#[test]
fn every_public_shape_can_be_stored_and_sent_with_serde() {
    fn is_serde<T: serde::Serialize + serde::de::DeserializeOwned>() {}
    is_serde::<Promotion>();
    is_serde::<Cart>();
    is_serde::<Evaluation>();
    is_serde::<Period>();
}
