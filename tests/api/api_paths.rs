//! The API paths the contract tests did not reach (issue #13), over HTTP on both databases:
//! `POST /coupon/validate` with several codes (each answers on its own, nothing is written),
//! redemption with cart `lines` on an offer for selected categories/brands without sale items
//! (RED-3), `POST /coupon/bulk/issue` and `POST /coupon/issue/multiple` (API-2), and the
//! 6-month past-issual boundary of ISS-2.

use crate::helpers::{TestApp, spawn_app};
use crate::integration::Api;
use crate::issuing::offer_with;
use chrono::{DateTime, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use offerdesk::domain::ids::OfferId;
use offerdesk::store::dyntx::Arg;
use offerdesk::store::masters::CodedKind;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// The offer's counters as `GET /coupon/series/{id}` answers them: (issued, redeemed).
async fn counts(api: &Api, series: OfferId) -> (i64, i64) {
    let (status, v) = api.get(&format!("/coupon/series/{series}")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    (
        v["issuedCount"].as_i64().unwrap(),
        v["redeemedCount"].as_i64().unwrap(),
    )
}

/// A coupon's details (API-5).
async fn coupon(api: &Api, code: &str) -> Value {
    let (status, v) = api.get(&format!("/coupon?codes={code}")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["coupons"][0].clone()
}

#[tokio::test]
async fn validate_answers_each_code_on_its_own_and_writes_nothing() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let flat = api
        .series(
            json!({"name": "Flat200", "discountType": "ABS", "discountValue": 20000,
            "codeType": "UNIQUE", "validTill": "2099-12-31"}),
        )
        .await;
    // 10% capped at ₹120.00.
    let perc = api
        .series(
            json!({"name": "Ten", "discountType": "PERC", "discountValue": 10,
            "discountCap": 12000, "codeType": "UNIQUE", "validTill": "2099-12-31"}),
        )
        .await;
    // Only for bills of ₹2,000.00 or more.
    let big = api
        .series(
            json!({"name": "Big", "discountType": "ABS", "discountValue": 5000,
            "minBill": 200000, "codeType": "UNIQUE", "validTill": "2099-12-31"}),
        )
        .await;
    let me = "+919811000001";
    let flat_code = api.issue(flat, me).await;
    let perc_code = api.issue(perc, me).await;
    let big_code = api.issue(big, me).await;
    let others = api.issue(flat, "+919811000002").await;

    // A ₹1,500.00 bill: the fixed ₹200, 10% = ₹150 capped at ₹120; the others are refused.
    let body = json!({"billAmount": 150000, "storeCode": "S1", "customer": {"mobile": me},
        "codes": [flat_code, perc_code, big_code, others, "NOSUCHCODE1"]});
    let (status, v) = api.post("/coupon/validate", body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["isRedeemable"], false, "{v}");
    let c = &v["coupons"];
    assert_eq!(c.as_array().unwrap().len(), 5, "{v}");
    assert_eq!(c[0]["code"], flat_code.as_str());
    assert_eq!(c[0]["isRedeemable"], true, "{v}");
    assert_eq!(c[0]["seriesId"], flat.get());
    assert_eq!(c[0]["discount"], 20000);
    assert_eq!(c[1]["isRedeemable"], true, "{v}");
    assert_eq!(
        c[1]["discount"], 12000,
        "10% of 150000 is 15000, capped at 12000"
    );
    assert_eq!(c[2]["isRedeemable"], false, "{v}");
    assert_eq!(c[2]["error"]["code"], "bill_out_of_range", "{v}");
    assert_eq!(c[3]["isRedeemable"], false, "{v}");
    assert_eq!(c[3]["error"]["code"], "not_issued_to_customer", "{v}");
    assert_eq!(c[4]["isRedeemable"], false, "{v}");
    assert_eq!(c[4]["error"]["code"], "unknown_code", "{v}");

    // The redeemable pair alone: redeemable, and the total is theirs.
    let pair = json!({"billAmount": 150000, "storeCode": "S1", "customer": {"mobile": me},
        "codes": [flat_code, perc_code]});
    let (status, v) = api.post("/coupon/validate", pair.clone()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["isRedeemable"], true, "{v}");
    assert_eq!(v["totalDiscount"], 32000, "{v}");
    // Validating again answers the same: nothing was used up.
    let (_, again) = api.post("/coupon/validate", pair.clone()).await;
    assert_eq!(again, v);

    // Nothing was written: the coupons are still issued and unused, the counts unchanged.
    for code in [&flat_code, &perc_code, &big_code, &others] {
        let d = coupon(&api, code).await;
        assert_eq!(d["status"], "issued", "{d}");
        assert_eq!(d["redeemCount"], 0, "{d}");
        assert!(d["redeemedAt"].is_null(), "{d}");
    }
    assert_eq!(counts(&api, flat).await, (2, 0));
    assert_eq!(counts(&api, perc).await, (1, 0));
    assert_eq!(counts(&api, big).await, (1, 0));

    // … and the redeem afterwards gives exactly what validate said.
    let mut redeem = pair;
    redeem["transactionNumber"] = json!("V1");
    let (status, done) = api.post("/coupon/redeem", redeem).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["totalDiscount"], 32000, "{done}");
    assert_eq!(done["coupons"][0]["discount"], 20000);
    assert_eq!(done["coupons"][1]["discount"], 12000);
    assert_eq!(counts(&api, flat).await, (2, 1));
    assert_eq!(counts(&api, perc).await, (1, 1));
    assert_eq!(coupon(&api, &flat_code).await["status"], "redeemed");

    // Validate of a redeemed code now says so.
    let (_, v) = api
        .post(
            "/coupon/validate",
            json!({"billAmount": 150000, "customer": {"mobile": me}, "codes": [flat_code]}),
        )
        .await;
    assert_eq!(v["coupons"][0]["error"]["code"], "already_redeemed", "{v}");

    // A negative bill is a 400 naming the field.
    let (status, v) = api
        .post(
            "/coupon/validate",
            json!({"billAmount": -1, "customer": {"mobile": me}, "codes": [perc_code]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "billAmount", "{v}");
}

/// One cart line as the API takes it.
fn line(
    sku: &str,
    category: &str,
    brand: &str,
    quantity: i64,
    unit_price: i64,
    on_sale: bool,
) -> Value {
    json!({"sku": sku, "category": category, "brand": brand, "quantity": quantity,
        "unitPrice": unit_price, "onSale": on_sale})
}

fn bill_of(lines: &[Value]) -> i64 {
    lines
        .iter()
        .map(|l| l["quantity"].as_i64().unwrap() * l["unitPrice"].as_i64().unwrap())
        .sum()
}

#[tokio::test]
async fn cart_lines_count_only_the_eligible_products() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    app.add_coded("Acme", CodedKind::Category, "SHOES", "Shoes")
        .await;
    app.add_coded("Acme", CodedKind::Category, "BAGS", "Bags")
        .await;
    app.add_coded("Acme", CodedKind::Brand, "NIKE", "Nike")
        .await;
    app.add_coded("Acme", CodedKind::Brand, "PUMA", "Puma")
        .await;

    // 12.5% on Nike shoes that are not on sale, at most ₹50.00.
    let shoes = api
        .series(
            json!({"name": "Nike shoes", "discountType": "PERC", "discountValue": 12.5,
            "discountCap": 5000, "categories": ["SHOES"], "brands": ["NIKE"],
            "includeSaleItems": false, "codeType": "UNIQUE", "validTill": "2099-12-31",
            "multipleRedemption": true, "maxRedemptionsPerCustomer": 10}),
        )
        .await;
    let me = "+919812000001";
    let code = api.issue(shoes, me).await;

    let cart = vec![
        line("N-RUN", "SHOES", "NIKE", 2, 9999, false), // eligible: 19998
        line("N-SALE", "SHOES", "NIKE", 1, 5001, true), // on sale: excluded
        line("N-BAG", "BAGS", "NIKE", 1, 10000, false), // other category
        line("P-RUN", "SHOES", "PUMA", 1, 10000, false), // other brand
    ];
    let bill = bill_of(&cart);
    assert_eq!(bill, 44999);
    // 12.5% of 19998 = 2499.75 → 2499 (rounded down), under the cap.
    let body = json!({"billAmount": bill, "storeCode": "S1", "customer": {"mobile": me},
        "codes": [code], "lines": cart});
    let (status, v) = api.post("/coupon/validate", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["isRedeemable"], true, "{v}");
    assert_eq!(v["coupons"][0]["discount"], 2499, "{v}");
    let mut redeem = body;
    redeem["transactionNumber"] = json!("L1");
    let (status, done) = api.post("/coupon/redeem", redeem).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["totalDiscount"], 2499, "{done}");
    assert_eq!(done["coupons"][0]["discount"], 2499, "{done}");

    // 4 × 13333 = 53332 eligible; 12.5% = 6666.5 → 6666, capped at 5000.
    let big = vec![
        line("N-RUN2", "SHOES", "NIKE", 4, 13333, false),
        line("P-RUN", "SHOES", "PUMA", 1, 10000, false),
    ];
    let body = json!({"transactionNumber": "L2", "billAmount": bill_of(&big), "storeCode": "S1",
        "customer": {"mobile": me}, "codes": [code], "lines": big});
    let (status, done) = api.post("/coupon/redeem", body).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["coupons"][0]["discount"], 5000, "{done}");

    // A cart with nothing eligible (a Nike shoe on sale, Puma shoes, a Nike bag) is refused.
    let none = vec![
        line("N-SALE", "SHOES", "NIKE", 1, 5001, true),
        line("P-RUN", "SHOES", "PUMA", 3, 10000, false),
        line("N-BAG", "BAGS", "NIKE", 1, 10000, false),
    ];
    let body = json!({"billAmount": bill_of(&none), "storeCode": "S1",
        "customer": {"mobile": me}, "codes": [code], "lines": none});
    let (status, v) = api.post("/coupon/validate", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["isRedeemable"], false, "{v}");
    assert_eq!(v["coupons"][0]["discount"], 0, "{v}");
    assert_eq!(v["coupons"][0]["error"]["code"], "nothing_eligible", "{v}");
    let mut redeem = body;
    redeem["transactionNumber"] = json!("L3");
    let (status, v) = api.post("/coupon/redeem", redeem).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(error_code(&v), "nothing_eligible", "{v}");
    assert_eq!(
        counts(&api, shoes).await.1,
        2,
        "the refused cart redeemed nothing"
    );

    // An offer on shoes of any brand that includes sale items: a fixed ₹200.00 is at most the
    // eligible amount, 5001 + 10000.
    let any_shoe = api
        .series(
            json!({"name": "Any shoe", "discountType": "ABS", "discountValue": 20000,
            "categories": ["SHOES"], "includeSaleItems": true, "codeType": "UNIQUE",
            "validTill": "2099-12-31"}),
        )
        .await;
    let code2 = api.issue(any_shoe, me).await;
    let mixed = vec![
        line("N-SALE", "SHOES", "NIKE", 1, 5001, true),
        line("P-RUN", "SHOES", "PUMA", 1, 10000, false),
        line("N-BAG", "BAGS", "NIKE", 2, 10000, false),
    ];
    let body = json!({"billAmount": bill_of(&mixed), "storeCode": "S1",
        "customer": {"mobile": me}, "codes": [code2], "lines": mixed});
    let (status, v) = api.post("/coupon/validate", body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["coupons"][0]["discount"], 15001, "{v}");

    // A negative line is a 400 naming the line.
    let body = json!({"billAmount": 1000, "customer": {"mobile": me}, "codes": [code2],
        "lines": [line("X", "SHOES", "NIKE", -1, 1000, false)]});
    let (status, v) = api.post("/coupon/validate", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "lines[0]", "{v}");
}

#[tokio::test]
async fn bulk_issue_answers_each_series_on_its_own() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let once = api
        .series(
            json!({"name": "Once", "discountType": "ABS", "discountValue": 10000,
            "maxIssualsPerCustomer": 1, "codeType": "UNIQUE", "validTill": "2099-12-31"}),
        )
        .await;
    let two = api
        .series(
            json!({"name": "Two", "discountType": "PERC", "discountValue": 5,
            "codeType": "UNIQUE", "validTill": "2099-12-31", "couponExpiryType": "DAYS",
            "couponExpiryValue": 30}),
        )
        .await;
    let three = api
        .series(
            json!({"name": "Three", "discountType": "ABS", "discountValue": 2500,
            "codeType": "UNIQUE", "validTill": "2099-06-30"}),
        )
        .await;
    let me = "+919813000001";
    api.issue(once, me).await;

    let (status, v) = api
        .post(
            "/coupon/bulk/issue",
            json!({"seriesIds": [once, two, three, 999_999], "customer": {"mobile": me}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["customer"]["type"], "MOBILE", "{v}");
    assert_eq!(v["customer"]["value"], me, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 4, "{v}");
    assert_eq!(r[0]["seriesId"], once.get());
    assert!(r[0]["code"].is_null(), "{v}");
    assert_eq!(r[0]["error"]["code"], "max_per_customer", "{v}");
    assert_eq!(r[1]["seriesId"], two.get());
    assert!(r[1]["error"].is_null(), "{v}");
    let code_two = r[1]["code"].as_str().expect("a code of Two").to_string();
    assert!(r[1]["validTill"].is_string(), "{v}");
    assert_eq!(r[2]["seriesId"], three.get());
    assert!(r[2]["error"].is_null(), "{v}");
    let code_three = r[2]["code"].as_str().expect("a code of Three").to_string();
    assert_eq!(r[2]["validTill"], "2099-06-30", "{v}");
    assert_eq!(r[3]["seriesId"], 999_999);
    assert_eq!(r[3]["error"]["code"], "not_found", "{v}");

    // The coupons are the customer's; the refused offer issued nothing more.
    for (code, series) in [(&code_two, two), (&code_three, three)] {
        let d = coupon(&api, code).await;
        assert_eq!(d["seriesId"], series.get(), "{d}");
        assert_eq!(d["status"], "issued", "{d}");
        assert_eq!(d["customer"]["value"], me, "{d}");
    }
    assert_eq!(counts(&api, once).await.0, 1);
    assert_eq!(counts(&api, two).await.0, 1);
    assert_eq!(counts(&api, three).await.0, 1);

    // More than 50 series: 400 naming seriesIds, nothing issued.
    let many: Vec<i64> = vec![two.get(); 51];
    let (status, v) = api
        .post(
            "/coupon/bulk/issue",
            json!({"seriesIds": many, "customer": {"mobile": "+919813000002"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "seriesIds", "{v}");
    assert_eq!(counts(&api, two).await.0, 1);
    // Exactly 50 is allowed.
    let fifty: Vec<i64> = vec![two.get(); 50];
    let (status, v) = api
        .post(
            "/coupon/bulk/issue",
            json!({"seriesIds": fifty, "customer": {"mobile": "+919813000002"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let codes: HashSet<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().expect("each issued"))
        .collect();
    assert_eq!(codes.len(), 50, "{v}");
    assert_eq!(counts(&api, two).await.0, 51);
}

#[tokio::test]
async fn issue_multiple_issues_up_to_the_per_customer_max() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let five = api
        .series(
            json!({"name": "Five", "discountType": "ABS", "discountValue": 10000,
            "maxIssualsPerCustomer": 5, "codeType": "UNIQUE", "validTill": "2099-12-31"}),
        )
        .await;
    let me = "+919814000001";
    let multiple = |mobile: &str, count: i64| json!({"seriesId": five, "customer": {"mobile": mobile}, "count": count});

    // 3 within the max of 5: three distinct coupons in one call.
    let (status, v) = api.post("/coupon/issue/multiple", multiple(me, 3)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 3, "{v}");
    let first: HashSet<String> = r
        .iter()
        .map(|x| {
            assert_eq!(x["seriesId"], five.get());
            assert!(x["error"].is_null(), "{v}");
            x["code"].as_str().expect("issued").to_string()
        })
        .collect();
    assert_eq!(first.len(), 3);
    assert_eq!(counts(&api, five).await.0, 3);

    // 4 more: 2 reach the max, the other 2 are refused for it.
    let (status, v) = api.post("/coupon/issue/multiple", multiple(me, 4)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 4, "{v}");
    let issued: Vec<&str> = r.iter().filter_map(|x| x["code"].as_str()).collect();
    assert_eq!(issued.len(), 2, "{v}");
    assert!(issued.iter().all(|c| !first.contains(*c)), "{v}");
    let refused: Vec<&Value> = r.iter().filter(|x| x["code"].is_null()).collect();
    assert_eq!(refused.len(), 2, "{v}");
    assert!(
        refused
            .iter()
            .all(|x| x["error"]["code"] == "max_per_customer"),
        "{v}"
    );
    assert_eq!(counts(&api, five).await.0, 5);
    let (_, mine) = api
        .get(&format!("/coupon?mobile={}", me.replace('+', "%2B")))
        .await;
    assert_eq!(mine["coupons"].as_array().unwrap().len(), 5, "{mine}");

    // A new customer asking for 7 gets 5; the last 2 are refused.
    let (status, v) = api
        .post("/coupon/issue/multiple", multiple("+919814000002", 7))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 7, "{v}");
    assert_eq!(r.iter().filter(|x| x["code"].is_string()).count(), 5, "{v}");
    assert_eq!(
        r.iter()
            .filter(|x| x["error"]["code"] == "max_per_customer")
            .count(),
        2,
        "{v}"
    );
    assert_eq!(counts(&api, five).await.0, 10);

    // count must be 1 to 500; a refused count issues nothing.
    for bad in [0, 501] {
        let (status, v) = api
            .post("/coupon/issue/multiple", multiple("+919814000003", bad))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "count {bad}: {v}");
        assert_eq!(v["error"]["field"], "count", "{v}");
    }
    assert_eq!(counts(&api, five).await.0, 10);

    // 500 of an offer without a max: all issued, all different.
    let open = api
        .series(
            json!({"name": "Open", "discountType": "ABS", "discountValue": 100,
            "codeType": "UNIQUE", "validTill": "2099-12-31"}),
        )
        .await;
    let (status, v) = api
        .post(
            "/coupon/issue/multiple",
            json!({"seriesId": open, "customer": {"mobile": me}, "count": 500}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let codes: HashSet<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["code"].as_str())
        .collect();
    assert_eq!(codes.len(), 500);
    assert_eq!(counts(&api, open).await.0, 500);
}

/// Moves the issue of `code` (of offer `offer`) to the instant `at`.
async fn issued_at(app: &TestApp, offer: OfferId, code: &str, at: DateTime<Utc>) {
    let n = app
        .store
        .execute_autocommit(
            "UPDATE issuals SET issued_at = $1 WHERE offer_id = $2 AND coupon_id = \
             (SELECT id FROM coupons WHERE offer_id = $2 AND code = $3)",
            &[Arg::Time(at), Arg::from(offer), Arg::Text(code.to_string())],
        )
        .await
        .unwrap();
    assert_eq!(n, 1, "one issual of {code}");
    app.store
        .execute_autocommit(
            "UPDATE coupons SET issued_at = $1 WHERE offer_id = $2 AND code = $3",
            &[Arg::Time(at), Arg::from(offer), Arg::Text(code.to_string())],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn past_issuals_exclude_for_six_calendar_months() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let a = api
        .series(
            json!({"name": "Offer A", "discountType": "ABS", "discountValue": 10000,
            "codeType": "UNIQUE", "validTill": "2099-12-31"}),
        )
        .await;
    // Offer B excludes customers issued offer A in the last 6 months (console field only).
    let b = offer_with(&app, "Offer B", |f| {
        f.past_issual_offers = vec![a.to_string()];
    })
    .await;

    // The org's calendar: Asia/Kolkata. Six calendar months before today, written out.
    let tz = chrono_tz::Asia::Kolkata;
    let today: NaiveDate = Utc::now().with_timezone(&tz).date_naive();
    let six_months_ago = today.checked_sub_months(Months::new(6)).unwrap();
    let day_before = six_months_ago.pred_opt().unwrap();
    let day_after = six_months_ago.succ_opt().unwrap();
    let local = |d: NaiveDate, t: NaiveTime| -> DateTime<Utc> {
        tz.from_local_datetime(&d.and_time(t))
            .single()
            .unwrap()
            .with_timezone(&Utc)
    };
    let midnight = NaiveTime::from_hms_opt(0, 0, 0).unwrap();
    let last_second = NaiveTime::from_hms_opt(23, 59, 59).unwrap();
    let noon = NaiveTime::from_hms_opt(12, 0, 0).unwrap();

    let issue_b = |mobile: &str| {
        let api = api.clone();
        let body = json!({"seriesId": b, "customer": {"mobile": mobile}});
        async move { api.post("/coupon/issue", body).await }
    };

    // Issued A just now: refused B.
    let now_customer = "+919815000001";
    api.issue(a, now_customer).await;
    let (status, v) = issue_b(now_customer).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(error_code(&v), "past_issual", "{v}");

    // Never issued A: accepted.
    let (status, v) = issue_b("+919815000009").await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // Issued A 6 months and one day ago (its last second, local time): accepted.
    let older = "+919815000002";
    let code = api.issue(a, older).await;
    issued_at(&app, a, &code, local(day_before, last_second)).await;
    let (status, v) = issue_b(older).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "issued A on {day_before}, 6 months and a day before {today}: {v}"
    );

    // Issued A exactly 6 months ago, at the first instant of that day: refused.
    let exactly = "+919815000003";
    let code = api.issue(a, exactly).await;
    issued_at(&app, a, &code, local(six_months_ago, midnight)).await;
    let (status, v) = issue_b(exactly).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "issued A on {six_months_ago}, 6 months before {today}: {v}"
    );
    assert_eq!(error_code(&v), "past_issual", "{v}");

    // Issued A 6 months less a day ago: refused.
    let newer = "+919815000004";
    let code = api.issue(a, newer).await;
    issued_at(&app, a, &code, local(day_after, noon)).await;
    let (status, v) = issue_b(newer).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "issued A on {day_after}: {v}"
    );
    assert_eq!(error_code(&v), "past_issual", "{v}");

    // The refusals issued nothing of B: the two accepted customers have its only coupons.
    assert_eq!(counts(&api, b).await.0, 2);
}
