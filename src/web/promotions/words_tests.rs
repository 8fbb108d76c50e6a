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

#[test]
fn every_product_condition_is_in_the_headline_and_the_details() {
    let p = promotion(
        vec![
            Condition::ProductQuantity {
                products: ProductFilter::only(ProductSet::brands(["Levi's"])),
                at_least: 2,
            },
            Condition::ProductAmount {
                products: ProductFilter::only(ProductSet::categories(["SHIRTS"])),
                at_least: 100_000,
            },
            Condition::ProductQuantity {
                products: ProductFilter::only(ProductSet::categories(["BELTS"])),
                at_least: 1,
            },
            Condition::ProductQuantity {
                products: ProductFilter::only(ProductSet::categories(["SOCKS"])),
                at_least: 3,
            },
        ],
        Benefit {
            target: Target::ConditionItems,
            value: Value::Percent { basis_points: 1000 },
            recurrence: None,
        },
    );
    assert_eq!(
        writer().headline(&p),
        "Buy 2 or more of brand Levi's and spend ₹1,000 or more on category SHIRTS and buy 1 or \
         more of category BELTS and buy 3 or more of category SOCKS, get 10% off those items, \
         stackable with other promotions"
    );
    let words = writer().describe(&p);
    let (_, conditions) = words
        .sections
        .iter()
        .find(|(title, _)| *title == "Conditions")
        .expect("a Conditions section");
    assert_eq!(
        conditions[..5],
        [
            "Buy 2 or more of brand Levi's",
            "Spend ₹1,000 or more on category SHIRTS",
            "Buy 1 or more of category BELTS",
            "Buy 3 or more of category SOCKS",
            "All of them must be met",
        ]
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

mod holding {
    use super::*;
    use crate::domain::promotion::Period;
    use crate::domain::promotion::holding::{
        Earning, HoldMessages, HoldReminder, Holding, Measure, MessageChannel, Milestone,
        TrackerWindow,
    };
    use crate::web::promotions::holding_words::ordinal;
    use std::collections::BTreeMap;

    fn held(kind: Kind, holding: Holding) -> Promotion {
        let mut p = promotion(
            vec![],
            Benefit {
                target: Target::Cart,
                value: Value::Percent { basis_points: 1500 },
                recurrence: None,
            },
        );
        p.kind = kind;
        p.holding = holding;
        p
    }

    /// The titles of the holding sections and all their lines.
    fn sections(p: &Promotion) -> (Vec<&'static str>, Vec<String>) {
        let all = writer().holding(p);
        let titles = all.iter().map(|(t, _)| *t).collect();
        (titles, all.into_iter().flat_map(|(_, l)| l).collect())
    }

    #[test]
    fn a_single_activity_reads_with_its_minimum_and_attributes() {
        let p = held(
            Kind::Earned,
            Holding {
                window_days: Some(30),
                max_per_customer: Some(1),
                earning: Some(Earning {
                    event: "transaction".into(),
                    min_amount: Some(200_000),
                    attributes: BTreeMap::from([
                        ("channel".to_string(), "app".to_string()),
                        ("store".to_string(), "BLR1".to_string()),
                    ]),
                    milestone: None,
                }),
                ..Holding::default()
            },
        );
        let (titles, lines) = sections(&p);
        assert_eq!(titles, ["Earning", "Holding and messages"]);
        assert_eq!(
            lines,
            vec![
                "Earned by a transaction of ₹2,000 or more with attributes channel = app and \
                 store = BLR1",
                "Only transactions made while it runs, and recorded while it is live, count",
                "Held 30 days from the day earned (that day counts as day 1), never past the \
                 promotion's end",
                "Earned at most once per customer",
                "No messages",
            ]
        );
        // They come after who and when, and the other kinds have none.
        let words = writer().describe(&p);
        assert_eq!(words.sections[1].0, "Earning");
        assert_eq!(words.sections[2].0, "Holding and messages");
        let automatic = held(Kind::Automatic, Holding::default());
        assert!(writer().holding(&automatic).is_empty());
        assert_eq!(writer().describe(&automatic).sections.len(), 4);
    }

    #[test]
    fn a_custom_event_and_registration_read_with_their_article() {
        for (event, words) in [
            ("registration", "Earned by a registration"),
            ("profile_update", "Earned by a profile update"),
            ("app_review", "Earned by an app_review event"),
        ] {
            let e = Earning {
                event: event.into(),
                ..Earning::default()
            };
            assert_eq!(writer().earning(&e)[0], words);
        }
    }

    #[test]
    fn milestones_say_what_the_tracker_counts_and_how_often_it_earns() {
        let milestone = |measure, target, window| Earning {
            event: "transaction".into(),
            min_amount: Some(50_000),
            milestone: Some(Milestone {
                measure,
                target,
                window,
            }),
            ..Earning::default()
        };
        let w = writer();
        assert_eq!(
            w.earning(&milestone(Measure::Count, 3, TrackerWindow::Life))[0],
            "Earned on the customer's 3rd transaction of ₹500 or more, counted over the \
             promotion's life (the count never starts again: earned once at most)"
        );
        assert_eq!(
            w.earning(&milestone(Measure::Count, 5, TrackerWindow::CalendarMonth))[0],
            "Earned on the customer's 5th transaction of ₹500 or more in a calendar month \
             (the count starts again on the 1st: earned once a month at most)"
        );
        let sum = Earning {
            min_amount: None,
            ..milestone(Measure::Sum, 1_000_000, TrackerWindow::CalendarMonth)
        };
        assert_eq!(
            w.earning(&sum)[0],
            "Earned when the amounts of the customer's transactions add up to ₹10,000 in a \
             calendar month (the total starts again on the 1st: earned once a month at most)"
        );
        for (n, o) in [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th")] {
            assert_eq!(ordinal(n), o);
        }
        for (n, o) in [(12, "12th"), (13, "13th"), (21, "21st"), (112, "112th")] {
            assert_eq!(ordinal(n), o);
        }
        assert_eq!(ordinal(1001), "1,001st");
    }

    #[test]
    fn the_window_maximum_and_messages_read_as_the_engine_applies_them() {
        let p = held(
            Kind::Reward,
            Holding {
                window_days: Some(7),
                max_per_customer: Some(1),
                max_per_customer_reset: Some(Period::CalendarMonth),
                earning: None,
                messages: HoldMessages {
                    channel: MessageChannel::Sms,
                    on_earning: Some("{promotion} is yours until {valid_till}".into()),
                    reminder: Some(HoldReminder {
                        days_before: 2,
                        text: "Use {promotion} by {valid_till}".into(),
                    }),
                },
            },
        );
        let (titles, lines) = sections(&p);
        assert_eq!(titles, ["Holding and messages"]);
        assert_eq!(
            lines,
            vec![
                "Acquired with points or money in another system, recorded through the API",
                "Held 7 days from the day acquired (that day counts as day 1), never past the \
                 promotion's end",
                "Acquired at most once per customer per calendar month",
                "On acquiring, by SMS: “{promotion} is yours until {valid_till}”",
                "Reminder by SMS 2 days before the last day to use it, at 10:00, if not used by \
                 then: “Use {promotion} by {valid_till}”",
            ]
        );
        // No window: until the promotion ends, or while it runs when it has no end either
        // (then no reminder can go).
        let mut open = p.clone();
        open.holding.window_days = None;
        open.holding.max_per_customer = Some(3);
        open.holding.max_per_customer_reset = Some(Period::LastDays { days: 14 });
        open.holding.messages.channel = MessageChannel::Preferred;
        open.holding.messages.reminder = Some(HoldReminder {
            days_before: 0,
            text: "Last day!".into(),
        });
        let lines = writer().holding_limits(&open);
        assert_eq!(
            lines[0],
            "Held while the promotion runs (it has no end date and no window)"
        );
        assert_eq!(
            lines[1],
            "Acquired at most 3 times per customer, counted over the last 14 days (a rolling \
             window)"
        );
        assert_eq!(
            writer().hold_messages(&open)[1],
            "Reminder by the customer's preferred channel on the last day to use it, at 10:00, \
             if not used by then: “Last day!” (none goes while it has no end date and no \
             window)"
        );
        open.validity.ends = Some(open.validity.starts + chrono::Duration::days(30));
        assert_eq!(
            writer().holding_limits(&open)[0],
            "Held until the promotion ends"
        );
    }
}
