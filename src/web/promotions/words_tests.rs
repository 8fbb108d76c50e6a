//! The words of promotions checked against the seed's examples and against what the engine
//! picks.

use super::words::*;
use crate::domain::promotion::{Benefit, Eligibility, Kind, Limits, Validity};
use crate::domain::promotion::{
    Condition, Criteria, ProductFilter, ProductSet, Promotion, Recurrence, Stacking, Target, Value,
};
use chrono::NaiveDate;

fn writer() -> Writer<'static> {
    Writer {
        currency: "INR",
        digits: 2,
        tz: chrono_tz::Asia::Kolkata,
    }
}

fn promotion(conditions: Vec<Condition>, benefit: Benefit) -> Promotion {
    let day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    Promotion {
        id: 1,
        name: "P".into(),
        kind: Kind::Automatic,
        eligibility: Eligibility::default(),
        validity: Validity::from_dates(day, None, chrono_tz::Asia::Kolkata),
        conditions,
        benefit,
        stacking: Stacking::Stackable,
        limits: Limits::default(),
        holding: Default::default(),
    }
}

#[test]
fn buy_x_get_y_reads_as_the_seed_says_it() {
    let p = promotion(
        vec![Condition::ProductQuantity {
            products: ProductFilter::only(ProductSet::categories(["PANTS"])),
            at_least: 2,
        }],
        Benefit {
            target: Target::Products {
                criteria: Criteria::Filter {
                    products: ProductFilter::only(ProductSet::categories(["BELTS"])),
                },
                quantity: Some(1),
            },
            value: Value::Percent { basis_points: 5000 },
            recurrence: None,
        },
    );
    assert_eq!(
        writer().headline(&p),
        "Buy 2 or more of category PANTS, get 1 of category BELTS at 50% off, \
         stackable with other promotions"
    );
}

#[test]
fn filters_and_whole_cart_benefits_read_plainly() {
    let f = ProductFilter::only(ProductSet::brands(["Nike"]).with_categories(["SHOES"]))
        .except(ProductSet::skus(["OLD-1", "OLD-2"]));
    assert_eq!(
        products(&f),
        "brand Nike and category SHOES (not SKUs OLD-1 or OLD-2)"
    );
    let p = promotion(
        vec![Condition::CartAmount { at_least: 50_000 }],
        Benefit {
            target: Target::Cart,
            value: Value::Amount { amount: 1_000 },
            recurrence: None,
        },
    );
    assert_eq!(
        writer().headline(&p),
        "Spend ₹500 or more, get ₹10 off the whole cart, stackable with other promotions"
    );
}

fn quantity(category: &str, at_least: i64) -> Condition {
    Condition::ProductQuantity {
        products: ProductFilter::only(ProductSet::categories([category])),
        at_least,
    }
}

#[test]
fn the_seeds_examples_read_as_the_engine_applies_them() {
    let denim = ProductFilter::only(ProductSet::brands(["DENIM"]));
    let cases = [
        (
            vec![quantity("JEANS", 3)],
            Benefit {
                target: Target::ConditionItems,
                value: Value::FixedPrice { price: 99_900 },
                recurrence: None,
            },
            "Buy 3 or more of category JEANS, get the dearest 3 of them for ₹999 together",
        ),
        (
            vec![quantity("SHIRTS", 2)],
            Benefit {
                target: Target::ConditionItems,
                value: Value::Amount { amount: 5_000 },
                recurrence: Some(Recurrence::Items { every: 2 }),
            },
            "Buy 2 or more of category SHIRTS, get ₹50 off for every 2 units of them",
        ),
        (
            vec![Condition::ProductAmount {
                products: denim,
                at_least: 100_000,
            }],
            Benefit {
                target: Target::ConditionItems,
                value: Value::Amount { amount: 10_000 },
                recurrence: Some(Recurrence::Amount { every: 100_000 }),
            },
            "Spend ₹1,000 or more on brand DENIM, get ₹100 off for every ₹1,000 spent on them",
        ),
        (
            vec![Condition::CartAmount { at_least: 5_000 }],
            Benefit {
                target: Target::Products {
                    criteria: Criteria::Sku { sku: "TOTE".into() },
                    quantity: Some(1),
                },
                value: Value::Free,
                recurrence: None,
            },
            "Spend ₹50 or more, get 1 of SKU TOTE free",
        ),
        (
            vec![],
            Benefit {
                target: Target::Products {
                    criteria: Criteria::AllOf {
                        skus: ["SANDWICH".to_string(), "COFFEE".to_string()].into(),
                    },
                    quantity: None,
                },
                value: Value::Percent {
                    basis_points: 2_000,
                },
                recurrence: None,
            },
            "Every set of SKUs COFFEE and SANDWICH bought together at 20% off",
        ),
        (
            vec![quantity("COFFEE", 2)],
            Benefit {
                target: Target::Products {
                    criteria: Criteria::Filter {
                        products: ProductFilter::only(ProductSet::categories(["COFFEE"])),
                    },
                    quantity: Some(1),
                },
                value: Value::Free,
                recurrence: Some(Recurrence::Items { every: 2 }),
            },
            "Buy 2 or more of category COFFEE, get 1 of category COFFEE free, for every 2 \
             units of category COFFEE bought",
        ),
    ];
    for (conditions, benefit, words) in cases {
        let p = promotion(conditions, benefit);
        assert_eq!(
            writer().headline(&p),
            format!("{words}, stackable with other promotions")
        );
    }
}

#[test]
fn dearest_and_cheapest_in_the_words_are_what_the_engine_picks() {
    use crate::domain::promotion::{Cart, CartLine, Usage, evaluate};
    let at = chrono::DateTime::parse_from_rfc3339("2026-06-10T10:00:00Z")
        .unwrap()
        .to_utc();
    let jeans = |sku: &str, price: i64| CartLine::new(sku, 1, price).category("JEANS");
    // "the dearest 3 of them for ₹999 together": 4 jeans, the cheapest stays at its price.
    let bundle = promotion(
        vec![quantity("JEANS", 3)],
        Benefit {
            target: Target::ConditionItems,
            value: Value::FixedPrice { price: 99_900 },
            recurrence: None,
        },
    );
    assert!(writer().headline(&bundle).contains("the dearest 3 of them"));
    let cart = Cart::new(
        vec![
            jeans("J1", 50_000),
            jeans("J2", 60_000),
            jeans("J3", 70_000),
            jeans("J4", 20_000),
        ],
        at,
    );
    let e = evaluate(&cart, &[bundle], &Usage::new(), chrono_tz::Asia::Kolkata);
    assert_eq!(e.discount, 180_000 - 99_900);
    assert_eq!(e.lines[3], 0, "the cheapest is not in the bundle");
    // "the cheapest rewarded items left get the benefit": of two belts, the cheaper one.
    let belt = promotion(
        vec![quantity("PANTS", 2)],
        Benefit {
            target: Target::Products {
                criteria: Criteria::Filter {
                    products: ProductFilter::only(ProductSet::categories(["BELTS"])),
                },
                quantity: Some(1),
            },
            value: Value::Percent {
                basis_points: 5_000,
            },
            recurrence: None,
        },
    );
    let cart = Cart::new(
        vec![
            CartLine::new("P", 2, 150_000).category("PANTS"),
            CartLine::new("B1", 1, 80_000).category("BELTS"),
            CartLine::new("B2", 1, 60_000).category("BELTS"),
        ],
        at,
    );
    let e = evaluate(&cart, &[belt], &Usage::new(), chrono_tz::Asia::Kolkata);
    assert_eq!(e.lines, vec![0, 0, 30_000]);
}
