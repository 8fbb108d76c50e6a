//! Codes delivered when issued (issue #18, item 6), on both databases, against a real SMTP
//! server and SMS gateway on loopback: an offer delivered by this system queues one `issued`
//! message per issued coupon in the issue's transaction (API single and multiple issue, the
//! console's single issue, bulk issue jobs, uploaded codes with their customers) and the
//! scheduler delivers it with the outbox's retries; by the customer's preferred channel, else
//! their identifier, else the mobile then the email set for them; nobody reachable, nothing
//! queued. Third-party offers send nothing. Contacts come from `PUT /api/v2/customers/contacts`
//! and the console's CSV upload (all or nothing, admins only).

use crate::helpers::{Browser, TestApp, spawn_app_without_worker, test_settings};
use crate::integration::Api;
use crate::issuing::offer_with;
use crate::sinks::{HttpSink, SmtpSink};
use chrono::{Duration, Utc};
use offerdesk::config::Settings;
use offerdesk::domain::ids::{OfferId, OrgId};
use offerdesk::domain::issue::CustomerRef;
use offerdesk::domain::masters::IdentifierType;
use offerdesk::domain::offer::Channel;
use offerdesk::domain::user::Role;
use offerdesk::store::outbox::{OutboxQuery, OutboxRow};
use reqwest::StatusCode;
use serde_json::{Value, json};

const MOBILE: &str = "+919800000001";
const EMAIL: &str = "asha@example.com";
const TEXT: &str = "Hi {first_name}, your Diwali code {code} is valid till {expiry}: {discount}";

/// "Acme" with an API key, its admin signed in, an SMTP sink and an SMS gateway sink the
/// settings point at; jobs run only when the test says.
struct Fixture {
    app: TestApp,
    api: Api,
    org: OrgId,
    admin: Browser,
    smtp: SmtpSink,
    sms: HttpSink,
    settings: Settings,
}

async fn fixture() -> Fixture {
    let app = spawn_app_without_worker().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let org = app.org_id("Acme").await;
    let admin = app.signed_in("admin@acme.example.com").await;
    let smtp = SmtpSink::start().await;
    let sms = HttpSink::start().await;
    let mut settings = test_settings(app.db.url());
    settings.smtp_url = Some(smtp.url());
    settings.sms_gateway_url = Some(sms.url());
    Fixture {
        app,
        api,
        org,
        admin,
        smtp,
        sms,
        settings,
    }
}

impl Fixture {
    /// Runs the queued jobs and one scheduler round (which delivers the outbox).
    async fn deliver(&self) -> offerdesk::scheduler::RunReport {
        offerdesk::cli::run_jobs(&self.app.store, &self.settings, Utc::now())
            .await
            .unwrap()
    }

    /// The org's `issued` messages, oldest first.
    async fn issued(&self) -> Vec<OutboxRow> {
        let mut rows = self
            .app
            .store
            .list_outbox(
                self.org,
                &OutboxQuery {
                    kind: "issued".into(),
                    limit: 500,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        rows.reverse();
        rows
    }

    /// Every message of the org, whatever its kind.
    async fn all_messages(&self) -> Vec<OutboxRow> {
        self.app
            .store
            .list_outbox(
                self.org,
                &OutboxQuery {
                    limit: 500,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    }

    /// Issues a coupon of `offer` over the API; its code.
    async fn issue(&self, offer: OfferId, customer: Value) -> String {
        let (status, v) = self
            .api
            .post(
                "/coupon/issue",
                json!({"seriesId": offer, "customer": customer}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v["code"].as_str().unwrap().to_string()
    }

    async fn contacts(&self, rows: Value) -> (StatusCode, Value) {
        self.api
            .put("/customers/contacts", json!({ "contacts": rows }))
            .await
    }

    /// The SMS texts the gateway received for `to`.
    fn sms_to(&self, to: &str) -> Vec<String> {
        self.sms
            .bodies()
            .into_iter()
            .filter(|b| b["to"] == to)
            .map(|b| b["text"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// The emails the SMTP server received for `to`, decoded.
    fn mail_to(&self, to: &str) -> Vec<String> {
        self.smtp
            .mails()
            .into_iter()
            .filter(|m| m.to.join(",").contains(to))
            .map(|m| m.text())
            .collect()
    }

    async fn reach(
        &self,
        kind: IdentifierType,
        value: &str,
    ) -> Option<offerdesk::domain::contacts::Reach> {
        self.app
            .store
            .customer_reach_of(self.org, &CustomerRef::parse(kind, value).unwrap())
            .await
            .unwrap()
            .map(|c| c.reach)
    }
}

#[tokio::test]
async fn a_code_issued_to_a_mobile_is_sent_by_sms_once() {
    let f = fixture().await;
    let offer = offer_with(&f.app, "Diwali", |o| o.resend_text = TEXT.into()).await;
    let (status, v) = f
        .api
        .post(
            "/coupon/issue",
            json!({"seriesId": offer, "customer": {"mobile": MOBILE, "firstName": "Asha"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let code = v["code"].as_str().unwrap().to_string();

    // Queued with the issue, before any scheduler ran.
    let queued = f.issued().await;
    assert_eq!(queued.len(), 1);
    let m = &queued[0];
    assert_eq!(
        (m.channel.as_str(), m.recipient.as_str(), m.status.as_str()),
        ("sms", MOBILE, "queued")
    );
    assert_eq!(m.offer_id, Some(offer));
    assert_eq!(m.subject, "Your coupon for Diwali");

    let report = f.deliver().await;
    assert_eq!(report.delivered, 1);
    let texts = f.sms_to(MOBILE);
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains(&code), "{}", texts[0]);
    assert!(
        texts[0].contains("is valid till 31 Dec 2099: 10% off"),
        "the offer's text with its placeholders: {}",
        texts[0]
    );
    assert!(f.smtp.mails().is_empty());
    assert_eq!(f.issued().await[0].status.as_str(), "sent");

    // Another round sends nothing more.
    assert_eq!(f.deliver().await.delivered, 0);
    assert_eq!(f.sms.bodies().len(), 1);
}

#[tokio::test]
async fn a_code_issued_to_an_email_from_the_console_is_sent_by_email() {
    let f = fixture().await;
    let offer = offer_with(&f.app, "Welcome", |_| {}).await;
    let page = f
        .admin
        .post(
            &format!("/offers/{offer}/coupons/issue"),
            &[("kind", "EMAIL"), ("value", "Asha@Example.com")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let code = f
        .app
        .store
        .list_coupons(
            f.org,
            offer,
            &offerdesk::store::coupons::CouponQuery {
                search: EMAIL.into(),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap()[0]
        .code
        .clone();
    f.deliver().await;
    let mails = f.mail_to(EMAIL);
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("Subject: Your coupon for Welcome"),
        "{}",
        mails[0]
    );
    assert!(
        mails[0].contains(&format!(
            "Your coupon {code} for Welcome is valid till 31 Dec 2099: 10% off."
        )),
        "without a resend text, the default sentence: {}",
        mails[0]
    );
    assert!(f.sms.bodies().is_empty());
}

#[tokio::test]
async fn the_preferred_channel_set_over_the_api_wins_for_every_coupon_issued() {
    let f = fixture().await;
    let offer = offer_with(&f.app, "Diwali", |o| o.resend_text = TEXT.into()).await;
    let (status, v) = f
        .contacts(json!([{"customer": {"mobile": MOBILE}, "email": "Asha@Example.com", "preferredChannel": "email"}]))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["written"], 1);

    let (status, v) = f
        .api
        .post(
            "/coupon/issue/multiple",
            json!({"seriesId": offer, "customer": {"mobile": MOBILE}, "count": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let codes: Vec<String> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().expect("issued").to_string())
        .collect();
    assert_eq!(codes.len(), 3);
    let queued = f.issued().await;
    assert_eq!(queued.len(), 3, "one message per coupon");
    assert!(
        queued
            .iter()
            .all(|m| m.channel == "email" && m.recipient == EMAIL)
    );

    f.deliver().await;
    let mails = f.mail_to(EMAIL);
    assert_eq!(mails.len(), 3);
    for code in &codes {
        assert_eq!(
            mails.iter().filter(|m| m.contains(code.as_str())).count(),
            1,
            "{code} sent once"
        );
    }
    assert!(f.sms.bodies().is_empty(), "the preference beat the mobile");

    // Preferring SMS again (the email kept) moves the next one back to SMS.
    let (status, v) = f
        .contacts(
            json!([{"customer": {"mobile": MOBILE}, "email": EMAIL, "preferredChannel": "sms"}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let code = f.issue(offer, json!({"mobile": MOBILE})).await;
    f.deliver().await;
    assert_eq!(f.mail_to(EMAIL).len(), 3);
    let texts = f.sms_to(MOBILE);
    assert_eq!(texts.len(), 1);
    assert!(texts[0].contains(&code));
}

#[tokio::test]
async fn a_common_code_is_sent_once_per_issue_even_to_the_same_customer() {
    let f = fixture().await;
    let offer = offer_with(&f.app, "Glow", |o| {
        o.generation = "common".into();
        o.common_code = "GLOW15".into();
    })
    .await;
    let (status, v) = f
        .api
        .post(
            "/coupon/issue/multiple",
            json!({"seriesId": offer, "customer": {"email": EMAIL}, "count": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(f.issued().await.len(), 2, "one per issue");
    f.issue(offer, json!({"email": EMAIL})).await;
    f.issue(offer, json!({"mobile": MOBILE})).await;
    let queued = f.issued().await;
    assert_eq!(queued.len(), 4, "earlier issues are not sent again");
    let recipients: std::collections::HashSet<&str> =
        queued.iter().map(|m| m.recipient.as_str()).collect();
    assert_eq!(recipients.len(), 2);
    f.deliver().await;
    let mails = f.mail_to(EMAIL);
    assert_eq!(mails.len(), 3);
    assert!(
        mails
            .iter()
            .all(|m| m.contains("Your coupon GLOW15 for Glow"))
    );
    assert_eq!(f.sms_to(MOBILE).len(), 1);
}

#[tokio::test]
async fn a_third_party_offer_sends_nothing() {
    let f = fixture().await;
    let offer = offer_with(&f.app, "Partner", |o| {
        o.delivery = "third_party".into();
        o.resend_text = TEXT.into();
    })
    .await;
    f.issue(offer, json!({"mobile": MOBILE})).await;
    f.issue(offer, json!({"email": EMAIL})).await;
    f.admin
        .upload(
            &format!("/offers/{offer}/coupons/bulk-issue"),
            &[],
            "a.csv",
            "type,value\nMOBILE,9800000002\n",
        )
        .await;
    let report = f.deliver().await;
    assert_eq!(report.jobs_run, 1);
    assert_eq!(
        f.app
            .store
            .get_offer(f.org, offer)
            .await
            .unwrap()
            .issued_count,
        3
    );
    assert!(f.all_messages().await.is_empty(), "nothing queued");
    assert!(f.sms.bodies().is_empty() && f.smtp.mails().is_empty());
}

#[tokio::test]
async fn a_bulk_issue_sends_one_message_per_coupon_and_none_to_the_unreachable() {
    let f = fixture().await;
    let offer = offer_with(&f.app, "Diwali", |o| o.resend_text = TEXT.into()).await;
    let (status, v) = f
        .contacts(json!([{"customer": {"externalId": "LOYALTY-7"}, "email": "ravi@example.com"}]))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let csv = "type,value,first_name\nMOBILE,9800000011,Asha\nMOBILE,9800000012,\nEMAIL,meera@example.com,Meera\nEXTERNAL_ID,LOYALTY-7,Ravi\nEXTERNAL_ID,NOBODY-1,Zed\n";
    let page = f
        .admin
        .upload(
            &format!("/offers/{offer}/coupons/bulk-issue"),
            &[],
            "a.csv",
            csv,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let report = f.deliver().await;
    assert_eq!(report.jobs_run, 1);
    assert_eq!(
        f.app
            .store
            .get_offer(f.org, offer)
            .await
            .unwrap()
            .issued_count,
        5,
        "every line was issued"
    );
    let queued = f.issued().await;
    let to: Vec<(&str, &str)> = queued
        .iter()
        .map(|m| (m.channel.as_str(), m.recipient.as_str()))
        .collect();
    assert_eq!(
        to,
        vec![
            ("sms", "9800000011"),
            ("sms", "9800000012"),
            ("email", "meera@example.com"),
            ("email", "ravi@example.com"),
        ],
        "in issue order; the external id without contacts gets none and no row"
    );
    assert_eq!(f.all_messages().await.len(), 4);
    // Queued when the job ran, after this round's clock: the next round delivers them.
    assert_eq!(report.delivered, 0);
    assert_eq!(f.deliver().await.delivered, 4);
    let asha = f.sms_to("9800000011");
    assert_eq!(asha.len(), 1);
    assert!(
        asha[0].starts_with("Hi Asha, your Diwali code "),
        "{}",
        asha[0]
    );
    let anonymous = f.sms_to("9800000012");
    assert!(
        anonymous[0].starts_with("Hi, your Diwali code "),
        "{}",
        anonymous[0]
    );
    let ravi = f.mail_to("ravi@example.com");
    assert_eq!(ravi.len(), 1);
    assert!(ravi[0].contains("Hi Ravi, your Diwali code"), "{}", ravi[0]);
    assert_eq!(f.mail_to("meera@example.com").len(), 1);
}

#[tokio::test]
async fn codes_uploaded_with_their_customers_are_sent_to_them() {
    let f = fixture().await;
    let offer = offer_with(&f.app, "Partner codes", |o| {
        o.generation = "upload".into();
        o.upload_with_customers = "on".into();
    })
    .await;
    let page = f
        .admin
        .upload(
            &format!("/offers/{offer}/coupons/upload"),
            &[],
            "c.csv",
            "code,type,value\nP-1,MOBILE,9800000021\nP-2,EMAIL,p2@example.com\nP-3,EXTERNAL_ID,cust-42\n",
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(f.deliver().await.jobs_run, 1);
    assert_eq!(f.deliver().await.delivered, 2, "the round after the job's");
    assert!(f.sms_to("9800000021")[0].contains("P-1"));
    assert!(f.mail_to("p2@example.com")[0].contains("P-2"));
    assert_eq!(f.issued().await.len(), 2);
}

#[tokio::test]
async fn a_refused_or_failed_issue_sends_nothing_and_a_failed_delivery_is_retried_once() {
    let f = fixture().await;
    let offer = offer_with(&f.app, "Once", |o| o.max_per_customer = "1".into()).await;
    let code = f.issue(offer, json!({"mobile": MOBILE})).await;

    // Refused: the customer has their one coupon.
    let (status, v) = f
        .api
        .post(
            "/coupon/issue",
            json!({"seriesId": offer, "customer": {"mobile": MOBILE}}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "max_per_customer");
    // A bulk issue whose file is refused issues nothing, so sends nothing.
    f.admin
        .upload(
            &format!("/offers/{offer}/coupons/bulk-issue"),
            &[],
            "a.csv",
            "type,value\nMOBILE,9800000031\nPHONE,1\n",
        )
        .await;
    // A bulk issue whose every line is refused by a rule sends nothing either.
    f.admin
        .upload(
            &format!("/offers/{offer}/coupons/bulk-issue"),
            &[],
            "b.csv",
            &format!("type,value\nMOBILE,{MOBILE}\n"),
        )
        .await;
    f.app.run_queued_jobs().await;
    assert_eq!(f.issued().await.len(), 1, "only the first issue's message");

    // The gateway is down: the message stays queued with its error, tried again later
    // (30 s backoff), then delivered exactly once.
    let mut down = f.settings.clone();
    down.sms_gateway_url = Some("http://127.0.0.1:9/sms".into());
    let report = offerdesk::cli::run_jobs(&f.app.store, &down, Utc::now())
        .await
        .unwrap();
    assert_eq!(report.delivered, 0);
    let m = &f.issued().await[0];
    assert_eq!((m.status.as_str(), m.attempts), ("queued", 1));
    assert!(m.last_error.is_some());
    assert!(f.sms.bodies().is_empty());
    for _ in 0..2 {
        offerdesk::cli::run_jobs(&f.app.store, &f.settings, Utc::now() + Duration::minutes(2))
            .await
            .unwrap();
    }
    let texts = f.sms_to(MOBILE);
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains(&code));
    assert_eq!(f.issued().await[0].status.as_str(), "sent");
}

#[tokio::test]
async fn a_customer_known_only_by_an_external_id_gets_codes_once_a_contact_is_set() {
    let f = fixture().await;
    let offer = offer_with(&f.app, "Club", |_| {}).await;
    f.issue(offer, json!({"externalId": "LOYALTY-9"})).await;
    assert!(
        f.all_messages().await.is_empty(),
        "no way to reach them: nothing queued, not even a skipped row"
    );
    let (status, v) = f
        .contacts(json!([{"customer": {"externalId": "LOYALTY-9", "firstName": "Kiran"}, "mobile": "98000 00041"}]))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let reach = f
        .reach(IdentifierType::ExternalId, "LOYALTY-9")
        .await
        .unwrap();
    assert_eq!(reach.mobile.as_deref(), Some("9800000041"));
    let code = f.issue(offer, json!({"externalId": "LOYALTY-9"})).await;
    f.deliver().await;
    let texts = f.sms_to("9800000041");
    assert_eq!(texts.len(), 1, "{:?}", f.sms.bodies());
    assert!(texts[0].contains(&code));

    // Email preferred once an email is known too.
    let (status, v) = f
        .contacts(json!([{"customer": {"externalId": "LOYALTY-9"}, "mobile": "9800000041", "email": "kiran@example.com", "preferredChannel": "EMAIL"}]))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let code = f.issue(offer, json!({"externalId": "LOYALTY-9"})).await;
    f.deliver().await;
    assert!(f.mail_to("kiran@example.com")[0].contains(&code));
    assert_eq!(f.sms_to("9800000041").len(), 1);
}

#[tokio::test]
async fn contacts_api_errors_name_the_field_and_change_nothing() {
    let f = fixture().await;
    let (status, v) = f
        .contacts(json!([{"customer": {"externalId": "C-1"}, "mobile": "9800000051"}]))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let before = f.reach(IdentifierType::ExternalId, "C-1").await;
    assert!(before.is_some());

    let cases = [
        (
            json!({"contacts": [{"customer": {"externalId": "C-1"}, "phone": "9800000052"}]}),
            "invalid_body",
            "contacts[0].phone",
            "unknown field",
        ),
        (
            json!({"contacts": [
                {"customer": {"externalId": "C-1"}, "mobile": "9800000052"},
                {"customer": {"externalId": "C-2"}, "mobile": "12ab"}]}),
            "invalid_field",
            "contacts[1].mobile",
            "is not a mobile number",
        ),
        (
            json!({"contacts": [{"customer": {"externalId": "C-1"}, "mobile": "9800000052", "preferredChannel": "fax"}]}),
            "invalid_field",
            "contacts[0].preferredChannel",
            "must be sms or email, not `fax`",
        ),
        (
            json!({"contacts": [{"customer": {"externalId": "C-1"}, "preferredChannel": "email"}]}),
            "invalid_field",
            "contacts[0].preferredChannel",
            "needs an email address",
        ),
        (
            json!({"contacts": [{"customer": {"mobile": MOBILE}, "mobile": "9800000099"}]}),
            "invalid_field",
            "contacts[0].mobile",
            "differs from the customer's identifier",
        ),
        (
            json!({"contacts": [
                {"customer": {"externalId": "C-1"}},
                {"customer": {"externalId": "C-1"}, "email": "c1@example.com"}]}),
            "invalid_field",
            "contacts[1].customer",
            "is repeated (first at contacts[0])",
        ),
        (
            json!({"contacts": [{"customer": {"externalId": "C-1", "mobile": MOBILE}}]}),
            "invalid_field",
            "contacts[0].customer",
            "exactly one of mobile, email or externalId",
        ),
        (
            json!({"contacts": []}),
            "invalid_field",
            "contacts",
            "give 1 to 1,000",
        ),
    ];
    for (body, code, field, words) in cases {
        let (status, v) = f.api.put("/customers/contacts", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {v}");
        assert_eq!(v["error"]["code"], code, "{v}");
        assert_eq!(v["error"]["field"], field, "{v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
    }
    // Several bad fields are all listed, the first named in `field`.
    let (_, v) = f
        .contacts(json!([
            {"customer": {"externalId": "C-3"}, "email": "nope", "preferredChannel": "pigeon"},
            {"customer": {"mobile": "12"}}]))
        .await;
    let message = v["error"]["message"].as_str().unwrap();
    assert_eq!(v["error"]["field"], "contacts[0].email");
    for part in [
        "contacts[0].email",
        "contacts[0].preferredChannel",
        "contacts[1].customer.mobile",
        "nothing was changed",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }

    assert_eq!(
        f.reach(IdentifierType::ExternalId, "C-1").await,
        before,
        "unchanged"
    );
    for absent in ["C-2", "C-3"] {
        assert_eq!(f.reach(IdentifierType::ExternalId, absent).await, None);
    }
    let audit = f.app.store.list_audit(f.org, None, 50, 0).await.unwrap().0;
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "customer.contacts_set")
            .count(),
        1,
        "only the first, good request"
    );
    let doc = reqwest::get(format!("{}/api/v2/openapi.json", f.app.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(doc.contains("/api/v2/customers/contacts"));
}

#[tokio::test]
async fn a_contacts_csv_reports_every_bad_line_and_applies_nothing() {
    let f = fixture().await;
    let page = f.admin.get("/customers/contacts").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("id=\"upload-contacts\""),
        "{}",
        page.body
    );
    let template = f.admin.get("/customers/contacts/template.csv").await;
    assert!(
        template
            .body
            .starts_with("identifier_type,identifier,mobile,email,preferred_channel\n")
    );

    let bad = "identifier_type,identifier,mobile,email,preferred_channel\n\
               EXTERNAL_ID,C-1,9800000061,,sms\n\
               EXTERNAL_ID,C-2,,not-an-email,\n\
               EXTERNAL_ID,C-3,,,email\n\
               PHONE,123,,,\n\
               EXTERNAL_ID,C-1,,,\n";
    let page = f
        .admin
        .upload("/customers/contacts", &[], "contacts.csv", bad)
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Nothing was uploaded: 4 problems"),
        "{}",
        page.body
    );
    for line in [
        "Line 3: email `not-an-email` is not an email address",
        "Line 4: preferred_channel email needs an email address",
        "Line 5: identifier_type must be MOBILE, EMAIL or EXTERNAL_ID",
        "Line 6: customer EXTERNAL_ID C-1 is repeated (first on line 2)",
    ] {
        assert!(page.body.contains(line), "{line}: {}", page.body);
    }
    assert_eq!(
        f.reach(IdentifierType::ExternalId, "C-1").await,
        None,
        "nothing applied"
    );

    let good = "identifier_type,identifier,mobile,email,preferred_channel\n\
                EXTERNAL_ID,C-1,9800000061,c1@example.com,email\n\
                MOBILE,9800000062,,m2@example.com,\n";
    let page = f
        .admin
        .upload("/customers/contacts", &[], "contacts.csv", good)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let shown = f.admin.get("/customers/contacts").await.body;
    assert!(
        shown.contains("Uploaded contacts: 2 customers written."),
        "{shown}"
    );
    let reach = f.reach(IdentifierType::ExternalId, "C-1").await.unwrap();
    assert_eq!(
        (
            reach.mobile.as_deref(),
            reach.email.as_deref(),
            reach.preferred
        ),
        (
            Some("9800000061"),
            Some("c1@example.com"),
            Some(Channel::Email)
        )
    );
    let lookup = f
        .admin
        .get("/customers/contacts?identifier_type=MOBILE&identifier=9800000062")
        .await
        .body;
    assert!(
        lookup.contains("<dd id=\"sent-to\">SMS to 9800000062</dd>"),
        "{lookup}"
    );

    // A line replaces what the customer had: empty columns clear it.
    let clear = "identifier_type,identifier,mobile,email,preferred_channel\nEXTERNAL_ID,C-1,,,\n";
    let page = f
        .admin
        .upload("/customers/contacts", &[], "contacts.csv", clear)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let lookup = f
        .admin
        .get("/customers/contacts?identifier_type=EXTERNAL_ID&identifier=C-1")
        .await
        .body;
    assert!(lookup.contains("nothing: no way to reach them"), "{lookup}");
}

#[tokio::test]
async fn only_those_who_manage_the_org_upload_contacts() {
    let f = fixture().await;
    let csv =
        "identifier_type,identifier,mobile,email,preferred_channel\nEXTERNAL_ID,C-1,9800000071,,\n";
    for role in [Role::Marketing, Role::Csm, Role::Viewer] {
        let email = f.app.create_user("Acme", role).await;
        let b = f.app.signed_in(&email).await;
        let page = b.get("/customers/contacts").await;
        assert_eq!(page.status, StatusCode::OK, "{}: may look", role.as_str());
        assert!(
            !page.body.contains("id=\"upload-contacts\""),
            "no upload form"
        );
        let page = b.upload("/customers/contacts", &[], "c.csv", csv).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", role.as_str());
    }
    assert_eq!(f.reach(IdentifierType::ExternalId, "C-1").await, None);
    let anonymous = f.app.browser().get("/customers/contacts").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
}
