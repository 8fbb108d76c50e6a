//! The promotion wizard's Earning step over HTTP (seed 003): an earned milestone promotion
//! made step by step in the console goes live, customers' events earn it, and the cart API
//! applies it to that customer only; the step refuses bad values inline keeping what was
//! typed; a reward made in the wizard is acquired through the API; editing shows the stored
//! values, and a live one's redemption window cannot change while its messages may.

use crate::helpers::{Browser, TestApp, spawn_app};
use crate::integration::Api;
use crate::promotions_console::{post, save, with};
use offerdesk::domain::ids::PromotionId;
use offerdesk::domain::promotion::holding::{Measure, MessageChannel, TrackerWindow};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN: &str = "admin@acme.example.com";

async fn setup() -> (TestApp, Api, Browser) {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let b = app.signed_in(ADMIN).await;
    (app, api, b)
}

fn fields(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

/// "15% off the whole cart" earned on the customer's 3rd transaction of ₹500 or more, held 7
/// days, once per customer, with an SMS on earning and a reminder: every step's inputs.
fn third_purchase() -> Vec<(&'static str, String)> {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .date_naive()
        .to_string();
    fields(&[
        ("name", "Third purchase, 15% off"),
        ("kind", "earned"),
        ("starts", &today),
        ("earn_type", "milestone"),
        ("earn_event", "transaction"),
        ("earn_min", "500"),
        ("ms_measure", "count"),
        ("ms_target", "3"),
        ("ms_window", "life"),
        ("window_days", "7"),
        ("max_per_customer", "1"),
        ("msg_channel", "sms"),
        (
            "msg_earning",
            "Well done {first_name}! {promotion} is yours until {valid_till}.",
        ),
        ("msg_reminder_days", "2"),
        ("msg_reminder_text", "{promotion} ends on {valid_till}."),
        ("target", "cart"),
        ("value_type", "percent"),
        ("value", "15"),
        ("stacking", "stackable"),
    ])
}

/// Posts `fields` to step `n` of `base` ("Next").
async fn next(
    b: &Browser,
    base: &str,
    n: usize,
    fields: &[(&'static str, String)],
) -> crate::helpers::Page {
    post(
        b,
        &format!("{base}/step/{n}"),
        &with(fields, &[("nav", "next")]),
    )
    .await
}

async fn transaction(api: &Api, id: &str, mobile: &str, amount: i64) -> Value {
    let (status, v) = api
        .post(
            "/events",
            json!({"type": "transaction", "eventId": id, "customer": {"mobile": mobile},
                   "amount": amount}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["results"][0]["earned"].clone()
}

/// The discount an open cart of ₹1,000 gets for `mobile`.
async fn discount_for(api: &Api, cart: &str, mobile: &str) -> i64 {
    let (status, v) = api
        .put(
            &format!("/carts/{cart}"),
            json!({"state": "open", "customer": {"mobile": mobile},
                   "lines": [{"sku": "TEE-1", "quantity": 1, "unitPrice": 100000}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["discount"].as_i64().unwrap()
}

#[tokio::test]
async fn an_earned_milestone_made_in_the_wizard_is_earned_by_events_and_applies_to_that_customer() {
    let (app, api, b) = setup().await;
    let f = third_purchase();
    let base = "/promotions/new";
    // Basics leads to Earning, which shows the promotion's earning inputs.
    let earning = next(&b, base, 1, &f).await;
    assert_eq!(earning.status, StatusCode::OK, "{}", earning.body);
    assert!(earning.body.contains("action=\"/promotions/new/step/2\""));
    assert!(earning.body.contains("aria-current=\"step\"><button type=\"submit\" formaction=\"/promotions/new/step/2\" name=\"nav\" value=\"show\">2. Earning"));
    for shown in [
        "name=\"earn_type\" value=\"milestone\" checked",
        "name=\"ms_target\" value=\"3\"",
        "name=\"window_days\" value=\"7\"",
        "name=\"h_reset\"",
    ] {
        assert!(earning.body.contains(shown), "{shown}: {}", earning.body);
    }
    for n in 2..=5 {
        let page = next(&b, base, n, &f).await;
        assert_eq!(page.status, StatusCode::OK, "step {n}: {}", page.body);
        assert!(
            page.body
                .contains(&format!("action=\"/promotions/new/step/{}\"", n + 1))
        );
    }
    let preview = next(&b, base, 6, &f).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    for words in [
        "Earned on the customer&#39;s 3rd transaction of ₹500 or more, counted over the \
         promotion&#39;s life",
        "Held 7 days from the day earned (that day counts as day 1), never past the \
         promotion&#39;s end",
        "Earned at most once per customer",
        "On earning, by SMS: “Well done {first_name}! {promotion} is yours until {valid_till}.”",
        "Reminder by SMS 2 days before the last day to use it, at 10:00, if not used by then",
    ] {
        assert!(preview.body.contains(words), "{words}: {}", preview.body);
    }
    assert!(
        preview
            .body
            .contains("formaction=\"/promotions/new/step/6\"")
    );
    let id = save(&b, &f, "live").await;
    let page = b.get(&format!("/promotions/{id}")).await;
    assert!(
        page.body.contains("<h2>Earning</h2>")
            && page.body.contains("<h2>Holding and messages</h2>"),
        "{}",
        page.body
    );

    let org = app.org_id("Acme").await;
    let stored = app.store.get_promotion(org, PromotionId(id)).await.unwrap();
    let h = &stored.promotion.holding;
    assert_eq!((h.window_days, h.max_per_customer), (Some(7), Some(1)));
    let e = h.earning.as_ref().unwrap();
    assert_eq!(
        (e.event.as_str(), e.min_amount),
        ("transaction", Some(50_000))
    );
    let m = e.milestone.unwrap();
    assert_eq!(
        (m.measure, m.target, m.window),
        (Measure::Count, 3, TrackerWindow::Life)
    );
    assert_eq!(h.messages.channel, MessageChannel::Sms);

    // Two transactions of ₹600 and one of ₹400 (below the minimum, not counted) earn
    // nothing; the third of ₹500 or more does.
    let asha = "9800000001";
    assert_eq!(transaction(&api, "T-1", asha, 60_000).await, json!([]));
    assert_eq!(transaction(&api, "T-2", asha, 40_000).await, json!([]));
    assert_eq!(transaction(&api, "T-3", asha, 60_000).await, json!([]));
    assert_eq!(discount_for(&api, "C-0", asha).await, 0, "not held yet");
    let earned = transaction(&api, "T-4", asha, 50_000).await;
    assert_eq!(earned[0]["promotionId"], id, "{earned}");
    assert!(earned[0]["validTill"].is_string());
    // Once per customer: a 4th transaction earns nothing more.
    assert_eq!(transaction(&api, "T-5", asha, 90_000).await, json!([]));
    assert_eq!(discount_for(&api, "C-1", asha).await, 15_000);
    // Another customer, with two transactions, does not hold it.
    let ravi = "9800000002";
    transaction(&api, "T-6", ravi, 60_000).await;
    transaction(&api, "T-7", ravi, 60_000).await;
    assert_eq!(discount_for(&api, "C-2", ravi).await, 0);
}

/// A bad Earning step: its inputs, the inline message, what must be kept on the page.
type Case = (
    Vec<(&'static str, &'static str)>,
    &'static str,
    &'static str,
    &'static str,
);

#[tokio::test]
async fn the_earning_step_refuses_bad_values_inline_and_keeps_what_was_typed() {
    let (_app, _api, b) = setup().await;
    let good = third_purchase();
    let cases: [Case; 7] = [
        (
            vec![("ms_target", "0")],
            "ms_target",
            "The target must be a whole number such as 2, more than zero",
            "name=\"ms_target\" aria-invalid=\"true\" value=\"0\"",
        ),
        (
            vec![("window_days", "0")],
            "window_days",
            "The redemption window must be a whole number such as 2, more than zero",
            "value=\"0\"",
        ),
        (
            vec![("msg_earning", "Hi {first_name}, use {coupon}")],
            "msg_earning",
            "Message texts may use only {first_name}, {promotion}, {valid_till} and {brand}",
            ">Hi {first_name}, use {coupon}</textarea>",
        ),
        (
            vec![("max_per_customer", ""), ("h_reset", "calendar_month")],
            "h_reset",
            "A reset period needs a maximum per customer to reset",
            "<option value=\"calendar_month\" selected>",
        ),
        (
            vec![("window_days", "4000")],
            "window_days",
            "The redemption window must be 1 to 3,650 days",
            "value=\"4000\"",
        ),
        (
            vec![("earn_event", "custom"), ("earn_custom", "big spend")],
            "earn_custom",
            "The event name must be 1 to 40 lower-case letters, digits or _",
            "value=\"big spend\"",
        ),
        (
            vec![("earn_attributes", "channel=app\nstore")],
            "earn_attributes",
            "Attributes: &#34;store&#34; is not a pair such as channel=app",
            ">channel=app\nstore</textarea>",
        ),
    ];
    for (bad, input, message, kept) in cases {
        let page = next(&b, "/promotions/new", 2, &with(&good, &bad)).await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad:?}: {}",
            page.body
        );
        assert!(
            page.body.contains(&format!(
                "<span class=\"field-error\" data-field=\"{input}\">{message}"
            )),
            "{bad:?} says {message:?} at {input}: {}",
            page.body
        );
        assert!(page.body.contains(kept), "{bad:?} keeps {kept:?}");
        assert!(
            page.body.contains("action=\"/promotions/new/step/2\""),
            "the same step again"
        );
        assert!(
            page.body.contains("name=\"value\" value=\"15\""),
            "the other steps' values ride along"
        );
    }
    // A reminder needs both its days and its text.
    let page = next(
        &b,
        "/promotions/new",
        2,
        &with(&good, &[("msg_reminder_days", "")]),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Days before is required"));

    // An automatic promotion has nothing to set there, and moves on.
    let automatic = with(&good, &[("kind", "automatic")]);
    let step = next(&b, "/promotions/new", 1, &automatic).await;
    assert!(
        step.body
            .contains("Nothing to set here for an automatic promotion"),
        "{}",
        step.body
    );
    assert!(!step.body.contains("name=\"ms_target\" value"));
    let on = next(&b, "/promotions/new", 2, &automatic).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    assert!(on.body.contains("action=\"/promotions/new/step/3\""));
    // Back from Eligibility returns to Earning.
    let back = post(
        &b,
        "/promotions/new/step/3",
        &with(&good, &[("nav", "back")]),
    )
    .await;
    assert!(back.body.contains("action=\"/promotions/new/step/2\""));
}

#[tokio::test]
async fn a_reward_made_in_the_wizard_is_acquired_through_the_api() {
    let (_app, api, b) = setup().await;
    let reward = with(
        &third_purchase(),
        &[
            ("name", "Reward: 15% off"),
            ("kind", "reward"),
            ("window_days", "3"),
            ("h_reset", "calendar_month"),
        ],
    );
    let step = next(&b, "/promotions/new", 1, &reward).await;
    assert!(step.body.contains("id=\"reward-note\""), "{}", step.body);
    assert!(
        !step.body.contains("name=\"earn_type\" value=\"single\""),
        "nothing earns a reward"
    );
    assert_eq!(
        next(&b, "/promotions/new", 2, &reward).await.status,
        StatusCode::OK
    );
    let preview = next(&b, "/promotions/new", 6, &reward).await;
    assert!(
        preview
            .body
            .contains("Acquired at most once per customer per calendar month"),
        "{}",
        preview.body
    );
    let id = save(&b, &reward, "live").await;
    let acquire = |request: &'static str| {
        let api = api.clone();
        async move {
            api.post(
                "/customers/rewards",
                json!({"promotionId": id, "customer": {"mobile": "9800000021"},
                       "cost": {"points": 500}, "requestId": request}),
            )
            .await
        }
    };
    let (status, v) = acquire("R-1").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(v["validTill"].is_string(), "{v}");
    let (status, v) = acquire("R-2").await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "max_per_customer");
    assert_eq!(discount_for(&api, "C-1", "9800000021").await, 15_000);
    assert_eq!(discount_for(&api, "C-2", "9800000022").await, 0);
}

#[tokio::test]
async fn editing_shows_the_stored_earning_and_a_live_ones_window_cannot_change() {
    let (app, _api, b) = setup().await;
    let f = third_purchase();
    let id = save(&b, &f, "live").await;
    let edit = b.get(&format!("/promotions/{id}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
    for stored in [
        "name=\"kind\" value=\"earned\" checked",
        "name=\"earn_type\" value=\"milestone\"",
        "name=\"earn_min\" value=\"500\"",
        "name=\"ms_target\" value=\"3\"",
        "name=\"window_days\" value=\"7\"",
        "name=\"max_per_customer\" value=\"1\"",
        "name=\"msg_channel\" value=\"sms\"",
        "name=\"msg_reminder_days\" value=\"2\"",
    ] {
        assert!(edit.body.contains(stored), "{stored}: {}", edit.body);
    }
    let base = format!("/promotions/{id}/edit");
    let step = post(&b, &format!("{base}/step/2"), &with(&f, &[("nav", "show")])).await;
    assert_eq!(step.status, StatusCode::OK);
    assert!(
        step.body
            .contains("its redemption window, maximum per customer and milestone (what it counts and its target) can no longer change"),
        "{}",
        step.body
    );
    assert!(step.body.contains("Held 7 days from the day earned"));
    assert!(
        !step.body.contains("<input name=\"window_days\""),
        "no editable window"
    );
    assert!(
        step.body.contains("<input name=\"ms_target\" value=\"3\""),
        "what earns it may change"
    );

    // A crafted post changing the window is refused and shown on the Earning step.
    let crafted = post(&b, &base, &with(&f, &[("window_days", "14")])).await;
    assert_eq!(crafted.status, StatusCode::CONFLICT, "{}", crafted.body);
    assert!(
        crafted
            .body
            .contains("The redemption window cannot change any more"),
        "{}",
        crafted.body
    );
    assert!(crafted.body.contains(&format!("action=\"{base}/step/2\"")));
    let org = app.org_id("Acme").await;
    let stored = app.store.get_promotion(org, PromotionId(id)).await.unwrap();
    assert_eq!(stored.promotion.holding.window_days, Some(7));
    // Nor its milestone: trackers hold progress measured against it.
    let crafted = post(&b, &base, &with(&f, &[("ms_target", "5")])).await;
    assert_eq!(crafted.status, StatusCode::CONFLICT, "{}", crafted.body);
    assert!(
        crafted
            .body
            .contains("The milestone (what it counts and its target) cannot change any more"),
        "{}",
        crafted.body
    );
    // Its messages may change.
    let changed = post(
        &b,
        &base,
        &with(&f, &[("msg_earning", "{promotion} is yours")]),
    )
    .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let stored = app.store.get_promotion(org, PromotionId(id)).await.unwrap();
    let h = &stored.promotion.holding;
    assert_eq!(h.earning.as_ref().unwrap().milestone.unwrap().target, 3);
    assert_eq!(
        h.messages.on_earning.as_deref(),
        Some("{promotion} is yours")
    );
    assert_eq!(h.window_days, Some(7));
}
