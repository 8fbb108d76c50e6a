//! The wizard's form of a stored promotion read back into the same rules: every product
//! condition slot, up to the engine's cap.

use super::form::{NotInForm, PRODUCT_SLOTS, PromotionForm, SLOT_PARTS};
use super::parse::{Context, parse};
use crate::domain::promotion::{
    Benefit, Condition, Eligibility, Kind, Limits, MAX_PRODUCT_CONDITIONS, ProductFilter,
    ProductSet, Promotion, Stacking, Target, Validity, Value,
};
use chrono::NaiveDate;
use chrono_tz::Asia::Kolkata;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

fn context() -> Context {
    Context {
        tz: Kolkata,
        digits: 2,
        today: day(),
        id: 7,
    }
}

/// Four product conditions of every shape a slot can hold: units and amounts, each dimension
/// included, exclusions.
fn product_conditions() -> Vec<Condition> {
    vec![
        Condition::ProductQuantity {
            products: ProductFilter::only(ProductSet::brands(["Levi's"])),
            at_least: 2,
        },
        Condition::ProductAmount {
            products: ProductFilter::only(ProductSet::categories(["SHIRTS", "TEES"]))
                .except(ProductSet::brands(["Basics"]).with_attribute("fit", "slim")),
            at_least: 150_050,
        },
        Condition::ProductQuantity {
            products: ProductFilter::only(
                ProductSet::skus(["BELT-1", "BELT-2"]).with_attribute("colour", "brown"),
            ),
            at_least: 1,
        },
        Condition::ProductAmount {
            products: ProductFilter::only(ProductSet::categories(["SOCKS"]))
                .except(ProductSet::skus(["SOCK-9"]).with_categories(["CLEARANCE"])),
            at_least: 50_000,
        },
    ]
}

/// An API-made promotion with the first `n` product conditions, a payment mode, and a 10%
/// discount on the items that met them.
fn promotion(n: usize) -> Promotion {
    let mut conditions: Vec<Condition> = product_conditions().into_iter().take(n).collect();
    conditions.push(Condition::PaymentMode {
        modes: vec!["card".into()],
    });
    Promotion {
        id: 7,
        name: "Weekend outfit".into(),
        kind: Kind::Automatic,
        eligibility: Eligibility::default(),
        validity: Validity::from_dates(day(), None, Kolkata),
        conditions,
        benefit: Benefit {
            target: Target::ConditionItems,
            value: Value::Percent { basis_points: 1000 },
            recurrence: None,
        },
        stacking: Stacking::Stackable,
        limits: Limits::default(),
        holding: Default::default(),
    }
}

#[test]
fn three_and_four_product_conditions_open_in_the_form_and_save_back_unchanged() {
    for n in [1, 2, 3, 4] {
        let p = promotion(n);
        assert_eq!(p.validate(), Ok(()), "{n}");
        let f = PromotionForm::of_promotion(&p, Kolkata, 2).expect("fits the form");
        let used: Vec<&str> = PRODUCT_SLOTS
            .iter()
            .copied()
            .filter(|s| f.slot_used(s))
            .collect();
        assert_eq!(used, PRODUCT_SLOTS[..n], "one slot per condition");
        assert_eq!(parse(&f, &context()), Ok(p), "{n} product conditions");
    }
    let f = PromotionForm::of_promotion(&promotion(4), Kolkata, 2).unwrap();
    assert_eq!(f.p3_measure, "quantity");
    assert_eq!(f.p3_inc_skus, "BELT-1, BELT-2");
    assert_eq!(f.p3_inc_attributes, "colour=brown");
    assert_eq!(f.p4_measure, "amount");
    assert_eq!(f.p4_at_least, "500");
    assert_eq!(f.p2_at_least, "1500.50");
    assert_eq!(f.p4_exc_skus, "SOCK-9");
    assert_eq!(f.p4_exc_categories, "CLEARANCE");
    // The Conditions step opens the folded slots up to the last one used.
    let open: Vec<bool> = f.product_slots().iter().map(|s| s.open).collect();
    assert_eq!(open, [true, true, true, true]);
    let f = PromotionForm::of_promotion(&promotion(2), Kolkata, 2).unwrap();
    let open: Vec<bool> = f.product_slots().iter().map(|s| s.open).collect();
    assert_eq!(open, [true, true, false, false]);
}

#[test]
fn a_promotion_stored_with_more_product_conditions_than_the_cap_is_not_edited_here() {
    let mut p = promotion(4);
    p.conditions.push(Condition::ProductQuantity {
        products: ProductFilter::only(ProductSet::categories(["CAPS"])),
        at_least: 1,
    });
    assert!(p.validate().is_err(), "the engine refuses a fifth now");
    let Err(NotInForm(why)) = PromotionForm::of_promotion(&p, Kolkata, 2) else {
        panic!("a fifth product condition has no slot");
    };
    assert!(
        why.starts_with("it has 5 product conditions, more than the 4 a promotion may have"),
        "{why}"
    );
}

#[test]
fn every_slot_has_every_input_and_a_third_slot_is_read_like_the_first() {
    assert_eq!(PRODUCT_SLOTS.len(), MAX_PRODUCT_CONDITIONS);
    for slot in PRODUCT_SLOTS {
        for part in SLOT_PARTS {
            let name = format!("{slot}_{part}");
            assert!(
                PromotionForm::FIELDS.iter().any(|(f, _)| *f == name),
                "{name} is an input of the form"
            );
        }
    }
    // A third slot with a measure but no products is refused on its own inputs.
    let mut f = PromotionForm::of_promotion(&promotion(2), Kolkata, 2).unwrap();
    f.p3_measure = "quantity".into();
    f.p3_at_least = "3".into();
    let problems = parse(&f, &context()).unwrap_err();
    assert_eq!(
        problems.get("p3"),
        "Product condition 3: name the products to include or to exclude (a SKU, brand, \
         category or attribute)"
    );
    f.p3_inc_brands = "Nike".into();
    let p = parse(&f, &context()).expect("three product conditions");
    assert_eq!(p.conditions.len(), 4);
    assert_eq!(
        p.conditions[2],
        Condition::ProductQuantity {
            products: ProductFilter::only(ProductSet::brands(["Nike"])),
            at_least: 3,
        }
    );
}
