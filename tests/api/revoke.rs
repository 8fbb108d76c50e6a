//! Revoking coupons (REV-1, API-6) over HTTP on both databases: each mode's count with redeemed
//! coupons left alone, a customer file with a bad line applying nothing, the required
//! confirmation, revoked codes refused at redemption, roles, other orgs, the audit entry, the
//! API endpoint, common codes; and the console flow in a real browser.

use crate::browser::{browser, chromedriver, screenshot_path, sign_in, wait_for_text};
use crate::helpers::{Browser, Page, TestApp, spawn_app};
use crate::integration::Api;
use crate::issuing::offer_with;
use offerdesk::app::issue::IssueSource;
use offerdesk::domain::coupon::CodeFormat;
use offerdesk::domain::ids::{OfferId, OrgId};
use offerdesk::domain::issue::CustomerRef;
use offerdesk::domain::masters::IdentifierType;
use offerdesk::domain::offer::Generation;
use offerdesk::domain::revoke::StatusCounts;
use offerdesk::domain::user::{Actor, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use thirtyfour::prelude::*;

const CONFIRMATION: &str = "I understand revoked coupons can never be redeemed or reversed";

/// An offer of "Acme" with 10 generated codes: 4 issued to M1..M4 over the API, then M1's
/// redeemed: 6 unissued, 3 issued, 1 redeemed.
struct Fixture {
    app: TestApp,
    api: Api,
    admin: Browser,
    org: OrgId,
    offer: OfferId,
    /// The codes of M1..M4.
    codes: Vec<String>,
}

fn mobile(n: usize) -> String {
    format!("+9198000000{n:02}")
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let admin = app.signed_in("admin@acme.example.com").await;
    let org = app.org_id("Acme").await;
    let offer = offer_with(&app, "Spring", |_| {}).await;
    let rules = app.store.get_offer(org, offer).await.unwrap().rules;
    let Generation::Unique {
        length,
        charset,
        prefix,
    } = rules.generation
    else {
        panic!("a unique-code offer");
    };
    let format = CodeFormat {
        prefix,
        length,
        charset,
    };
    app.store
        .generate_codes(org, offer, &format, 10, &Actor::system("test"), None)
        .await
        .unwrap();
    let mut codes = Vec::new();
    for n in 1..=4 {
        codes.push(api.issue(offer, &mobile(n)).await);
    }
    let (status, v) = redeem(&api, "T1", &codes[0], &mobile(1)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    Fixture {
        app,
        api,
        admin,
        org,
        offer,
        codes,
    }
}

impl Fixture {
    async fn counts(&self) -> StatusCounts {
        self.app
            .store
            .coupon_status_counts(self.org, self.offer, false)
            .await
            .unwrap()
    }

    fn path(&self) -> String {
        format!("/offers/{}/revoke", self.offer)
    }
}

async fn redeem(api: &Api, txn: &str, code: &str, mobile: &str) -> (StatusCode, Value) {
    api.post(
        "/coupon/redeem",
        json!({"transactionNumber": txn, "billAmount": 100000, "customer": {"mobile": mobile}, "codes": [code]}),
    )
    .await
}

/// Posts the revoke form (multipart) with `mode`, the confirmation when `confirm`, and a CSV.
async fn post_revoke(b: &Browser, path: &str, mode: &str, confirm: bool, csv: &str) -> Page {
    let mut fields = vec![("mode", mode)];
    if confirm {
        fields.push(("confirm", "yes"));
    }
    b.upload(path, &fields, "customers.csv", csv).await
}

/// Follows a 303 and answers the page it leads to (which shows the flash).
async fn follow(b: &Browser, page: &Page) -> String {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    b.get(page.location.as_deref().unwrap()).await.body
}

fn counts(unissued: i64, issued: i64, redeemed: i64, revoked: i64) -> StatusCounts {
    StatusCounts {
        unissued,
        issued,
        redeemed,
        revoked,
    }
}

/// The `<input …>` of a mode's radio button.
fn radio<'a>(body: &'a str, mode: &str) -> &'a str {
    let at = body
        .find(&format!("value=\"{mode}\" id=\"mode-{mode}\""))
        .unwrap_or_else(|| panic!("no {mode} radio in {body}"));
    let start = body[..at].rfind("<input").unwrap();
    &body[start..at + body[at..].find('>').unwrap()]
}

#[tokio::test]
async fn each_mode_revokes_its_coupons_and_redeemed_ones_stay_redeemed() {
    let f = fixture().await;
    assert_eq!(f.counts().await, counts(6, 3, 1, 0));

    // The page says what each mode would revoke now.
    let page = f.admin.get(&f.path()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Unissued and issued coupons, expired ones included: 9 coupons now."),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Coupons nobody has been given yet: 6 coupons now.")
    );
    assert!(page.body.contains(CONFIRMATION));
    assert!(page.body.contains("name=\"csrf_token\""));

    // (b) only unissued.
    let done = post_revoke(&f.admin, &f.path(), "unissued", true, "").await;
    assert_eq!(
        done.location.as_deref(),
        Some(format!("/offers/{}/coupons", f.offer).as_str())
    );
    let tab = follow(&f.admin, &done).await;
    assert!(tab.contains("6 coupons revoked (only unissued)."), "{tab}");
    assert_eq!(f.counts().await, counts(0, 3, 1, 6));

    // (c) the coupons of specific customers: M2 by mobile; M1's coupon is redeemed and stays.
    let csv = format!("type,value\nMOBILE,{}\nMOBILE,{}\n", mobile(2), mobile(1));
    let tab = follow(
        &f.admin,
        &post_revoke(&f.admin, &f.path(), "customers", true, &csv).await,
    )
    .await;
    assert!(
        tab.contains("1 coupon revoked (of specific customers)."),
        "{tab}"
    );
    assert_eq!(f.counts().await, counts(0, 2, 1, 7));

    // (a) all not redeemed: the two still issued.
    let tab = follow(
        &f.admin,
        &post_revoke(&f.admin, &f.path(), "all", true, "").await,
    )
    .await;
    assert!(
        tab.contains("2 coupons revoked (all not redeemed)."),
        "{tab}"
    );
    assert_eq!(f.counts().await, counts(0, 0, 1, 9));
    // Nothing left: said honestly.
    let tab = follow(
        &f.admin,
        &post_revoke(&f.admin, &f.path(), "all", true, "").await,
    )
    .await;
    assert!(tab.contains("No coupons to revoke:"), "{tab}");
    assert_eq!(f.counts().await, counts(0, 0, 1, 9));

    // The redeemed coupon is still redeemed; the offer's counters are unchanged.
    let (_, details) = f.api.get(&format!("/coupon?codes={}", f.codes[0])).await;
    assert_eq!(details["coupons"][0]["status"], "redeemed", "{details}");
    let (_, series) = f.api.get(&format!("/coupon/series/{}", f.offer)).await;
    assert_eq!(series["issuedCount"], 4, "{series}");
    assert_eq!(series["redeemedCount"], 1, "{series}");

    // A revoked code is refused at redemption, over the API, with the reason `revoked`.
    let (status, v) = redeem(&f.api, "T2", &f.codes[2], &mobile(3)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["code"], "revoked", "{v}");
    let (_, details) = f.api.get(&format!("/coupon?codes={}", f.codes[2])).await;
    assert_eq!(details["coupons"][0]["status"], "revoked");
    // The Coupons tab lists them as revoked.
    let listed = f
        .admin
        .get(&format!("/offers/{}/coupons?status=revoked", f.offer))
        .await;
    assert_eq!(listed.body.matches("status-revoked").count(), 9);

    // One audit entry per revoke, saying how many and how.
    let (audit, _) = f
        .app
        .store
        .list_audit(f.org, Some("offer"), 10, 0)
        .await
        .unwrap();
    let revokes: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "coupons.revoked")
        .collect();
    assert!(revokes.iter().all(|a| a.actor == "admin@acme.example.com"));
    let summaries: Vec<&str> = revokes.iter().map(|a| a.summary.as_str()).collect();
    assert_eq!(
        summaries,
        vec![
            "Revoked 0 coupons (all not redeemed)",
            "Revoked 2 coupons (all not redeemed)",
            "Revoked 1 coupon (of specific customers, 2 customers listed)",
            "Revoked 6 coupons (only unissued)",
        ]
    );
}

#[tokio::test]
async fn a_customer_file_with_a_bad_line_revokes_nothing_and_names_each_line() {
    let f = fixture().await;
    let csv = format!(
        "type,value\nMOBILE,{}\nPHONE,12345678\nEMAIL,not-an-email\nMOBILE,{}\n",
        mobile(2),
        mobile(2)
    );
    let page = post_revoke(&f.admin, &f.path(), "customers", true, &csv).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("Nothing was revoked: 3 problems"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Line 3: type must be MOBILE, EMAIL or EXTERNAL_ID")
    );
    assert!(
        page.body
            .contains("Line 4: `not-an-email` is not an email address")
    );
    assert!(
        page.body
            .contains("Line 5: MOBILE +919800000002 is repeated (first on line 2)")
    );
    assert!(
        radio(&page.body, "customers").contains("checked"),
        "the chosen mode is kept"
    );
    assert!(!radio(&page.body, "all").contains("checked"));
    assert_eq!(f.counts().await, counts(6, 3, 1, 0), "nothing applied");

    // No file at all is a problem too.
    let page = f
        .admin
        .upload(
            &f.path(),
            &[("mode", "customers"), ("confirm", "yes")],
            "",
            "",
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("choose a CSV file to upload"),
        "{}",
        page.body
    );
    assert_eq!(f.counts().await, counts(6, 3, 1, 0));
}

#[tokio::test]
async fn without_the_confirmation_nothing_is_revoked() {
    let f = fixture().await;
    let page = post_revoke(&f.admin, &f.path(), "all", false, "").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"confirm-error\""), "{}", page.body);
    assert!(
        radio(&page.body, "all").contains("checked"),
        "the chosen mode is kept"
    );
    assert!(
        !page
            .body
            .contains("name=\"confirm\" value=\"yes\" id=\"confirm\" checked")
    );
    // Without a mode either: both are said.
    let page = f.admin.upload(&f.path(), &[], "", "").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Choose which coupons to revoke."));
    assert!(page.body.contains("id=\"confirm-error\""));
    assert_eq!(f.counts().await, counts(6, 3, 1, 0));
    let (audit, _) = f
        .app
        .store
        .list_audit(f.org, Some("offer"), 50, 0)
        .await
        .unwrap();
    assert!(audit.iter().all(|a| a.action != "coupons.revoked"));
}

#[tokio::test]
async fn csms_revoke_only_for_customers_and_viewers_not_at_all() {
    let f = fixture().await;
    let viewer = f
        .app
        .signed_in(&f.app.create_user("Acme", Role::Viewer).await)
        .await;
    let csm = f
        .app
        .signed_in(&f.app.create_user("Acme", Role::Csm).await)
        .await;
    let marketing = f
        .app
        .signed_in(&f.app.create_user("Acme", Role::Marketing).await)
        .await;

    assert_eq!(viewer.get(&f.path()).await.status, StatusCode::FORBIDDEN);
    for mode in ["all", "unissued", "customers"] {
        let csv = format!("type,value\nMOBILE,{}\n", mobile(2));
        let page = post_revoke(&viewer, &f.path(), mode, true, &csv).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "viewer {mode}");
    }
    // The offer page offers the link to those who may revoke.
    let offer_page = format!("/offers/{}", f.offer);
    assert!(
        !viewer
            .get(&offer_page)
            .await
            .body
            .contains("id=\"revoke-coupons\"")
    );
    assert!(
        csm.get(&offer_page)
            .await
            .body
            .contains("id=\"revoke-coupons\"")
    );

    // The CSM sees (and has chosen) only the customers mode, and may not use the others.
    let page = csm.get(&f.path()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("value=\"all\""), "{}", page.body);
    assert!(!page.body.contains("value=\"unissued\""));
    assert!(radio(&page.body, "customers").contains("checked"));
    for mode in ["all", "unissued"] {
        let page = post_revoke(&csm, &f.path(), mode, true, "").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "csm {mode}");
    }
    assert_eq!(
        f.counts().await,
        counts(6, 3, 1, 0),
        "refused requests change nothing"
    );
    let csv = format!("type,value\nMOBILE,{}\n", mobile(3));
    let tab = follow(
        &csm,
        &post_revoke(&csm, &f.path(), "customers", true, &csv).await,
    )
    .await;
    assert!(tab.contains("1 coupon revoked"), "{tab}");
    assert_eq!(f.counts().await, counts(6, 2, 1, 1));

    let tab = follow(
        &marketing,
        &post_revoke(&marketing, &f.path(), "unissued", true, "").await,
    )
    .await;
    assert!(tab.contains("6 coupons revoked"), "{tab}");
    assert_eq!(f.counts().await, counts(0, 2, 1, 7));
}

#[tokio::test]
async fn another_orgs_offer_is_not_found() {
    let f = fixture().await;
    let globex = Api::of(&f.app, "Globex", 100).await;
    let outsider = f.app.signed_in("admin@globex.example.com").await;
    assert_eq!(outsider.get(&f.path()).await.status, StatusCode::NOT_FOUND);
    let page = post_revoke(&outsider, &f.path(), "all", true, "").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let (status, v) = globex
        .post(
            &format!("/offers/{}/revoke", f.offer),
            json!({"mode": "ALL_NOT_REDEEMED", "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(f.counts().await, counts(6, 3, 1, 0));
}

#[tokio::test]
async fn the_api_revokes_with_an_explicit_confirmation() {
    let f = fixture().await;
    let path = format!("/offers/{}/revoke", f.offer);
    let bad: [(Value, &str); 6] = [
        (json!({"mode": "UNISSUED", "confirm": false}), "confirm"),
        (json!({"mode": "UNISSUED"}), "confirm"),
        (json!({"mode": "EVERYTHING", "confirm": true}), "mode"),
        (json!({"mode": "CUSTOMERS", "confirm": true}), "customers"),
        (
            json!({"mode": "UNISSUED", "customers": [{"mobile": mobile(2)}], "confirm": true}),
            "customers",
        ),
        (
            json!({"mode": "CUSTOMERS", "customers": [{"mobile": "12"}], "confirm": true}),
            "customers[0].mobile",
        ),
    ];
    for (body, field) in bad {
        let (status, v) = f.api.post(&path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {v}");
        assert_eq!(v["error"]["field"], field, "{body} → {v}");
    }
    assert_eq!(f.counts().await, counts(6, 3, 1, 0));

    let (status, v) = f
        .api
        .post(&path, json!({"mode": "UNISSUED", "confirm": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"seriesId": f.offer, "revoked": 6}));
    let (status, v) = f
        .api
        .post(
            &path,
            json!({"mode": "CUSTOMERS", "customers": [{"mobile": mobile(2)}, {"mobile": mobile(1)}, {"email": "nobody@example.com"}], "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["revoked"], 1);
    let (status, v) = redeem(&f.api, "T2", &f.codes[1], &mobile(2)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["code"], "revoked");
    let (_, v) = f
        .api
        .post(&path, json!({"mode": "ALL_NOT_REDEEMED", "confirm": true}))
        .await;
    assert_eq!(v["revoked"], 2);
    assert_eq!(f.counts().await, counts(0, 0, 1, 9));
    let (audit, _) = f
        .app
        .store
        .list_audit(f.org, Some("offer"), 1, 0)
        .await
        .unwrap();
    assert_eq!(audit[0].summary, "Revoked 2 coupons (all not redeemed)");
    assert_eq!(audit[0].actor, "API key till gateway");

    let (status, v) = f
        .api
        .post(
            "/offers/999999/revoke",
            json!({"mode": "UNISSUED", "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");

    let (_, doc) = f.api.get("/openapi.json").await;
    assert!(doc["paths"]["/api/v2/offers/{id}/revoke"]["post"].is_object());
}

#[tokio::test]
async fn a_common_code_is_revoked_for_everyone_or_not_at_all() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let admin = app.signed_in("admin@acme.example.com").await;
    let offer = api
        .series(json!({"name": "Glow", "discountType": "PERC", "discountValue": 15, "codeType": "COMMON",
            "commonCode": "GLOW15", "validTill": "2099-12-31"}))
        .await;
    let path = format!("/offers/{offer}/revoke");
    assert_eq!(api.issue(offer, &mobile(1)).await, "GLOW15");

    // Its one coupon is held by a customer: not "unissued", and not revocable per customer.
    let (_, v) = api
        .post(&path, json!({"mode": "UNISSUED", "confirm": true}))
        .await;
    assert_eq!(v["revoked"], 0, "{v}");
    let (status, v) = api
        .post(
            &path,
            json!({"mode": "CUSTOMERS", "customers": [{"mobile": mobile(1)}], "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["code"], "common_code_customers");
    let page = admin.get(&path).await;
    assert!(
        radio(&page.body, "customers").contains("disabled"),
        "{}",
        page.body
    );
    let csv = format!("type,value\nMOBILE,{}\n", mobile(1));
    let page = post_revoke(&admin, &path, "customers", true, &csv).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("one common code shared by every customer"),
        "{}",
        page.body
    );

    // A CSM has nothing to use here, so nothing to submit.
    let csm = app
        .signed_in(&app.create_user("Acme", Role::Csm).await)
        .await;
    let page = csm.get(&path).await;
    assert!(radio(&page.body, "customers").contains("disabled"));
    assert!(
        !page.body.contains("type=\"submit\" class=\"danger-solid\""),
        "{}",
        page.body
    );
    assert!(
        admin
            .get(&path)
            .await
            .body
            .contains("type=\"submit\" class=\"danger-solid\"")
    );

    // All not redeemed stops the code for everyone.
    let tab = follow(&admin, &post_revoke(&admin, &path, "all", true, "").await).await;
    assert!(
        tab.contains("1 coupon revoked (all not redeemed)."),
        "{tab}"
    );
    let (status, v) = redeem(&api, "G1", "GLOW15", &mobile(1)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["code"], "revoked");
    // Nor is the revoked code handed out again.
    let (status, v) = api
        .post(
            "/coupon/issue",
            json!({"seriesId": offer, "customer": {"mobile": mobile(2)}}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "no_codes_left");
}

#[tokio::test]
async fn a_long_customer_list_is_revoked_in_chunks_all_or_nothing() {
    let f = fixture().await;
    // 450 more customers hold a coupon each (more than one statement's 400): the 6 unissued
    // codes, then codes made on demand.
    let ctx = offerdesk::app::issue::context(&f.app.store, f.org, f.offer)
        .await
        .unwrap();
    let source = IssueSource {
        label: "test".into(),
        consumer: None,
    };
    let customers: Vec<CustomerRef> = (100..550)
        .map(|n| CustomerRef::parse(IdentifierType::Mobile, &mobile(n)).unwrap())
        .collect();
    for chunk in customers.chunks(300) {
        let outcomes = offerdesk::app::issue::issue_many(
            &f.app.store,
            &ctx,
            chunk,
            &source,
            &Actor::system("test"),
        )
        .await
        .unwrap();
        assert!(outcomes.iter().all(Result::is_ok));
    }
    assert_eq!(f.counts().await, counts(0, 453, 1, 0));

    // A bad last line: nothing of the 450 good ones is revoked.
    let mut csv = String::from("type,value\n");
    for c in &customers {
        csv.push_str(&format!("MOBILE,{}\n", c.value));
    }
    let bad = format!("{csv}EXTERNAL_ID,\n");
    let page = post_revoke(&f.admin, &f.path(), "customers", true, &bad).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Line 452: "), "{}", page.body);
    assert_eq!(f.counts().await, counts(0, 453, 1, 0));

    let tab = follow(
        &f.admin,
        &post_revoke(&f.admin, &f.path(), "customers", true, &csv).await,
    )
    .await;
    assert!(
        tab.contains("450 coupons revoked (of specific customers)."),
        "{tab}"
    );
    assert_eq!(f.counts().await, counts(0, 3, 1, 450));
    let (audit, _) = f
        .app
        .store
        .list_audit(f.org, Some("offer"), 1, 0)
        .await
        .unwrap();
    assert_eq!(
        audit[0].summary,
        "Revoked 450 coupons (of specific customers, 450 customers listed)"
    );
}

/// The console flow in Chromium: the confirmation is required, then "only unissued" revokes
/// and the Coupons tab says how many.
#[tokio::test]
async fn revoking_in_the_browser_asks_for_confirmation_then_reports_the_count() {
    let Some(driver) = chromedriver() else { return };
    let f = fixture().await;
    let web = browser(&driver).await;
    let base = f.app.address.clone();
    sign_in(&web, &base, "admin@acme.example.com").await;

    web.goto(format!("{base}/offers/{}", f.offer))
        .await
        .unwrap();
    web.find(By::Id("revoke-coupons"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "Coupons nobody has been given yet: 6 coupons now.").await;

    // Submitting without ticking the box: an inline error, nothing revoked.
    web.find(By::Id("mode-unissued"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    web.find(By::Css("#revoke-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    web.query(By::Id("confirm-error")).first().await.unwrap();
    wait_for_text(&web, "Tick").await;
    assert_eq!(f.counts().await, counts(6, 3, 1, 0));
    web.screenshot(&screenshot_path("20-revoke")).await.unwrap();

    // The customer file is asked for only with the customers mode.
    let file = web
        .find(By::Css("#revoke-form input[type=file]"))
        .await
        .unwrap();
    assert!(!file.is_displayed().await.unwrap());
    web.find(By::Id("mode-customers"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(file.is_displayed().await.unwrap());
    web.screenshot(&screenshot_path("22-revoke-customers"))
        .await
        .unwrap();

    // Tick it, choose "only unissued", submit.
    web.find(By::Id("confirm"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    web.find(By::Id("mode-unissued"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    web.find(By::Css("#revoke-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "6 coupons revoked (only unissued).").await;
    assert!(
        web.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/coupons")
    );
    web.screenshot(&screenshot_path("21-revoked"))
        .await
        .unwrap();
    assert_eq!(f.counts().await, counts(0, 3, 1, 6));
    web.quit().await.unwrap();
}
