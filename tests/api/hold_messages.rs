//! Messages of earned and reward promotions (issue #17, seed 003 "Communication") and the
//! maximum earning per customer with a reset period, over HTTP on both databases: the message
//! on earning (SMS, email by preference, push to the webhook) with its placeholders, the
//! reminder before the window ends at 10:00 in the org's time zone (Asia/Kolkata for the
//! test orgs) — not sent when the customer used it — and each once across two instances.

use crate::helpers::{TestApp, spawn_app, spawn_app_on, test_settings};
use crate::integration::Api;
use crate::sinks::{HttpSink, SmtpSink};
use chrono::{DateTime, Days, Duration, NaiveDate, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// 10:00 on `day` in Asia/Kolkata.
fn ten_ist(day: NaiveDate) -> DateTime<Utc> {
    chrono_tz::Asia::Kolkata
        .from_local_datetime(&day.and_hms_opt(10, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

struct Sinks {
    smtp: SmtpSink,
    sms: HttpSink,
    push: HttpSink,
}

impl Sinks {
    async fn start() -> Sinks {
        Sinks {
            smtp: SmtpSink::start().await,
            sms: HttpSink::start().await,
            push: HttpSink::start().await,
        }
    }

    fn settings(&self, app: &TestApp) -> offerdesk::config::Settings {
        let mut s = test_settings(app.db.url());
        s.smtp_url = Some(self.smtp.url());
        s.sms_gateway_url = Some(self.sms.url());
        s.push_webhook_url = Some(self.push.url());
        s
    }
}

async fn run(app: &TestApp, s: &offerdesk::config::Settings, now: DateTime<Utc>) {
    offerdesk::cli::run_jobs(&app.store, s, now).await.unwrap();
}

async fn promotion(api: &Api, name: &str, kind: &str, holding: Value) -> i64 {
    let rules = json!({
        "name": name,
        "kind": {"type": kind},
        "validity": {"starts": "2026-01-01T00:00:00Z"},
        "benefit": {"target": {"type": "cart"}, "value": {"type": "percent", "basisPoints": 1000}},
        "stacking": "stackable",
        "holding": holding
    });
    let (status, v) = api.post("/promotions", json!({"promotion": rules})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["id"].as_i64().unwrap()
}

async fn event(api: &Api, id: &str, mobile: &str, amount: i64, occurred: Option<&str>) -> Value {
    let mut body = json!({"type": "transaction", "eventId": id, "customer": {"mobile": mobile},
                          "amount": amount});
    if let Some(when) = occurred {
        body["occurredAt"] = json!(when);
    }
    let (status, v) = api.post("/events", body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["results"][0].clone()
}

/// (recipient, text) of each SMS the gateway got.
fn sms_of(sink: &HttpSink) -> Vec<(String, String)> {
    let mut got: Vec<(String, String)> = sink
        .bodies()
        .iter()
        .map(|b| {
            (
                b["to"].as_str().unwrap().to_string(),
                b["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    got
}

#[tokio::test]
async fn earning_sends_its_message_once_and_the_reminder_comes_the_day_before_the_window_ends() {
    let app = spawn_app().await;
    let sinks = Sinks::start().await;
    let s = sinks.settings(&app);
    let api = Api::of(&app, "Acme", 10_000).await;
    // Asha has a first name and prefers email; Ravi is known by his mobile only.
    let (status, v) = api
        .put(
            "/customers/contacts",
            json!({"contacts": [{"customer": {"mobile": "9800000001", "firstName": "Asha"},
                                 "email": "asha@example.com", "preferredChannel": "email"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    promotion(
        &api,
        "Big spender 10%",
        "earned",
        json!({"windowDays": 3, "earning": {"event": "transaction", "minAmount": 200000},
               "messages": {
                   "onEarning": "Hi {first_name}, {promotion} is yours until {valid_till} at {brand}.",
                   "reminder": {"daysBefore": 1, "text": "Hi {first_name}, {promotion} ends on {valid_till}."}}}),
    )
    .await;
    // Both earn today (IST); held today and the next two days. The cart below runs on the real
    // clock, so the dates are today's.
    let kolkata = chrono_tz::Asia::Kolkata;
    let today = Utc::now().with_timezone(&kolkata).date_naive();
    let last_day = (today + Days::new(2)).format("%-d %b %Y").to_string();
    event(&api, "E-1", "9800000001", 250000, None).await;
    event(&api, "E-2", "9800000002", 250000, None).await;
    // A retried event sends nothing more.
    event(&api, "E-2", "9800000002", 250000, None).await;
    // Ravi uses it in a closed cart; Asha does not.
    let (status, v) = api
        .put(
            "/carts/C-1",
            json!({"state": "closed", "customer": {"mobile": "9800000002"},
                   "lines": [{"sku": "TEE-1", "quantity": 1, "unitPrice": 100000}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["discount"], 10000, "{v}");

    run(&app, &s, Utc::now()).await;
    let mails = sinks.smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, ["RCPT TO:<asha@example.com>"]);
    let expected = format!("Hi Asha, Big spender 10% is yours until {last_day} at Acme.");
    assert!(mails[0].text().contains(&expected), "{}", mails[0].text());
    // No first name: "Hi {first_name}," reads "Hi,".
    assert_eq!(
        sms_of(&sinks.sms),
        [(
            "9800000002".to_string(),
            format!("Hi, Big spender 10% is yours until {last_day} at Acme.")
        )]
    );

    // The reminder goes at 10:00 IST the day before the last day, not before; to Asha only
    // (Ravi used it), once although two instances run the scheduler at the same moment.
    let due = ten_ist(today + Days::new(1));
    run(&app, &s, due - Duration::minutes(1)).await;
    assert_eq!(sinks.smtp.mails().len(), 1);
    let second = spawn_app_on(app.db.clone()).await;
    tokio::join!(run(&app, &s, due), run(&second, &s, due));
    run(&second, &s, due + Duration::hours(5)).await;
    let mails = sinks.smtp.mails();
    assert_eq!(mails.len(), 2, "{mails:?}");
    let expected = format!("Hi Asha, Big spender 10% ends on {last_day}.");
    assert!(mails[1].text().contains(&expected), "{}", mails[1].text());
    assert_eq!(sinks.sms.bodies().len(), 1);
    // The outbox page names both kinds.
    let admin = app.signed_in("admin@acme.example.com").await;
    let page = admin.get("/admin/outbox").await;
    assert!(page.body.contains("Promotion earned"), "{}", page.body);
    assert!(page.body.contains("Earned promotion reminder"));
}

#[tokio::test]
async fn a_reward_acquired_is_announced_by_push_once() {
    let app = spawn_app().await;
    let sinks = Sinks::start().await;
    let s = sinks.settings(&app);
    let api = Api::of(&app, "Acme", 10_000).await;
    let promo = promotion(
        &api,
        "Free coffee reward",
        "reward",
        json!({"windowDays": 7, "messages": {"channel": "push",
               "onEarning": "{promotion} is in your wallet."}}),
    )
    .await;
    let body = json!({"promotionId": promo, "customer": {"externalId": "LOYAL-7"},
                      "cost": {"points": 500}, "requestId": "R-1"});
    let (status, v) = api.post("/customers/rewards", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, _) = api.post("/customers/rewards", body).await;
    assert_eq!(status, StatusCode::OK);
    run(&app, &s, Utc::now()).await;
    let pushes = sinks.push.bodies();
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0]["to"], "LOYAL-7");
    assert_eq!(pushes[0]["text"], "Free coffee reward is in your wallet.");
    assert!(
        pushes[0]["title"]
            .as_str()
            .unwrap()
            .contains("Free coffee reward"),
        "{pushes:?}"
    );
    assert!(sinks.sms.bodies().is_empty());
    // The outbox page says it went by push.
    let admin = app.signed_in("admin@acme.example.com").await;
    let page = admin.get("/admin/outbox?kind=earned").await;
    assert!(
        page.body.contains("Push") && page.body.contains("LOYAL-7"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn the_maximum_earning_per_customer_resets_each_calendar_month_in_the_orgs_zone() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let promo = promotion(
        &api,
        "Monthly treat",
        "earned",
        json!({"maxPerCustomer": 1, "maxPerCustomerReset": {"type": "calendarMonth"},
               "earning": {"event": "transaction"}}),
    )
    .await;
    let earned = |v: &Value| v["earned"].as_array().unwrap().len();
    // (event, occurred at (UTC), earns?) — Kolkata is UTC+05:30.
    let table = [
        ("M-1", "2026-10-05T06:00:00Z", true),
        ("M-2", "2026-10-20T06:00:00Z", false),
        // 31 Oct 17:00 UTC is 22:30 IST, still October.
        ("M-3", "2026-10-31T17:00:00Z", false),
        // 31 Oct 20:00 UTC is 1 Nov 01:30 IST: November's first.
        ("M-4", "2026-10-31T20:00:00Z", true),
        ("M-5", "2026-11-15T06:00:00Z", false),
        // A backfilled September event counts in September, not against October or November.
        ("M-6", "2026-09-10T06:00:00Z", true),
        ("M-7", "2026-09-20T06:00:00Z", false),
    ];
    for (id, when, earns) in table {
        let v = event(&api, id, "9800000005", 1000, Some(when)).await;
        assert_eq!(earned(&v) == 1, earns, "{id} at {when}: {v}");
        if earns {
            assert_eq!(v["earned"][0]["promotionId"], promo);
        }
    }
    // A reset without a maximum is refused, naming the field.
    let (status, v) = api
        .post(
            "/promotions",
            json!({"promotion": {"name": "Bad", "kind": {"type": "earned"},
                "validity": {"starts": "2026-01-01T00:00:00Z"},
                "benefit": {"target": {"type": "cart"}, "value": {"type": "percent", "basisPoints": 1000}},
                "stacking": "stackable",
                "holding": {"maxPerCustomerReset": {"type": "calendarMonth"},
                            "earning": {"event": "transaction"}}}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "promotion.holding", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("maxPerCustomer"),
        "{v}"
    );
    // An unknown placeholder in a message is refused too.
    let (status, v) = api
        .post(
            "/promotions",
            json!({"promotion": {"name": "Bad", "kind": {"type": "earned"},
                "validity": {"starts": "2026-01-01T00:00:00Z"},
                "benefit": {"target": {"type": "cart"}, "value": {"type": "percent", "basisPoints": 1000}},
                "stacking": "stackable",
                "holding": {"earning": {"event": "transaction"},
                            "messages": {"onEarning": "Your {code} is here"}}}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("{valid_till}"),
        "{v}"
    );
}
