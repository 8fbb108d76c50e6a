//! The offer form's pickers (checkbox lists; with JavaScript a search box and chips) and its
//! grouped advanced settings (closed unless they hold a value or an error) — in headless
//! Chromium and over plain HTTP without JavaScript.

use crate::browser::{browser, chromedriver, screenshot_path, sign_in, wait_for_text};
use crate::helpers::{Browser, TestApp, spawn_app};
use crate::offers::FAR;
use offerdesk::domain::ids::OfferId;
use offerdesk::domain::offer::ScopeKind;
use offerdesk::domain::offer::form::OfferForm;
use offerdesk::domain::user::Role;
use offerdesk::store::masters::CodedKind;
use reqwest::StatusCode;
use std::time::Duration;
use thirtyfour::prelude::*;

/// The advanced-settings sections that open from a `<details>` summary.
const DETAILS: [&str; 8] = [
    "issual",
    "resend",
    "reminders",
    "start",
    "where",
    "bill",
    "when",
    "cap",
];

/// Polls (never sleeping blindly) until the script `js` (returning a boolean) is true.
async fn wait_js(web: &WebDriver, js: &str, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ok: bool = web
            .execute(js, vec![])
            .await
            .unwrap()
            .convert()
            .unwrap_or(false);
        if ok {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("never true: {what} ({js})");
        }
        // Not a job wait: the page's script runs in Chromium, outside the test's control.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn js_bool(web: &WebDriver, js: &str) -> bool {
    web.execute(js, vec![]).await.unwrap().convert().unwrap()
}

async fn click(web: &WebDriver, css: &str) {
    web.find(By::Css(css)).await.unwrap().click().await.unwrap();
}

/// Six stores in two cities, the draft of an offer with steps 1–3 filled in for `email`.
async fn stores_and_draft(app: &TestApp, email: &str) -> Vec<(String, i64)> {
    let zone = app.add_coded("Acme", CodedKind::Zone, "W", "West").await;
    let mut stores = Vec::new();
    for code in ["MUM1", "MUM2", "MUM3", "PUN1", "PUN2", "DEL1"] {
        stores.push((code.to_string(), app.add_store("Acme", code, zone).await));
    }
    let user = app.store.find_credentials(email).await.unwrap().unwrap().id;
    let draft = OfferForm {
        name: "Monsoon".into(),
        expires_on: FAR.into(),
        discount_value: "10".into(),
        ..OfferForm::defaults()
    };
    app.store.save_draft(user, &draft, None).await.unwrap();
    stores
}

/// Scrolls the element with `id` to the top of the window (a little below, for context).
async fn scroll_to(web: &WebDriver, id: &str) {
    web.execute(
        &format!(
            "const e = document.getElementById('{id}'); window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 60);"
        ),
        vec![],
    )
    .await
    .unwrap();
}

async fn shoot(web: &WebDriver, name: &str) {
    web.screenshot(&screenshot_path(name)).await.unwrap();
}

#[tokio::test]
async fn with_javascript_a_store_picker_filters_keeps_every_click_and_shows_chips() {
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let stores = stores_and_draft(&app, &email).await;
    let id = |code: &str| stores.iter().find(|(c, _)| c == code).unwrap().1;
    let web = browser(&driver).await;
    let base = app.address.clone();
    sign_in(&web, &base, &email).await;

    // Step 2's category and brand pickers, side by side.
    for (code, name) in [("FW", "Footwear"), ("AP", "Apparel"), ("AC", "Accessories")] {
        app.add_coded("Acme", CodedKind::Category, code, name).await;
    }
    for (code, name) in [("NIKE", "Nike"), ("ADI", "Adidas")] {
        app.add_coded("Acme", CodedKind::Brand, code, name).await;
    }
    web.goto(format!("{base}/offers/new/step/2")).await.unwrap();
    wait_for_text(&web, "Discount for each coupon").await;
    click(&web, "input[name=applies_to][value=selected]").await;
    click(&web, "input[name=categories][data-label='Footwear']").await;
    click(&web, "input[name=brands][data-label='Adidas']").await;
    click(&web, "input[name=brands][data-label='Nike']").await;
    wait_js(
        &web,
        "return document.querySelectorAll('#picker-brands .chip').length === 2;",
        "two brand chips",
    )
    .await;
    scroll_to(&web, "picker-categories").await;
    shoot(&web, "pickers-discount-1280").await;

    web.goto(format!("{base}/offers/new/step/4")).await.unwrap();
    wait_for_text(&web, "Advanced settings are optional").await;
    // Every section starts closed: nothing is set.
    for key in DETAILS {
        let open = web
            .find(By::Id(format!("adv-{key}")))
            .await
            .unwrap()
            .attr("open")
            .await
            .unwrap();
        assert!(open.is_none(), "section {key} starts closed");
    }
    let search = web
        .find(By::Css("#picker-stores input[data-search]"))
        .await
        .unwrap();
    assert!(
        !search.is_displayed().await.unwrap(),
        "inside a closed section"
    );
    shoot(&web, "pickers-advanced-closed-1280").await;
    web.set_window_rect(0, 0, 1024, 768).await.unwrap();
    shoot(&web, "pickers-advanced-closed-1024").await;
    web.set_window_rect(0, 0, 1280, 900).await.unwrap();

    click(&web, "#adv-where > summary").await;
    wait_js(
        &web,
        "return document.querySelector('#picker-stores input[data-search]').offsetParent !== null;",
        "the store search box shows",
    )
    .await;
    search.send_keys("mum").await.unwrap();
    wait_js(
        &web,
        "return [...document.querySelectorAll('#picker-stores .picker-list label')].filter(l => !l.hidden).length === 3;",
        "the search leaves the three MUM stores",
    )
    .await;
    for code in ["PUN1", "PUN2", "DEL1"] {
        let label = web
            .find(By::XPath(format!(
                "//input[@name='stores'][@value='{}']/ancestor::label",
                id(code)
            )))
            .await
            .unwrap();
        assert!(
            !label.is_displayed().await.unwrap(),
            "{code} is filtered out"
        );
    }
    // Two plain clicks, one after the other: both stay ticked (a multi-select dropped the first).
    for code in ["MUM1", "MUM3"] {
        click(&web, &format!("input[name=stores][value='{}']", id(code))).await;
    }
    wait_js(
        &web,
        "return document.querySelectorAll('#picker-stores .chip').length === 2;",
        "two chips",
    )
    .await;
    let chips = web
        .find(By::Css("#picker-stores [data-chips]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        chips.contains("Store MUM1") && chips.contains("Store MUM3"),
        "{chips}"
    );
    let count = web
        .find(By::Css("#picker-stores [data-count]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(count, "2 chosen");
    assert!(
        web.find(By::Css("#adv-where [data-state]"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap(),
        "the section says it is in use"
    );

    // A third store found by another search, then dropped again with its chip's ×.
    search.clear().await.unwrap();
    search.send_keys("del").await.unwrap();
    click(&web, &format!("input[name=stores][value='{}']", id("DEL1"))).await;
    wait_js(
        &web,
        "return document.querySelectorAll('#picker-stores .chip').length === 3;",
        "three chips",
    )
    .await;
    click(
        &web,
        "#picker-stores button[aria-label='Remove Store DEL1']",
    )
    .await;
    wait_js(
        &web,
        "return document.querySelectorAll('#picker-stores .chip').length === 2 && !document.querySelector('input[name=stores][value=\"DEL_ID\"]').checked;"
            .replace("DEL_ID", &id("DEL1").to_string())
            .as_str(),
        "the × unticked DEL1",
    )
    .await;
    // Enter in the search box does not submit the form.
    search.clear().await.unwrap();
    search.send_keys("zzz").await.unwrap();
    wait_js(
        &web,
        "return document.querySelector('#picker-stores [data-nomatch]').offsetParent !== null;",
        "no match is said",
    )
    .await;
    search.send_keys(Key::Enter).await.unwrap();
    assert!(
        web.current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("/offers/new/step/4")
    );
    search.clear().await.unwrap();
    search.send_keys("mum").await.unwrap();

    // A section behind a switch shows its fields only while switched on.
    let body = web.find(By::Css("#adv-multiple .adv-body")).await.unwrap();
    assert!(!body.is_displayed().await.unwrap());
    click(&web, "input[name=multiple_redemption]").await;
    assert!(
        body.is_displayed().await.unwrap(),
        "switched on, the fields show"
    );
    click(&web, "input[name=multiple_redemption]").await;
    assert!(!body.is_displayed().await.unwrap());

    // Screenshots for people to look at: the stores picker, then every section open, at
    // 1280×900 and 1024×768.
    scroll_to(&web, "adv-where").await;
    shoot(&web, "pickers-where-1280").await;
    for key in DETAILS.iter().filter(|k| **k != "where") {
        click(&web, &format!("#adv-{key} > summary")).await;
    }
    click(&web, "input[name=multiple_redemption]").await;
    click(&web, "input[name=poc_reminder]").await;
    for size in [(1280, 900), (1024, 768)] {
        web.set_window_rect(0, 0, size.0, size.1).await.unwrap();
        for key in ["issual", "start", "where", "when", "poc"] {
            scroll_to(&web, &format!("adv-{key}")).await;
            shoot(&web, &format!("pickers-open-{key}-{}", size.0)).await;
        }
    }
    web.set_window_rect(0, 0, 1280, 900).await.unwrap();
    click(&web, "input[name=multiple_redemption]").await;
    click(&web, "input[name=poc_reminder]").await;

    click(&web, "button[name=next]").await;
    wait_js(
        &web,
        "return !!document.getElementById('headline');",
        "the preview shows",
    )
    .await;
    let headline = web
        .find(By::Id("headline"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        headline.contains("2 stores")
            || (headline.contains("Store MUM1") && headline.contains("Store MUM3")),
        "the preview has both stores: {headline}"
    );
    click(&web, "form[action='/offers/new'] button[type=submit]").await;
    wait_for_text(&web, "Created offer Monsoon.").await;
    let org = app.org_id("Acme").await;
    let offer = OfferId(app.store.offer_names(org).await.unwrap()[0].0);
    let scope = app
        .store
        .get_offer(org, offer)
        .await
        .unwrap()
        .rules
        .redemption
        .scope;
    assert_eq!(
        scope,
        vec![
            (ScopeKind::Store, id("MUM1")),
            (ScopeKind::Store, id("MUM3"))
        ]
    );

    // The edit page opens the section that holds them, with both ticked and as chips.
    web.goto(format!("{base}/offers/{offer}/edit"))
        .await
        .unwrap();
    wait_for_text(&web, "Offer (series) code").await;
    scroll_to(&web, "adv-start").await;
    shoot(&web, "pickers-edit-1280").await;
    assert!(
        js_bool(
            &web,
            "return document.getElementById('adv-where').open && !document.getElementById('adv-bill').open && document.querySelectorAll('#picker-stores .chip').length === 2;"
        )
        .await
    );
    web.quit().await.unwrap();
}

async fn marketing(app: &TestApp) -> Browser {
    app.create_org_admin("Acme").await;
    let email = app.create_user("Acme", Role::Marketing).await;
    app.signed_in(&email).await
}

/// The opening tag of the element with `id`.
fn tag_of<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

fn is_open(html: &str, key: &str) -> bool {
    tag_of(html, &format!("adv-{key}")).contains(" open")
}

#[tokio::test]
async fn without_javascript_pickers_are_checkboxes_and_post_every_ticked_store() {
    let app = spawn_app().await;
    let b = marketing(&app).await;
    let email = "marketing@acme.example.com";
    let stores = stores_and_draft(&app, email).await;
    let (s1, s2) = (stores[0].1.to_string(), stores[4].1.to_string());
    app.add_coded("Acme", CodedKind::Brand, "NIKE", "Nike")
        .await;

    for step in [2, 4] {
        let page = b.get(&format!("/offers/new/step/{step}")).await.body;
        for select in page.split("<select").skip(1) {
            let tag = &select[..select.find('>').unwrap()];
            assert!(!tag.contains("multiple"), "step {step}: <select{tag}>");
        }
    }
    let step2 = b.get("/offers/new/step/2").await.body;
    assert!(step2.contains("<input type=\"checkbox\" name=\"brands\""));
    let step4 = b.get("/offers/new/step/4").await.body;
    for (_, id) in &stores {
        assert!(
            step4.contains(&format!(
                "<input type=\"checkbox\" name=\"stores\" value=\"{id}\""
            )),
            "a checkbox for store {id}"
        );
    }
    for picker in [
        "tills",
        "zones",
        "concepts",
        "past_issual_offers",
        "poc_ids",
    ] {
        assert!(
            step4.contains(&format!("id=\"picker-{picker}\"")),
            "{picker}"
        );
    }
    // The search box (for JavaScript) is hidden and posts nothing.
    assert!(step4.contains("data-search placeholder=\"Search stores…\""));

    let p = b
        .post(
            "/offers/new/step/4",
            &[
                ("redemption_start", "issue"),
                ("poc_reminder_days", "3"),
                ("stores", &s1),
                ("stores", &s2),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/offers/new/preview"));
    let step4 = b.get("/offers/new/step/4").await.body;
    for id in [&s1, &s2] {
        assert!(
            step4.contains(&format!("name=\"stores\" value=\"{id}\" checked")),
            "store {id} stays ticked"
        );
    }
    assert!(
        is_open(&step4, "where"),
        "the section with the stores is open"
    );
    assert!(step4.contains("2 chosen"));
    let created = b.post("/offers/new", &[]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let org = app.org_id("Acme").await;
    let offer = OfferId(app.store.offer_names(org).await.unwrap()[0].0);
    let scope = app
        .store
        .get_offer(org, offer)
        .await
        .unwrap()
        .rules
        .redemption
        .scope;
    let want: Vec<(ScopeKind, i64)> = [&s1, &s2]
        .iter()
        .map(|s| (ScopeKind::Store, s.parse().unwrap()))
        .collect();
    assert_eq!(scope, want);
}

#[tokio::test]
async fn advanced_sections_are_closed_when_empty_and_open_with_a_value_or_an_error() {
    let app = spawn_app().await;
    let b = marketing(&app).await;
    stores_and_draft(&app, "marketing@acme.example.com").await;

    let fresh = b.get("/offers/new/step/4").await.body;
    for key in DETAILS {
        assert!(!is_open(&fresh, key), "{key} is closed when empty");
    }
    for key in ["multiple", "poc"] {
        assert!(!tag_of(&fresh, &format!("adv-{key}")).contains("forced-open"));
    }
    assert!(!fresh.contains("name=\"multiple_redemption\" checked"));
    // Every field says what it takes, with an example.
    assert!(fresh.contains(
        "24-hour ranges, comma-separated, may cross midnight, e.g. 16:00-18:00, 22:00-02:00"
    ));

    // A value (kept by Back, which does not check) opens its section only.
    let base = [("redemption_start", "issue"), ("poc_reminder_days", "3")];
    let mut with_slot = base.to_vec();
    with_slot.push(("time_slots", "16:00-18:00"));
    let back = b.post("/offers/new/step/4?nav=back", &with_slot).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    let page = b.get("/offers/new/step/4").await.body;
    assert!(is_open(&page, "when"));
    for key in DETAILS.iter().filter(|k| **k != "when") {
        assert!(!is_open(&page, key), "{key} stays closed");
    }
    let when = &page[page.find("id=\"adv-when\"").unwrap()..];
    assert!(when[..when.find("</summary>").unwrap()].contains("In use</span>"));

    // An error opens its section, and the others stay closed.
    let mut bad = base.to_vec();
    bad.push(("min_bill", "lots"));
    let p = b.post("/offers/new/step/4", &bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        is_open(&p.body, "bill"),
        "the section with the error is open"
    );
    assert!(p.body.contains("data-field=\"min_bill\""));
    assert!(!is_open(&p.body, "when") && !is_open(&p.body, "cap"));

    // Behind a switch: a field with an error while switched off still shows.
    let mut off = base.to_vec();
    off.push(("max_redemptions_per_customer", "2"));
    let p = b.post("/offers/new/step/4", &off).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(tag_of(&p.body, "adv-multiple").contains("forced-open"));
    assert!(
        p.body
            .contains("applies only when a coupon may be redeemed more than once")
    );
    let mut on = base.to_vec();
    on.extend([
        ("multiple_redemption", "on"),
        ("max_redemptions_per_customer", "2"),
        ("redemption_gap_days", "7"),
        ("poc_reminder", "on"),
    ]);
    let p = b.post("/offers/new/step/4", &on).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "no POC chosen");
    assert!(p.body.contains("name=\"multiple_redemption\" checked"));
    assert!(!tag_of(&p.body, "adv-multiple").contains("forced-open"));
    assert!(p.body.contains("choose at least one POC to remind"));
    assert!(p.body.contains("name=\"poc_reminder\" checked"));
}
