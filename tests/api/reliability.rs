//! What an attack run and a rules audit broke (issue 12), each as the user or integrator meets
//! it, on both databases: a reversed transaction retried, concurrent reversals, the API's JSON
//! envelope for every error, control characters refused at the edge, per-customer rules that
//! need the customer, the claim rule for issuing, common codes in reminders and coupon lookups,
//! spreadsheet-safe CSV files.

use crate::helpers::{TestApp, spawn_app, spawn_app_without_worker, test_settings};
use crate::integration::Api;
use crate::sinks::SmtpSink;
use chrono::{Duration, NaiveDate, Utc};
use offerdesk::domain::ids::OfferId;
use offerdesk::domain::masters::NewConsumer;
use offerdesk::domain::offer::form::{OfferContext, OfferForm, parse};
use offerdesk::domain::user::{Actor, Role};
use offerdesk::store::outbox::NewMessage;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn code_of(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// Creates an offer of "Acme" from the default form changed by `edit` (the store's own create,
/// as the wizard does); its id.
async fn offer_from_form(app: &TestApp, edit: impl FnOnce(&mut OfferForm)) -> OfferId {
    let mut form = OfferForm {
        name: "Glow".into(),
        expires_on: "2099-12-31".into(),
        discount_type: "ABS".into(),
        discount_value: "100".into(),
        ..OfferForm::defaults()
    };
    edit(&mut form);
    let ctx = OfferContext {
        digits: 2,
        today: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        ..Default::default()
    };
    let rules = parse(&form, &ctx).unwrap();
    app.store
        .create_offer(
            app.org_id("Acme").await,
            &rules,
            None,
            None,
            &Actor::system("test"),
        )
        .await
        .unwrap()
}

/// Runs the queued jobs (the app has no worker); the offer's newest job, finished.
pub async fn finished_job(app: &TestApp, offer: OfferId) -> offerdesk::store::jobs::JobRow {
    let org = app.org_id("Acme").await;
    app.run_queued_jobs().await;
    let job = app
        .store
        .list_jobs(org, offer, 1)
        .await
        .unwrap()
        .into_iter()
        .next();
    match job {
        Some(job) if matches!(job.status.as_str(), "done" | "failed") => job,
        other => panic!("the job of offer {offer} did not finish: {other:?}"),
    }
}

async fn coupon_status(api: &Api, code: &str) -> String {
    let (_, v) = api.get(&format!("/coupon?codes={code}")).await;
    v["coupons"][0]["status"].as_str().unwrap_or("").to_string()
}

#[tokio::test]
async fn a_retried_transaction_after_its_reversal_is_refused_not_replayed() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = api
        .series(json!({"name": "Welcome", "discountType": "ABS", "discountValue": 20000, "validTill": "2099-12-31"}))
        .await;
    let code = api.issue(offer, "9800000001").await;
    let redeem = json!({"transactionNumber": "T1", "billAmount": 150000,
        "customer": {"mobile": "9800000001"}, "codes": [code]});
    let (status, v) = api.post("/coupon/redeem", redeem.clone()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, _) = api
        .post("/coupon/reverse", json!({"transactionNumber": "T1"}))
        .await;
    assert_eq!(status, StatusCode::OK);

    // The till retries T1: no discount is reported, and nothing is redeemed.
    let (status, v) = api.post("/coupon/redeem", redeem.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(code_of(&v), "transaction_reversed");
    assert!(v.get("totalDiscount").is_none());
    assert_eq!(coupon_status(&api, &code).await, "issued");
    let (_, offer_now) = api.get(&format!("/coupon/series/{offer}")).await;
    assert_eq!(offer_now["redeemedCount"], 0);

    // A new transaction number redeems it.
    let mut t2 = redeem;
    t2["transactionNumber"] = json!("T2");
    let (status, v) = api.post("/coupon/redeem", t2).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(coupon_status(&api, &code).await, "redeemed");
}

#[tokio::test]
async fn of_concurrent_reversals_of_one_transaction_exactly_one_reverses_it() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let offer = api
        .series(json!({"name": "Welcome", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31"}))
        .await;
    const TRANSACTIONS: usize = 20;
    const RACERS: usize = 8;
    for t in 0..TRANSACTIONS {
        let mobile = format!("98000{t:05}");
        let code = api.issue(offer, &mobile).await;
        let (status, v) = api
            .post(
                "/coupon/redeem",
                json!({"transactionNumber": format!("R{t}"), "billAmount": 1000,
                    "customer": {"mobile": mobile}, "codes": [code]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    for t in 0..TRANSACTIONS {
        let racers = (0..RACERS).map(|_| {
            let api = api.clone();
            async move {
                api.post(
                    "/coupon/reverse",
                    json!({"transactionNumber": format!("R{t}")}),
                )
                .await
            }
        });
        let answers = futures_util::future::join_all(racers).await;
        assert!(answers.iter().all(|(s, _)| *s == StatusCode::OK));
        let reversed_here = answers
            .iter()
            .filter(|(_, v)| v["alreadyReversed"] == false)
            .count();
        assert_eq!(
            reversed_here, 1,
            "transaction R{t}: exactly one call reversed it: {answers:?}"
        );
    }
    let (_, offer_now) = api.get(&format!("/coupon/series/{offer}")).await;
    assert_eq!(offer_now["redeemedCount"], 0);
}

#[tokio::test]
async fn every_api_answer_is_json_in_the_documented_shape() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    // A body over the limit.
    let big = "x".repeat(17 * 1024 * 1024);
    let r = api
        .http
        .post(format!("{}/api/v2/coupon/redeem", api.base))
        .bearer_auth(&api.key)
        .header("Content-Type", "application/json")
        .body(format!("{{\"transactionNumber\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(code_of(&v), "body_too_large", "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("16 MB"));

    // A known path with another method: 405 with Allow-free JSON, not 404.
    for (method, path) in [
        (reqwest::Method::GET, "/coupon/redeem"),
        (reqwest::Method::DELETE, "/coupon/series"),
        (reqwest::Method::PUT, "/coupon/series/1"),
    ] {
        let r = api
            .http
            .request(method.clone(), format!("{}/api/v2{path}", api.base))
            .bearer_auth(&api.key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(code_of(&v), "method_not_allowed", "{v}");
    }
    // An unknown path stays 404, in JSON.
    let (status, v) = api.get("/nothing/here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code_of(&v), "not_found");
    // Malformed JSON: 400 in the envelope.
    let r = api
        .http
        .post(format!("{}/api/v2/coupon/redeem", api.base))
        .bearer_auth(&api.key)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(code_of(&v), "invalid_body");
}

#[tokio::test]
async fn control_characters_are_refused_at_the_edge_and_change_nothing() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = api
        .series(json!({"name": "Welcome", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31", "anyUser": true}))
        .await;
    let code = api.issue(offer, "9800000001").await;
    let base = json!({"transactionNumber": "T1", "billAmount": 1000, "storeCode": "S1",
        "tillCode": "T1", "customer": {"mobile": "9800000001"}, "codes": [code]});
    for (field, value) in [
        ("transactionNumber", json!("T\u{0}1")),
        ("storeCode", json!("S\u{0}1")),
        ("tillCode", json!("T\u{1b}1")),
        ("codes", json!([code.clone(), "AB\u{0}C"])),
    ] {
        let mut body = base.clone();
        body[field] = value;
        let (status, v) = api.post("/coupon/redeem", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {v}");
        let named = v["error"]["field"].as_str().unwrap_or("");
        assert!(named.starts_with(field), "{field}: {v}");
    }
    // Query parameters, in the API and the console.
    let (status, v) = api
        .get(&format!(
            "/coupon/is_redeemable?code={code}&storeCode=S%001"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "storeCode");
    let admin = app.signed_in("admin@acme.example.com").await;
    let page = admin.get("/offers?q=a%00b").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("control character"));
    // A console form.
    let page = admin
        .post("/admin/zones", &[("code", "Z\u{0}1"), ("name", "North")])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    // Nothing was redeemed.
    assert_eq!(coupon_status(&api, &code).await, "issued");

    // A code upload with a NUL ends failed with its report, on both databases.
    let upload = api
        .series(json!({"name": "Uploaded", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31", "codeType": "UPLOAD"}))
        .await;
    let (status, v) = api
        .post(
            "/coupon/upload",
            json!({"seriesId": upload, "codes": [{"code": "GOOD1"}, {"code": "BAD\u{0}2"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "refused at the edge: {v}");
    assert_eq!(v["error"]["field"], "codes[1].code");
}

#[tokio::test]
async fn a_code_file_with_a_nul_byte_fails_its_job_with_the_line_named() {
    let app = spawn_app_without_worker().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let admin = app.signed_in("admin@acme.example.com").await;
    let offer = api
        .series(json!({"name": "Uploaded", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31", "codeType": "UPLOAD"}))
        .await;
    let page = admin
        .upload(
            &format!("/offers/{offer}/coupons/upload"),
            &[],
            "codes.csv",
            "code\nGOOD1\nBAD\u{0}2\n",
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let job = finished_job(&app, offer).await;
    assert_eq!(job.status.as_str(), "failed", "{job:?}");
    let error = job.error.clone().unwrap_or_default();
    assert!(error.contains("Line 3"), "{error}");
    assert!(error.contains("control character"), "{error}");
    let (_, series) = api.get(&format!("/coupon/series/{offer}")).await;
    assert_eq!(series["couponCount"].as_i64().unwrap_or(0), 0, "{series}");
}

#[tokio::test]
async fn per_customer_rules_need_the_customer_and_a_reversal_restores_the_gap() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    // Anyone may redeem, many times, but two days apart per customer.
    let offer = api
        .series(json!({"name": "Coffee", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31",
            "codeType": "COMMON", "commonCode": "COFFEE", "anyUser": true, "multipleRedemption": true,
            "redemptionGapDays": 2}))
        .await;
    let _ = offer;
    let sale = |t: &str, customer: Option<&str>| {
        let mut body = json!({"transactionNumber": t, "billAmount": 1000, "codes": ["COFFEE"]});
        if let Some(m) = customer {
            body["customer"] = json!({"mobile": m});
        }
        body
    };
    // Without the customer the gap could not be kept: refused.
    let (status, v) = api.post("/coupon/redeem", sale("N1", None)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(code_of(&v), "customer_required");
    let (_, check) = api
        .get("/coupon/is_redeemable?code=COFFEE&billAmount=1000")
        .await;
    assert_eq!(check["coupons"][0]["error"]["code"], "customer_required");

    // A sale, then the gap holds …
    let (status, v) = api
        .post("/coupon/redeem", sale("S1", Some("9800000001")))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = api
        .post("/coupon/redeem", sale("S2", Some("9800000001")))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(code_of(&v), "gap_not_elapsed");
    // … until the sale is reversed: the gap counts from sales that stand.
    let (status, _) = api
        .post("/coupon/reverse", json!({"transactionNumber": "S1"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) = api
        .post("/coupon/redeem", sale("S3", Some("9800000001")))
        .await;
    assert_eq!(status, StatusCode::OK, "after the reversal: {v}");
}

#[tokio::test]
async fn a_batch_over_a_per_customer_max_or_the_cap_is_named_for_it() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    // Unique codes, several per customer, each customer may redeem the offer once.
    let once = api
        .series(json!({"name": "Once", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31",
            "multipleRedemption": true, "maxRedemptionsPerCustomer": 1, "maxIssualsPerCustomer": 5}))
        .await;
    let a = api.issue(once, "9800000001").await;
    let b = api.issue(once, "9800000001").await;
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "B1", "billAmount": 10000,
                "customer": {"mobile": "9800000001"}, "codes": [a, b]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(code_of(&v), "per_customer_limit", "{v}");
    assert_eq!(coupon_status(&api, &a).await, "issued", "all or nothing");

    // A cap of one redemption, two codes in one batch.
    let capped = api
        .series(json!({"name": "Capped", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31",
            "maxRedeem": 1, "maxIssualsPerCustomer": 5}))
        .await;
    let c = api.issue(capped, "9800000002").await;
    let d = api.issue(capped, "9800000002").await;
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "B2", "billAmount": 10000,
                "customer": {"mobile": "9800000002"}, "codes": [c, d]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(code_of(&v), "total_cap_reached", "{v}");
}

async fn consumer(app: &TestApp, name: &str, kind: &str, dates: (&str, &str)) -> i64 {
    let c = NewConsumer::parse(name, kind, dates.0, dates.1).unwrap();
    app.store
        .create_consumer(app.org_id("Acme").await, &c, &Actor::system("test"))
        .await
        .unwrap()
}

async fn key_for(app: &TestApp, api: &Api, consumer: i64) -> Api {
    let (_, key) = app
        .store
        .create_api_key(
            app.org_id("Acme").await,
            &format!("key of {consumer}"),
            Some(consumer),
            1000,
            &Actor::system("test"),
        )
        .await
        .unwrap();
    Api { key, ..api.clone() }
}

#[tokio::test]
async fn only_the_claiming_consumer_issues_a_claimed_offer() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let club = consumer(&app, "Club", "loyalty", ("", "")).await;
    let club_key = key_for(&app, &api, club).await;
    let offer = api
        .series(json!({"name": "Welcome", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31"}))
        .await;
    let (status, v) = club_key
        .post(&format!("/offers/{offer}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // A key bound to no consumer may not issue it; the club's key may.
    let issue = json!({"seriesId": offer, "customer": {"mobile": "9800000001"}});
    let (status, v) = api.post("/coupon/issue", issue.clone()).await;
    assert!(status.is_client_error(), "{v}");
    assert_eq!(code_of(&v), "claimed_by_other_consumer", "{v}");
    let (status, v) = club_key.post("/coupon/issue", issue.clone()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // Bulk and multiple issue follow the same rule.
    let (_, v) = api
        .post(
            "/coupon/bulk/issue",
            json!({"seriesIds": [offer], "customer": {"mobile": "9800000002"}}),
        )
        .await;
    assert_eq!(
        v["results"][0]["error"]["code"], "claimed_by_other_consumer",
        "{v}"
    );
    // Any till key may still redeem.
    let code = {
        let (_, v) = club_key
            .post(
                "/coupon/issue",
                json!({"seriesId": offer, "customer": {"mobile": "9800000003"}}),
            )
            .await;
        v["code"].as_str().unwrap().to_string()
    };
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "T1", "billAmount": 1000, "customer": {"mobile": "9800000003"}, "codes": [code]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // The console: the Coupons tab says who issues; a direct post is refused; from the
    // club's page ("Issue coupons" → ?as=club) it issues.
    let csm_email = app.create_user("Acme", Role::Csm).await;
    let csm = app.signed_in(&csm_email).await;
    let tab = csm.get(&format!("/offers/{offer}/coupons")).await.body;
    assert!(tab.contains("id=\"claimed-notice\""), "{tab}");
    assert!(!tab.contains("id=\"issue-form\""));
    let refused = csm
        .post(
            &format!("/offers/{offer}/coupons/issue"),
            &[("kind", "MOBILE"), ("value", "9800000004")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("claimed by"), "{}", refused.body);
    let club_page = csm.get(&format!("/admin/consumers/{club}")).await.body;
    let link = format!("/offers/{offer}/coupons?as={club}");
    assert!(club_page.contains(&link), "{club_page}");
    let tab = csm.get(&link).await.body;
    assert!(tab.contains("id=\"issue-form\""));
    let issued = csm
        .post(
            &format!("/offers/{offer}/coupons/issue?as={club}"),
            &[("kind", "MOBILE"), ("value", "9800000004")],
        )
        .await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.body);
}

#[tokio::test]
async fn an_offer_ending_with_its_campaign_is_not_issued_before_a_claim() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = api
        .series(json!({"name": "Diwali", "discountType": "ABS", "discountValue": 100, "expiryType": "CAMPAIGN"}))
        .await;
    let (status, v) = api
        .post(
            "/coupon/issue",
            json!({"seriesId": offer, "customer": {"mobile": "9800000001"}}),
        )
        .await;
    assert!(status.is_client_error(), "{v}");
    assert_eq!(code_of(&v), "offer_not_claimed", "{v}");
    let (_, v) = api.get("/coupon?mobile=9800000001").await;
    assert_eq!(v["coupons"].as_array().map(Vec::len), Some(0), "{v}");
}

#[tokio::test]
async fn an_outbound_campaign_holding_an_offer_gets_no_second_from_its_page() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let sms = consumer(&app, "Diwali SMS", "outbound", ("2026-01-01", "2099-06-30")).await;
    let key = key_for(&app, &api, sms).await;
    let (status, v) = key
        .post(
            "/coupon/series",
            json!({"name": "First", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let marketing_email = app.create_user("Acme", Role::Marketing).await;
    let b = app.signed_in(&marketing_email).await;
    let started = b.post(&format!("/offers/new/for/{sms}"), &[]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    assert_eq!(
        started.location.as_deref(),
        Some(format!("/admin/consumers/{sms}").as_str())
    );
    let page = b.get(&format!("/admin/consumers/{sms}")).await.body;
    assert!(page.contains("already holds the offer First"), "{page}");
    let org = app.org_id("Acme").await;
    let (offers, _) = app
        .store
        .list_offers(
            org,
            &offerdesk::store::offers::OfferQuery {
                consumer: Some(sms),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(offers.len(), 1);
}

#[tokio::test]
async fn customers_who_used_a_common_code_get_no_reminder_and_see_it_as_theirs() {
    let app = spawn_app().await;
    let smtp = SmtpSink::start().await;
    let mut settings = test_settings(app.db.url());
    settings.smtp_url = Some(smtp.url());
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = offer_from_form(&app, |f| {
        f.generation = "common".into();
        f.common_code = "GLOW15".into();
        f.coupon_expiry = "days".into();
        f.coupon_expiry_n = "10".into();
        f.reminder_days = vec!["2".into()];
        f.reminder_channel = vec!["email".into()];
        f.reminder_text = vec!["{code} ends {expiry}".into()];
    })
    .await;
    for who in ["used@x.io", "unused@x.io"] {
        let (status, v) = api
            .post(
                "/coupon/issue",
                json!({"seriesId": offer, "customer": {"email": who}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "G1", "billAmount": 1000, "customer": {"email": "used@x.io"}, "codes": ["GLOW15"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // The customer's coupons include the common code, shown as they stand for them.
    let (_, used) = api.get("/coupon?email=used@x.io").await;
    assert_eq!(used["coupons"][0]["code"], "GLOW15", "{used}");
    assert_eq!(used["coupons"][0]["status"], "redeemed", "{used}");
    let (_, unused) = api.get("/coupon?email=unused@x.io").await;
    assert_eq!(unused["coupons"][0]["code"], "GLOW15", "{unused}");
    assert_eq!(unused["coupons"][0]["status"], "issued", "{unused}");
    // The offer is delivered by this system: the code was sent to both when issued.
    offerdesk::cli::run_jobs(&app.store, &settings, Utc::now())
        .await
        .unwrap();
    assert_eq!(smtp.mails().len(), 2);

    // Reminder day: 10:00 two days before the last day (issue day counts as day 1).
    let tz = chrono_tz::Asia::Kolkata;
    let issued_on = Utc::now().with_timezone(&tz).date_naive();
    let reminder_day = issued_on + Duration::days(9) - Duration::days(2);
    let at = reminder_day
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .and_local_timezone(tz)
        .unwrap()
        .with_timezone(&Utc);
    offerdesk::cli::run_jobs(&app.store, &settings, at)
        .await
        .unwrap();
    let mails = smtp.mails()[2..].to_vec();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].to[0].contains("unused@x.io"), "{:?}", mails[0].to);
}

#[tokio::test]
async fn exported_and_result_files_are_spreadsheet_safe_and_upload_back() {
    let app = spawn_app_without_worker().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let admin = app.signed_in("admin@acme.example.com").await;
    let evil = "=HYPERLINK(\"http://evil.example\",\"click\")";
    let offer = api
        .series(json!({"name": "Welcome", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31"}))
        .await;
    let (status, v) = api
        .post(
            "/coupon/issue",
            json!({"seriesId": offer, "customer": {"externalId": evil}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let export = admin
        .get(&format!("/offers/{offer}/coupons.csv"))
        .await
        .body;
    assert!(!export.contains(",=HYPERLINK"), "{export}");
    assert!(!export.contains(",\"=HYPERLINK"), "{export}");
    assert!(export.contains("'=HYPERLINK"), "{export}");

    // A bulk issue's result file quotes the customer the same way.
    let page = admin
        .upload(
            &format!("/offers/{offer}/coupons/bulk-issue"),
            &[],
            "audience.csv",
            "type,value\nEXTERNAL_ID,@SUM(1+1)\nEXTERNAL_ID,-2+3\n",
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let job = finished_job(&app, offer).await;
    assert_eq!(job.status.as_str(), "done", "{job:?}");
    let result = admin
        .get(&format!("/offers/{offer}/jobs/{}/result", job.id))
        .await
        .body;
    assert!(result.contains(",'@SUM(1+1),"), "{result}");
    assert!(result.contains(",'-2+3,"), "{result}");

    // The exported file's customer cells upload back as they were: an uploaded-codes offer
    // takes the export of its codes with their customers.
    let upload_offer = api
        .series(json!({"name": "Uploaded", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31",
            "codeType": "UPLOAD", "uploadWithCustomers": true}))
        .await;
    let page = admin
        .upload(
            &format!("/offers/{upload_offer}/coupons/upload"),
            &[],
            "codes.csv",
            "code,type,value\nUP1,EXTERNAL_ID,'=1+2\n",
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let job = finished_job(&app, upload_offer).await;
    assert_eq!(job.status.as_str(), "done", "{job:?}");
    let (_, v) = api.get("/coupon?externalId=%3D1%2B2").await;
    assert_eq!(v["coupons"][0]["code"], "UP1", "{v}");
}

/// Puts `n` emails to distinct recipients straight into the outbox.
async fn queue_emails(app: &TestApp, n: usize) {
    let org = app.org_id("Acme").await;
    let messages: Vec<NewMessage> = (0..n)
        .map(|i| NewMessage {
            org_id: org,
            kind: "resend",
            channel: "email".into(),
            recipient: format!("customer{i}@example.com"),
            subject: format!("Your code {i}"),
            body_text: format!("Message {i}"),
            body_html: None,
            status: "queued",
            note: None,
            offer_id: None,
            dedupe_key: None,
        })
        .collect();
    app.store.enqueue(&messages, Utc::now()).await.unwrap();
}

async fn outbox(app: &TestApp, status: &str) -> Vec<offerdesk::store::outbox::OutboxRow> {
    app.store
        .list_outbox(
            app.org_id("Acme").await,
            &offerdesk::store::outbox::OutboxQuery {
                status: status.into(),
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

/// A port where nothing listens (yet).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn after_an_smtp_outage_every_message_is_delivered_exactly_once() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    queue_emails(&app, 30).await;
    let port = free_port();
    let mut settings = test_settings(app.db.url());
    settings.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));

    // The server is down: every message waits with the error, none is lost or leased.
    let report = offerdesk::cli::run_jobs(&app.store, &settings, Utc::now())
        .await
        .unwrap();
    assert_eq!(report.failed_attempts, 30);
    let waiting = outbox(&app, "queued").await;
    assert_eq!(waiting.len(), 30);
    assert!(
        waiting
            .iter()
            .all(|m| m.last_error.as_deref().unwrap_or("").contains("SMTP"))
    );

    // It comes back: the next run (the first retry is due 30 s later) delivers all 30, once
    // each, well within a minute.
    let sink = SmtpSink::start_on(port).await;
    let started = std::time::Instant::now();
    let report =
        offerdesk::cli::run_jobs(&app.store, &settings, Utc::now() + Duration::seconds(31))
            .await
            .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(report.delivered, 30, "{report:?}");
    let mails = sink.mails();
    assert_eq!(mails.len(), 30);
    let mut recipients: Vec<String> = mails.iter().map(|m| m.to.join(",")).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 30, "each message exactly once");
    assert_eq!(outbox(&app, "sent").await.len(), 30);
    // A further run sends nothing again.
    offerdesk::cli::run_jobs(&app.store, &settings, Utc::now() + Duration::hours(3))
        .await
        .unwrap();
    assert_eq!(sink.mails().len(), 30);
}

/// A server that accepts connections and never says a word.
async fn black_hole() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (port, task)
}

#[tokio::test]
async fn a_server_that_never_answers_fails_the_attempt_not_the_loop() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    queue_emails(&app, 3).await;
    let (port, hole) = black_hole().await;
    let mut settings = test_settings(app.db.url());
    settings.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    settings.delivery_timeout_secs = 2;

    let run = offerdesk::cli::run_jobs(&app.store, &settings, Utc::now());
    let report = tokio::time::timeout(std::time::Duration::from_secs(20), run)
        .await
        .expect("the run ends although the server never answers")
        .unwrap();
    hole.abort();
    assert_eq!(report.failed_attempts, 3, "{report:?}");
    let waiting = outbox(&app, "queued").await;
    assert_eq!(waiting.len(), 3);
    for m in &waiting {
        let error = m.last_error.as_deref().unwrap_or("");
        assert!(error.contains("no answer within 2 s"), "{error}");
    }

    // Pointed at a working server, the next run delivers them.
    let sink = SmtpSink::start().await;
    settings.smtp_url = Some(sink.url());
    let report =
        offerdesk::cli::run_jobs(&app.store, &settings, Utc::now() + Duration::seconds(31))
            .await
            .unwrap();
    assert_eq!(report.delivered, 3);
    assert_eq!(sink.mails().len(), 3);
}

#[tokio::test]
async fn a_run_in_the_future_does_not_lease_messages_until_then() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    queue_emails(&app, 2).await;
    // `run-jobs --now` three days ahead claims the messages and is killed before it records
    // anything: the lease it left runs out by the real clock (2 minutes), not in three days.
    let claimed = app
        .store
        .claim_outbox(
            Utc::now() + Duration::days(3),
            Utc::now(),
            50,
            Duration::minutes(2),
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let rows = outbox(&app, "queued").await;
    assert_eq!(rows.len(), 2);
    let leases: Vec<String> = rows
        .iter()
        .map(|m| format!("{:?}", m.lease_until))
        .collect();
    for m in &rows {
        let lease = m.lease_until.expect("leased");
        assert!(
            lease <= Utc::now() + Duration::minutes(2) + Duration::seconds(5),
            "{leases:?}"
        );
    }
}

/// Waits until an instance's health check counts `n` live instances.
async fn until_instances(app: &TestApp, n: u64) {
    for _ in 0..100 {
        let v: Value = reqwest::get(format!("{}/healthz", app.address))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["instances"].as_u64() == Some(n) {
            return;
        }
        // Not a job wait: the instances count each other on their 2-second heartbeat.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the instances never saw each other");
}

#[tokio::test]
async fn a_keys_rate_limit_holds_across_two_instances() {
    const RATE: u32 = 40;
    const SECONDS: u64 = 3;
    let app = spawn_app().await;
    let second = crate::helpers::spawn_app_on(app.db.clone()).await;
    let api = Api::of(&app, "Acme", RATE).await;
    until_instances(&app, 2).await;
    until_instances(&second, 2).await;

    // Both instances hammered at once for 3 seconds, four clients each.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(SECONDS);
    let clients = (0..8).map(|i| {
        let api = if i % 2 == 0 {
            api.clone()
        } else {
            api.on(&second)
        };
        async move {
            let mut ok = 0u64;
            let mut limited = 0u64;
            while std::time::Instant::now() < deadline {
                let (status, v) = api.get("/coupon/series").await;
                match status {
                    StatusCode::OK => ok += 1,
                    StatusCode::TOO_MANY_REQUESTS => {
                        assert_eq!(code_of(&v), "rate_limited");
                        limited += 1
                    }
                    other => panic!("unexpected {other}: {v}"),
                }
            }
            (ok, limited)
        }
    });
    let results = futures_util::future::join_all(clients).await;
    let ok: u64 = results.iter().map(|r| r.0).sum();
    let limited: u64 = results.iter().map(|r| r.1).sum();
    // The key's rate for the cluster: a second's burst plus RATE a second, within ±10%.
    let expected = f64::from(RATE) * (SECONDS as f64 + 1.0);
    assert!(limited > 0, "the clients asked for more than the rate");
    assert!(
        (ok as f64) <= expected * 1.1 && (ok as f64) >= expected * 0.9,
        "{ok} requests allowed in {SECONDS} s, expected about {expected} (two instances each \
         allowing the whole rate would give twice that)"
    );
}

#[tokio::test]
async fn a_claim_made_while_issuing_is_seen_under_the_offers_lock() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let club = consumer(&app, "Club", "loyalty", ("", "")).await;
    let offer = api
        .series(json!({"name": "Welcome", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31"}))
        .await;
    let org = app.org_id("Acme").await;
    // A long issue (a bulk job) read the offer while it was unclaimed …
    let ctx = offerdesk::app::issue::context(&app.store, org, offer)
        .await
        .unwrap();
    // … and the club claims it before the issue writes.
    let (status, v) = api
        .post(
            &format!("/offers/{offer}/claim"),
            json!({"consumerId": club}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let customer = offerdesk::domain::issue::CustomerRef::parse(
        offerdesk::domain::masters::IdentifierType::Mobile,
        "9800000001",
    )
    .unwrap();
    let source = offerdesk::app::issue::IssueSource {
        label: "test".into(),
        consumer: None,
    };
    let outcome = offerdesk::app::issue::issue_one(
        &app.store,
        &ctx,
        &customer,
        &source,
        &Actor::system("test"),
    )
    .await;
    assert!(
        matches!(outcome, Err(offerdesk::store::StoreError::Conflict(_))),
        "{outcome:?}"
    );
    let (_, series) = api.get(&format!("/coupon/series/{offer}")).await;
    assert_eq!(series["issuedCount"], 0, "nothing was issued");
}

/// A worker whose lease ran out while another took the job up again can neither finish it
/// (its work is rolled back with it) nor mark it failed: only the claim running it can — also
/// after a person retried the job and its attempts count from 0 again.
#[tokio::test]
async fn a_worker_whose_lease_lapsed_cannot_finish_or_fail_the_job_another_took_up() {
    use offerdesk::store::jobs::{JobClaim, JobKind, JobStatus, finish_job};
    let app = spawn_app_without_worker().await;
    app.create_org_admin("Acme").await;
    let org = app.org_id("Acme").await;
    let offer = offer_from_form(&app, |_| {}).await;
    let job = app
        .store
        .create_job(
            org,
            offer,
            JobKind::Generate,
            json!({"count": 10}),
            None,
            false,
            None,
        )
        .await
        .unwrap();
    let claim = |row: &offerdesk::store::jobs::JobRow, owner: &str| JobClaim {
        job_id: row.id,
        attempts: row.attempts,
        owner: owner.to_string(),
    };
    let now = Utc::now();
    let a = app
        .store
        .claim_job(now, "instance-a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.id, a.attempts), (job, 1));
    let a = claim(&a, "instance-a");
    // Instance A stalls past its lease; instance B takes the job up again.
    let b = app
        .store
        .claim_job(now + Duration::minutes(10), "instance-b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.attempts, 2);
    let b = claim(&b, "instance-b");

    let mut tx = app.store.begin().await.unwrap();
    let late = finish_job(&mut tx, &a, "Generated 10 codes").await;
    assert!(late.is_err(), "the lapsed claim finished the job: {late:?}");
    drop(tx);
    app.store.fail_job(&a, "stalled", None).await.unwrap();
    let row = app.store.get_job(org, job).await.unwrap();
    assert_eq!((row.status, row.error), (JobStatus::Running, None));

    // B fails it, a person retries it (attempts from 0 again), C claims it as attempt 1:
    // A's attempt 1 is still not C's.
    app.store
        .fail_job(&b, "the file was bad", None)
        .await
        .unwrap();
    app.store.retry_job(org, job).await.unwrap();
    let c = app
        .store
        .claim_job(now + Duration::minutes(20), "instance-c")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.attempts, 1);
    let c = claim(&c, "instance-c");
    let mut tx = app.store.begin().await.unwrap();
    assert!(finish_job(&mut tx, &a, "Generated 10 codes").await.is_err());
    drop(tx);

    let mut tx = app.store.begin().await.unwrap();
    finish_job(&mut tx, &c, "Generated 10 codes").await.unwrap();
    tx.commit().await.unwrap();
    let row = app.store.get_job(org, job).await.unwrap();
    assert_eq!(row.status, JobStatus::Done);
    assert_eq!(row.summary.as_deref(), Some("Generated 10 codes"));
}

/// Reads run on connections lent one call at a time (`store::lender`, no test on return); a
/// read dropped midway — its request went away — keeps its place until its statement ended,
/// and must neither hand its connection to the next read in an unknown state nor keep its place
/// for good.
#[tokio::test]
async fn reads_dropped_midway_leave_the_database_answering() {
    let app = spawn_app().await;
    let api = Api::of(&app, "acme", 1_000).await;
    // A fraction of a second of work on both databases, so that 30 ms drops it midway.
    let slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) \
                SELECT COUNT(*) FROM n";
    // More dropped reads than there are read connections (8).
    for _ in 0..9 {
        let r = tokio::time::timeout(
            std::time::Duration::from_millis(30),
            app.store.fetch_one_read::<(i64,)>(slow, &[]),
        )
        .await;
        assert!(r.is_err(), "the slow read was not dropped midway");
    }
    // Once the dropped statements ended, reads answer; had a dropped read kept its place, these
    // would wait 10 s and fail.
    for _ in 0..20 {
        let r = tokio::time::timeout(std::time::Duration::from_secs(9), api.get("/promotions"))
            .await
            .expect("a read after the dropped ones answered within 9 s");
        assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    }
    let (n,): (i64,) = app.store.fetch_one_read(slow, &[]).await.unwrap();
    assert_eq!(
        n, 1_000_000,
        "a connection lent again answered another statement's rows"
    );
}
