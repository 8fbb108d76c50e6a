//! A coupon's expiry notice (seed 001 "Automate coupon expiry reminders and expiry
//! notifications"): set on an offer through the API or the console form, sent once per issue
//! record to each customer whose coupon expired unused — at 10:00 org time on the day after the
//! coupon's last day — on the offer's channel, with the reminders' placeholders; bad input is
//! refused naming the field. Against a real SMTP server and SMS gateway on loopback, the
//! scheduler driven by `run_jobs(now)` (the code behind `offerdesk run-jobs --now`), on both
//! databases.

use crate::helpers::{Browser, PASSWORD, TestApp, spawn_app, spawn_app_on, test_settings};
use crate::integration::Api;
use crate::offers::form_pairs;
use crate::sinks::{HttpSink, SmtpSink};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use offerdesk::domain::ids::OfferId;
use offerdesk::domain::offer::form::OfferForm;
use offerdesk::domain::org::{Currency, OrgSettings};
use offerdesk::domain::user::Role;
use offerdesk::store::outbox::{DeliveryStatus, OutboxQuery};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The SMS notice of the API's offer, as its owner types it.
const SMS_TEXT: &str =
    "Hi {first_name}, your {discount} coupon {code} expired on {expiry}. Come back soon!";

fn settings(app: &TestApp, smtp: &str, sms: &str) -> offerdesk::config::Settings {
    let mut s = test_settings(app.db.url());
    s.smtp_url = Some(smtp.to_string());
    s.sms_gateway_url = Some(sms.to_string());
    s
}

async fn run(
    app: &TestApp,
    s: &offerdesk::config::Settings,
    now: DateTime<Utc>,
) -> offerdesk::scheduler::RunReport {
    offerdesk::cli::run_jobs(&app.store, s, now).await.unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// `h:m` on `day` in `tz`.
fn at(day: NaiveDate, h: u32, m: u32, tz: Tz) -> DateTime<Utc> {
    tz.from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// Issues a coupon of `offer` to `customer` (an API customer object); its code, after checking
/// that its last day is the offer's (the coupons expire with the offer).
async fn issue_to(api: &Api, offer: OfferId, customer: Value, last_day: &str) -> String {
    let (status, v) = api
        .post(
            "/coupon/issue",
            json!({"seriesId": offer, "customer": customer}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["validTill"], last_day, "{v}");
    v["code"].as_str().unwrap().to_string()
}

/// Redeems `code` for `customer` on a 1,000.00 bill.
async fn redeem(api: &Api, code: &str, customer: Value) {
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": format!("T-{code}"), "billAmount": 100000,
                "customer": customer, "codes": [code]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

/// Revokes the coupons of `offer` held by `customer`.
async fn revoke(api: &Api, offer: OfferId, customer: Value) {
    let (status, v) = api
        .post(
            &format!("/offers/{offer}/revoke"),
            json!({"mode": "CUSTOMERS", "customers": [customer], "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["revoked"], 1, "{v}");
}

/// The org's expiry notices in the outbox, newest first.
async fn notices(app: &TestApp, org: &str) -> Vec<offerdesk::store::outbox::OutboxRow> {
    let org = app.org_id(org).await;
    app.store
        .list_outbox(
            org,
            &OutboxQuery {
                kind: "expiry_notice".into(),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

/// The `<li>` of `html` that holds `needle`.
fn li_with<'a>(html: &'a str, needle: &str) -> &'a str {
    let at = html
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in\n{html}"));
    let start = html[..at].rfind("<li").unwrap();
    &html[start..at + html[at..].find("</li>").unwrap()]
}

/// A signed-in marketing manager of the org.
async fn marketing(app: &TestApp, org: &str) -> Browser {
    let email = app.create_user(org, Role::Marketing).await;
    app.signed_in(&email).await
}

/// Fills steps 1–3 of the wizard: "Welcome back", 15% off, unique codes delivered by a third
/// party, coupons expiring with the offer on `expires_on`.
async fn wizard_steps_1_to_3(b: &Browser, expires_on: &str) {
    for (step, fields) in [
        (
            1,
            vec![
                ("name", "Welcome back"),
                ("expiry_type", "fixed"),
                ("expires_on", expires_on),
            ],
        ),
        (
            2,
            vec![
                ("discount_type", "PERC"),
                ("discount_value", "15"),
                ("applies_to", "all"),
            ],
        ),
        (
            3,
            vec![
                ("delivery", "third_party"),
                ("generation", "unique"),
                ("code_length", "10"),
                ("code_charset", "unambiguous"),
                ("coupon_expiry", "offer"),
            ],
        ),
    ] {
        let p = b.post(&format!("/offers/new/step/{step}"), &fields).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "step {step}: {}", p.body);
    }
}

/// Step 4's fields with the notice switched on.
fn step_4(channel: &'static str, text: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("redemption_start", "issue"),
        ("poc_reminder_days", "3"),
        ("expiry_notice", "on"),
        ("expiry_notice_channel", channel),
        ("expiry_notice_text", text),
    ]
}

/// An offer created over the API with an SMS notice, in an org in New York: three customers
/// each hold a coupon whose last day is 20 Apr 2027 — one unused (an external id with a mobile
/// set in their contacts, first name Asha), one redeemed, one revoked. The run on the last day
/// and those before 10:00 New York time the next day send nothing (10:00 UTC is 06:00 there);
/// the 10:00 run sends exactly one SMS, to Asha's mobile, with the placeholders filled, and it
/// is in the outbox; later runs — again, on a second instance, in a second process — send
/// nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unused_coupon_gets_one_notice_at_ten_org_time_the_day_after_its_last_day() {
    let app = spawn_app().await;
    let smtp = SmtpSink::start().await;
    let sms = HttpSink::start().await;
    let s = settings(&app, &smtp.url(), &sms.url());
    let tz = chrono_tz::America::New_York;
    let org = OrgSettings {
        name: "Acme".into(),
        currency: Currency::parse("c", "INR").unwrap(),
        time_zone: tz,
    };
    let owner = "owner@acme.example.com";
    offerdesk::cli::create_admin(&app.store, &org, owner, PASSWORD)
        .await
        .unwrap();
    let api = Api::of(&app, "Acme", 1000).await;

    let notice = json!({"channel": "SMS", "text": SMS_TEXT});
    let (status, v) = api
        .post(
            "/coupon/series",
            json!({"name": "Spring sale", "discountType": "ABS", "discountValue": 25000,
                "validTill": "2027-04-20", "delivery": "THIRD_PARTY", "expiryNotice": notice}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["expiryNotice"], notice, "{v}");
    let offer = OfferId(v["id"].as_i64().unwrap());
    let (_, read) = api.get(&format!("/coupon/series/{offer}")).await;
    assert_eq!(read["expiryNotice"], notice, "{read}");
    // An offer without a notice answers null.
    let (_, plain) = api
        .post(
            "/coupon/series",
            json!({"name": "Plain", "discountType": "PERC", "discountValue": 5, "validTill": "2027-04-20"}),
        )
        .await;
    assert_eq!(plain["expiryNotice"], Value::Null, "{plain}");

    let asha = issue_to(
        &api,
        offer,
        json!({"externalId": "C-1", "firstName": "Asha"}),
        "2027-04-20",
    )
    .await;
    let (status, v) = api
        .put(
            "/customers/contacts",
            json!({"contacts": [{"customer": {"externalId": "C-1"}, "mobile": "9800000001"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let ravi = issue_to(&api, offer, json!({"mobile": "9800000002"}), "2027-04-20").await;
    let meera = issue_to(&api, offer, json!({"mobile": "9800000003"}), "2027-04-20").await;
    redeem(&api, &ravi, json!({"mobile": "9800000002"})).await;
    revoke(&api, offer, json!({"mobile": "9800000003"})).await;
    // A coupon that may be used 10 times, used once, is not "unused": no notice.
    let (status, v) = api
        .post(
            "/coupon/series",
            json!({"name": "Ten visits", "discountType": "PERC", "discountValue": 5,
                "validTill": "2027-04-20", "delivery": "THIRD_PARTY", "expiryNotice": notice,
                "multipleRedemption": true, "maxRedemptionsPerCustomer": 10}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let multi = OfferId(v["id"].as_i64().unwrap());
    let kiran = issue_to(&api, multi, json!({"mobile": "9800000004"}), "2027-04-20").await;
    redeem(&api, &kiran, json!({"mobile": "9800000004"})).await;
    // Whatever else is due now goes first; the notices are counted from here.
    run(&app, &s, Utc::now()).await;
    let sent_before = sms.bodies().len();

    let last_day = day(2027, 4, 20);
    let next_day = day(2027, 4, 21);
    for (now, when) in [
        (at(last_day, 10, 0, tz), "10:00 on the last day"),
        (at(last_day, 23, 59, tz), "23:59 on the last day"),
        (
            Utc.from_utc_datetime(&next_day.and_hms_opt(10, 0, 0).unwrap()),
            "10:00 UTC the next day (06:00 in New York)",
        ),
        (at(next_day, 9, 59, tz), "09:59 the next day"),
    ] {
        let report = run(&app, &s, now).await;
        assert_eq!(report.expiry_notices_queued, 0, "{when}");
        assert_eq!(sms.bodies().len(), sent_before, "nothing at {when}");
    }

    let ten = at(next_day, 10, 0, tz);
    let report = run(&app, &s, ten).await;
    assert_eq!(report.expiry_notices_queued, 1, "only the unused coupon");
    assert_eq!(report.delivered, 1);
    let bodies = sms.bodies()[sent_before..].to_vec();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    // Reached at the mobile set for them; the discount and the last day in the console's words.
    assert_eq!(bodies[0]["to"], "9800000001");
    assert_eq!(
        bodies[0]["text"],
        format!("Hi Asha, your ₹250 off coupon {asha} expired on 20 Apr 2027. Come back soon!")
    );
    let all = format!("{bodies:?}");
    assert!(
        !all.contains(&ravi) && !all.contains(&meera) && !all.contains(&kiran),
        "{all}"
    );

    // In the outbox: one sent notice of the offer.
    let rows = notices(&app, "Acme").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(
        (row.channel.as_str(), row.recipient.as_str(), row.status),
        ("sms", "9800000001", DeliveryStatus::Sent)
    );
    assert_eq!(row.offer_id, Some(offer));
    assert!(row.body_text.contains(&asha), "{row:?}");
    let admin = app.signed_in(owner).await;
    let page = admin.get("/admin/outbox?kind=expiry_notice").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Coupon expired notice") && page.body.contains("9800000001"),
        "{}",
        page.body
    );

    // Never twice: again later that day, on a second instance, and in another process.
    let report = run(&app, &s, ten + Duration::hours(1)).await;
    assert_eq!((report.expiry_notices_queued, report.delivered), (0, 0));
    let other = spawn_app_on(app.db.clone()).await;
    let report = offerdesk::cli::run_jobs(&other.store, &s, ten + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!((report.expiry_notices_queued, report.delivered), (0, 0));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_offerdesk"))
        .args(["run-jobs", "--now", "2027-04-21T13:00:00-04:00"])
        .env("DATABASE_URL", app.db.url())
        .env("SMTP_URL", smtp.url())
        .env("SMS_GATEWAY_URL", sms.url())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("expiry_notices_queued=0"), "{stdout}");
    // The next morning, still within a day of 10:00: nothing either.
    let report = run(&app, &s, at(day(2027, 4, 22), 9, 0, tz)).await;
    assert_eq!(report.expiry_notices_queued, 0);
    assert_eq!(sms.bodies().len(), sent_before + 1, "one notice in all");
    assert_eq!(notices(&app, "Acme").await.len(), 1);
}

/// An email notice set in the console's wizard (step "Issual & reminders"), described in plain
/// words, then changed on the edit page while coupons are out (previewed, saved): at 10:00
/// India time the day after the last day, two instances running at once send the new text
/// once, to the one customer whose coupon is unused, without a first name nobody knows.
#[tokio::test]
async fn a_notice_set_in_the_console_goes_by_email_and_can_be_changed_while_live() {
    let app = spawn_app().await;
    let smtp = SmtpSink::start().await;
    let sms = HttpSink::start().await;
    let s = settings(&app, &smtp.url(), &sms.url());
    let api = Api::of(&app, "Acme", 1000).await;
    let b = marketing(&app, "Acme").await;
    wizard_steps_1_to_3(&b, "2027-03-13").await;
    let p = b
        .post(
            "/offers/new/step/4",
            &step_4(
                "email",
                "Hi {first_name}, your {discount} coupon {code} ended on {expiry}.",
            ),
        )
        .await;
    assert_eq!(
        p.location.as_deref(),
        Some("/offers/new/preview"),
        "{}",
        p.body
    );
    let preview = b.get("/offers/new/preview").await.body;
    let words = "Expiry notice: email on the day after a coupon&#39;s last day, if unused: “Hi {first_name}, your {discount} coupon {code} ended on {expiry}.”";
    assert!(preview.contains(words), "{preview}");
    let created = b.post("/offers/new", &[]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location.unwrap();
    let offer = OfferId(location.trim_start_matches("/offers/").parse().unwrap());
    assert!(b.get(&location).await.body.contains(words));

    let (_, read) = api.get(&format!("/coupon/series/{offer}")).await;
    assert_eq!(read["expiryNotice"]["channel"], "EMAIL", "{read}");
    let a = issue_to(&api, offer, json!({"email": "a@x.io"}), "2027-03-13").await;
    let b_code = issue_to(&api, offer, json!({"email": "b@x.io"}), "2027-03-13").await;
    let c = issue_to(&api, offer, json!({"email": "c@x.io"}), "2027-03-13").await;
    redeem(&api, &b_code, json!({"email": "b@x.io"})).await;
    revoke(&api, offer, json!({"email": "c@x.io"})).await;

    // Editable while coupons are out, as the customer reminders are.
    let edit = b.get(&format!("/offers/{offer}/edit")).await.body;
    assert!(edit.contains("name=\"expiry_notice\" checked"), "{edit}");
    assert!(edit.contains("ended on {expiry}.</textarea>"), "{edit}");
    let org = app.org_id("Acme").await;
    let saved = app.store.get_offer(org, offer).await.unwrap();
    let mut form = OfferForm::from_rules(&saved.rules, 2);
    form.offer_code = saved.offer_code.clone();
    assert_eq!(
        (
            form.expiry_notice.as_str(),
            form.expiry_notice_channel.as_str()
        ),
        ("on", "email")
    );
    form.expiry_notice_text =
        "Hi {first_name}, {code} ({discount}) ended on {expiry}. See you soon!".into();
    let pairs = form_pairs(&form);
    let fields: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let diff = b
        .post(&format!("/offers/{offer}/edit/preview"), &fields)
        .await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.body);
    let line = li_with(&diff.body, "({discount}) ended on {expiry}. See you soon!");
    assert!(
        line.contains("diff-changed")
            && line.contains("your {discount} coupon {code} ended on {expiry}.”</del>"),
        "{line}"
    );
    assert!(diff.body.contains("1 line changes"), "{}", diff.body);
    let save = b.post(&format!("/offers/{offer}/edit"), &fields).await;
    assert_eq!(save.status, StatusCode::SEE_OTHER, "{}", save.body);
    let (_, read) = api.get(&format!("/coupon/series/{offer}")).await;
    assert_eq!(
        read["expiryNotice"],
        json!({"channel": "EMAIL", "text": "Hi {first_name}, {code} ({discount}) ended on {expiry}. See you soon!"})
    );

    run(&app, &s, Utc::now()).await;
    let mailed_before = smtp.mails().len();
    let tz = chrono_tz::Asia::Kolkata;
    let report = run(&app, &s, at(day(2027, 3, 13), 23, 0, tz)).await;
    assert_eq!(report.expiry_notices_queued, 0, "not on the last day");
    let other = spawn_app_on(app.db.clone()).await;
    let ten = at(day(2027, 3, 14), 10, 0, tz);
    let (one, two) = tokio::join!(
        offerdesk::cli::run_jobs(&app.store, &s, ten),
        offerdesk::cli::run_jobs(&other.store, &s, ten)
    );
    let (one, two) = (one.unwrap(), two.unwrap());
    assert_eq!(one.expiry_notices_queued + two.expiry_notices_queued, 1);
    run(&app, &s, ten + Duration::minutes(30)).await;
    let mails = smtp.mails()[mailed_before..].to_vec();
    assert_eq!(mails.len(), 1, "once, across both instances");
    assert_eq!(mails[0].to.len(), 1);
    assert!(mails[0].to[0].contains("a@x.io"), "{:?}", mails[0].to);
    let text = mails[0].text();
    assert!(
        text.contains(&format!(
            "Hi, {a} (15% off) ended on 13 Mar 2027. See you soon!"
        )),
        "{text}"
    );
    assert!(
        text.contains("Your Welcome back coupon expired on 13 Mar 2027"),
        "{text}"
    );
    assert!(
        !text.contains("{first_name}") && !text.contains(&c),
        "{text}"
    );
    assert!(sms.bodies().is_empty(), "the email channel only");
}

/// Bad notices are refused with what is wrong, naming the field, and change nothing: over the
/// API (400, `expiryNotice.…`), in the wizard and on the edit page (422, the form again with
/// the inline error and what was typed).
#[tokio::test]
async fn a_bad_notice_is_refused_naming_the_field_and_nothing_changes() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let base = json!({"name": "X", "discountType": "PERC", "discountValue": 10, "validTill": "2099-01-01"});
    for (notice, field, words) in [
        (
            json!({"channel": "SMS", "text": "Your {coupon} expired"}),
            "expiryNotice.text",
            "unknown placeholder {coupon}",
        ),
        (
            json!({"channel": "SMS", "text": "   "}),
            "expiryNotice.text",
            "is required",
        ),
        (
            json!({"channel": "SMS"}),
            "expiryNotice.text",
            "is required",
        ),
        (
            json!({"channel": "fax", "text": "Your {code} expired"}),
            "expiryNotice.channel",
            "choose SMS or email, not `fax`",
        ),
        (
            json!({"text": "Your {code} expired"}),
            "expiryNotice.channel",
            "choose SMS or email",
        ),
        (
            json!({"channel": "SMS", "text": "x", "colour": "red"}),
            "expiryNotice.colour",
            "unknown field",
        ),
        (json!("SMS"), "expiryNotice", "invalid type"),
    ] {
        let mut body = base.clone();
        body["expiryNotice"] = notice.clone();
        let (status, v) = api.post("/coupon/series", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{notice} → {v}");
        assert_eq!(v["error"]["field"], field, "{notice} → {v}");
        let message = v["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(words), "{notice} → {v}");
    }
    let org = app.org_id("Acme").await;
    assert!(app.store.offer_names(org).await.unwrap().is_empty());

    // The wizard's step 4: the inline error beside the field, the values as typed.
    let b = marketing(&app, "Acme").await;
    wizard_steps_1_to_3(&b, "2099-01-01").await;
    for (channel, text, field, shown) in [
        (
            "sms",
            "Your {coupon} expired",
            "expiry_notice_text",
            "Notice text uses unknown placeholder {coupon}",
        ),
        ("sms", " ", "expiry_notice_text", "Notice text is required"),
        (
            "fax",
            "Your {code} expired",
            "expiry_notice_channel",
            "Channel choose SMS or email, not `fax`",
        ),
    ] {
        let p = b.post("/offers/new/step/4", &step_4(channel, text)).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
        assert!(
            p.body.contains(&format!("data-field=\"{field}\">{shown}")),
            "{field}: {}",
            p.body
        );
        assert!(p.body.contains("name=\"expiry_notice\" checked"));
        assert!(
            p.body.contains(&format!(">{text}</textarea>")),
            "the text as typed"
        );
    }
    assert!(app.store.offer_names(org).await.unwrap().is_empty());

    // The edit page of a live offer: refused, the offer unchanged.
    let offer = api
        .series(json!({"name": "Live", "discountType": "PERC", "discountValue": 10, "validTill": "2099-01-01",
            "expiryNotice": {"channel": "email", "text": "{code} expired on {expiry}"}}))
        .await;
    let before = app.store.get_offer(org, offer).await.unwrap();
    let mut form = OfferForm::from_rules(&before.rules, 2);
    form.offer_code = before.offer_code.clone();
    form.expiry_notice_text = "{code} expired {when}".into();
    let pairs = form_pairs(&form);
    let fields: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let p = b.post(&format!("/offers/{offer}/edit"), &fields).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body.contains(
            "data-field=\"expiry_notice_text\">Notice text uses unknown placeholder {when}"
        ),
        "{}",
        p.body
    );
    assert!(p.body.contains(">{code} expired {when}</textarea>"));
    assert_eq!(
        app.store.get_offer(org, offer).await.unwrap().rules,
        before.rules
    );
}
