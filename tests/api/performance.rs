//! The offer page's Performance tab over HTTP on both databases: figures, discount, top
//! stores, reversals, days of the org's calendar, the empty state, who may see it, and a
//! screenshot of the chart in headless Chromium.

use crate::browser::{browser, chromedriver, screenshot_path, sign_in, wait_for_text};
use crate::helpers::{Browser, TestApp, spawn_app};
use crate::issuing::offer_with;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use offerdesk::app::issue::IssueSource;
use offerdesk::app::redeem::OfferCache;
use offerdesk::domain::ids::OfferId;
use offerdesk::domain::issue::CustomerRef;
use offerdesk::domain::masters::{IdentifierType, MasterCode, StoreRow};
use offerdesk::domain::redemption::{RedeemRequest, Redeemed};
use offerdesk::domain::user::{Actor, Role};
use offerdesk::store::masters::CodedKind;
use offerdesk::store::performance::day_start;
use reqwest::StatusCode;
use sqlx::Connection;
use thirtyfour::prelude::*;

/// The test org's time zone (`create_org_admin`): midnight is 18:30 UTC.
const TZ: chrono_tz::Tz = chrono_tz::Asia::Kolkata;

fn today() -> NaiveDate {
    Utc::now().with_timezone(&TZ).date_naive()
}

/// "23 Nov", as the chart labels a day.
fn label(day: NaiveDate) -> String {
    day.format("%-d %b").to_string()
}

fn customer(n: usize) -> CustomerRef {
    CustomerRef::parse(IdentifierType::Mobile, &format!("90000{n:05}")).unwrap()
}

async fn acme(app: &TestApp) -> Browser {
    let email = app.create_org_admin("Acme").await;
    app.signed_in(&email).await
}

async fn add_store(app: &TestApp, code: &str, name: &str, zone_id: i64) {
    let row = StoreRow {
        code: MasterCode::parse("code", code).unwrap(),
        name: name.into(),
        zone_id,
        concept_id: None,
    };
    app.store
        .create_store(app.org_id("Acme").await, &row, &Actor::system("test"))
        .await
        .unwrap();
}

/// Issues a coupon of `offer` to each of `customers` through the store; their codes.
async fn issue(app: &TestApp, offer: OfferId, customers: &[CustomerRef]) -> Vec<String> {
    let ctx = offerdesk::app::issue::context(&app.store, app.org_id("Acme").await, offer)
        .await
        .unwrap();
    let source = IssueSource {
        label: "test".into(),
        consumer: None,
    };
    let mut codes = Vec::new();
    for chunk in customers.chunks(offerdesk::store::issue::ISSUE_CHUNK) {
        let outcomes = offerdesk::app::issue::issue_many(
            &app.store,
            &ctx,
            chunk,
            &source,
            &Actor::system("test"),
        )
        .await
        .unwrap();
        codes.extend(outcomes.into_iter().map(|o| o.expect("issued").code));
    }
    codes
}

/// Redeems `code` of `customer` on a bill of `bill` minor units as transaction `txn`.
async fn redeem(
    app: &TestApp,
    txn: &str,
    code: &str,
    customer: &CustomerRef,
    store_code: Option<&str>,
    bill: i64,
) {
    let req = RedeemRequest {
        org_id: app.org_id("Acme").await,
        transaction_number: txn.into(),
        bill_amount: bill,
        store_code: store_code.map(str::to_string),
        customer: Some(customer.clone()),
        codes: vec![offerdesk::domain::coupon::normalise_code(code).unwrap()],
        ..Default::default()
    };
    match offerdesk::app::redeem::redeem(&app.store, &OfferCache::default(), &req)
        .await
        .unwrap()
    {
        Redeemed::Done { .. } => {}
        _ => panic!("{txn}: {code} was not redeemed"),
    }
}

async fn performance(b: &Browser, offer: OfferId) -> String {
    let page = b.get(&format!("/offers/{offer}?tab=performance")).await;
    assert_eq!(page.status, StatusCode::OK);
    page.body
}

/// The text of the tile whose label is `label`.
fn tile(html: &str, label: &str) -> String {
    let start = html
        .find(&format!("<small>{label}</small><strong"))
        .unwrap_or_else(|| panic!("no tile {label}"));
    let rest = &html[start..];
    let value = &rest[rest.find("<strong").unwrap()..];
    let value = &value[value.find('>').unwrap() + 1..];
    value[..value.find("</strong>").unwrap()].to_string()
}

/// The row of `day` in the table of days with activity: (issued, redeemed), if listed.
fn day_row(html: &str, day: NaiveDate) -> Option<(String, String)> {
    let start = html.find(&format!("<tr><td>{}</td>", day.format("%a %-d %b")))?;
    let row = &html[start..];
    let row = &row[..row.find("</tr>").unwrap()];
    let cells: Vec<&str> = row
        .split("<td class=\"num\">")
        .skip(1)
        .map(|c| c.split("</td>").next().unwrap())
        .collect();
    Some((cells[0].to_string(), cells[1].to_string()))
}

/// The "Top stores" section.
fn top_stores(html: &str) -> &str {
    let start = html.find("id=\"top-stores\"").expect("top stores section");
    &html[start..start + html[start..].find("</section>").unwrap()]
}

#[tokio::test]
async fn the_performance_tab_shows_figures_discount_and_top_stores_and_forgets_reversals() {
    let app = spawn_app().await;
    let b = acme(&app).await;
    let zone = app.add_coded("Acme", CodedKind::Zone, "N", "North").await;
    add_store(&app, "S1", "Mall Road", zone).await;
    let offer = offer_with(&app, "Tenner", |_| {}).await;
    let customers: Vec<CustomerRef> = (1..=4).map(customer).collect();
    let codes = issue(&app, offer, &customers).await;
    // 10% off: ₹2,000 at Mall Road twice, ₹1,000 with no store.
    redeem(&app, "T1", &codes[0], &customers[0], Some("S1"), 200_000).await;
    redeem(&app, "T2", &codes[1], &customers[1], Some("s1"), 200_000).await;
    redeem(&app, "T3", &codes[2], &customers[2], None, 100_000).await;

    let config = b.get(&format!("/offers/{offer}")).await.body;
    assert!(config.contains(&format!("href=\"/offers/{offer}?tab=performance\"")));

    let html = performance(&b, offer).await;
    assert!(html.contains("aria-current=\"page\">Performance</a>"));
    assert_eq!(tile(&html, "Coupons issued"), "4");
    assert_eq!(tile(&html, "Coupons redeemed"), "3");
    assert_eq!(tile(&html, "Redemption rate"), "75.0%");
    assert_eq!(tile(&html, "Discount given"), "₹500");
    assert_eq!(tile(&html, "Average discount"), "₹166.67");
    let today = today();
    assert!(html.contains("<svg class=\"chart\""));
    assert!(html.contains(&format!(">{}</text>", label(today))));
    assert!(html.contains(&format!(
        "<title>{}: 4 issued, 3 redeemed</title>",
        label(today)
    )));
    assert_eq!(day_row(&html, today), Some(("4".into(), "3".into())));
    assert!(!html.contains("No issues or redemptions"));
    let stores = top_stores(&html);
    let mall = stores.find("Mall Road").expect("the store is listed");
    let none = stores
        .find("No store given")
        .expect("storeless redemptions");
    assert!(mall < none, "most redemptions first: {stores}");
    assert!(
        stores.contains("<code>S1</code></td><td class=\"num\">2</td><td class=\"num\">₹400</td>")
    );
    assert!(stores.contains("<td class=\"num\">1</td><td class=\"num\">₹100</td>"));

    // A reversed redemption no longer counts anywhere.
    app.store
        .reverse(app.org_id("Acme").await, "T3")
        .await
        .unwrap();
    let html = performance(&b, offer).await;
    assert_eq!(tile(&html, "Coupons redeemed"), "2");
    assert_eq!(tile(&html, "Redemption rate"), "50.0%");
    assert_eq!(tile(&html, "Discount given"), "₹400");
    assert_eq!(tile(&html, "Average discount"), "₹200");
    assert_eq!(day_row(&html, today), Some(("4".into(), "2".into())));
    assert!(!top_stores(&html).contains("No store given"));
}

#[tokio::test]
async fn an_offer_without_activity_shows_the_empty_state_to_a_viewer_and_is_hidden_from_other_orgs()
{
    let app = spawn_app().await;
    let _admin = acme(&app).await;
    let offer = offer_with(&app, "Quiet", |_| {}).await;
    let viewer = app
        .signed_in(&app.create_user("Acme", Role::Viewer).await)
        .await;
    let html = performance(&viewer, offer).await;
    assert!(html.contains("No issues or redemptions in the last 30 days"));
    assert!(!html.contains("<svg"));
    assert_eq!(tile(&html, "Coupons issued"), "0");
    assert_eq!(tile(&html, "Redemption rate"), "0%");
    assert_eq!(tile(&html, "Discount given"), "₹0");
    assert_eq!(tile(&html, "Average discount"), "—");
    assert!(top_stores(&html).contains("No redemptions in the last 30 days"));

    app.create_org_admin("Globex").await;
    let globex = app.signed_in("admin@globex.example.com").await;
    assert_eq!(
        globex
            .get(&format!("/offers/{offer}?tab=performance"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let other = app
        .store
        .offer_performance(app.org_id("Globex").await, offer, TZ, today());
    assert!(matches!(
        other.await,
        Err(offerdesk::store::StoreError::NotFound)
    ));
}

/// A second connection to the test database, to move rows the store wrote now into the past
/// (as time passing would).
enum Db {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
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

    /// Ids of an offer's rows of `table` (issuals or redemptions), oldest first.
    async fn ids(&mut self, table: &str, offer: OfferId) -> Vec<i64> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT id FROM {table} WHERE offer_id = $1 ORDER BY id"
        ));
        match self {
            Db::Sqlite(c) => sqlx::query_scalar(sql).bind(offer).fetch_all(c).await,
            Db::Postgres(c) => sqlx::query_scalar(sql).bind(offer).fetch_all(c).await,
        }
        .unwrap()
    }

    /// Sets the time of row `id` of `table` (issuals' `issued_at`, redemptions' `redeemed_at`).
    async fn set_time(&mut self, table: &str, id: i64, when: DateTime<Utc>) {
        let column = if table == "issuals" {
            "issued_at"
        } else {
            "redeemed_at"
        };
        let sql = sqlx::AssertSqlSafe(format!("UPDATE {table} SET {column} = $1 WHERE id = $2"));
        match self {
            Db::Sqlite(c) => {
                sqlx::query(sql)
                    .bind(when)
                    .bind(id)
                    .execute(c)
                    .await
                    .unwrap();
            }
            Db::Postgres(c) => {
                sqlx::query(sql)
                    .bind(when)
                    .bind(id)
                    .execute(c)
                    .await
                    .unwrap();
            }
        }
    }
}

#[tokio::test]
async fn days_follow_the_org_calendar_over_thirty_days_ending_today() {
    let app = spawn_app().await;
    let b = acme(&app).await;
    let offer = offer_with(&app, "Calendar", |_| {}).await;
    let customers: Vec<CustomerRef> = (1..=5).map(customer).collect();
    let codes = issue(&app, offer, &customers).await;
    redeem(&app, "T1", &codes[0], &customers[0], None, 50_000).await;

    let today = today();
    let first = today - Duration::days(29);
    let midnight = day_start(TZ, today);
    let minute = Duration::minutes(1);
    let mut db = Db::open(&app).await;
    let issuals = db.ids("issuals", offer).await;
    // 18:29 and 18:31 UTC are on two days in Kolkata; the first day of the window counts,
    // the day before it does not.
    db.set_time("issuals", issuals[0], midnight - minute).await;
    db.set_time("issuals", issuals[1], midnight + minute).await;
    db.set_time("issuals", issuals[2], day_start(TZ, first))
        .await;
    db.set_time("issuals", issuals[3], day_start(TZ, first) - minute)
        .await;
    db.set_time("issuals", issuals[4], midnight + minute).await;
    let redemptions = db.ids("redemptions", offer).await;
    let two_days_ago = today - Duration::days(2);
    db.set_time(
        "redemptions",
        redemptions[0],
        day_start(TZ, two_days_ago) + Duration::hours(3),
    )
    .await;

    let html = performance(&b, offer).await;
    assert_eq!(day_row(&html, today), Some(("2".into(), "0".into())));
    assert_eq!(
        day_row(&html, today - Duration::days(1)),
        Some(("1".into(), "0".into()))
    );
    assert_eq!(day_row(&html, first), Some(("1".into(), "0".into())));
    assert_eq!(day_row(&html, first - Duration::days(1)), None);
    // A day with a redemption and no issue is listed and drawn.
    assert_eq!(day_row(&html, two_days_ago), Some(("0".into(), "1".into())));
    assert!(html.contains(&format!(
        "<title>{}: 0 issued, 1 redeemed</title>",
        label(two_days_ago)
    )));
    assert!(html.contains("id=\"window-issued\">4<"));
    assert!(html.contains("id=\"window-redeemed\">1<"));
    // The all-time figures still count every coupon.
    assert_eq!(tile(&html, "Coupons issued"), "5");
    assert_eq!(tile(&html, "Discount given"), "₹50");
}

#[tokio::test]
async fn a_marketer_reads_the_performance_chart_in_a_browser() {
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let zone = app.add_coded("Acme", CodedKind::Zone, "S", "South").await;
    let stores = [
        ("BLR01", "Brigade Road"),
        ("BLR02", "Phoenix Marketcity"),
        ("BLR03", "Indiranagar"),
        ("BLR04", "Koramangala"),
        ("BLR05", "Airport T2"),
        ("BLR06", "Jayanagar"),
    ];
    for (code, name) in stores {
        add_store(&app, code, name, zone).await;
    }
    let offer = offer_with(&app, "Diwali 15", |f| {
        f.discount_value = "15".into();
    })
    .await;

    // Thirty days of made-up but plausible activity: more issues on weekends, a campaign
    // blast ten days ago, a third or so redeemed.
    let today = today();
    let issued_per_day: Vec<usize> = (0..30)
        .map(|i| {
            let base = 12 + (i * 37 % 23);
            if i == 19 { base + 45 } else { base }
        })
        .collect();
    let total: usize = issued_per_day.iter().sum();
    let customers: Vec<CustomerRef> = (0..total).map(customer).collect();
    let codes = issue(&app, offer, &customers).await;
    let mut redeemed_per_day = vec![0usize; 30];
    let mut n = 0;
    for (day, issued) in issued_per_day.iter().enumerate() {
        let redeem_count = issued * (25 + day * 7 % 20) / 100;
        for k in 0..*issued {
            if k < redeem_count {
                let store = stores[(n * 7 + k) % 11 % stores.len()].0;
                let store = (n % 9 != 0).then_some(store);
                let bill = 80_000 + ((n * 7919) % 400) as i64 * 1_000;
                redeem(
                    &app,
                    &format!("T{n}"),
                    &codes[n],
                    &customers[n],
                    store,
                    bill,
                )
                .await;
                redeemed_per_day[day] += 1;
            }
            n += 1;
        }
    }
    let mut db = Db::open(&app).await;
    let issuals = db.ids("issuals", offer).await;
    let redemptions = db.ids("redemptions", offer).await;
    let (mut i, mut r) = (0, 0);
    for day in 0..30 {
        let start = day_start(TZ, today - Duration::days(29 - day as i64));
        for k in 0..issued_per_day[day] {
            let at = start + Duration::minutes(9 * 60 + (k as i64 * 17) % 600);
            db.set_time("issuals", issuals[i], at).await;
            i += 1;
        }
        for k in 0..redeemed_per_day[day] {
            let at = start + Duration::minutes(11 * 60 + (k as i64 * 23) % 540);
            db.set_time("redemptions", redemptions[r], at).await;
            r += 1;
        }
    }

    let web = browser(&driver).await;
    let base = app.address.clone();
    sign_in(&web, &base, &email).await;
    web.goto(format!("{base}/offers/{offer}")).await.unwrap();
    web.find(By::LinkText("Performance"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "Issues and redemptions per day").await;
    let chart = web.find(By::Css("svg.chart")).await.unwrap();
    assert!(chart.is_displayed().await.unwrap());
    let size = chart.rect().await.unwrap();
    assert!(size.width > 600.0, "the chart fills the card: {size:?}");
    let bars = web
        .find_all(By::Css("svg.chart rect.bar-issued"))
        .await
        .unwrap();
    assert_eq!(bars.len(), 30);
    wait_for_text(&web, "Top stores").await;
    web.set_window_rect(0, 0, 1280, 1400).await.unwrap();
    web.screenshot(&screenshot_path("13-performance"))
        .await
        .unwrap();
    // Quit explicitly: a dropped session takes minutes to go.
    web.quit().await.unwrap();
}
