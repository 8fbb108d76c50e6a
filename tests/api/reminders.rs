//! Reminders and the outbox (REM-1..3) against a real SMTP server and SMS gateway on loopback,
//! driven by `run_jobs(now)` — the code behind `offerdesk run-jobs --now` — never by sleeping.

use crate::helpers::{TestApp, spawn_app, spawn_app_on, test_settings};
use crate::integration::Api;
use crate::sinks::{HttpSink, SmtpSink};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use offerdesk::domain::ids::OfferId;
use offerdesk::domain::org::{Currency, OrgSettings};
use offerdesk::store::outbox::OutboxQuery;
use serde_json::json;

fn settings(app: &TestApp, smtp: &str, sms: Option<&str>) -> offerdesk::config::Settings {
    let mut s = test_settings(app.db.url());
    s.smtp_url = Some(smtp.to_string());
    s.sms_gateway_url = sms.map(str::to_string);
    s.base_url = "https://offers.example.com".into();
    s
}

async fn run(
    app: &TestApp,
    s: &offerdesk::config::Settings,
    now: DateTime<Utc>,
) -> offerdesk::scheduler::RunReport {
    offerdesk::cli::run_jobs(&app.store, s, now).await.unwrap()
}

/// 10:00 on `day` in `tz`.
fn ten(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    tz.from_local_datetime(&day.and_hms_opt(10, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// An org in `tz` with an API client, and an offer ending 13 Mar 2027 that reminds two POCs
/// 3 days before (created through the API's `expiryReminder`).
async fn reminded_offer(app: &TestApp, org: &str, tz: Tz) -> (Api, OfferId) {
    let settings = OrgSettings {
        name: org.into(),
        currency: Currency::parse("c", "INR").unwrap(),
        time_zone: tz,
    };
    let email = format!("owner@{}.example.com", org.to_lowercase());
    offerdesk::cli::create_admin(&app.store, &settings, &email, crate::helpers::PASSWORD)
        .await
        .unwrap();
    let api = Api::of(app, org, 1000).await;
    let (status, v) = api
        .post(
            "/coupon/series",
            json!({"name": "Spring sale", "discountType": "PERC", "discountValue": 10, "validTill": "2027-03-13",
                "expiryReminder": {"daysBefore": 3, "pocEmails": ["asha@brand.example", "ravi@brand.example"]}}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{v}");
    assert_eq!(v["expiryReminder"]["daysBefore"], 3);
    (api, OfferId(v["id"].as_i64().unwrap()))
}

#[tokio::test]
async fn each_poc_gets_one_email_at_ten_in_the_orgs_time_zone() {
    for tz in [chrono_tz::Asia::Kolkata, chrono_tz::America::New_York] {
        let app = spawn_app().await;
        let sink = SmtpSink::start().await;
        let s = settings(&app, &sink.url(), None);
        let (api, offer) = reminded_offer(&app, "Acme", tz).await;
        api.issue(offer, "9800000001").await;
        let due = ten(day(2027, 3, 10), tz);

        run(&app, &s, due - Duration::minutes(1)).await;
        assert!(sink.mails().is_empty(), "{tz}: nothing at 09:59");

        let report = run(&app, &s, due).await;
        assert_eq!(report.poc_queued, 2, "{tz}");
        let mails = sink.mails();
        assert_eq!(mails.len(), 2, "{tz}: one per POC at 10:00");
        let mut to: Vec<String> = mails.iter().map(|m| m.to.join(",")).collect();
        to.sort();
        assert!(
            to[0].contains("asha@brand.example") && to[1].contains("ravi@brand.example"),
            "{to:?}"
        );
        let text = mails[0].text();
        assert!(text.contains("Spring sale"), "{text}");
        assert!(text.contains("13 Mar 2027"), "{text}");
        assert!(
            text.contains(&format!("https://offers.example.com/offers/{offer}")),
            "{text}"
        );
        assert!(text.contains("Coupons issued:   1"), "{text}");
        assert!(text.contains("text/html"), "HTML and plain text: {text}");
        assert!(!text.contains("sent late"));

        run(&app, &s, due + Duration::minutes(1)).await;
        run(&app, &s, due + Duration::hours(5)).await;
        assert_eq!(sink.mails().len(), 2, "{tz}: never twice");
    }
}

#[tokio::test]
async fn a_late_run_the_same_day_sends_with_a_note_and_a_day_late_is_skipped() {
    let app = spawn_app().await;
    let sink = SmtpSink::start().await;
    let s = settings(&app, &sink.url(), None);
    let tz = chrono_tz::Asia::Kolkata;
    let (api, _) = reminded_offer(&app, "Acme", tz).await;
    let due = ten(day(2027, 3, 10), tz);
    run(&app, &s, due + Duration::hours(3)).await;
    let mails = sink.mails();
    assert_eq!(mails.len(), 2);
    assert!(
        mails[0].text().contains("(sent late)"),
        "{}",
        mails[0].text()
    );

    // Another offer whose reminder time passed more than a day before the app ran.
    let (status, v) = api
        .post(
            "/coupon/series",
            json!({"name": "Missed", "discountType": "PERC", "discountValue": 10, "validTill": "2027-04-13",
                "expiryReminder": {"daysBefore": 3, "pocEmails": ["asha@brand.example"]}}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{v}");
    let missed = OfferId(v["id"].as_i64().unwrap());
    let report = run(&app, &s, ten(day(2027, 4, 11), tz) + Duration::minutes(1)).await;
    assert_eq!(report.poc_skipped, 1);
    assert_eq!(sink.mails().len(), 2, "not sent");
    let org = app.org_id("Acme").await;
    let skipped = app
        .store
        .list_outbox(
            org,
            &OutboxQuery {
                status: "skipped".into(),
                offer_id: Some(missed),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("more than a day"),
        "{skipped:?}"
    );
}

#[tokio::test]
async fn two_instances_running_at_ten_send_each_reminder_once() {
    let app = spawn_app().await;
    let other = spawn_app_on(app.db.clone()).await;
    let sink = SmtpSink::start().await;
    let s = settings(&app, &sink.url(), None);
    let tz = chrono_tz::Asia::Kolkata;
    reminded_offer(&app, "Acme", tz).await;
    let due = ten(day(2027, 3, 10), tz);
    for _ in 0..3 {
        let (a, b) = tokio::join!(
            offerdesk::cli::run_jobs(&app.store, &s, due),
            offerdesk::cli::run_jobs(&other.store, &s, due)
        );
        a.unwrap();
        b.unwrap();
    }
    assert_eq!(sink.mails().len(), 2, "one per POC across both instances");
}

#[tokio::test]
async fn an_smtp_outage_delays_mail_and_it_is_delivered_when_smtp_is_back() {
    let app = spawn_app().await;
    // A port with nobody listening: the SMTP server is down.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = settings(&app, &format!("smtp://127.0.0.1:{port}"), None);
    let tz = chrono_tz::Asia::Kolkata;
    reminded_offer(&app, "Acme", tz).await;
    let due = ten(day(2027, 3, 10), tz);
    let report = run(&app, &s, due).await;
    assert_eq!((report.delivered, report.failed_attempts), (0, 2));
    let org = app.org_id("Acme").await;
    let queued = app
        .store
        .list_outbox(
            org,
            &OutboxQuery {
                status: "queued".into(),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(queued.len(), 2, "kept, not dropped");
    assert!(
        queued
            .iter()
            .all(|m| m.attempts == 1 && m.last_error.as_deref().unwrap_or("").contains("SMTP")),
        "{queued:?}"
    );

    let sink = SmtpSink::start_on(port).await;
    run(&app, &s, due + Duration::seconds(10)).await;
    assert!(sink.mails().is_empty(), "waits for its backoff");
    let report = run(&app, &s, due + Duration::minutes(1)).await;
    assert_eq!(report.delivered, 2);
    assert_eq!(sink.mails().len(), 2);
    let sent = app
        .store
        .list_outbox(
            org,
            &OutboxQuery {
                status: "sent".into(),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(sent.len(), 2);
}

#[tokio::test]
async fn changing_the_expiry_reschedules_the_reminder() {
    let app = spawn_app().await;
    let sink = SmtpSink::start().await;
    let s = settings(&app, &sink.url(), None);
    let tz = chrono_tz::Asia::Kolkata;
    let (_, offer) = reminded_offer(&app, "Acme", tz).await;
    let org = app.org_id("Acme").await;
    let record = app.store.get_offer(org, offer).await.unwrap();
    let mut rules = record.rules.clone();
    rules.expiry = offerdesk::domain::offer::OfferExpiry::Fixed(day(2027, 3, 20));
    app.store
        .update_offer(
            org,
            offer,
            &record.offer_code,
            &rules,
            json!({}),
            &offerdesk::domain::user::Actor::system("test"),
        )
        .await
        .unwrap();
    run(&app, &s, ten(day(2027, 3, 10), tz)).await;
    assert!(
        sink.mails().is_empty(),
        "the old day has no reminder any more"
    );
    run(&app, &s, ten(day(2027, 3, 17), tz)).await;
    let mails = sink.mails();
    assert_eq!(mails.len(), 2);
    assert!(mails[0].text().contains("20 Mar 2027"));
}

#[tokio::test]
async fn customers_get_each_coupon_expiry_reminder_once_by_email_and_sms() {
    use offerdesk::domain::offer::form::{OfferContext, OfferForm, parse};
    let app = spawn_app().await;
    let smtp = SmtpSink::start().await;
    let sms = HttpSink::start().await;
    let s = settings(&app, &smtp.url(), Some(&sms.url()));
    let api = Api::of(&app, "Acme", 1000).await;
    let org = app.org_id("Acme").await;
    let form = OfferForm {
        name: "Birthday".into(),
        expires_on: "2099-12-31".into(),
        discount_type: "ABS".into(),
        discount_value: "250".into(),
        coupon_expiry: "days".into(),
        coupon_expiry_n: "10".into(),
        reminder_days: vec!["2".into(), "2".into()],
        reminder_channel: vec!["email".into(), "sms".into()],
        reminder_text: vec![
            "Hi {first_name}, {code} ends {expiry}: {discount}".into(),
            "{code} ends {expiry}".into(),
        ],
        ..OfferForm::defaults()
    };
    let ctx = OfferContext {
        digits: 2,
        today: day(2000, 1, 1),
        ..Default::default()
    };
    let rules = parse(&form, &ctx).unwrap();
    let offer = app
        .store
        .create_offer(
            org,
            &rules,
            None,
            None,
            &offerdesk::domain::user::Actor::system("test"),
        )
        .await
        .unwrap();
    let mut codes = Vec::new();
    for who in ["a@x.io", "b@x.io", "c@x.io"] {
        let (_, v) = api
            .post(
                "/coupon/issue",
                json!({"seriesId": offer, "customer": {"email": who}}),
            )
            .await;
        codes.push(v["code"].as_str().unwrap().to_string());
    }
    let sms_code = api.issue(offer, "9800000009").await;
    // One coupon is used: it gets no reminder.
    let (status, _) = api
        .post("/coupon/redeem", json!({"transactionNumber": "R1", "billAmount": 1000, "customer": {"email": "c@x.io"}, "codes": [codes[2]]}))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    // The offer is delivered by this system: each code was sent when issued (three emails,
    // one SMS) — those come first in the sinks.
    assert_eq!(run(&app, &s, Utc::now()).await.delivered, 4);
    assert_eq!((smtp.mails().len(), sms.bodies().len()), (3, 1));

    let tz = chrono_tz::Asia::Kolkata;
    let issued_on = Utc::now().with_timezone(&tz).date_naive();
    let valid_till = issued_on + Duration::days(9);
    let reminder_day = valid_till - Duration::days(2);
    run(&app, &s, ten(reminder_day, tz) - Duration::minutes(5)).await;
    assert!(
        smtp.mails().len() == 3 && sms.bodies().len() == 1,
        "not before 10:00"
    );

    let report = run(&app, &s, ten(reminder_day, tz)).await;
    assert_eq!(
        report.coupon_queued,
        2 + 1,
        "two emails (the used coupon is left out) and one SMS"
    );
    let mails = smtp.mails()[3..].to_vec();
    assert_eq!(mails.len(), 2);
    // Dates as the console writes them ("9 Dec 2026").
    let expiry = valid_till.format("%-d %b %Y").to_string();
    let all: String = mails.iter().map(|m| m.text()).collect();
    assert!(
        all.contains(&format!("{} ends {expiry}: ₹250 off", codes[0])),
        "{all}"
    );
    // No first name is known: "Hi {first_name}, …" reads "Hi, …", never "Hi , …".
    assert!(all.contains(&format!("Hi, {} ends", codes[0])), "{all}");
    assert!(!all.contains("Hi ,"));
    assert!(!all.contains(&codes[2]));
    let bodies = sms.bodies()[1..].to_vec();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["to"], "9800000009");
    assert_eq!(bodies[0]["text"], format!("{sms_code} ends {expiry}"));

    run(&app, &s, ten(reminder_day, tz) + Duration::hours(2)).await;
    assert_eq!(smtp.mails().len(), 3 + 2, "once per coupon per reminder");
    assert_eq!(sms.bodies().len(), 1 + 1);
}

// Multi-threaded: the SMTP sink must answer while this thread waits for the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offerdesk_run_jobs_sends_what_is_due_as_of_now_and_exits() {
    let app = spawn_app().await;
    let sink = SmtpSink::start().await;
    let tz = chrono_tz::Asia::Kolkata;
    reminded_offer(&app, "Acme", tz).await;
    let run_cli = |now: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_offerdesk"))
            .args(["run-jobs", "--now", now])
            .env("DATABASE_URL", app.db.url())
            .env("SMTP_URL", sink.url())
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let before = run_cli("2027-03-10T09:59:00+05:30");
    assert!(
        before.status.success(),
        "{}",
        String::from_utf8_lossy(&before.stderr)
    );
    assert!(sink.mails().is_empty());
    let at_ten = run_cli("2027-03-10T10:00:00+05:30");
    let out = String::from_utf8_lossy(&at_ten.stdout);
    assert!(
        out.contains("poc_reminders_queued=2") && out.contains("delivered=2"),
        "{out}"
    );
    assert_eq!(sink.mails().len(), 2);
    let bad = run_cli("tomorrow");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RFC 3339"));
}
