//! Revoking one customer's coupons from the console by typing their mobile, email or external
//! id instead of building a customer file (REV-1): only that customer's coupons are revoked,
//! with the same outcome and audit entry as a one-line file; a bad value, or a file and a value
//! together, come back inline with what was typed; roles and the confirmation as for a file.

use crate::browser::{browser, chromedriver, screenshot_path, sign_in, wait_for_text};
use crate::helpers::{Browser, Page, TestApp, spawn_app};
use crate::integration::Api;
use offerdesk::domain::ids::OfferId;
use offerdesk::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use thirtyfour::prelude::*;

const ASHA: &str = "asha@example.com";

/// A unique-code offer of "Acme" with one coupon each issued over the API to two mobiles, an
/// email and an external id.
struct Fixture {
    app: TestApp,
    api: Api,
    offer: OfferId,
    /// The codes of `+919800000001`, `+919800000002`, asha@example.com and external id C-17.
    m1: String,
    m2: String,
    asha: String,
    c17: String,
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = api
        .series(
            json!({"name": "Spring", "discountType": "PERC", "discountValue": 10,
            "codeType": "UNIQUE", "validTill": "2099-12-31"}),
        )
        .await;
    let m1 = api.issue(offer, "+919800000001").await;
    let m2 = api.issue(offer, "+919800000002").await;
    let asha = issue_to(&api, offer, json!({"email": ASHA})).await;
    let c17 = issue_to(&api, offer, json!({"externalId": "C-17"})).await;
    Fixture {
        app,
        api,
        offer,
        m1,
        m2,
        asha,
        c17,
    }
}

async fn issue_to(api: &Api, offer: OfferId, customer: Value) -> String {
    let (status, v) = api
        .post(
            "/coupon/issue",
            json!({"seriesId": offer, "customer": customer}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["code"].as_str().unwrap().to_string()
}

impl Fixture {
    fn path(&self) -> String {
        format!("/offers/{}/revoke", self.offer)
    }

    async fn user(&self, role: Role) -> (String, Browser) {
        let email = self.app.create_user("Acme", role).await;
        let b = self.app.signed_in(&email).await;
        (email, b)
    }

    async fn status(&self, code: &str) -> String {
        let (_, v) = self.api.get(&format!("/coupon?codes={code}")).await;
        v["coupons"][0]["status"].as_str().unwrap().to_string()
    }

    /// The statuses of M1, M2, Asha's and C-17's coupons.
    async fn statuses(&self) -> [String; 4] {
        [
            self.status(&self.m1).await,
            self.status(&self.m2).await,
            self.status(&self.asha).await,
            self.status(&self.c17).await,
        ]
    }

    /// The `coupons.revoked` audit entries, newest first: (actor, summary, details).
    async fn revokes(&self) -> Vec<(String, String, String)> {
        let org = self.app.org_id("Acme").await;
        let (audit, _) = self
            .app
            .store
            .list_audit(org, Some("offer"), 50, 0)
            .await
            .unwrap();
        audit
            .into_iter()
            .filter(|a| a.action == "coupons.revoked")
            .map(|a| (a.actor, a.summary, a.details.unwrap_or_default()))
            .collect()
    }
}

const ISSUED: [&str; 4] = ["issued", "issued", "issued", "issued"];

/// Posts the customers mode with one typed customer (and a file when `csv` is not empty).
async fn post_one(
    b: &Browser,
    path: &str,
    customer: &str,
    customer_type: &str,
    confirm: bool,
    csv: &str,
) -> Page {
    let mut fields = vec![
        ("mode", "customers"),
        ("customer", customer),
        ("customer_type", customer_type),
    ];
    if confirm {
        fields.push(("confirm", "yes"));
    }
    let file_name = if csv.is_empty() { "" } else { "customers.csv" };
    b.upload(path, &fields, file_name, csv).await
}

/// The `<input …>` of the customers mode's radio button.
fn customers_radio(body: &str) -> &str {
    let at = body
        .find("id=\"mode-customers\"")
        .unwrap_or_else(|| panic!("no customers radio in {body}"));
    let start = body[..at].rfind("<input").unwrap();
    &body[start..at + body[at..].find('>').unwrap()]
}

/// Follows a 303 and answers the page it leads to (which shows the flash).
async fn follow(b: &Browser, page: &Page) -> String {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    b.get(page.location.as_deref().unwrap()).await.body
}

#[tokio::test]
async fn a_csm_revokes_one_customers_coupons_by_typing_their_mobile() {
    let f = fixture().await;
    let (csm, b) = f.user(Role::Csm).await;

    // The field is on the form, next to the file.
    let form = b.get(&f.path()).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("Or one customer: mobile or email"),
        "{}",
        form.body
    );
    assert!(form.body.contains("name=\"customer\""));

    // Typed with spaces and the country code: normalised to the customer's +919800000002.
    let page = post_one(
        &b,
        &f.path(),
        " +91 98000 00002 ",
        "MOBILE_OR_EMAIL",
        true,
        "",
    )
    .await;
    assert_eq!(
        page.location.as_deref(),
        Some(format!("/offers/{}/coupons", f.offer).as_str())
    );
    let tab = follow(&b, &page).await;
    assert!(
        tab.contains("1 coupon revoked (of specific customers)."),
        "{tab}"
    );
    assert_eq!(
        f.statuses().await,
        ["issued", "revoked", "issued", "issued"],
        "only that customer's coupon"
    );

    // The same audit entry as a one-line customer file, naming the customer.
    let revokes = f.revokes().await;
    assert_eq!(revokes.len(), 1, "{revokes:?}");
    let (actor, summary, details) = &revokes[0];
    assert_eq!(actor, &csm);
    assert_eq!(
        summary,
        "Revoked 1 coupon (of specific customers, 1 customer listed)"
    );
    assert!(details.contains("MOBILE +919800000002"), "{details}");

    // Dashes are fine too; a customer with nothing left to revoke is said honestly.
    let tab = follow(
        &b,
        &post_one(&b, &f.path(), "+91-98000-00002", "", true, "").await,
    )
    .await;
    assert!(
        tab.contains(
            "No coupons to revoke: none of the 1 listed customer has an issued, not redeemed coupon"
        ),
        "{tab}"
    );
    assert_eq!(
        f.statuses().await,
        ["issued", "revoked", "issued", "issued"]
    );
}

#[tokio::test]
async fn one_customer_by_email_or_external_id() {
    let f = fixture().await;
    let (marketing, b) = f.user(Role::Marketing).await;

    // An email in any case, as the customer was issued it.
    let tab = follow(
        &b,
        &post_one(
            &b,
            &f.path(),
            "  Asha@Example.COM ",
            "MOBILE_OR_EMAIL",
            true,
            "",
        )
        .await,
    )
    .await;
    assert!(
        tab.contains("1 coupon revoked (of specific customers)."),
        "{tab}"
    );
    assert_eq!(
        f.statuses().await,
        ["issued", "issued", "revoked", "issued"]
    );
    let revokes = f.revokes().await;
    assert_eq!(revokes[0].0, marketing);
    assert!(
        revokes[0].2.contains("EMAIL asha@example.com"),
        "{revokes:?}"
    );

    // An external id, with the identifier type chosen.
    let tab = follow(
        &b,
        &post_one(&b, &f.path(), "C-17", "EXTERNAL_ID", true, "").await,
    )
    .await;
    assert!(tab.contains("1 coupon revoked"), "{tab}");
    assert_eq!(
        f.statuses().await,
        ["issued", "issued", "revoked", "revoked"]
    );
    assert!(f.revokes().await[0].2.contains("EXTERNAL_ID C-17"));
}

#[tokio::test]
async fn a_value_that_is_neither_a_mobile_nor_an_email_comes_back_inline() {
    let f = fixture().await;
    let (_, b) = f.user(Role::Csm).await;

    let page = post_one(
        &b,
        &f.path(),
        "asha at example",
        "MOBILE_OR_EMAIL",
        true,
        "",
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains(
            "`asha at example` is neither a mobile number (8 to 15 digits, optionally starting with +) nor an email address; nothing was revoked."
        ),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"customer-error\""));
    assert!(page.body.contains("aria-invalid=\"true\""));
    assert!(
        page.body.contains("value=\"asha at example\""),
        "the typed value is kept"
    );
    assert!(
        customers_radio(&page.body).contains("checked"),
        "the mode is kept"
    );
    // Too few digits, and a broken email: the same.
    for bad in ["98000", "asha@"] {
        let page = post_one(&b, &f.path(), bad, "MOBILE_OR_EMAIL", true, "").await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(page.body.contains("id=\"customer-error\""), "{bad}");
        assert!(page.body.contains(&format!("value=\"{bad}\"")), "{bad}");
    }
    // An external id keeps its chosen type when the form comes back for something else.
    let page = post_one(&b, &f.path(), "C-17", "EXTERNAL_ID", false, "").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("<option value=\"EXTERNAL_ID\" selected>"),
        "{}",
        page.body
    );
    assert_eq!(f.statuses().await, ISSUED, "nothing revoked");
    assert!(f.revokes().await.is_empty());
}

#[tokio::test]
async fn a_file_and_a_typed_customer_together_are_refused() {
    let f = fixture().await;
    let (_, b) = f.user(Role::Csm).await;
    let csv = "type,value\nMOBILE,+919800000001\n";
    let page = post_one(&b, &f.path(), "+919800000002", "MOBILE_OR_EMAIL", true, csv).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("Choose a CSV file or type one customer, not both; nothing was revoked."),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"+919800000002\""));
    assert_eq!(f.statuses().await, ISSUED, "neither revoked");

    // Neither is a problem too.
    let page = post_one(&b, &f.path(), "   ", "MOBILE_OR_EMAIL", true, "").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("Nothing to revoke yet: choose a CSV file to upload, or type one customer."),
        "{}",
        page.body
    );
    assert_eq!(f.statuses().await, ISSUED);
    assert!(f.revokes().await.is_empty());
}

#[tokio::test]
async fn viewers_may_not_and_nothing_is_revoked_without_the_confirmation() {
    let f = fixture().await;
    let (_, viewer) = f.user(Role::Viewer).await;
    assert_eq!(viewer.get(&f.path()).await.status, StatusCode::FORBIDDEN);
    let page = post_one(&viewer, &f.path(), "+919800000002", "", true, "").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(f.statuses().await, ISSUED);

    let (_, csm) = f.user(Role::Csm).await;
    let page = post_one(&csm, &f.path(), "+919800000002", "", false, "").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"confirm-error\""), "{}", page.body);
    assert!(
        page.body.contains("value=\"+919800000002\""),
        "the typed value is kept for the second try"
    );
    assert!(!page.body.contains("id=\"customer-error\""));
    assert_eq!(f.statuses().await, ISSUED, "nothing revoked");
    assert!(f.revokes().await.is_empty());

    // Without the session's CSRF token the form is refused outright.
    let r = csm
        .client
        .post(format!("{}{}", f.app.address, f.path()))
        .multipart(
            reqwest::multipart::Form::new()
                .text("csrf_token", "forged")
                .text("mode", "customers")
                .text("customer", "+919800000002")
                .text("confirm", "yes"),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(f.statuses().await, ISSUED);
}

/// In Chromium at 1280 px, as a CSM: a bad value comes back next to the field, then a mobile
/// revokes that customer's coupon. Screenshots: target/screenshots/23-revoke-one*.png.
#[tokio::test]
async fn a_csm_types_one_customer_in_the_browser() {
    let Some(driver) = chromedriver() else { return };
    let f = fixture().await;
    let csm = f.app.create_user("Acme", Role::Csm).await;
    let web = browser(&driver).await;
    let base = f.app.address.clone();
    sign_in(&web, &base, &csm).await;

    web.goto(format!("{base}{}", f.path())).await.unwrap();
    wait_for_text(&web, "Or one customer: mobile or email").await;
    let field = web.find(By::Id("one-customer")).await.unwrap();
    assert!(
        field.is_displayed().await.unwrap(),
        "the CSM's only mode is chosen"
    );
    field.send_keys("asha").await.unwrap();
    web.find(By::Id("confirm"))
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
    wait_for_text(&web, "is neither a mobile number").await;
    let field = web.find(By::Id("one-customer")).await.unwrap();
    assert_eq!(field.value().await.unwrap().as_deref(), Some("asha"));
    web.screenshot(&screenshot_path("23-revoke-one-error"))
        .await
        .unwrap();

    field.clear().await.unwrap();
    field.send_keys("+91 98000 00002").await.unwrap();
    web.find(By::Id("confirm"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    web.screenshot(&screenshot_path("23-revoke-one"))
        .await
        .unwrap();
    web.find(By::Css("#revoke-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "1 coupon revoked (of specific customers).").await;
    assert_eq!(
        f.statuses().await,
        ["issued", "revoked", "issued", "issued"]
    );
    web.quit().await.unwrap();
}
