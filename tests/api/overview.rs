//! The Overview page (issue 13.16) over HTTP on both databases: redemptions and discount made
//! through the integration API show in today's and the week's figures (in the org's calendar,
//! Asia/Kolkata, and its currency, INR); a reversal takes them out; offers ending within 7 days,
//! caps at least 80% used, jobs and failed deliveries are listed with links to where they are
//! dealt with; the pre-aggregated slots agree with the numbers put in, also under concurrency.

use crate::helpers::{Browser, TestApp, spawn_app};
use crate::integration::Api;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use offerdesk::domain::ids::{OfferId, OrgId};
use offerdesk::domain::user::Role;
use offerdesk::store::performance::day_start;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

/// The test org's time zone (`create_org_admin`).
const TZ: chrono_tz::Tz = chrono_tz::Asia::Kolkata;

fn today() -> NaiveDate {
    Utc::now().with_timezone(&TZ).date_naive()
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

async fn overview(b: &Browser) -> String {
    let page = b.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    page.body
}

/// The text inside the first `<tag …>` after `id="…"`.
fn inner<'a>(html: &'a str, id: &str, tag: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id}"));
    let rest = &html[start..];
    let open = rest.find(&format!("<{tag}")).unwrap();
    let rest = &rest[open..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    &rest[..rest.find(&format!("</{tag}>")).unwrap()]
}

/// The big number of figure `id`.
fn figure(html: &str, id: &str) -> String {
    inner(html, id, "strong").to_string()
}

/// The whole figure tile `id` (label, number and comparison).
fn tile<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("id=\"{id}\"")).unwrap();
    let rest = &html[start..];
    let end = rest.find("</div>").or_else(|| rest.find("</a>")).unwrap();
    &rest[..end]
}

/// The card `id` (a `<section>`).
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section #{id}"));
    &html[start..start + html[start..].find("</section>").unwrap()]
}

/// A second connection to the test database, for what the API cannot do: move a redemption
/// into the past (as time passing would), end an offer yesterday, and put a failed message and
/// jobs in place.
enum Db {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

/// One bound value.
enum V {
    I(i64),
    T(&'static str),
    At(DateTime<Utc>),
    NoAt,
    NoText,
    Day(NaiveDate),
}

macro_rules! bound {
    ($q:expr, $vals:expr) => {{
        let mut q = $q;
        for v in $vals {
            q = match v {
                V::I(x) => q.bind(*x),
                V::T(x) => q.bind(*x),
                V::At(x) => q.bind(*x),
                V::NoAt => q.bind(None::<DateTime<Utc>>),
                V::NoText => q.bind(None::<String>),
                V::Day(x) => q.bind(*x),
            };
        }
        q
    }};
}

impl Db {
    async fn open(app: &TestApp) -> Db {
        let url = app.db.url();
        if url.starts_with("sqlite:") {
            Db::Sqlite(sqlx::SqliteConnection::connect(url).await.unwrap())
        } else {
            Db::Postgres(sqlx::PgConnection::connect(url).await.unwrap())
        }
    }

    async fn exec(&mut self, sql: &'static str, vals: &[V]) {
        match self {
            Db::Sqlite(c) => {
                bound!(sqlx::query(sql), vals).execute(c).await.unwrap();
            }
            Db::Postgres(c) => {
                bound!(sqlx::query(sql), vals).execute(c).await.unwrap();
            }
        }
    }

    /// What the slot table holds for the org: (redemptions, discount).
    async fn slot_totals(&mut self, org_id: OrgId) -> (i64, i64) {
        let sql = "SELECT CAST(COALESCE(SUM(redemptions), 0) AS BIGINT), CAST(COALESCE(SUM(discount), 0) AS BIGINT) \
                   FROM org_redemption_slots WHERE org_id = $1";
        match self {
            Db::Sqlite(c) => sqlx::query_as(sql).bind(org_id).fetch_one(c).await,
            Db::Postgres(c) => sqlx::query_as(sql).bind(org_id).fetch_one(c).await,
        }
        .unwrap()
    }
}

/// A unique-code offer of ₹125.50 off through the API, last day `valid_till`; `extra` fields
/// are merged into the body.
async fn offer(api: &Api, name: &str, valid_till: NaiveDate, extra: Value) -> OfferId {
    let mut body = json!({"name": name, "discountType": "ABS", "discountValue": 12550,
        "codeType": "UNIQUE", "validTill": ymd(valid_till)});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    api.series(body).await
}

fn mobile(n: usize) -> String {
    format!("98{n:08}")
}

async fn redeem(api: &Api, txn: &str, codes: &[(String, String)]) {
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": txn, "billAmount": 100000, "customer": {"mobile": codes[0].1},
                "codes": codes.iter().map(|c| c.0.clone()).collect::<Vec<_>>()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{txn}: {v}");
}

/// Issues `n` coupons of `offer` to new customers numbered from `from`; (code, mobile).
async fn issue(api: &Api, offer: OfferId, from: usize, n: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for i in from..from + n {
        let m = mobile(i);
        out.push((api.issue(offer, &m).await, m));
    }
    out
}

#[tokio::test]
async fn redemptions_through_the_api_show_today_and_a_reversal_takes_them_out() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let admin = app.signed_in("admin@acme.example.com").await;
    let org_id = app.org_id("Acme").await;

    // Nothing yet: zeros, and no chart.
    let html = overview(&admin).await;
    assert!(html.contains("<h1>Overview</h1>"));
    assert!(html.contains("(Asia/Kolkata)"));
    assert_eq!(figure(&html, "redemptions-today"), "0");
    assert_eq!(figure(&html, "discount-today"), "₹0");
    assert!(section(&html, "chart-redemptions").contains("No redemptions in the last 14 days"));

    let welcome = offer(&api, "Welcome", today() + Duration::days(60), json!({})).await;
    let bonus = offer(&api, "Bonus", today() + Duration::days(60), json!({})).await;
    let codes = issue(&api, welcome, 1, 3).await;
    let bonus_code = issue(&api, bonus, 3, 1).await.remove(0);
    // Three sales today, the last of two codes of one customer: 4 redemptions of ₹125.50.
    redeem(&api, "T1", &codes[0..1]).await;
    redeem(&api, "T2", &codes[1..2]).await;
    redeem(&api, "T3", &[codes[2].clone(), bonus_code]).await;

    let html = overview(&admin).await;
    assert_eq!(figure(&html, "redemptions-today"), "4");
    assert_eq!(figure(&html, "discount-today"), "₹502");
    assert_eq!(figure(&html, "redemptions-week"), "4");
    assert_eq!(figure(&html, "discount-week"), "₹502");
    // Nothing a week ago: new.
    assert!(tile(&html, "redemptions-today").contains(">new</span> vs 0 by this time last week"));
    assert!(tile(&html, "discount-week").contains("vs ₹0 the week before"));
    let chart = section(&html, "chart-redemptions");
    assert!(chart.contains("<svg class=\"chart ov-week\""));
    assert!(chart.contains(&format!(
        "<title>{} (so far): 4 redemptions · {}: 0 redemptions</title>",
        today().format("%a %-d %b"),
        (today() - Duration::days(7)).format("%a %-d %b")
    )));
    assert_eq!(chart.matches("class=\"bar-this\"").count(), 1);
    assert!(section(&html, "chart-discount").contains("class=\"this-total\">₹502<"));
    assert_eq!(app_slots(&app, org_id).await, (4, 50_200));

    // Reversing the two-code sale takes both out of today.
    let (status, v) = api
        .post("/coupon/reverse", json!({"transactionNumber": "T3"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let html = overview(&admin).await;
    assert_eq!(figure(&html, "redemptions-today"), "2");
    assert_eq!(figure(&html, "discount-today"), "₹251");
    assert_eq!(figure(&html, "redemptions-week"), "2");
    assert_eq!(app_slots(&app, org_id).await, (2, 25_100));
    // Reversing again changes nothing.
    api.post("/coupon/reverse", json!({"transactionNumber": "T3"}))
        .await;
    assert_eq!(figure(&overview(&admin).await, "redemptions-today"), "2");

    // T2 happened a week ago, early on that day (the org's calendar): it leaves today and the
    // last 7 days, and is what today is compared with.
    let mut db = Db::open(&app).await;
    let week_ago = day_start(TZ, today() - Duration::days(7)) + Duration::minutes(1);
    db.exec(
        "UPDATE redemptions SET redeemed_at = $1 WHERE transaction_number = $2",
        &[V::At(week_ago), V::T("T2")],
    )
    .await;
    // And a redemption of 8 days ago (the week before, not its last day) of ₹125.50 more:
    // redeem T4 now and move it.
    redeem(&api, "T4", &issue(&api, welcome, 10, 1).await).await;
    db.exec(
        "UPDATE redemptions SET redeemed_at = $1 WHERE transaction_number = $2",
        &[
            V::At(day_start(TZ, today() - Duration::days(8)) + Duration::hours(12)),
            V::T("T4"),
        ],
    )
    .await;
    let html = overview(&admin).await;
    assert_eq!(figure(&html, "redemptions-today"), "1");
    assert_eq!(figure(&html, "discount-today"), "₹125.50");
    assert!(
        tile(&html, "redemptions-today").contains(">no change</span> vs 1 by this time last week"),
        "{}",
        tile(&html, "redemptions-today")
    );
    assert_eq!(figure(&html, "redemptions-week"), "1");
    assert!(
        tile(&html, "redemptions-week").contains(">\u{2212}50%</span> vs 2 the week before"),
        "{}",
        tile(&html, "redemptions-week")
    );
    assert!(tile(&html, "discount-week").contains("vs ₹251 the week before"));
    let chart = section(&html, "chart-redemptions");
    assert!(chart.contains(&format!(
        "<title>{} (so far): 1 redemption · {}: 1 redemption</title>",
        today().format("%a %-d %b"),
        (today() - Duration::days(7)).format("%a %-d %b")
    )));
    assert!(chart.contains(&format!(
        "<title>{}: 0 redemptions · {}: 1 redemption</title>",
        (today() - Duration::days(1)).format("%a %-d %b"),
        (today() - Duration::days(8)).format("%a %-d %b")
    )));
    assert_eq!(chart.matches("class=\"bar-before\"").count(), 2);
    assert_eq!(app_slots(&app, org_id).await, (3, 37_650));

    // Another org's redemptions are not this org's.
    let globex = Api::of(&app, "Globex", 1000).await;
    let g = offer(&globex, "Other", today() + Duration::days(60), json!({})).await;
    redeem(&globex, "G1", &issue(&globex, g, 50, 1).await).await;
    assert_eq!(figure(&overview(&admin).await, "redemptions-today"), "1");
}

/// The slot table's totals for the org.
async fn app_slots(app: &TestApp, org_id: OrgId) -> (i64, i64) {
    Db::open(app).await.slot_totals(org_id).await
}

#[tokio::test]
async fn offers_ending_caps_jobs_and_failed_deliveries_link_to_where_they_are_dealt_with() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let admin = app.signed_in("admin@acme.example.com").await;
    let org_id = app.org_id("Acme").await;
    let today = today();

    let flash = offer(&api, "Flash Sale", today + Duration::days(3), json!({})).await;
    let last_day = offer(&api, "Last Day", today, json!({})).await;
    let later = offer(&api, "Later", today + Duration::days(7), json!({})).await;
    let ended = offer(&api, "Ended", today + Duration::days(30), json!({})).await;
    // Redemption cap 5, 4 used: 80%. Issue cap 4, all used: reached. Cap 10 with 4 used: 40%.
    let capped = offer(
        &api,
        "Capped",
        today + Duration::days(90),
        json!({"maxRedeem": 5}),
    )
    .await;
    let limited = offer(
        &api,
        "Limited",
        today + Duration::days(90),
        json!({"totalIssualCap": 4}),
    )
    .await;
    let roomy = offer(
        &api,
        "Roomy",
        today + Duration::days(90),
        json!({"maxRedeem": 10}),
    )
    .await;
    let codes = issue(&api, capped, 1, 4).await;
    for (i, c) in codes.iter().enumerate() {
        redeem(&api, &format!("C{i}"), std::slice::from_ref(c)).await;
    }
    issue(&api, limited, 10, 4).await;
    let codes = issue(&api, roomy, 20, 4).await;
    for (i, c) in codes.iter().enumerate() {
        redeem(&api, &format!("R{i}"), std::slice::from_ref(c)).await;
    }
    let mut db = Db::open(&app).await;
    db.exec(
        "UPDATE offers SET expires_on = $1 WHERE id = $2",
        &[V::Day(today - Duration::days(1)), V::I(ended.get())],
    )
    .await;

    // A failed message, a running and a failed job, and a job done (not listed).
    let now = Utc::now();
    db.exec(
        "INSERT INTO outbox (org_id, kind, channel, recipient, subject, body_text, status, attempts, last_error, \
         next_attempt_at, offer_id, created_at, last_attempt_at) \
         VALUES ($1, 'resend', 'sms', '+919800000001', 'Your code', 'Your code is X', 'failed', 20, $2, $3, $4, $3, $3)",
        &[
            V::I(org_id.get()),
            V::T("SMS gateway refused the number"),
            V::At(now),
            V::I(flash.get()),
        ],
    )
    .await;
    let job = "INSERT INTO jobs (org_id, offer_id, kind, params, status, attempts, lease_until, error, created_at, started_at, finished_at) \
               VALUES ($1, $2, $3, '{}', $4, 1, $5, $6, $7, $7, $8)";
    db.exec(
        job,
        &[
            V::I(org_id.get()),
            V::I(roomy.get()),
            V::T("generate"),
            V::T("running"),
            V::At(now + Duration::hours(1)),
            V::NoText,
            V::At(now),
            V::NoAt,
        ],
    )
    .await;
    db.exec(
        job,
        &[
            V::I(org_id.get()),
            V::I(limited.get()),
            V::T("bulk_issue"),
            V::T("failed"),
            V::At(now - Duration::hours(1)),
            V::T("the file has no header"),
            V::At(now - Duration::hours(2)),
            V::At(now - Duration::hours(1)),
        ],
    )
    .await;
    db.exec(
        job,
        &[
            V::I(org_id.get()),
            V::I(capped.get()),
            V::T("upload_codes"),
            V::T("done"),
            V::NoAt,
            V::NoText,
            V::At(now),
            V::At(now),
        ],
    )
    .await;

    let html = overview(&admin).await;
    // Live: all but Ended.
    assert_eq!(figure(&html, "live-offers"), "6");
    assert!(html.contains("href=\"/offers?active=on\" id=\"live-offers\""));
    assert!(tile(&html, "live-offers").contains("2 end in the next 7 days"));

    let ending = section(&html, "ending-soon");
    let (a, b) = (
        ending
            .find(&format!("<a href=\"/offers/{last_day}\">Last Day</a>"))
            .expect("Last Day listed"),
        ending
            .find(&format!("<a href=\"/offers/{flash}\">Flash Sale</a>"))
            .expect("Flash Sale listed"),
    );
    assert!(a < b, "soonest first");
    assert!(ending.contains(">Today</span>"));
    assert!(ending.contains("in 3 days"));
    assert!(ending.contains(&format!("href=\"/offers/{flash}/edit\"")));
    assert!(!ending.contains("Later"), "its last day is 7 days away");
    assert!(!ending.contains("Ended"));
    assert!(!ending.contains(&format!("/offers/{later}\"")));

    let caps = section(&html, "caps");
    let (l, c) = (
        caps.find(&format!("<a href=\"/offers/{limited}\">Limited</a>"))
            .expect("the issue cap reached is listed"),
        caps.find(&format!("<a href=\"/offers/{capped}\">Capped</a>"))
            .expect("the redemption cap 80% used is listed"),
    );
    assert!(l < c, "fullest first");
    assert!(caps.contains("100% · 4 of 4"));
    assert!(caps.contains("80% · 4 of 5"));
    assert!(caps.contains(">reached</span>"));
    assert!(caps.contains("Issue cap") && caps.contains("Redemption cap"));
    assert!(caps.contains(&format!("href=\"/offers/{capped}/edit\"")));
    assert!(!caps.contains("Roomy"), "40% is not nearly reached");

    let jobs = section(&html, "jobs");
    assert!(jobs.contains(&format!("<a href=\"/offers/{roomy}/coupons\">Roomy</a>")));
    assert!(jobs.contains("Generate codes") && jobs.contains(">Running</span>"));
    assert!(jobs.contains(&format!(
        "<a href=\"/offers/{limited}/coupons\">Limited</a>"
    )));
    assert!(jobs.contains(">Failed</span>") && jobs.contains("See why on the Coupons tab"));
    assert!(
        !jobs.contains("Upload codes"),
        "a finished job is not listed"
    );

    let failed = section(&html, "failed-deliveries");
    assert!(failed.contains("href=\"/admin/outbox?status=failed\""));
    assert!(failed.contains("<strong>1</strong> failed"));
    assert!(failed.contains("SMS gateway refused the number"));
    assert!(failed.contains(&format!("<a href=\"/offers/{flash}\">Flash Sale</a>")));
    assert!(failed.contains(&now.with_timezone(&TZ).format("%-d %b %Y %H:%M").to_string()));

    // A viewer sees the lists but neither the outbox nor edit links; another org sees none.
    let viewer = app
        .signed_in(&app.create_user("Acme", Role::Viewer).await)
        .await;
    let html = overview(&viewer).await;
    assert!(!html.contains("id=\"failed-deliveries\""));
    assert!(!html.contains("/admin/outbox"));
    assert!(!html.contains("/edit\""));
    assert!(section(&html, "caps").contains("Capped"));
    let csm = app
        .signed_in(&app.create_user("Acme", Role::Csm).await)
        .await;
    assert!(
        overview(&csm)
            .await
            .contains("href=\"/admin/outbox?status=failed\"")
    );
    app.create_org_admin("Globex").await;
    let globex = app.signed_in("admin@globex.example.com").await;
    let html = overview(&globex).await;
    assert_eq!(figure(&html, "live-offers"), "0");
    assert!(section(&html, "ending-soon").contains("No live offer ends"));
    assert!(section(&html, "caps").contains("No live offer has used 80%"));
    assert!(section(&html, "jobs").contains("No jobs running"));
    assert!(section(&html, "failed-deliveries").contains("No failed deliveries"));
}

#[tokio::test]
async fn concurrent_redemptions_are_all_counted_once() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let admin = app.signed_in("admin@acme.example.com").await;
    let org_id = app.org_id("Acme").await;
    let open = offer(&api, "Open", today() + Duration::days(60), json!({})).await;
    let capped = offer(
        &api,
        "Capped",
        today() + Duration::days(60),
        json!({"maxRedeem": 1000}),
    )
    .await;
    let mut codes = issue(&api, open, 1, 24).await;
    codes.extend(issue(&api, capped, 100, 16).await);
    // 40 sales at once on both kinds of offer (the uncapped one-statement path and the capped
    // transaction), each retried once concurrently (a replay redeems nothing more).
    let mut tasks = Vec::new();
    for (i, c) in codes.iter().enumerate() {
        for _ in 0..2 {
            let (api, c) = (api.clone(), c.clone());
            tasks.push(tokio::spawn(async move {
                let (status, v) = api
                    .post(
                        "/coupon/redeem",
                        json!({"transactionNumber": format!("P{i}"), "billAmount": 100000,
                            "customer": {"mobile": c.1}, "codes": [c.0]}),
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "{v}");
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let html = overview(&admin).await;
    assert_eq!(figure(&html, "redemptions-today"), "40");
    assert_eq!(figure(&html, "discount-today"), "₹5,020");
    assert_eq!(app_slots(&app, org_id).await, (40, 502_000));
    // Reversing half of them at once.
    let mut tasks = Vec::new();
    for i in (0..40).step_by(2) {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            let (status, v) = api
                .post(
                    "/coupon/reverse",
                    json!({"transactionNumber": format!("P{i}")}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{v}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let html = overview(&admin).await;
    assert_eq!(figure(&html, "redemptions-today"), "20");
    assert_eq!(figure(&html, "discount-today"), "₹2,510");
    assert_eq!(app_slots(&app, org_id).await, (20, 251_000));
}
