//! Each validation rule of the offer form, one failing input each, and the plain-words text.

use super::describe::Names;
use super::form::{OfferContext, OfferForm, Step, parse};
use super::*;
use std::collections::{HashMap, HashSet};

fn ctx() -> OfferContext {
    OfferContext {
        digits: 2,
        today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        categories: HashSet::from([1]),
        brands: HashSet::from([10, 11]),
        stores: HashSet::from([100, 101, 102]),
        tills: HashSet::from([200]),
        zones: HashSet::from([300]),
        concepts: HashSet::from([400]),
        pocs: HashSet::from([500]),
        offers: HashSet::from([600]),
        audience_size: 0,
    }
}

fn valid() -> OfferForm {
    OfferForm {
        name: "Glow15".into(),
        expires_on: "2027-12-31".into(),
        discount_value: "15".into(),
        ..OfferForm::defaults()
    }
}

/// A valid offer's rules (15% off, ends 2027-12-31, unique codes, no issual limits).
pub(crate) fn sample_rules() -> OfferRules {
    parse(&valid(), &ctx()).expect("the default form is valid")
}

fn error_of(f: OfferForm, field: &str) -> String {
    let e = parse(&f, &ctx()).expect_err("should be refused").for_form();
    let m = e.get(field).to_string();
    assert!(!m.is_empty(), "no error on {field}: {e}");
    m
}

#[test]
fn the_default_form_with_a_name_date_and_value_is_valid() {
    let r = parse(&valid(), &ctx()).unwrap();
    assert_eq!(
        r.discount,
        Discount::Percent {
            basis_points: 1500,
            cap: None
        }
    );
    assert_eq!(
        r.expiry,
        OfferExpiry::Fixed(NaiveDate::from_ymd_opt(2027, 12, 31).unwrap())
    );
    assert_eq!(
        r.generation,
        Generation::Unique {
            length: 10,
            charset: Charset::Unambiguous,
            prefix: String::new()
        }
    );
}

#[test]
fn each_rule_refuses_with_a_message() {
    let cases: Vec<(OfferForm, &str, &str)> = vec![
        (
            OfferForm {
                name: "".into(),
                ..valid()
            },
            "name",
            "is required",
        ),
        (
            OfferForm {
                pos_code: "no spaces".into(),
                ..valid()
            },
            "pos_code",
            "may contain only",
        ),
        (
            OfferForm {
                expires_on: "2026-11-21".into(),
                ..valid()
            },
            "expires_on",
            "today or later",
        ),
        (
            OfferForm {
                expires_on: "".into(),
                ..valid()
            },
            "expires_on",
            "is required",
        ),
        (
            OfferForm {
                specific_customers_only: "on".into(),
                ..valid()
            },
            "specific_customers_only",
            "needs the customer list",
        ),
        (
            OfferForm {
                discount_value: "0".into(),
                ..valid()
            },
            "discount_value",
            "more than 0 and at most 100",
        ),
        (
            OfferForm {
                discount_value: "100.5".into(),
                ..valid()
            },
            "discount_value",
            "at most 100",
        ),
        (
            OfferForm {
                discount_type: "ABS".into(),
                discount_value: "1.005".into(),
                ..valid()
            },
            "discount_value",
            "at most 2 decimals",
        ),
        (
            OfferForm {
                discount_type: "ABS".into(),
                discount_value: "200".into(),
                discount_cap: "50".into(),
                ..valid()
            },
            "discount_cap",
            "only to percentage",
        ),
        (
            OfferForm {
                applies_to: "selected".into(),
                ..valid()
            },
            "categories",
            "at least one category or brand",
        ),
        (
            OfferForm {
                applies_to: "selected".into(),
                brands: vec!["99".into()],
                ..valid()
            },
            "brands",
            "not in this organisation",
        ),
        (
            OfferForm {
                code_length: "3".into(),
                ..valid()
            },
            "code_length",
            "between 4 and 20",
        ),
        (
            OfferForm {
                code_prefix: "PRE FIX".into(),
                ..valid()
            },
            "code_prefix",
            "may contain only",
        ),
        (
            OfferForm {
                generation: "common".into(),
                common_code: "AB".into(),
                ..valid()
            },
            "common_code",
            "3 to 30",
        ),
        (
            OfferForm {
                generation: "randomized".into(),
                sample_code: "TEST".into(),
                ..valid()
            },
            "sample_code",
            "5 to 10",
        ),
        (
            OfferForm {
                generation: "randomized".into(),
                sample_code: "TEST-1234".into(),
                ..valid()
            },
            "sample_code",
            "letters and digits",
        ),
        (
            OfferForm {
                generation: "randomized".into(),
                sample_code: "TEST12345".into(),
                specific_customers_only: "on".into(),
                ..valid()
            },
            "specific_customers_only",
            "not available with randomized",
        ),
        (
            OfferForm {
                coupon_expiry: "days".into(),
                coupon_expiry_n: "0".into(),
                ..valid()
            },
            "coupon_expiry_n",
            "between 1 and",
        ),
        (
            OfferForm {
                min_issual_gap_days: "7".into(),
                max_per_customer: "1".into(),
                ..valid()
            },
            "min_issual_gap_days",
            "2 or more",
        ),
        (
            OfferForm {
                total_issual_cap: "0".into(),
                ..valid()
            },
            "total_issual_cap",
            "between 1 and",
        ),
        (
            OfferForm {
                resend_text: "Hi {name}".into(),
                ..valid()
            },
            "resend_text",
            "unknown placeholder {name}",
        ),
        (
            OfferForm {
                reminder_days: vec!["3".into()],
                reminder_channel: vec!["pigeon".into()],
                reminder_text: vec!["x".into()],
                ..valid()
            },
            "reminders",
            "reminder 1: choose SMS or email",
        ),
        (
            OfferForm {
                redemption_start: "date".into(),
                redemption_start_date: "2028-01-01".into(),
                ..valid()
            },
            "redemption_start_date",
            "not be after the offer's expiry",
        ),
        (
            OfferForm {
                redemption_gap_days: "3".into(),
                ..valid()
            },
            "redemption_gap_days",
            "only when a coupon may be redeemed more than once",
        ),
        (
            OfferForm {
                min_bill: "5000".into(),
                max_bill: "1000".into(),
                ..valid()
            },
            "max_bill",
            "not be less than the minimum",
        ),
        (
            OfferForm {
                min_bill: "abc".into(),
                ..valid()
            },
            "min_bill",
            "must be an amount",
        ),
        (
            OfferForm {
                time_slots: "25:00-26:00".into(),
                ..valid()
            },
            "time_slots",
            "16:00-18:00",
        ),
        (
            OfferForm {
                time_slots: "10:00-10:00".into(),
                ..valid()
            },
            "time_slots",
            "same time",
        ),
        (
            OfferForm {
                dates: "2026-13-01".into(),
                ..valid()
            },
            "dates",
            "must be a date",
        ),
        (
            OfferForm {
                stores: vec!["999".into()],
                ..valid()
            },
            "scope",
            "store that is not in this organisation",
        ),
        (
            OfferForm {
                total_redemption_cap: "0".into(),
                ..valid()
            },
            "total_redemption_cap",
            "between 1 and",
        ),
        (
            OfferForm {
                poc_reminder: "on".into(),
                ..valid()
            },
            "poc_ids",
            "at least one POC",
        ),
        (
            OfferForm {
                poc_reminder: "on".into(),
                poc_ids: vec!["500".into()],
                poc_reminder_days: "0".into(),
                ..valid()
            },
            "poc_reminder_days",
            "between 1 and",
        ),
        (
            OfferForm {
                past_issual_offers: vec!["601".into()],
                ..valid()
            },
            "past_issual_offers",
            "offer that is not in this organisation",
        ),
    ];
    for (form, field, expected) in cases {
        let message = error_of(form, field);
        assert!(
            message.contains(expected),
            "{field}: got {message:?}, expected {expected:?}"
        );
    }
}

#[test]
fn time_slots_may_cross_midnight() {
    let slots = form::parse_time_slots("t", "22:00-02:00, 16:00-18:00").unwrap();
    assert!(slots[0].contains(23 * 60) && slots[0].contains(60) && !slots[0].contains(12 * 60));
    assert!(slots[1].contains(16 * 60) && !slots[1].contains(18 * 60));
}

#[test]
fn edit_form_round_trips_the_rules() {
    let f = OfferForm {
        discount_cap: "500".into(),
        applies_to: "selected".into(),
        brands: vec!["10".into(), "11".into()],
        categories: vec!["1".into()],
        include_sale: "on".into(),
        generation: "common".into(),
        common_code: "glow15".into(),
        coupon_expiry: "month_ends".into(),
        coupon_expiry_n: "2".into(),
        max_per_customer: "3".into(),
        min_issual_gap_days: "7".into(),
        reminder_days: vec!["3".into(), "".into()],
        reminder_channel: vec!["sms".into(), "email".into()],
        reminder_text: vec!["Hi {first_name}, {code} ends {expiry}".into(), "".into()],
        multiple_redemption: "on".into(),
        max_redemptions_per_customer: "2".into(),
        redemption_gap_days: "1".into(),
        stores: vec!["100".into(), "101".into(), "102".into()],
        weekdays: vec![
            "mon".into(),
            "tue".into(),
            "wed".into(),
            "thu".into(),
            "fri".into(),
        ],
        time_slots: "16:00-18:00".into(),
        min_bill: "1000".into(),
        total_redemption_cap: "1000".into(),
        poc_reminder: "on".into(),
        poc_ids: vec!["500".into()],
        ..valid()
    };
    let rules = parse(&f, &ctx()).unwrap();
    assert_eq!(
        rules.generation,
        Generation::Common {
            code: "GLOW15".into()
        },
        "codes are upper-cased"
    );
    let again = parse(&OfferForm::from_rules(&rules, 2), &ctx()).unwrap();
    assert_eq!(rules, again);

    let names = Names {
        currency: "INR".into(),
        digits: 2,
        categories: HashMap::from([(1, "Shoes".to_string())]),
        brands: HashMap::from([(10, "Nike".to_string()), (11, "Adidas".to_string())]),
        pocs: HashMap::from([(500, "Asha".to_string())]),
        scope: HashMap::from([
            ((ScopeKind::Store, 100), "Andheri".to_string()),
            ((ScopeKind::Store, 101), "Bandra".to_string()),
            ((ScopeKind::Store, 102), "Powai".to_string()),
        ]),
        ..Names::default()
    };
    let d = rules.describe(&names);
    assert_eq!(
        d.headline,
        "15% off, at most ₹500, on Nike and Adidas shoes including sale items, Mon–Fri 16:00–18:00 at stores Andheri, Bandra and Powai, on bills of ₹1,000 or more, up to 2 times per customer, 1 day apart, first 1,000 redemptions"
    );
    let all: Vec<String> = d
        .sections
        .iter()
        .flat_map(|(_, lines)| lines.clone())
        .collect();
    assert!(
        all.contains(&"On bills of ₹1,000 or more".to_string()),
        "{all:?}"
    );
    assert!(all.contains(&"At most 3 coupons per customer, at least 7 days apart".to_string()));
    assert!(all.contains(&"Email Asha at 10:00 3 days before the offer expires".to_string()));
}

#[test]
fn merging_a_step_keeps_the_other_steps() {
    let mut draft = valid();
    draft.discount_value = "20".into();
    let posted = OfferForm {
        name: "New name".into(),
        discount_value: "99".into(),
        multiple_redemption: "on".into(),
        ..OfferForm::default()
    };
    draft.merge_step(Step::NameExpiry, posted.clone());
    assert_eq!(draft.name, "New name");
    assert_eq!(
        draft.discount_value, "20",
        "another step's field is untouched"
    );
    assert_eq!(
        draft.expires_on, "",
        "the step's own fields come from the post"
    );
    draft.merge_step(Step::Advanced, posted);
    assert_eq!(draft.multiple_redemption, "on");
    assert_eq!(draft.name, "New name");
    assert_eq!(draft.discount_value, "20");
}

#[test]
fn stored_time_slots_read_back_and_anything_else_is_refused() {
    let slots = [
        TimeSlot {
            start: 16 * 60,
            end: 18 * 60,
        },
        TimeSlot {
            start: 22 * 60,
            end: 2 * 60,
        },
    ];
    let stored: Vec<String> = slots.iter().map(|s| s.to_text()).collect();
    assert_eq!(
        TimeSlot::parse_stored(&stored.join(",")),
        Some(slots.to_vec())
    );
    assert_eq!(TimeSlot::parse_stored(""), Some(vec![]));
    assert_eq!(TimeSlot::parse_stored("16:00-25:00"), None);
    assert_eq!(TimeSlot::parse_stored("4pm-6pm"), None);
}
