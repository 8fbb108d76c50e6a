//! The integration API over HTTP (API-0..5, RED-1..5): the documented contract bodies, errors,
//! keys and rate limits, org isolation, and exactly-once redemption under concurrency — also
//! across two app instances on one database.

use crate::helpers::{TestApp, spawn_app, spawn_app_on};
use offerdesk::domain::ids::OfferId;
use offerdesk::domain::user::Actor;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// An API client of one org.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub key: String,
    pub http: reqwest::Client,
}

impl Api {
    pub async fn of(app: &TestApp, org: &str, rate_limit: u32) -> Api {
        app.create_org_admin(org).await;
        let org_id = app.org_id(org).await;
        let (_, key) = app
            .store
            .create_api_key(
                org_id,
                "till gateway",
                None,
                rate_limit,
                &Actor::system("test"),
            )
            .await
            .unwrap();
        Api {
            base: app.address.clone(),
            key,
            // Idle connections are dropped before the server's 5-second keep-alive closes
            // them: otherwise a request can go out on a connection the server is closing and
            // fail with `IncompleteMessage` (seen under load in the 5,000-request race).
            http: reqwest::Client::builder()
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .unwrap(),
        }
    }

    pub fn on(&self, app: &TestApp) -> Api {
        Api {
            base: app.address.clone(),
            ..self.clone()
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/api/v2{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .put(format!("{}/api/v2{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .delete(format!("{}/api/v2{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}/api/v2{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Creates an offer; its id.
    pub async fn series(&self, body: Value) -> OfferId {
        let (status, v) = self.post("/coupon/series", body).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        OfferId(v["id"].as_i64().unwrap())
    }

    /// Issues a coupon of `series` to a mobile; its code.
    pub async fn issue(&self, series: OfferId, mobile: &str) -> String {
        let (status, v) = self
            .post(
                "/coupon/issue",
                json!({"seriesId": series, "customer": {"mobile": mobile}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v["code"].as_str().unwrap().to_string()
    }
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

const WELCOME: &str = r#"{"name":"Welcome","discountType":"ABS","discountValue":20000,"codeType":"UNIQUE","validTill":"2027-12-31"}"#;
const GLOW: &str = r#"{"name":"Glow15","discountType":"PERC","discountValue":15,"codeType":"COMMON","commonCode":"GLOW15","maxRedeem":1000,"anyUser":true,"validTill":"2027-12-31"}"#;

#[tokio::test]
async fn issue_validate_redeem_and_reverse_follow_the_contract() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;

    // The two documented creation bodies, verbatim.
    let welcome = api.series(serde_json::from_str(WELCOME).unwrap()).await;
    let glow = api.series(serde_json::from_str(GLOW).unwrap()).await;
    let (_, read) = api.get(&format!("/coupon/series/{welcome}")).await;
    assert_eq!(read["discountType"], "ABS");
    assert_eq!(read["discountValue"], 20000);
    assert_eq!(read["validTill"], "2027-12-31");
    let (_, read) = api.get(&format!("/coupon/series/{glow}")).await;
    assert_eq!(read["commonCode"], "GLOW15");
    assert_eq!(read["maxRedeem"], 1000);
    assert_eq!(read["anyUser"], true);

    // Issue → validate → redeem → retry → reverse.
    let (status, issued) = api
        .post(
            "/coupon/issue",
            json!({"seriesId": welcome, "customer": {"mobile": "+919800000001"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    assert_eq!(issued["seriesId"], welcome.get());
    assert_eq!(issued["validTill"], "2027-12-31");
    let code = issued["code"].as_str().unwrap().to_string();

    let (status, check) = api
        .get(&format!(
            "/coupon/is_redeemable?code={}&mobile=%2B919800000001&billAmount=150000",
            code.to_lowercase()
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(check["isRedeemable"], true, "{check}");
    assert_eq!(check["coupons"][0]["discount"], 20000);
    // Without a bill the answer is still yes, with the fixed amount.
    let (_, bare) = api
        .get(&format!(
            "/coupon/is_redeemable?code={code}&mobile=%2B919800000001"
        ))
        .await;
    assert_eq!(bare["isRedeemable"], true, "{bare}");
    assert_eq!(bare["coupons"][0]["discount"], 20000);
    // Someone else may not use it.
    let (_, other) = api
        .get(&format!(
            "/coupon/is_redeemable?code={code}&mobile=9800000002"
        ))
        .await;
    assert_eq!(other["isRedeemable"], false);
    assert_eq!(
        other["coupons"][0]["error"]["code"],
        "not_issued_to_customer"
    );

    let redeem = json!({"transactionNumber": "T1", "billAmount": 150000, "storeCode": "S1",
        "customer": {"mobile": "+919800000001"}, "codes": [code]});
    let (status, done) = api.post("/coupon/redeem", redeem.clone()).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["coupons"][0]["discount"], 20000);
    assert_eq!(done["totalDiscount"], 20000);
    assert_eq!(done["replayed"], false);
    // A retried request answers the first result and redeems nothing more.
    let (status, again) = api.post("/coupon/redeem", redeem.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["replayed"], true);
    assert_eq!(again["coupons"][0]["discount"], 20000);
    // Another transaction with the same code: already redeemed.
    let mut t2 = redeem.clone();
    t2["transactionNumber"] = json!("T2");
    let (status, refused) = api.post("/coupon/redeem", t2.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(error_code(&refused), "already_redeemed");
    let (_, details) = api.get(&format!("/coupon?codes={code}")).await;
    assert_eq!(details["coupons"][0]["status"], "redeemed");
    assert_eq!(details["coupons"][0]["customer"]["value"], "+919800000001");
    let (_, offer) = api.get(&format!("/coupon/series/{welcome}")).await;
    assert_eq!(offer["redeemedCount"], 1);

    // Reverse restores the coupon and the counts; reversing again changes nothing.
    let (status, rev) = api
        .post("/coupon/reverse", json!({"transactionNumber": "T1"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{rev}");
    assert_eq!(rev["reversedCodes"][0], code.as_str());
    let (_, rev2) = api
        .post("/coupon/reverse", json!({"transactionNumber": "T1"}))
        .await;
    assert_eq!(rev2["alreadyReversed"], true);
    let (_, offer) = api.get(&format!("/coupon/series/{welcome}")).await;
    assert_eq!(offer["redeemedCount"], 0);
    let (status, _) = api.post("/coupon/redeem", t2).await;
    assert_eq!(status, StatusCode::OK, "a reversed coupon is usable again");
    let (status, v) = api
        .post("/coupon/reverse", json!({"transactionNumber": "NOPE"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");

    // The common code: a percentage of the bill; the customer is remembered.
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "G1", "billAmount": 10000, "customer": {"email": "A@x.io"}, "codes": ["glow15"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["coupons"][0]["discount"], 1500);
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "G2", "billAmount": 10000, "customer": {"email": "a@x.io"}, "codes": ["GLOW15"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "once per customer: {v}");
    assert_eq!(error_code(&v), "per_customer_limit");
    // Once per customer needs the customer: a till that names nobody is told so.
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "G3", "billAmount": 10000, "codes": ["GLOW15"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(error_code(&v), "customer_required");

    // Unknown code: 404, and a batch with it redeems nothing.
    let other = api.issue(welcome, "9800000003").await;
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "T9", "billAmount": 100, "customer": {"mobile": "9800000003"}, "codes": [other, "NOSUCHCODE"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(error_code(&v), "unknown_code");
    let (_, d) = api.get(&format!("/coupon?codes={other}")).await;
    assert_eq!(d["coupons"][0]["status"], "issued", "all or nothing");
    // A customer's coupons.
    let (_, mine) = api.get("/coupon?mobile=9800000003").await;
    assert_eq!(mine["coupons"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_requests_name_the_field_and_keys_are_checked() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let welcome = api.series(serde_json::from_str(WELCOME).unwrap()).await;

    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "T1", "billAmount": "lots", "codes": ["A"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["field"], "billAmount", "{v}");
    let (status, v) = api
        .post(
            "/coupon/issue",
            json!({"seriesId": welcome, "customer": {"mobile": "98"}, "colour": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["field"], "colour", "{v}");
    let (status, v) = api
        .post(
            "/coupon/issue",
            json!({"seriesId": welcome, "customer": {"mobile": "98"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["field"], "customer.mobile", "{v}");
    let (status, v) = api
        .post("/coupon/series", json!({"name": "X", "discountType": "PERC", "discountValue": 15, "validTill": "2001-01-01"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["field"], "validTill", "{v}");
    // Amounts are read as minor units and percentages as numbers, each error named by the
    // body's field (not the console form's).
    for (body, field, words) in [
        (
            json!({"name": "X", "discountType": "ABS", "discountValue": 12.5, "validTill": "2099-01-01"}),
            "discountValue",
            "whole number of minor units",
        ),
        (
            json!({"name": "X", "discountType": "PERC", "discountValue": 101, "validTill": "2099-01-01"}),
            "discountValue",
            "at most 100",
        ),
        (
            json!({"name": "X", "discountType": "PERC", "discountValue": 10, "validTill": "2099-01-01", "minBill": 50000, "maxBill": 40000}),
            "maxBill",
            "must not be less than the minimum bill amount",
        ),
        (
            json!({"name": "X", "discountType": "PERC", "discountValue": 10, "validTill": "2099-01-01", "maxRedemptionsPerCustomer": 2}),
            "maxRedemptionsPerCustomer",
            "more than once",
        ),
        (
            json!({"name": "X", "discountType": "PERC", "discountValue": 10, "validTill": "2099-01-01", "codeLength": 3}),
            "codeLength",
            "between 4 and 20",
        ),
    ] {
        let (status, v) = api.post("/coupon/series", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {v}");
        assert_eq!(v["error"]["field"], field, "{body} → {v}");
        let message = v["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(&format!("{field}: ")), "{v}");
        assert!(message.contains(words), "{v}");
    }
    let (status, v) = api
        .post("/coupon/series", json!({"name": "Typed", "discountType": "PERC", "discountValue": 12.5,
            "discountCap": 25050, "validTill": "2099-01-01", "minBill": 100050, "weekdays": ["MON", "sat"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["discountValue"], 12.5, "{v}");
    assert_eq!(v["discountCap"], 25050, "{v}");
    // Minor units, in the offer's plain words: a 1,000.50 minimum bill, a 250.50 cap.
    let words = v["description"].as_str().unwrap_or("");
    assert!(
        words.contains("1,000.50") && words.contains("250.50"),
        "{v}"
    );
    let (status, v) = api
        .post("/coupon/series", json!({"name": "Dup", "discountType": "PERC", "discountValue": 5, "codeType": "COMMON", "commonCode": "SAME", "validTill": "2027-01-01"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = api
        .post("/coupon/series", json!({"name": "Dup2", "discountType": "PERC", "discountValue": 5, "codeType": "COMMON", "commonCode": "same", "validTill": "2027-01-01"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    let (status, _) = api.get("/coupon/series/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // No key, a wrong key: 401 with a JSON error.
    let r = reqwest::get(format!("{}/api/v2/coupon/series", app.address))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(error_code(&v), "unauthorized");
    let wrong = Api {
        key: "odk_not-a-key".into(),
        ..api.clone()
    };
    assert_eq!(
        wrong.get("/coupon/series").await.0,
        StatusCode::UNAUTHORIZED
    );

    // The OpenAPI description is served and lists the contract endpoints.
    let doc: Value = reqwest::get(format!("{}/api/v2/openapi.json", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v2/coupon/issue",
        "/api/v2/coupon/redeem",
        "/api/v2/coupon/reverse",
        "/api/v2/coupon/series",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
}

#[tokio::test]
async fn a_key_over_its_rate_gets_429_with_retry_after() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 3).await;
    let mut limited = None;
    for _ in 0..10 {
        let r = api
            .http
            .get(format!("{}/api/v2/coupon/series", api.base))
            .bearer_auth(&api.key)
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the 4th quick request or so is limited");
    assert!(r.headers().get("Retry-After").is_some());
    let v: Value = r.json().await.unwrap();
    assert_eq!(error_code(&v), "rate_limited");
}

#[tokio::test]
async fn one_orgs_key_never_sees_another_orgs_offers_or_coupons() {
    let app = spawn_app().await;
    let a = Api::of(&app, "Acme", 1000).await;
    let b = Api::of(&app, "Other", 1000).await;
    let series = a.series(serde_json::from_str(WELCOME).unwrap()).await;
    let code = a.issue(series, "9800000001").await;
    assert_eq!(
        b.get(&format!("/coupon/series/{series}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = b
        .post(
            "/coupon/issue",
            json!({"seriesId": series, "customer": {"mobile": "9800000001"}}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = b
        .post("/coupon/redeem", json!({"transactionNumber": "X", "billAmount": 100, "customer": {"mobile": "9800000001"}, "codes": [code]}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    let (_, v) = b.get(&format!("/coupon?codes={code}")).await;
    assert_eq!(v["coupons"].as_array().unwrap().len(), 0);
    let (_, v) = b.get("/coupon/series").await;
    assert_eq!(v["series"].as_array().unwrap().len(), 0);
    let (status, v) = b
        .post("/coupon/reverse", json!({"transactionNumber": "X"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
}

#[tokio::test]
async fn series_are_listed_by_their_direct_redemption_restriction() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let zone = app
        .add_coded(
            "Acme",
            offerdesk::store::masters::CodedKind::Zone,
            "Z1",
            "North",
        )
        .await;
    let store = app.add_store("Acme", "S1", zone).await;
    let base = |name: &str| json!({"name": name, "discountType": "PERC", "discountValue": 5, "validTill": "2027-01-01"});
    let mut at_store = base("At S1");
    at_store["stores"] = json!(["s1"]);
    let mut in_zone = base("In Z1");
    in_zone["zones"] = json!(["Z1"]);
    let at_store = api.series(at_store).await;
    let in_zone = api.series(in_zone).await;
    let anywhere = api.series(base("Anywhere")).await;
    let ids = |v: &Value| -> Vec<OfferId> {
        v["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| OfferId(s["id"].as_i64().unwrap()))
            .collect()
    };
    let (_, v) = api
        .get(&format!(
            "/coupon/series?orgEntityType=STORE&orgEntityIds={store}&orgEntityIds=424242"
        ))
        .await;
    assert_eq!(
        ids(&v),
        vec![at_store],
        "the store's own tag only, not its zone's"
    );
    let (_, v) = api
        .get(&format!(
            "/coupon/series?orgEntityType=ZONE&orgEntityIds={zone}"
        ))
        .await;
    assert_eq!(ids(&v), vec![in_zone]);
    let (_, v) = api
        .get("/coupon/series?orgEntityType=ZONE&orgEntityIds=424242")
        .await;
    assert!(ids(&v).is_empty(), "unknown ids match nothing");
    let (_, v) = api.get("/coupon/series").await;
    assert_eq!(ids(&v), vec![anywhere, in_zone, at_store]);
    let (status, _) = api
        .get("/coupon/series?orgEntityType=PLANET&orgEntityIds=1")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A store-restricted offer is refused elsewhere and accepted at its store.
    let code = api.issue(at_store, "9800000001").await;
    let (status, v) = api
        .post("/coupon/redeem", json!({"transactionNumber": "A", "billAmount": 1000, "storeCode": "S2", "customer": {"mobile": "9800000001"}, "codes": [code]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(error_code(&v), "store_not_allowed");
    let (status, v) = api
        .post("/coupon/redeem", json!({"transactionNumber": "A", "billAmount": 1000, "storeCode": "S1", "customer": {"mobile": "9800000001"}, "codes": [code]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["coupons"][0]["discount"], 50);
}

/// Fires `bodies` at the API with at most `parallel` in flight, alternating between `apis`.
async fn fire(
    apis: &[Api],
    path: &str,
    bodies: Vec<Value>,
    parallel: usize,
) -> Vec<(StatusCode, Value)> {
    let sem = Arc::new(tokio::sync::Semaphore::new(parallel));
    let mut tasks = Vec::with_capacity(bodies.len());
    for (i, body) in bodies.into_iter().enumerate() {
        let api = apis[i % apis.len()].clone();
        let sem = sem.clone();
        let path = path.to_string();
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await.unwrap();
            api.post(&path, body).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn count(results: &[(StatusCode, Value)], status: StatusCode) -> usize {
    results.iter().filter(|(s, _)| *s == status).count()
}

#[tokio::test]
async fn sixty_four_racers_on_one_single_use_code_and_exactly_one_wins_on_two_instances() {
    let app = spawn_app().await;
    let second = spawn_app_on(app.db.clone()).await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let mut body: Value = serde_json::from_str(WELCOME).unwrap();
    body["anyUser"] = json!(true);
    let series = api.series(body).await;
    for round in 0..3 {
        let code = api.issue(series, &format!("98000000{round:02}")).await;
        let bodies: Vec<Value> = (0..64)
            .map(|i| {
                json!({"transactionNumber": format!("R{round}-{i}"), "billAmount": 50000,
                "customer": {"mobile": format!("97{i:08}")}, "codes": [code]})
            })
            .collect();
        let results = fire(
            &[api.clone(), api.on(&second)],
            "/coupon/redeem",
            bodies,
            64,
        )
        .await;
        assert_eq!(
            count(&results, StatusCode::OK),
            1,
            "round {round}: exactly one redemption"
        );
        assert_eq!(count(&results, StatusCode::CONFLICT), 63, "{results:?}");
        assert!(
            results
                .iter()
                .filter(|(s, _)| *s == StatusCode::CONFLICT)
                .all(|(_, v)| error_code(v) == "already_redeemed")
        );
    }
    let (_, offer) = api.get(&format!("/coupon/series/{series}")).await;
    assert_eq!(offer["redeemedCount"], 3);
}

#[tokio::test]
async fn five_thousand_customers_race_for_a_common_code_capped_at_a_thousand() {
    let app = spawn_app().await;
    let second = spawn_app_on(app.db.clone()).await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let series = api.series(serde_json::from_str(GLOW).unwrap()).await;
    let bodies: Vec<Value> = (0..5000)
        .map(|i| {
            json!({"transactionNumber": format!("C{i}"), "billAmount": 1000,
            "customer": {"externalId": format!("cust-{i}")}, "codes": ["GLOW15"]})
        })
        .collect();
    let results = fire(
        &[api.clone(), api.on(&second)],
        "/coupon/redeem",
        bodies,
        64,
    )
    .await;
    // On a failure, say what else was answered (statuses and error codes, counted).
    let mut answered: std::collections::BTreeMap<String, usize> = Default::default();
    for (status, v) in &results {
        *answered
            .entry(format!("{status} {}", error_code(v)))
            .or_default() += 1;
    }
    assert_eq!(
        count(&results, StatusCode::OK),
        1000,
        "exactly the cap: {answered:?}"
    );
    assert_eq!(count(&results, StatusCode::CONFLICT), 4000, "{answered:?}");
    assert!(
        results
            .iter()
            .filter(|(s, _)| *s == StatusCode::CONFLICT)
            .all(|(_, v)| error_code(v) == "total_cap_reached")
    );
    let (_, offer) = api.get(&format!("/coupon/series/{series}")).await;
    assert_eq!(
        offer["redeemedCount"], 1000,
        "the counter equals the redemptions"
    );
    let org = app.org_id("Acme").await;
    let rows = app.store.redemption_count(org, series).await.unwrap();
    assert_eq!(rows, 1000);
}

#[tokio::test]
async fn a_customers_limit_and_gap_hold_under_concurrency() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 100_000).await;
    api.series(json!({"name": "Twice", "discountType": "PERC", "discountValue": 10, "codeType": "COMMON",
            "commonCode": "TWICE", "anyUser": true, "multipleRedemption": true, "maxRedemptionsPerCustomer": 2,
            "validTill": "2027-12-31"}))
        .await;
    let bodies: Vec<Value> = (0..30)
        .map(|i| {
            json!({"transactionNumber": format!("P{i}"), "billAmount": 1000,
            "customer": {"mobile": "9811111111"}, "codes": ["TWICE"]})
        })
        .collect();
    let results = fire(std::slice::from_ref(&api), "/coupon/redeem", bodies, 30).await;
    assert_eq!(count(&results, StatusCode::OK), 2, "{results:?}");

    api.series(json!({"name": "Weekly", "discountType": "PERC", "discountValue": 10, "codeType": "COMMON",
            "commonCode": "WEEKLY", "anyUser": true, "multipleRedemption": true, "redemptionGapDays": 7,
            "validTill": "2027-12-31"}))
        .await;
    let bodies: Vec<Value> = (0..30)
        .map(|i| {
            json!({"transactionNumber": format!("W{i}"), "billAmount": 1000,
            "customer": {"mobile": "9822222222"}, "codes": ["WEEKLY"]})
        })
        .collect();
    let results = fire(std::slice::from_ref(&api), "/coupon/redeem", bodies, 30).await;
    assert_eq!(
        count(&results, StatusCode::OK),
        1,
        "one per 7 days: {results:?}"
    );
    assert!(
        results
            .iter()
            .filter(|(s, _)| *s != StatusCode::OK)
            .all(|(_, v)| error_code(v) == "gap_not_elapsed")
    );
}

#[tokio::test]
async fn uploaded_codes_are_all_or_nothing_and_issued_to_their_customers() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let series = api
        .series(json!({"name": "Vendor", "discountType": "ABS", "discountValue": 5000, "codeType": "UPLOAD",
            "uploadWithCustomers": true, "validTill": "2027-12-31"}))
        .await;
    let (status, v) = api
        .post(
            "/coupon/upload",
            json!({"seriesId": series, "codes": [
            {"code": "VND-1", "customer": {"mobile": "9800000001"}},
            {"code": "vnd-1", "customer": {"mobile": "9800000002"}},
            {"code": "BAD CODE", "customer": {"mobile": "9800000003"}}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(
        error.contains("Line 3") && error.contains("Line 4"),
        "{error}"
    );
    let (_, d) = api.get("/coupon?codes=VND-1").await;
    assert!(
        d["coupons"].as_array().unwrap().is_empty(),
        "nothing applied"
    );
    let (status, v) = api
        .post(
            "/coupon/upload",
            json!({"seriesId": series, "codes": [{"code": "VND-1"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "codes[0].customer");

    let (status, v) = api
        .post(
            "/coupon/upload",
            json!({"seriesId": series, "codes": [
            {"code": "VND-1", "customer": {"mobile": "9800000001"}},
            {"code": "VND-2", "customer": {"email": "b@x.io"}}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "done");
    let (status, v) = api
        .post("/coupon/redeem", json!({"transactionNumber": "U1", "billAmount": 9000, "customer": {"mobile": "9800000001"}, "codes": ["vnd-1"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["coupons"][0]["discount"], 5000);
    let job = v["jobId"].as_i64();
    assert!(job.is_none());
}

#[tokio::test]
async fn the_console_explains_the_api_with_every_endpoint() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let b = app.signed_in(&email).await;
    let page = b.get("/api-docs").await;
    assert_eq!(page.status, StatusCode::OK);
    for path in [
        "/api/v2/coupon/redeem",
        "/api/v2/coupon/reverse",
        "/api/v2/coupon/series/{id}",
        "/api/v2/coupon/upload",
    ] {
        assert!(page.body.contains(path), "{path} listed");
    }
    assert!(page.body.contains("Authorization: Bearer"));
    // Signed out, the page asks for a sign-in.
    let anon = app.browser().get("/api-docs").await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
}

/// Seed 001: randomized common codes are made only by offers created in the console's
/// Incentives; the API refuses them, naming the field, and creates nothing.
#[tokio::test]
async fn the_api_does_not_create_randomized_code_offers() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let (status, v) = api
        .post(
            "/coupon/series",
            json!({"name":"Personal","discountType":"ABS","discountValue":20000,
                   "codeType":"RANDOMIZED","sampleCode":"TEST12345","validTill":"2027-12-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(error_code(&v), "randomized_console_only");
    assert_eq!(v["error"]["field"], "codeType");
    let org = app.org_id("Acme").await;
    assert!(app.store.offer_names(org).await.unwrap().is_empty());
}

/// `POST /api/v2/ping` answers a valid key with fixed JSON and refuses a missing one, in the
/// API's error envelope (the redeem benchmark's HTTP floor calls it).
#[tokio::test]
async fn ping_checks_the_key_and_answers_fixed_json() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let (status, v) = api.post("/ping", json!({"anything": 1})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"ok": true}));
    let anonymous = reqwest::Client::new()
        .post(format!("{}/api/v2/ping", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = anonymous.json().await.unwrap();
    assert!(body["error"]["code"].is_string(), "{body}");
}
