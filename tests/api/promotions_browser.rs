//! The Promotions wizard in real headless Chromium (issue 16): a buy-X-get-Y promotion made
//! step by step — each step first refusing a bad value inline — previewed in words, saved live,
//! then a cart evaluated over HTTP gets exactly its effect. Screenshots of the list, each step
//! with its error and the preview (1280×800) go to /tmp/promo_shots for people to look at.

use crate::browser::{browser, chromedriver, sign_in, type_css, wait_for_text};
use crate::helpers::spawn_app;
use crate::integration::Api;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

fn shot(name: &str) -> PathBuf {
    let dir = PathBuf::from("/tmp/promo_shots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}.png"))
}

async fn click(web: &WebDriver, css: &str) {
    web.find(By::Css(css)).await.unwrap().click().await.unwrap();
}

async fn select(web: &WebDriver, name: &str, value: &str) {
    let el = web
        .find(By::Css(format!("#wizard [name=\"{name}\"]")))
        .await
        .unwrap();
    SelectElement::new(&el)
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

async fn type_into(web: &WebDriver, name: &str, value: &str) {
    type_css(web, &format!("#wizard [name=\"{name}\"]"), value).await;
}

/// Presses "Next" and waits for the step's page (`step` in the form's action) to load.
async fn next_to(web: &WebDriver, action: &str) {
    click(web, "#next").await;
    web.query(By::Css(format!(
        "form[action=\"{action}\"], #save-promotion"
    )))
    .wait(Duration::from_secs(10), Duration::from_millis(50))
    .first()
    .await
    .unwrap_or_else(|_| panic!("never reached {action}"));
}

/// Presses "Next" expecting the step to come back with `error` inline; screenshots it.
async fn refused(web: &WebDriver, error: &str, name: &str) {
    click(web, "#next").await;
    wait_for_text(web, error).await;
    let shown = web.find(By::Css(".field-error")).await.unwrap();
    assert!(shown.is_displayed().await.unwrap(), "{error} is visible");
    shown.scroll_into_view().await.unwrap();
    web.screenshot(&shot(name)).await.unwrap();
}

fn cart_line(sku: &str, quantity: i64, unit_price: i64, category: &str) -> Value {
    json!({"sku": sku, "quantity": quantity, "unitPrice": unit_price, "category": category})
}

#[tokio::test]
async fn a_buy_x_get_y_promotion_made_in_the_wizard_gives_a_cart_exactly_its_effect() {
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    // Two promotions already there, so the list has rows to show; neither reaches the cart
    // below (a draft, and one that needs its code).
    for (name, status, rules) in [
        (
            "Ten off over 2,000",
            "draft",
            json!({"conditions": [{"type": "cartAmount", "atLeast": 200000}],
                   "benefit": {"target": {"type": "cart"}, "value": {"type": "percent", "basisPoints": 1000}},
                   "kind": {"type": "automatic"}}),
        ),
        (
            "Happy hour coffee",
            "live",
            json!({"conditions": [{"type": "productQuantity", "products": {"include": {"skus": ["COFFEE"]}}, "atLeast": 2}],
                   "benefit": {"target": {"type": "conditionItems"}, "value": {"type": "amount", "amount": 5000}},
                   "kind": {"type": "codeLinked", "codes": ["HAPPY"]},
                   "eligibility": {"hours": [{"start": 960, "end": 1080}]}}),
        ),
    ] {
        let mut p = rules;
        p["name"] = json!(name);
        p["validity"] = json!({"starts": "2026-01-01T00:00:00Z"});
        p["stacking"] = json!("stackable");
        let (code, v) = api
            .post("/promotions", json!({"status": status, "promotion": p}))
            .await;
        assert_eq!(code, StatusCode::OK, "{v}");
    }

    let web = browser(&driver).await;
    // A 1280×800 viewport: the window is the viewport plus the browser's own frame.
    web.set_window_rect(0, 0, 1280, 800).await.unwrap();
    let inner = web
        .execute("return window.innerHeight;", vec![])
        .await
        .unwrap();
    let inner: u32 = inner.convert().unwrap();
    web.set_window_rect(0, 0, 1280, 800 + (800 - inner))
        .await
        .unwrap();
    let base = app.address.clone();
    sign_in(&web, &base, "admin@acme.example.com").await;
    web.goto(format!("{base}/promotions")).await.unwrap();
    wait_for_text(&web, "Happy hour coffee").await;
    web.screenshot(&shot("01-list")).await.unwrap();

    click(&web, "#new-promotion").await;
    wait_for_text(&web, "1. Basics").await;
    // Basics: no name yet.
    refused(&web, "Name is required", "02-basics-error").await;
    type_into(&web, "name", "Two pants, belt half price").await;
    next_to(&web, "/promotions/new/step/2").await;
    // Earning: nothing to set for an automatic promotion.
    wait_for_text(&web, "Nothing to set here for an automatic promotion").await;
    web.screenshot(&shot("02b-earning-automatic"))
        .await
        .unwrap();
    next_to(&web, "/promotions/new/step/3").await;

    // Eligibility: an impossible time window, then none.
    type_into(&web, "hours", "25:00–26:00").await;
    refused(
        &web,
        "is not a window such as 16:00–18:00",
        "03-eligibility-error",
    )
    .await;
    type_into(&web, "hours", "").await;
    next_to(&web, "/promotions/new/step/4").await;

    // Conditions: buy 2 of category PANTS — first with a cart amount, which stands alone.
    select(&web, "p1_measure", "quantity").await;
    type_into(&web, "p1_at_least", "2").await;
    type_into(&web, "p1_inc_categories", "PANTS").await;
    type_into(&web, "cart_amount", "1,500").await;
    refused(
        &web,
        "A cart amount condition is standalone only",
        "04-conditions-error",
    )
    .await;
    assert_eq!(
        web.find(By::Css("#wizard [name=\"p1_inc_categories\"]"))
            .await
            .unwrap()
            .value()
            .await
            .unwrap()
            .as_deref(),
        Some("PANTS"),
        "what was typed is kept"
    );
    type_into(&web, "cart_amount", "").await;
    next_to(&web, "/promotions/new/step/5").await;

    // Benefit: 1 of category BELTS, over and above the condition, first at 150%.
    click(&web, "#wizard input[name=target][value=products]").await;
    type_into(&web, "b_inc_categories", "BELTS").await;
    type_into(&web, "reward_quantity", "1").await;
    click(&web, "#wizard input[name=value_type][value=percent]").await;
    type_into(&web, "value", "150").await;
    refused(
        &web,
        "must be a percentage more than 0 and at most 100",
        "05-benefit-error",
    )
    .await;
    type_into(&web, "value", "50").await;
    next_to(&web, "/promotions/new/step/6").await;

    // Stacking & limits: a per-cart limit of 0 and a weekly reset without its number of
    // weeks, then neither.
    type_into(&web, "per_cart", "0").await;
    select(&web, "g_reset", "every_weeks").await;
    refused(
        &web,
        "Times per cart must be a whole number",
        "06-limits-error",
    )
    .await;
    wait_for_text(&web, "The number of weeks is required").await;
    let weekday = web
        .find(By::Css("#wizard [name=\"g_reset_weekday\"]"))
        .await
        .unwrap();
    assert!(
        weekday.is_displayed().await.unwrap(),
        "a weekly reset asks for its weekday"
    );
    type_into(&web, "per_cart", "").await;
    select(&web, "g_reset", "").await;
    assert!(
        !weekday.is_displayed().await.unwrap(),
        "no reset, no weekday"
    );
    next_to(&web, "/promotions/new/preview").await;

    let headline = web
        .find(By::Id("headline"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        headline,
        "Buy 2 or more of category PANTS, get 1 of category BELTS at 50% off, stackable with other promotions"
    );
    web.screenshot(&shot("07-preview")).await.unwrap();
    click(&web, "#save-live").await;
    wait_for_text(&web, "Saved the promotion Two pants, belt half price live.").await;
    web.screenshot(&shot("08-promotion")).await.unwrap();
    let promotion_url = web.current_url().await.unwrap();
    // Editing it: live, so its limits are shown, not offered for change.
    click(&web, "#edit-promotion").await;
    wait_for_text(&web, "Edit Two pants, belt half price").await;
    click(&web, ".promo-steps li:nth-child(6) button").await;
    wait_for_text(&web, "its limits can no longer change").await;
    assert!(
        web.find_all(By::Css("#wizard input[name=per_cart]:not([type=hidden])"))
            .await
            .unwrap()
            .is_empty()
    );
    web.screenshot(&shot("11-edit-frozen-limits"))
        .await
        .unwrap();
    web.goto(format!("{base}/promotions")).await.unwrap();
    wait_for_text(&web, "Two pants, belt half price").await;
    web.screenshot(&shot("09-list-after")).await.unwrap();
    // The status filter redraws the table in place (htmx) and the URL follows.
    let status = web.find(By::Name("status")).await.unwrap();
    SelectElement::new(&status)
        .await
        .unwrap()
        .select_by_value("draft")
        .await
        .unwrap();
    web.query(By::XPath(
        "//div[@id='promotion-table'][not(contains(., 'Two pants'))]",
    ))
    .wait(Duration::from_secs(10), Duration::from_millis(50))
    .first()
    .await
    .expect("the table was filtered in place");
    wait_for_text(&web, "Ten off over 2,000").await;
    let url = web.current_url().await.unwrap();
    assert!(url.as_str().ends_with("status=draft"), "{url}");
    // The org's cap of live promotions, in Settings.
    web.goto(format!("{base}/admin/org")).await.unwrap();
    wait_for_text(&web, "Live promotions at most").await;
    web.screenshot(&shot("10-org-settings")).await.unwrap();
    // Two closed carts show on its page (usage, last 30 days).
    for id in ["B-used-1", "B-used-2"] {
        let (status, v) = api
            .put(
                &format!("/carts/{id}"),
                json!({"state": "closed", "lines": [
                    cart_line("PANT-1", 2, 150_000, "PANTS"),
                    cart_line("BELT-1", 1, 80_000, "BELTS")]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    web.goto(promotion_url.as_str()).await.unwrap();
    wait_for_text(&web, "Carts per day").await;
    let carts = web
        .find(By::Id("usage-carts"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(carts, "2");
    web.screenshot(&shot("12-promotion-usage")).await.unwrap();
    web.quit().await.unwrap();

    // The cart API: 2 pants and 1 belt — the belt at half price, nothing else.
    let (status, v) = api
        .put(
            "/carts/B-1",
            json!({"state": "open", "lines": [
                cart_line("PANT-1", 2, 150_000, "PANTS"),
                cart_line("BELT-1", 1, 80_000, "BELTS")]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["subtotal"], 380_000, "{v}");
    assert_eq!(v["discount"], 40_000, "{v}");
    assert_eq!(v["total"], 340_000, "{v}");
    let applied = v["applied"].as_array().unwrap();
    assert_eq!(applied.len(), 1, "only the new promotion applies: {v}");
    assert_eq!(applied[0]["name"], "Two pants, belt half price");
    assert_eq!(applied[0]["discount"], 40_000);
    for l in v["lines"].as_array().unwrap() {
        let expected = if l["sku"] == "BELT-1" { 40_000 } else { 0 };
        assert_eq!(l["discount"], expected, "{l}");
    }
}

#[tokio::test]
async fn an_earned_promotion_is_set_up_on_the_earning_step_and_read_back_in_words() {
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let web = browser(&driver).await;
    web.set_window_rect(0, 0, 1280, 1000).await.unwrap();
    let base = app.address.clone();
    sign_in(&web, &base, "admin@acme.example.com").await;
    web.goto(format!("{base}/promotions/new")).await.unwrap();
    wait_for_text(&web, "1. Basics").await;
    type_into(&web, "name", "Third purchase, 15% off").await;
    click(&web, "#wizard input[name=kind][value=earned]").await;
    next_to(&web, "/promotions/new/step/2").await;

    // Earning: a milestone shows its own inputs; a target of 0 is refused inline.
    let milestone = web.find(By::Css(".when-milestone")).await.unwrap();
    assert!(
        !milestone.is_displayed().await.unwrap(),
        "single activity first"
    );
    click(&web, "#wizard input[name=earn_type][value=milestone]").await;
    assert!(milestone.is_displayed().await.unwrap());
    let custom = web.find(By::Css(".when-custom")).await.unwrap();
    assert!(!custom.is_displayed().await.unwrap());
    select(&web, "earn_event", "custom").await;
    assert!(
        custom.is_displayed().await.unwrap(),
        "a custom event is named"
    );
    select(&web, "earn_event", "transaction").await;
    type_into(&web, "earn_min", "500").await;
    type_into(&web, "ms_target", "0").await;
    type_into(&web, "window_days", "7").await;
    type_into(&web, "max_per_customer", "1").await;
    select(&web, "h_reset", "calendar_month").await;
    select(&web, "msg_channel", "sms").await;
    type_into(
        &web,
        "msg_earning",
        "Well done {first_name}! {promotion} is yours until {valid_till}.",
    )
    .await;
    type_into(&web, "msg_reminder_days", "2").await;
    type_into(
        &web,
        "msg_reminder_text",
        "{promotion} ends on {valid_till}.",
    )
    .await;
    refused(
        &web,
        "The target must be a whole number such as 2, more than zero",
        "20-earning-error",
    )
    .await;
    web.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    web.screenshot(&shot("21-earning-top")).await.unwrap();
    let messages = web.find(By::Id("messages")).await.unwrap();
    messages.scroll_into_view().await.unwrap();
    web.screenshot(&shot("24-earning-messages")).await.unwrap();
    type_into(&web, "ms_target", "3").await;
    next_to(&web, "/promotions/new/step/3").await;
    for n in 4..=6 {
        if n == 6 {
            click(&web, "#wizard input[name=value_type][value=percent]").await;
        }
        if n == 6 {
            type_into(&web, "value", "15").await;
        }
        next_to(&web, &format!("/promotions/new/step/{n}")).await;
    }
    next_to(&web, "/promotions/new/preview").await;
    wait_for_text(
        &web,
        "Earned on the customer's 3rd transaction of ₹500 or more",
    )
    .await;
    let section = web
        .find(By::XPath("//section[h2='Earning']"))
        .await
        .unwrap();
    section.scroll_into_view().await.unwrap();
    web.screenshot(&shot("22-earning-preview")).await.unwrap();
    click(&web, "#save-live").await;
    wait_for_text(&web, "Saved the promotion Third purchase, 15% off live.").await;
    // Live: the window and the maximum are shown, what earns it may still change.
    click(&web, "#edit-promotion").await;
    wait_for_text(&web, "Edit Third purchase, 15% off").await;
    click(&web, ".promo-steps li:nth-child(2) button").await;
    wait_for_text(&web, "can no longer change").await;
    wait_for_text(&web, "Earned at most once per customer per calendar month").await;
    let target = web
        .find(By::Css("#wizard input[name=ms_target]"))
        .await
        .unwrap();
    assert_eq!(target.value().await.unwrap().as_deref(), Some("3"));
    web.screenshot(&shot("23-earning-edit-live")).await.unwrap();
    web.quit().await.unwrap();
}

/// Whether the element matched by `css` is shown.
async fn shown(web: &WebDriver, css: &str) -> bool {
    web.find(By::Css(css))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_third_product_condition_unfolds_from_the_second_and_reads_back_in_words() {
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let web = browser(&driver).await;
    web.set_window_rect(0, 0, 1280, 1000).await.unwrap();
    let base = app.address.clone();
    sign_in(&web, &base, "admin@acme.example.com").await;
    web.goto(format!("{base}/promotions/new")).await.unwrap();
    wait_for_text(&web, "1. Basics").await;
    type_into(&web, "name", "Full outfit").await;
    click(&web, ".promo-steps li:nth-child(4) button").await;
    wait_for_text(&web, "Add a second product condition").await;

    // Each further slot is offered only once the one before it is open.
    select(&web, "p1_measure", "quantity").await;
    type_into(&web, "p1_at_least", "2").await;
    type_into(&web, "p1_inc_brands", "Levis").await;
    assert!(!shown(&web, "#more-cond-3 > summary").await);
    click(&web, "#more-cond-2 > summary").await;
    select(&web, "p2_measure", "amount").await;
    type_into(&web, "p2_at_least", "1,000").await;
    type_into(&web, "p2_inc_categories", "SHIRTS").await;
    assert!(shown(&web, "#more-cond-3 > summary").await);
    assert!(!shown(&web, "#more-cond-4 > summary").await);
    click(&web, "#more-cond-3 > summary").await;
    select(&web, "p3_measure", "quantity").await;
    type_into(&web, "p3_at_least", "1").await;
    type_into(&web, "p3_inc_categories", "BELTS").await;
    assert!(shown(&web, "#more-cond-4 > summary").await);
    let slot = web.find(By::Id("more-cond-2")).await.unwrap();
    slot.scroll_into_view().await.unwrap();
    web.screenshot(&shot("13-conditions-three")).await.unwrap();

    next_to(&web, "/promotions/new/step/5").await;
    type_into(&web, "value", "10").await;
    next_to(&web, "/promotions/new/step/6").await;
    next_to(&web, "/promotions/new/preview").await;
    let headline = web
        .find(By::Id("headline"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        headline,
        "Buy 2 or more of brand Levis and spend ₹1,000 or more on category SHIRTS and buy 1 or \
         more of category BELTS, get 10% off the whole cart, stackable with other promotions"
    );
    web.screenshot(&shot("14-preview-three")).await.unwrap();
    click(&web, "#save-live").await;
    wait_for_text(&web, "Saved the promotion Full outfit live.").await;

    // Editing it: the Conditions step opens with the three slots unfolded and filled.
    click(&web, "#edit-promotion").await;
    wait_for_text(&web, "Edit Full outfit").await;
    click(&web, ".promo-steps li:nth-child(4) button").await;
    wait_for_text(&web, "Add a fourth product condition").await;
    let belts = web
        .find(By::Css("#wizard input[name=p3_inc_categories]"))
        .await
        .unwrap();
    assert!(belts.is_displayed().await.unwrap());
    assert_eq!(belts.value().await.unwrap().as_deref(), Some("BELTS"));
    assert!(!shown(&web, "#wizard input[name=p4_inc_categories]").await);
    web.quit().await.unwrap();
}
