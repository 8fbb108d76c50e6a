//! The outbox console (REM-3) and resending a coupon (ISS-4), on both databases, against a
//! real SMTP server and SMS gateway on loopback: a CSM resends by email and by SMS and the
//! scheduler delivers it; unreachable, used and other orgs' coupons are refused; viewers get
//! 403; the page lists, counts, filters in place (htmx partial) and pages; a failed message is
//! queued again by its Retry button and then delivered; and the page in headless Chromium.

use crate::browser::{browser, chromedriver, screenshot_path, sign_in, wait_for_text};
use crate::helpers::{Browser, TestApp, spawn_app, test_settings};
use crate::integration::Api;
use crate::issuing::offer_with;
use crate::sinks::{HttpSink, SmtpSink};
use chrono::Utc;
use offerdesk::config::Settings;
use offerdesk::domain::ids::{OfferId, OrgId};
use offerdesk::domain::user::Role;
use offerdesk::store::coupons::CouponQuery;
use offerdesk::store::outbox::{MAX_ATTEMPTS, NewMessage, OutboxQuery, OutboxRow};
use reqwest::StatusCode;
use serde_json::json;
use thirtyfour::prelude::*;

const RESEND_TEXT: &str = "Your Diwali code {code} is valid till {expiry}: {discount}";
const EMAIL: &str = "asha@example.com";
const MOBILE: &str = "+919800000001";
const EXTERNAL: &str = "LOYALTY-7";

/// "Acme" with an offer "Diwali" (10% off, ends 2099-12-31, a resend text) and coupons issued
/// over the API to an email, a mobile and an external id; a CSM signed in; an SMTP sink and
/// an SMS gateway sink the settings point at. The offer is delivered by this system, so the
/// issues were delivered already (one email, one SMS, nothing to the external id): the sinks
/// and the outbox start with those two sent `issued` messages.
struct Fixture {
    app: TestApp,
    api: Api,
    org: OrgId,
    offer: OfferId,
    csm: Browser,
    smtp: SmtpSink,
    sms: HttpSink,
    settings: Settings,
    /// (code, coupon id) of the email, mobile and external-id customers.
    email: (String, i64),
    mobile: (String, i64),
    external: (String, i64),
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let org = app.org_id("Acme").await;
    let offer = offer_with(&app, "Diwali", |f| f.resend_text = RESEND_TEXT.into()).await;
    let csm_email = app.create_user("Acme", Role::Csm).await;
    let csm = app.signed_in(&csm_email).await;
    let smtp = SmtpSink::start().await;
    let sms = HttpSink::start().await;
    let mut settings = test_settings(app.db.url());
    settings.smtp_url = Some(smtp.url());
    settings.sms_gateway_url = Some(sms.url());
    let email = issue(&app, &api, org, offer, json!({"email": EMAIL})).await;
    let mobile = issue(&app, &api, org, offer, json!({"mobile": MOBILE})).await;
    let external = issue(&app, &api, org, offer, json!({"externalId": EXTERNAL})).await;
    let report = offerdesk::cli::run_jobs(&app.store, &settings, Utc::now())
        .await
        .unwrap();
    assert_eq!(report.delivered, 2, "the codes delivered when issued");
    assert_eq!(smtp.mails().len(), 1);
    assert_eq!(sms.bodies().len(), 1);
    Fixture {
        app,
        api,
        org,
        offer,
        csm,
        smtp,
        sms,
        settings,
        email,
        mobile,
        external,
    }
}

/// Issues a coupon of `offer` to `customer` over the API: its code and coupon id.
async fn issue(
    app: &TestApp,
    api: &Api,
    org: OrgId,
    offer: OfferId,
    customer: serde_json::Value,
) -> (String, i64) {
    let (status, v) = api
        .post(
            "/coupon/issue",
            json!({"seriesId": offer, "customer": customer}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let code = v["code"].as_str().unwrap().to_string();
    (code.clone(), coupon_id(app, org, offer, &code).await)
}

async fn coupon_id(app: &TestApp, org: OrgId, offer: OfferId, code: &str) -> i64 {
    let rows = app
        .store
        .list_coupons(
            org,
            offer,
            &CouponQuery {
                search: code.into(),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    rows.iter().find(|r| r.code == code).expect("coupon").id
}

fn resend_path(offer: OfferId, coupon: i64) -> String {
    format!("/offers/{offer}/coupons/{coupon}/resend")
}

impl Fixture {
    async fn run_jobs(&self) -> offerdesk::scheduler::RunReport {
        offerdesk::cli::run_jobs(&self.app.store, &self.settings, Utc::now())
            .await
            .unwrap()
    }

    async fn messages(&self, status: &str) -> Vec<OutboxRow> {
        self.app
            .store
            .list_outbox(
                self.org,
                &OutboxQuery {
                    status: status.into(),
                    limit: 500,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    }

    /// The resends among the messages in `status` ("" for all).
    async fn resends(&self, status: &str) -> Vec<OutboxRow> {
        let mut rows = self.messages(status).await;
        rows.retain(|m| m.kind == "resend");
        rows
    }

    async fn audit_summaries(&self) -> Vec<String> {
        let (rows, _) = self
            .app
            .store
            .list_audit(self.org, None, 100, 0)
            .await
            .unwrap();
        rows.into_iter().map(|r| r.summary).collect()
    }

    /// Puts a message straight into the outbox; its id.
    async fn enqueue(&self, kind: &'static str, recipient: &str, offer: Option<OfferId>) -> i64 {
        self.app
            .store
            .enqueue(
                &[NewMessage {
                    org_id: self.org,
                    kind,
                    channel: "email".into(),
                    recipient: recipient.into(),
                    subject: format!("Hello {recipient}"),
                    body_text: format!("A message for {recipient}"),
                    body_html: None,
                    status: "queued",
                    note: None,
                    offer_id: offer,
                    dedupe_key: None,
                }],
                Utc::now(),
            )
            .await
            .unwrap();
        self.messages("")
            .await
            .into_iter()
            .find(|m| m.recipient == recipient)
            .expect("enqueued")
            .id
    }

    /// Fails every due message with `error` until message `id` has used its last attempt, as
    /// the scheduler does while the server stays down (each round hours later than the last).
    async fn fail(&self, id: i64, error: &str) {
        let mut at = Utc::now();
        for _ in 0..=MAX_ATTEMPTS {
            at += chrono::Duration::hours(2);
            for row in self
                .app
                .store
                .claim_outbox(at, Utc::now(), 50, chrono::Duration::minutes(2))
                .await
                .unwrap()
            {
                self.app
                    .store
                    .outbox_delivered(&row, Err(error.to_string()), at)
                    .await
                    .unwrap();
            }
            if self.messages("failed").await.iter().any(|m| m.id == id) {
                return;
            }
        }
        panic!("message {id} never failed");
    }
}

fn rows_in(html: &str) -> usize {
    html.matches("<tr id=\"message-").count()
}

#[tokio::test]
async fn a_csm_resends_a_coupon_by_email_and_the_scheduler_delivers_it() {
    let f = fixture().await;
    let (code, id) = f.email.clone();
    let tab = f.csm.get(&format!("/offers/{}/coupons", f.offer)).await;
    assert!(
        tab.body
            .contains(&format!("action=\"/offers/{}/coupons/{id}/resend", f.offer)),
        "a Resend button on the email customer's row"
    );

    let page = f
        .csm
        .post(
            &format!("{}?q={}&status=issued", resend_path(f.offer, id), EMAIL),
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let back = page.location.unwrap();
    assert_eq!(
        back,
        format!(
            "/offers/{}/coupons?q=asha%40example.com&status=issued",
            f.offer
        ),
        "back to the tab with its query"
    );
    let tab = f.csm.get(&back).await;
    assert!(
        tab.body
            .contains("Queued: the coupon goes out within a minute"),
        "{}",
        tab.body
    );
    let queued = f.messages("queued").await;
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (queued[0].kind.as_str(), queued[0].channel.as_str()),
        ("resend", "email")
    );
    assert_eq!(queued[0].offer_id, Some(f.offer));

    let report = f.run_jobs().await;
    assert_eq!(report.delivered, 1);
    let mails = f.smtp.mails();
    assert_eq!(mails.len(), 2, "the delivery at issue, then the resend");
    assert!(mails[1].to.join(",").contains(EMAIL), "{:?}", mails[1].to);
    let text = mails[1].text();
    assert!(
        text.contains(&format!(
            "Your Diwali code {code} is valid till 31 Dec 2099: 10% off"
        )),
        "{text}"
    );
    assert!(text.contains("Subject: Your coupon for Diwali"), "{text}");
    assert_eq!(f.resends("sent").await.len(), 1);
    assert!(
        f.audit_summaries()
            .await
            .contains(&format!("Resent coupon {code} to EMAIL {EMAIL}")),
        "{:?}",
        f.audit_summaries().await
    );

    // Every resend is a new message.
    let again = f.csm.post(&resend_path(f.offer, id), &[]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    f.run_jobs().await;
    assert_eq!(f.smtp.mails().len(), 3);
    assert_eq!(
        f.sms.bodies().len(),
        1,
        "only the mobile's delivery at issue"
    );
}

#[tokio::test]
async fn a_mobile_customer_gets_the_resend_by_sms() {
    let f = fixture().await;
    let (code, id) = f.mobile.clone();
    let page = f.csm.post(&resend_path(f.offer, id), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    f.run_jobs().await;
    // The delivery at issue said what the resend says (the offer's resend text).
    let sms = json!({
        "to": MOBILE,
        "text": format!("Your Diwali code {code} is valid till 31 Dec 2099: 10% off"),
    });
    assert_eq!(f.sms.bodies(), vec![sms.clone(), sms]);
    assert_eq!(
        f.smtp.mails().len(),
        1,
        "only the email's delivery at issue"
    );
    assert!(
        f.audit_summaries()
            .await
            .contains(&format!("Resent coupon {code} to MOBILE {MOBILE}"))
    );
}

#[tokio::test]
async fn an_offer_without_a_resend_text_does_not_allow_resending() {
    // Seed 001: "The executive can resend the coupon if this option is enabled."
    let f = fixture().await;
    let plain = offer_with(&f.app, "Welcome", |form| form.discount_type = "ABS".into()).await;
    let (code, id) = issue(&f.app, &f.api, f.org, plain, json!({"email": EMAIL})).await;
    let tab = f
        .csm
        .get(&format!("/offers/{plain}/coupons?q={code}"))
        .await
        .body;
    assert!(tab.contains(&code));
    assert!(!tab.contains("resend-form"), "no Resend button: {tab}");
    let page = f.csm.post(&resend_path(plain, id), &[]).await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(
        page.body.contains("does not allow resending"),
        "{}",
        page.body
    );
    f.run_jobs().await;
    // Only the delivery when it was issued (the fixture's email and this one): no resend.
    assert_eq!(f.smtp.mails().len(), 2);
    assert!(
        f.smtp.mails()[1]
            .text()
            .contains(&format!("Your coupon {code} for Welcome"))
    );
    assert!(f.resends("").await.is_empty());
}

#[tokio::test]
async fn coupons_nobody_can_be_reached_with_are_not_resent() {
    let f = fixture().await;
    let tab = f.csm.get(&format!("/offers/{}/coupons", f.offer)).await;
    assert!(
        !tab.body
            .contains(&format!("/coupons/{}/resend", f.external.1)),
        "no Resend button for an external-id customer"
    );

    // A crafted POST for the external-id customer: a clear refusal, nothing queued.
    let page = f.csm.post(&resend_path(f.offer, f.external.1), &[]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"resend-error\""), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("known only by the external id {EXTERNAL}")),
        "{}",
        page.body
    );

    // A redeemed coupon.
    let (code, id) = f.mobile.clone();
    let (status, v) = f
        .api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "T1", "billAmount": 100000, "customer": {"mobile": MOBILE}, "codes": [code]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let tab = f.csm.get(&format!("/offers/{}/coupons", f.offer)).await;
    assert!(!tab.body.contains(&format!("/coupons/{id}/resend")));
    let page = f.csm.post(&resend_path(f.offer, id), &[]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains(&format!("the coupon {code} is redeemed")),
        "{}",
        page.body
    );

    // A revoked one.
    let admin = f.app.signed_in("admin@acme.example.com").await;
    let revoked = admin
        .upload(
            &format!("/offers/{}/revoke", f.offer),
            &[("mode", "customers"), ("confirm", "yes")],
            "x.csv",
            &format!("type,value\nEMAIL,{EMAIL}\n"),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    let page = f.csm.post(&resend_path(f.offer, f.email.1), &[]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("is revoked"), "{}", page.body);

    assert!(f.resends("").await.is_empty(), "nothing was queued");
    assert!(f.messages("queued").await.is_empty(), "nothing was queued");
    assert!(
        !f.audit_summaries()
            .await
            .iter()
            .any(|s| s.starts_with("Resent")),
    );
}

#[tokio::test]
async fn another_orgs_coupons_are_not_found() {
    let f = fixture().await;
    let other_api = Api::of(&f.app, "Other", 1000).await;
    let other_org = f.app.org_id("Other").await;
    let other_offer = crate::offers::offer_in(&f.app, "Other", "Theirs", crate::offers::FAR).await;
    let (_, theirs) = issue(
        &f.app,
        &other_api,
        other_org,
        other_offer,
        json!({"email": EMAIL}),
    )
    .await;
    for path in [
        resend_path(other_offer, theirs),
        resend_path(f.offer, theirs),
        resend_path(other_offer, f.email.1),
    ] {
        let page = f.csm.post(&path, &[]).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert!(f.resends("").await.is_empty());

    // Nor are its messages: the other org's admin sees only the delivery of its own coupon
    // (to the same email address), none of Acme's.
    f.csm.post(&resend_path(f.offer, f.email.1), &[]).await;
    let other_admin = f.app.signed_in("admin@other.example.com").await;
    let page = other_admin.get("/admin/outbox").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(rows_in(&page.body), 1, "{}", page.body);
    assert!(
        page.body.contains("Your coupon for Theirs"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Diwali"));
    let id = f.resends("").await[0].id;
    let retry = other_admin
        .post(&format!("/admin/outbox/{id}/retry"), &[])
        .await;
    assert_eq!(retry.status, StatusCode::SEE_OTHER);
    let audit = f
        .app
        .store
        .list_audit(other_org, None, 10, 0)
        .await
        .unwrap()
        .0;
    assert!(!audit.iter().any(|a| a.action == "outbox.retried"));
}

#[tokio::test]
async fn viewers_may_neither_resend_nor_read_the_outbox() {
    let f = fixture().await;
    let viewer_email = f.app.create_user("Acme", Role::Viewer).await;
    let viewer = f.app.signed_in(&viewer_email).await;
    let page = viewer.post(&resend_path(f.offer, f.email.1), &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(
        viewer.get("/admin/outbox").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer.get_htmx("/admin/outbox?status=sent").await.status,
        StatusCode::FORBIDDEN
    );
    let id = f.enqueue("resend", "someone@example.com", None).await;
    assert_eq!(
        viewer
            .post(&format!("/admin/outbox/{id}/retry"), &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert!(f.messages("queued").await.len() == 1);
    let tab = viewer
        .get(&format!("/offers/{}/coupons", f.offer))
        .await
        .body;
    assert!(!tab.contains("/resend"), "no Resend buttons for viewers");
    let nav = viewer.get("/").await.body;
    assert!(!nav.contains("href=\"/admin/outbox\""));
    let info = viewer
        .get(&format!("/offers/{}?tab=information", f.offer))
        .await
        .body;
    assert!(!info.contains("/admin/outbox?offer="));

    for role in [Role::Csm, Role::Marketing, Role::Admin] {
        let email = if role == Role::Admin {
            "admin@acme.example.com".to_string()
        } else if role == Role::Csm {
            "csm@acme.example.com".to_string()
        } else {
            f.app.create_user("Acme", role).await
        };
        let b = f.app.signed_in(&email).await;
        assert_eq!(b.get("/admin/outbox").await.status, StatusCode::OK);
        assert!(b.get("/").await.body.contains("href=\"/admin/outbox\""));
        let info = b
            .get(&format!("/offers/{}?tab=information", f.offer))
            .await
            .body;
        assert!(
            info.contains(&format!("href=\"/admin/outbox?offer={}\"", f.offer)),
            "{}: the Information tab links the offer's messages",
            role.as_str()
        );
    }
}

#[tokio::test]
async fn the_outbox_page_lists_counts_filters_in_place_and_pages() {
    let f = fixture().await;
    let (code, id) = f.email.clone();
    f.csm.post(&resend_path(f.offer, id), &[]).await;
    f.run_jobs().await;
    let other_offer = offer_with(&f.app, "Other offer", |_| {}).await;
    f.enqueue("poc_reminder", "poc@brand.example", Some(other_offer))
        .await;

    let page = f.csm.get("/admin/outbox").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<h1>Outbox</h1>"));
    // The resend's flash was never shown: look at the table only.
    let body = &page.body[page.body.find("<div id=\"outbox-table\">").unwrap()..];
    // The two deliveries at issue, the resend, the reminder.
    assert_eq!(rows_in(body), 4);
    assert!(
        body.find("poc@brand.example").unwrap() < body.find(EMAIL).unwrap(),
        "newest first"
    );
    assert!(body.contains("<span class=\"badge status-sent\">sent</span>"));
    assert!(body.contains("Resend") && body.contains("Offer expiry reminder"));
    assert!(body.contains("Your coupon for Diwali"));
    assert!(
        body.contains(&format!("Your Diwali code {code} is valid till")),
        "the body can be opened"
    );
    assert!(body.contains(&format!("href=\"/offers/{}\"", f.offer)));
    assert!(body.contains("Sent "));
    for (status, n) in [("queued", 1), ("sent", 3), ("failed", 0), ("skipped", 0)] {
        let start = body.find(&format!("id=\"count-{status}\"")).unwrap();
        let tile = &body[start..start + 200];
        assert!(
            tile.contains(&format!("<strong>{n}</strong>")),
            "{status}: {tile}"
        );
    }

    // htmx asks for the table only.
    let partial = f.csm.get_htmx("/admin/outbox?status=sent").await;
    assert_eq!(partial.status, StatusCode::OK);
    assert!(
        partial
            .body
            .trim_start()
            .starts_with("<div id=\"outbox-table\">")
    );
    assert!(!partial.body.contains("<html"));
    assert_eq!(rows_in(&partial.body), 3);
    assert!(partial.body.contains(EMAIL));
    let partial = f.csm.get_htmx("/admin/outbox?status=failed").await;
    assert_eq!(rows_in(&partial.body), 0);
    assert!(partial.body.contains("No messages match."));
    let kind = f.csm.get_htmx("/admin/outbox?kind=poc_reminder").await;
    assert_eq!(rows_in(&kind.body), 1);
    assert!(kind.body.contains("poc@brand.example"));

    // By offer (the Information tab's link), counts included.
    let by_offer = f.csm.get(&format!("/admin/outbox?offer={}", f.offer)).await;
    assert_eq!(rows_in(&by_offer.body), 3);
    assert!(by_offer.body.contains(EMAIL));
    assert!(by_offer.body.contains("Messages of the offer"));
    let start = by_offer.body.find("id=\"count-queued\"").unwrap();
    assert!(by_offer.body[start..start + 200].contains("<strong>0</strong>"));
    assert!(
        by_offer.body.contains(&format!(
            "<option value=\"{}\" selected>Diwali</option>",
            f.offer
        )),
        "the offer picker shows the filter"
    );

    // Pages of 50 go back by id.
    for n in 0..55 {
        f.enqueue("coupon_reminder", &format!("c{n}@example.com"), None)
            .await;
    }
    let first = f.csm.get("/admin/outbox").await.body;
    assert_eq!(rows_in(&first), 50);
    let marker = "id=\"older\"";
    assert!(first.contains(marker));
    let link = &first[..first.find(marker).unwrap()];
    let href = link[link.rfind("<a href=\"").unwrap() + 9..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(
        href.starts_with("/admin/outbox?") && href.contains("&before="),
        "{href}"
    );
    let older = f.csm.get_htmx(&href).await.body;
    assert_eq!(rows_in(&older), 59 - 50);
    assert!(
        older.contains(EMAIL),
        "the oldest message is on the last page"
    );
    assert!(!older.contains(marker));
    assert!(older.contains("← Newest"));
}

#[tokio::test]
async fn a_failed_message_is_queued_again_by_its_retry_button_and_then_delivered() {
    let mut f = fixture().await;
    // SMTP down: the message waits with the error.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let working = f.settings.smtp_url.clone();
    f.settings.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    f.csm.post(&resend_path(f.offer, f.email.1), &[]).await;
    let report = f.run_jobs().await;
    assert_eq!(report.failed_attempts, 1);
    let waiting = f.messages("queued").await;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].attempts, 1);
    let page = f.csm.get("/admin/outbox").await.body;
    assert!(page.contains("SMTP"), "the error is shown: {page}");
    assert!(page.contains("Next attempt: "));

    // Out of attempts: failed.
    let id = waiting[0].id;
    f.fail(id, "SMTP: connection refused").await;
    assert_eq!(f.messages("failed").await[0].attempts, MAX_ATTEMPTS);
    let page = f.csm.get("/admin/outbox?status=failed").await.body;
    assert_eq!(rows_in(&page), 1);
    assert!(page.contains("<span class=\"badge status-failed\">failed</span>"));
    assert!(page.contains("SMTP: connection refused"));
    assert!(page.contains(&format!("action=\"/admin/outbox/{id}/retry\"")));

    // A viewer cannot; the CSM's Retry queues it now with attempts from zero.
    let viewer_email = f.app.create_user("Acme", Role::Viewer).await;
    let viewer = f.app.signed_in(&viewer_email).await;
    let refused = viewer.post(&format!("/admin/outbox/{id}/retry"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(f.messages("failed").await.len(), 1);
    let no_token = f
        .csm
        .post_raw(&format!("/admin/outbox/{id}/retry"), &[])
        .await;
    assert_eq!(
        no_token.status,
        StatusCode::FORBIDDEN,
        "CSRF token required"
    );

    let retried = f
        .csm
        .post(
            &format!("/admin/outbox/{id}/retry"),
            &[("status", "failed"), ("kind", ""), ("offer", "")],
        )
        .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER);
    let back = retried.location.unwrap();
    assert_eq!(back, "/admin/outbox?status=failed&kind=&offer=");
    let page = f.csm.get(&back).await.body;
    assert!(
        page.contains(&format!("Message #{id} is queued again")),
        "{page}"
    );
    let queued = f.messages("queued").await;
    assert_eq!(queued.len(), 1);
    assert_eq!((queued[0].id, queued[0].attempts), (id, 0));
    assert!(
        f.audit_summaries()
            .await
            .contains(&format!("Queued message #{id} again"))
    );

    // SMTP is back: delivered.
    f.settings.smtp_url = working;
    let report = f.run_jobs().await;
    assert_eq!(report.delivered, 1);
    assert_eq!(f.smtp.mails().len(), 2, "the delivery at issue, then this");
    assert_eq!(f.resends("sent").await.len(), 1);

    // A sent message is not sent again by a stale Retry.
    let stale = f.csm.post(&format!("/admin/outbox/{id}/retry"), &[]).await;
    assert_eq!(stale.status, StatusCode::SEE_OTHER);
    let page = f.csm.get("/admin/outbox").await.body;
    assert!(page.contains("nothing to retry"), "{page}");
    assert_eq!(f.resends("sent").await.len(), 1);
    assert_eq!(f.smtp.mails().len(), 2);
    assert!(!page.contains(&format!("action=\"/admin/outbox/{id}/retry\"")));
}

/// The outbox in Chromium: a resend from the Coupons tab, then the page filtered in place.
#[tokio::test]
async fn the_outbox_in_a_browser() {
    let Some(driver) = chromedriver() else { return };
    let f = fixture().await;
    // Some history to look at: a sent resend, a skipped reminder, a failing one.
    f.csm.post(&resend_path(f.offer, f.mobile.1), &[]).await;
    f.run_jobs().await;
    f.app
        .store
        .enqueue(
            &[NewMessage {
                org_id: f.org,
                kind: "poc_reminder",
                channel: "email".into(),
                recipient: "Ravi <ravi@brand.example>".into(),
                subject: "Offer Diwali expires on 31 Dec 2099".into(),
                body_text: "Hello Ravi,\n\nThe offer Diwali expires on 31 Dec 2099.".into(),
                body_html: None,
                status: "skipped",
                note: Some(
                    "not sent: due at 28 Dec 2099 10:00 IST and offerdesk was not running until more than a day later"
                        .into(),
                ),
                offer_id: Some(f.offer),
                dedupe_key: None,
            }],
            Utc::now(),
        )
        .await
        .unwrap();
    let failing = f
        .enqueue("coupon_reminder", "meera@example.com", Some(f.offer))
        .await;
    f.fail(failing, "SMTP: Connection refused (os error 111)")
        .await;

    let web = browser(&driver).await;
    let base = f.app.address.clone();
    sign_in(&web, &base, "csm@acme.example.com").await;

    // Resend from the Coupons tab.
    web.goto(format!("{base}/offers/{}/coupons", f.offer))
        .await
        .unwrap();
    web.find(By::Css(format!(
        "form[action^=\"/offers/{}/coupons/{}/resend\"] button",
        f.offer, f.email.1
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for_text(&web, "Queued: the coupon goes out within a minute").await;
    web.find(By::Id("coupons"))
        .await
        .unwrap()
        .scroll_into_view()
        .await
        .unwrap();
    web.screenshot(&screenshot_path("42-coupons-resend"))
        .await
        .unwrap();

    web.find(By::LinkText("Outbox"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "Every email and SMS").await;
    // Open the resent message's text.
    web.find(By::Css("#outbox-messages tbody tr:first-child summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(
        &web,
        &format!("Your Diwali code {} is valid till", f.email.0),
    )
    .await;
    web.screenshot(&screenshot_path("40-outbox")).await.unwrap();

    // Filter by status: the table changes in place and the address keeps it.
    let select = web
        .find(By::Css("#outbox-filters select[name=status]"))
        .await
        .unwrap();
    thirtyfour::components::SelectElement::new(&select)
        .await
        .unwrap()
        .select_by_value("failed")
        .await
        .unwrap();
    web.query(By::XPath(
        "//table[@id='outbox-messages' and count(.//tbody/tr)=1]",
    ))
    .wait(
        std::time::Duration::from_secs(10),
        std::time::Duration::from_millis(50),
    )
    .first()
    .await
    .unwrap();
    assert!(
        web.current_url()
            .await
            .unwrap()
            .as_str()
            .contains("status=failed")
    );
    wait_for_text(&web, "meera@example.com").await;
    web.screenshot(&screenshot_path("41-outbox-failed"))
        .await
        .unwrap();

    // Retry it.
    web.find(By::Css("#outbox-messages button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, &format!("Message #{failing} is queued again")).await;
    assert_eq!(
        f.messages("queued")
            .await
            .iter()
            .filter(|m| m.id == failing)
            .count(),
        1
    );
    web.quit().await.unwrap();
}
