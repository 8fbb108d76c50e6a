//! The offer's words against the engine: each code type's per-customer wording compared with
//! what `redeem::decide` does, and message texts without a first name.

use super::describe::Names;
use super::tests::sample_rules;
use super::*;
use crate::domain::ids::CustomerId;

/// Every code type and per-customer setting, with what the engine does (from the spec: a
/// unique coupon is single-use unless multiple redemption is on; a common code is shared, once
/// per customer by default; a per-customer rule needs the customer) and the words that must say
/// it. Both the words and the engine's outcomes are checked against the table.
#[test]
fn the_words_say_what_the_engine_does_for_every_code_type() {
    use crate::domain::redeem::{
        Cart, CouponFacts, CouponStatus, CustomerRedemptions, OfferFacts, Place, RedeemAttempt,
        RedeemRefusal, decide,
    };
    struct Row {
        common: bool,
        multiple: Option<(Option<u32>, Option<u32>)>,
        headline: &'static str,
        sentence: &'static str,
        // Engine: the same customer again on the same coupon; another customer on it; no
        // customer named.
        again_ok: bool,
        other_customer_ok: bool,
        needs_customer: bool,
    }
    let table = [
        Row {
            common: false,
            multiple: None,
            headline: "once per coupon",
            sentence: "Each coupon can be redeemed once",
            again_ok: false,
            other_customer_ok: false,
            needs_customer: false,
        },
        Row {
            common: true,
            multiple: None,
            headline: "once per customer",
            sentence: "Many customers redeem the one code GLOW15; each customer can redeem it once; the till must name the customer",
            again_ok: false,
            other_customer_ok: true,
            needs_customer: true,
        },
        Row {
            common: true,
            multiple: Some((Some(3), None)),
            headline: "up to 3 times per customer",
            sentence: "Many customers redeem the one code GLOW15; each customer up to 3 times; the till must name the customer",
            again_ok: true,
            other_customer_ok: true,
            needs_customer: true,
        },
        Row {
            common: true,
            multiple: Some((None, None)),
            headline: "any number of times",
            sentence: "Anyone can redeem the one code GLOW15 any number of times",
            again_ok: true,
            other_customer_ok: true,
            needs_customer: false,
        },
        Row {
            common: false,
            multiple: Some((Some(2), Some(3))),
            headline: "up to 2 times per customer, 3 days apart",
            sentence: "A coupon can be redeemed more than once, up to 2 times per customer, at least 3 days between a customer's redemptions; the till must name the customer",
            again_ok: true,
            other_customer_ok: true,
            needs_customer: true,
        },
        Row {
            common: false,
            multiple: Some((None, Some(2))),
            headline: "any number of times, 2 days apart",
            sentence: "A coupon can be redeemed any number of times, at least 2 days between a customer's redemptions; the till must name the customer",
            again_ok: true,
            other_customer_ok: true,
            needs_customer: true,
        },
    ];
    for row in table {
        let mut rules = sample_rules();
        rules.redemption.anyone_can_redeem = true;
        rules.redemption.scope.clear();
        rules.redemption.weekdays = Weekdays::default();
        rules.redemption.time_slots.clear();
        rules.redemption.min_bill = None;
        rules.redemption.max_bill = None;
        rules.redemption.total_cap = None;
        rules.generation = if row.common {
            Generation::Common {
                code: "GLOW15".into(),
            }
        } else {
            Generation::Unique {
                length: 8,
                charset: Charset::Alphanumeric,
                prefix: String::new(),
            }
        };
        rules.redemption.multiple = row.multiple.map(|(max, gap)| MultipleRedemption {
            per_customer_max: max,
            gap_days: gap,
        });
        let d = rules.describe(&Names {
            currency: "INR".into(),
            digits: 2,
            ..Names::default()
        });
        assert!(
            d.headline.contains(&format!(", {},", row.headline))
                || d.headline.ends_with(row.headline)
                || d.headline.contains(&format!(", {}", row.headline)),
            "{}: {}",
            row.headline,
            d.headline
        );
        let all: Vec<String> = d.sections.iter().flat_map(|(_, l)| l.clone()).collect();
        assert!(
            all.iter().any(|l| l.starts_with(row.sentence)),
            "{}: {all:?}",
            row.sentence
        );

        // The engine, on a day long after any gap: one earlier redemption by customer 1.
        let offer = OfferFacts {
            rules: &rules,
            ends_on: None,
            redeemed: 1,
        };
        let coupon = CouponFacts {
            status: CouponStatus::Issued,
            common: row.common,
            issued_to: Some(CustomerId(1)),
            issued_on: None,
            valid_till: None,
            redeem_count: 1,
        };
        let at = NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let attempt = |customer: Option<CustomerId>| RedeemAttempt {
            customer,
            place: Place::default(),
            at,
            cart: Some(Cart {
                bill_amount: 100_000,
                lines: vec![],
            }),
        };
        let used_once = CustomerRedemptions {
            count: 1,
            last_on: Some(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()),
        };
        let again = decide(&offer, &coupon, &used_once, &attempt(Some(CustomerId(1))));
        assert_eq!(
            again.is_ok(),
            row.again_ok,
            "{}: again {again:?}",
            row.headline
        );
        let other = decide(
            &offer,
            &coupon,
            &CustomerRedemptions::default(),
            &attempt(Some(CustomerId(2))),
        );
        assert_eq!(
            other.is_ok(),
            row.other_customer_ok,
            "{}: other {other:?}",
            row.headline
        );
        let nobody = decide(
            &offer,
            &coupon,
            &CustomerRedemptions::default(),
            &attempt(None),
        );
        assert_eq!(
            nobody == Err(RedeemRefusal::CustomerRequired),
            row.needs_customer,
            "{}: nobody {nobody:?}",
            row.headline
        );
    }
}

#[test]
fn a_text_reads_well_without_a_first_name() {
    for (text, without) in [
        (
            "Hi {first_name}, your gift {code} waits",
            "Hi, your gift {code} waits",
        ),
        (
            "{first_name}, your gift {code} waits",
            "your gift {code} waits",
        ),
        ("Dear {first_name} here is {code}", "Dear here is {code}"),
        ("Your code {code}", "Your code {code}"),
    ] {
        assert_eq!(without_first_name(text), without, "{text}");
    }
}
