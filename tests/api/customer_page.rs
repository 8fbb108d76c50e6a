//! The customer page for CSMs over HTTP on both databases (issue #17): the search finds a
//! customer by mobile, email or external id; the page shows their events, trackers, held
//! promotions, coupons and redemptions; a tracker correction with a reason changes the
//! progress, is audited, and reaching the target makes the customer hold the promotion (the
//! cart then applies it); bad corrections change nothing; viewers cannot correct and another
//! org's customer is not found.

use crate::helpers::{Browser, TestApp, spawn_app};
use crate::integration::Api;
use offerdesk::domain::user::Role;
use offerdesk::store::masters::CodedKind;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An earned promotion of 15% off the cart; its id.
async fn earned(api: &Api, name: &str, earning: Value) -> i64 {
    let (status, v) = api
        .post(
            "/promotions",
            json!({"promotion": {
                "name": name, "kind": {"type": "earned"},
                "validity": {"starts": "2026-01-01T00:00:00Z"},
                "benefit": {"target": {"type": "cart"}, "value": {"type": "percent", "basisPoints": 1500}},
                "stacking": "stackable",
                "holding": {"windowDays": 30, "maxPerCustomer": 1, "earning": earning}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["id"].as_i64().unwrap()
}

/// "Third visit": earned by the 3rd transaction over the promotion's life.
async fn third_visit(api: &Api) -> i64 {
    earned(
        api,
        "Third visit",
        json!({"event": "transaction", "milestone": {"measure": "count", "target": 3}}),
    )
    .await
}

async fn event(api: &Api, id: &str, customer: Value, amount: i64) -> Value {
    let (status, v) = api
        .post(
            "/events",
            json!({"type": "transaction", "eventId": id, "customer": customer, "amount": amount,
                   "transactionNumber": format!("POS-{id}")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["results"][0].clone()
}

/// The discount an open cart of ₹1,000 gets for `mobile`.
async fn cart_discount(api: &Api, cart: &str, mobile: &str) -> i64 {
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

/// The customer page's path of the one customer a search finds.
async fn found(b: &Browser, q: &str) -> String {
    let p = b.get(&format!("/customers?q={}", urlencode(q))).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let marker = "href=\"/customers/";
    let at = p
        .body
        .match_indices(marker)
        .map(|(i, _)| i + marker.len())
        .find(|&i| p.body[i..].starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or_else(|| panic!("{q} finds a customer: {}", p.body));
    let id: String = p.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    format!("/customers/{id}")
}

fn urlencode(s: &str) -> String {
    offerdesk::web::error::urlencode(s)
}

/// A signed-in console user of Acme with `role`.
async fn console(app: &TestApp, role: Role) -> Browser {
    let email = if role == Role::Admin {
        "admin@acme.example.com".to_string()
    } else {
        app.create_user("Acme", role).await
    };
    app.signed_in(&email).await
}

/// Posts a correction of `promotion`'s life tracker from `seen` to `progress`.
async fn correct(
    b: &Browser,
    page: &str,
    promotion: i64,
    seen: &str,
    progress: &str,
    reason: &str,
) -> crate::helpers::Page {
    b.post(
        &format!("{page}/trackers"),
        &[
            ("promotion_id", &promotion.to_string()),
            ("window", "life"),
            ("seen", seen),
            ("progress", progress),
            ("reason", reason),
        ],
    )
    .await
}

#[tokio::test]
async fn a_csm_finds_a_customer_and_sees_events_trackers_holds_coupons_and_redemptions() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let zone = app.add_coded("Acme", CodedKind::Zone, "WEST", "West").await;
    app.add_store("Acme", "S1", zone).await;
    third_visit(&api).await;
    earned(
        &api,
        "Big spender",
        json!({"event": "transaction", "minAmount": 200000}),
    )
    .await;
    let asha = json!({"mobile": "9800000031"});
    assert_eq!(
        event(&api, "V-1", asha.clone(), 150_000).await["earned"],
        json!([])
    );
    let big = event(&api, "V-2", asha.clone(), 250_000).await;
    assert_eq!(big["earned"][0]["name"], "Big spender", "{big}");
    let (status, v) = api
        .put(
            "/customers/contacts",
            json!({"contacts": [{"customer": asha, "email": "asha@example.com"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = api
        .put(
            "/customers/tags",
            json!({"customer": asha, "tiers": ["Gold"], "segments": ["Weekend shoppers"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // A coupon of ₹200 off, redeemed on a bill of ₹1,500 at store S1.
    let series = api
        .series(
            json!({"name": "Welcome 200", "discountType": "ABS", "discountValue": 20000,
                       "codeType": "UNIQUE", "validTill": "2027-12-31"}),
        )
        .await;
    let code = api.issue(series, "9800000031").await;
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "BILL-77", "billAmount": 150000, "storeCode": "S1",
                   "customer": {"mobile": "9800000031"}, "codes": [code]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // A reward bought with 500 points.
    let (status, v) = api
        .post(
            "/promotions",
            json!({"promotion": {
                "name": "Reward: free delivery", "kind": {"type": "reward"},
                "validity": {"starts": "2026-01-01T00:00:00Z"},
                "benefit": {"target": {"type": "cart"}, "value": {"type": "amount", "amount": 5000}},
                "stacking": "stackable", "holding": {"windowDays": 3}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = api
        .post(
            "/customers/rewards",
            json!({"promotionId": v["id"], "customer": asha, "cost": {"points": 500},
                   "requestId": "LOY-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // Someone known only by an external id.
    event(&api, "L-1", json!({"externalId": "LOYALTY-31"}), 1000).await;

    let csm = console(&app, Role::Csm).await;
    let home = csm.get("/").await.body;
    assert!(
        home.contains("href=\"/customers\""),
        "the nav links the page"
    );
    let search = csm.get("/customers").await;
    assert_eq!(search.status, StatusCode::OK);
    assert!(search.body.contains("href=\"/customers/tags\""));
    assert!(search.body.contains("href=\"/customers/contacts\""));

    // By the identifier, the email contact (any case) and an external id.
    let page = found(&csm, "9800000031").await;
    assert_eq!(found(&csm, "Asha@Example.com").await, page);
    let loyal = found(&csm, "LOYALTY-31").await;
    assert_ne!(loyal, page);
    let none = csm.get("/customers?q=9800009999").await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(none.body.contains("id=\"no-customer\""), "{}", none.body);
    assert!(none.body.contains("No customer"));

    let p = csm.get(&page).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let b = &p.body;
    for shown in [
        // Identity, contacts, tiers and segments.
        "9800000031",
        "asha@example.com",
        "Gold",
        "Weekend shoppers",
        // Events: type, amount in rupees, what one earned, the transaction number.
        "Transaction",
        "₹1,500",
        "₹2,500",
        "POS-V-2",
        // The tracker: two visits of three, over the promotion's life.
        "2 of 3 transactions",
        "over the promotion&#39;s life",
        // The held promotions, active: one earned, one a reward.
        "Big spender",
        "held-active",
        "Reward for 500 points",
        // The coupon, used, and its redemption at S1: bill and discount.
        &code,
        "Welcome 200",
        "Store S1 (S1)",
        "₹200",
        "BILL-77",
    ] {
        assert!(b.contains(shown), "the page shows {shown}: {b}");
    }
    assert!(b.contains("id=\"correct-"), "a CSM may correct");
}

#[tokio::test]
async fn a_correction_with_a_reason_is_audited_and_reaching_the_target_earns_the_promotion() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let promo = third_visit(&api).await;
    let other = earned(
        &api,
        "Fifth visit",
        json!({"event": "registration", "milestone": {"measure": "count", "target": 5}}),
    )
    .await;
    let ravi = json!({"mobile": "9800000032"});
    event(&api, "R-1", ravi.clone(), 1000).await;
    let csm = console(&app, Role::Csm).await;
    let admin = console(&app, Role::Admin).await;
    let page = found(&csm, "9800000032").await;
    assert!(csm.get(&page).await.body.contains("1 of 3 transactions"));
    let org = app.org_id("Acme").await;
    let audit_count = || async { app.store.list_audit(org, None, 1, 0).await.unwrap().1 };

    // Bad corrections show the page again with the error and the values typed; nothing changes.
    let before = audit_count().await;
    for (progress, reason, error) in [
        ("2", "   ", "Reason is required"),
        ("-1", "Missed visit", "must be 0 or more"),
        ("two", "Missed visit", "must be a whole number"),
    ] {
        let p = correct(&csm, &page, promo, "1", progress, reason).await;
        assert_eq!(
            p.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{progress}: {}",
            p.body
        );
        assert!(p.body.contains(error), "{progress} {reason:?}: {}", p.body);
        assert!(
            p.body.contains(&format!("value=\"{progress}\"")),
            "typed value kept"
        );
        assert!(p.body.contains("1 of 3 transactions"), "unchanged");
    }
    // A promotion that is not one of the org's milestone promotions, and a stale page.
    let p = correct(&csm, &page, other + 1000, "0", "2", "Missed visit").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body.contains("no tracker of that promotion"),
        "{}",
        p.body
    );
    let p = correct(&csm, &page, promo, "0", "2", "Missed visit").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("moved to 1 transaction"), "{}", p.body);
    assert_eq!(
        audit_count().await,
        before,
        "refused corrections change nothing"
    );
    assert_eq!(cart_discount(&api, "C-0", "9800000032").await, 0);

    // 1 → 2 with a reason: progress changes and the audit log has it.
    let p = correct(&csm, &page, promo, "1", "2", "Till offline on 28 Nov").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let shown = csm.get(&page).await.body;
    assert!(shown.contains("2 of 3 transactions"), "{shown}");
    assert!(shown.contains("corrected from 1 to 2 transactions"));
    let audit = admin.get("/admin/audit").await.body;
    assert!(audit.contains("Till offline on 28 Nov"), "{audit}");
    assert!(audit.contains("Third visit"));
    assert_eq!(cart_discount(&api, "C-1", "9800000032").await, 0, "not yet");

    // 2 → 3 reaches the target: the customer holds it and the cart applies it.
    let p = correct(&csm, &page, promo, "2", "3", "Receipt shown in store").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let shown = csm.get(&page).await.body;
    assert!(shown.contains("now holds “Third visit”"), "{shown}");
    assert!(shown.contains("Earned (tracker corrected)"));
    assert!(shown.contains("held-active"));
    assert_eq!(cart_discount(&api, "C-2", "9800000032").await, 15_000);
    assert_eq!(
        cart_discount(&api, "C-3", "9800000033").await,
        0,
        "theirs only"
    );
    let audit = admin.get("/admin/audit").await.body;
    assert!(audit.contains("the customer earned it"), "{audit}");
    // A closed cart uses it: the page says so.
    let (status, v) = api
        .put(
            "/carts/C-4",
            json!({"state": "closed", "customer": {"mobile": "9800000032"},
                   "lines": [{"sku": "TEE-1", "quantity": 1, "unitPrice": 100000}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["discount"], 15_000, "{v}");
    let shown = csm.get(&page).await.body;
    assert!(shown.contains("held-used"), "{shown}");
    assert!(shown.contains("in a cart on"));

    // A live milestone promotion the customer has not started shows 0 and can be credited
    // (the till missed their registration).
    assert!(shown.contains("0 of 5 registrations"), "{shown}");
    let p = correct(
        &csm,
        &page,
        other,
        "0",
        "1",
        "Registered at the till, not sent",
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert!(csm.get(&page).await.body.contains("1 of 5 registrations"));
}

#[tokio::test]
async fn viewers_cannot_correct_and_other_orgs_customers_are_not_found() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let promo = third_visit(&api).await;
    event(&api, "S-1", json!({"mobile": "9800000034"}), 1000).await;
    let viewer = console(&app, Role::Viewer).await;
    let page = found(&viewer, "9800000034").await;
    let p = viewer.get(&page).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("1 of 3 transactions"));
    assert!(!p.body.contains("id=\"correct-"), "no form for a viewer");
    let org = app.org_id("Acme").await;
    let audit_before = app.store.list_audit(org, None, 1, 0).await.unwrap().1;
    let refused = correct(&viewer, &page, promo, "1", "3", "I am a viewer").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.store.list_audit(org, None, 1, 0).await.unwrap().1,
        audit_before
    );
    assert_eq!(cart_discount(&api, "C-1", "9800000034").await, 0);

    // Globex's admin: Acme's customer is not found, and cannot be corrected.
    let globex = app.create_org_admin("Globex").await;
    let outsider = app.signed_in(&globex).await;
    assert_eq!(outsider.get(&page).await.status, StatusCode::NOT_FOUND);
    let p = correct(&outsider, &page, promo, "1", "3", "Not mine").await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    let p = outsider.get("/customers?q=9800000034").await;
    assert!(p.body.contains("id=\"no-customer\""));
    assert!(viewer.get(&page).await.body.contains("1 of 3 transactions"));
}

/// Screenshots of the search and the customer page (1280×900) for people to look at.
fn shot(name: &str) -> std::path::PathBuf {
    crate::browser::screenshot_path(&format!("customer-{name}"))
}

#[tokio::test]
async fn a_csm_finds_the_customer_in_chromium_and_corrects_a_tracker_to_its_target() {
    use crate::browser::{browser, chromedriver, fill, sign_in, submit, wait_for_text};
    use thirtyfour::prelude::*;
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let zone = app.add_coded("Acme", CodedKind::Zone, "WEST", "West").await;
    app.add_store("Acme", "S1", zone).await;
    let promo = third_visit(&api).await;
    earned(
        &api,
        "₹10,000 a month",
        json!({"event": "transaction", "milestone":
               {"measure": "sum", "target": 1000000, "window": "calendarMonth"}}),
    )
    .await;
    earned(
        &api,
        "Big spender",
        json!({"event": "transaction", "minAmount": 200000}),
    )
    .await;
    let meera = json!({"mobile": "9800000035", "firstName": "Meera"});
    event(&api, "M-1", meera.clone(), 120_000).await;
    event(&api, "M-2", meera.clone(), 480_000).await;
    api.put(
        "/customers/contacts",
        json!({"contacts": [{"customer": {"mobile": "9800000035"}, "email": "meera@example.com",
                             "preferredChannel": "email"}]}),
    )
    .await;
    api.put(
        "/customers/tags",
        json!({"customer": {"mobile": "9800000035"}, "tiers": ["Gold"], "segments": ["Weekend shoppers"]}),
    )
    .await;
    let series = api
        .series(
            json!({"name": "Welcome 200", "discountType": "ABS", "discountValue": 20000,
                       "codeType": "UNIQUE", "validTill": "2027-12-31"}),
        )
        .await;
    let code = api.issue(series, "9800000035").await;
    api.post(
        "/coupon/redeem",
        json!({"transactionNumber": "BILL-81", "billAmount": 150000, "storeCode": "S1",
               "customer": {"mobile": "9800000035"}, "codes": [code]}),
    )
    .await;
    api.issue(series, "9800000035").await;

    let csm = app.create_user("Acme", Role::Csm).await;
    let web = browser(&driver).await;
    sign_in(&web, &app.address, &csm).await;
    web.find(By::Css("nav.sidebar a[href=\"/customers\"]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&web, "customer-search", "q", "meera@example.com").await;
    submit(&web, "customer-search").await;
    wait_for_text(&web, "1 customer found").await;
    web.screenshot(&shot("1-search")).await.unwrap();
    web.find(By::Css("#search-results a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "2 of 3 transactions").await;
    // The whole page at once.
    web.set_window_rect(0, 0, 1280, 2400).await.unwrap();
    web.screenshot(&shot("2-page")).await.unwrap();
    web.set_window_rect(0, 0, 1280, 900).await.unwrap();

    // A value that is no count comes back inline, with what was typed.
    let form = format!("correct-{promo}");
    web.find(By::Css(format!("#tracker-{promo} summary")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&web, &form, "progress", "three").await;
    fill(&web, &form, "reason", "Receipt shown in store").await;
    submit(&web, &form).await;
    wait_for_text(&web, "must be a whole number").await;
    web.find(By::Css(format!("#tracker-{promo}")))
        .await
        .unwrap()
        .scroll_into_view()
        .await
        .unwrap();
    web.screenshot(&shot("3-refused")).await.unwrap();

    // Big spender only, before.
    let before = cart_discount(&api, "C-0", "9800000035").await;
    fill(&web, &form, "progress", "3").await;
    submit(&web, &form).await;
    wait_for_text(&web, "now holds “Third visit”").await;
    let flash = web.find(By::Css(".flash")).await.unwrap();
    assert!(flash.is_displayed().await.unwrap());
    web.screenshot(&shot("4-corrected")).await.unwrap();
    // The admin reads the correction, with its reason, in the audit log.
    web.delete_all_cookies().await.unwrap();
    sign_in(&web, &app.address, "admin@acme.example.com").await;
    web.goto(format!("{}/admin/audit", app.address))
        .await
        .unwrap();
    wait_for_text(&web, "Receipt shown in store").await;
    web.screenshot(&shot("5-audit")).await.unwrap();
    web.quit().await.unwrap();
    assert!(cart_discount(&api, "C-1", "9800000035").await > before);
}
