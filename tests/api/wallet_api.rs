//! The till's and the kiosk's view of a customer's wallet (issue #18 item 7) over HTTP, on
//! both databases: `GET /api/v2/customers/wallet` lists the usable coupons — unique and common
//! codes, each with its code — best first; used, expired, revoked and shared ones are left
//! out; `POST` with a cart says for each whether it applies, with its discount or the reason;
//! nothing is consumed; another org's key sees nothing; bad input answers JSON errors.

use crate::helpers::{TestApp, spawn_app};
use crate::integration::Api;
use chrono::Utc;
use offerdesk::domain::ids::OfferId;
use offerdesk::domain::wallet::WalletState;
use offerdesk::store::dyntx::Arg;
use offerdesk::store::masters::CodedKind;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ME: &str = "+919811000001";
const FRIEND: &str = "+919811000002";

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// `GET /customers/wallet?mobile=…`, asserting 200.
async fn wallet_of(api: &Api, mobile: &str) -> Vec<Value> {
    let (status, v) = api
        .get(&format!(
            "/customers/wallet?mobile={}",
            mobile.replace('+', "%2B")
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["coupons"].as_array().cloned().unwrap_or_default()
}

fn codes(coupons: &[Value]) -> Vec<String> {
    coupons
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_string())
        .collect()
}

/// A unique-code offer valid through 2099 with more settings from `extra`.
async fn offer(api: &Api, name: &str, extra: Value) -> OfferId {
    let mut body = json!({"name": name, "codeType": "UNIQUE", "validTill": "2099-12-31"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    api.series(body).await
}

async fn redeem(api: &Api, txn: &str, bill: i64, codes: &[&str]) -> (StatusCode, Value) {
    api.post(
        "/coupon/redeem",
        json!({"transactionNumber": txn, "billAmount": bill, "storeCode": "S1",
            "customer": {"mobile": ME}, "codes": codes}),
    )
    .await
}

async fn customer_id(app: &TestApp, mobile: &str) -> i64 {
    let rows: Vec<(i64,)> = app
        .store
        .fetch_all_read(
            "SELECT id FROM customers WHERE identifier_type = 'MOBILE' AND identifier = $1",
            &[Arg::Text(mobile.into())],
        )
        .await
        .unwrap();
    rows[0].0
}

#[tokio::test]
async fn the_till_sees_the_usable_coupons_best_first_with_their_codes() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let zone = app.add_coded("Acme", CodedKind::Zone, "W", "West").await;
    app.add_store("Acme", "S1", zone).await;

    // The order the till must see, written out (rule: fixed amounts first, larger first; then
    // percentages, larger first, uncapped before capped; ties by the earlier last day). Glow15
    // is a common code.
    let flat500 = offer(
        &api,
        "Flat500",
        json!({"discountType": "ABS", "discountValue": 50000, "stores": ["S1"]}),
    )
    .await;
    let flat200_late = offer(
        &api,
        "Flat200 late",
        json!({"discountType": "ABS", "discountValue": 20000}),
    )
    .await;
    let flat200_soon = offer(
        &api,
        "Flat200 soon",
        json!({"discountType": "ABS", "discountValue": 20000, "validTill": "2098-06-30"}),
    )
    .await;
    let twenty = offer(
        &api,
        "Twenty",
        json!({"discountType": "PERC", "discountValue": 20}),
    )
    .await;
    let glow = api
        .series(
            json!({"name": "Glow15", "discountType": "PERC", "discountValue": 15,
            "codeType": "COMMON", "commonCode": "GLOW15", "validTill": "2099-12-31"}),
        )
        .await;
    let ten_capped = offer(
        &api,
        "Ten capped",
        json!({"discountType": "PERC", "discountValue": 15, "discountCap": 10000}),
    )
    .await;
    // Listed nowhere: redeemed, a common code used up, expired (its own day; the offer's end),
    // revoked, and one shared with a friend.
    let used = offer(
        &api,
        "Used",
        json!({"discountType": "ABS", "discountValue": 90000}),
    )
    .await;
    let once = api
        .series(
            json!({"name": "Once", "discountType": "ABS", "discountValue": 90000,
            "codeType": "COMMON", "commonCode": "ONCE900", "validTill": "2099-12-31"}),
        )
        .await;
    let lapsed = offer(
        &api,
        "Lapsed",
        json!({"discountType": "ABS", "discountValue": 90000}),
    )
    .await;
    let ended = offer(
        &api,
        "Ended",
        json!({"discountType": "ABS", "discountValue": 90000}),
    )
    .await;
    let revoked = offer(
        &api,
        "Revoked",
        json!({"discountType": "ABS", "discountValue": 90000}),
    )
    .await;
    let shared = offer(
        &api,
        "Shared",
        json!({"discountType": "ABS", "discountValue": 90000}),
    )
    .await;

    let expected = [
        (flat500, "Flat500", "₹500 off", "at store Store S1"),
        (flat200_soon, "Flat200 soon", "₹200 off", "at any store"),
        (flat200_late, "Flat200 late", "₹200 off", "at any store"),
        (twenty, "Twenty", "20% off", "at any store"),
        (glow, "Glow15", "15% off", "at any store"),
        (
            ten_capped,
            "Ten capped",
            "15% off, at most ₹100",
            "at any store",
        ),
    ];
    let mut code_of = std::collections::HashMap::new();
    // Issued in another order than the expected one.
    for series in [
        twenty,
        glow,
        flat200_late,
        ten_capped,
        flat500,
        flat200_soon,
    ] {
        code_of.insert(series, api.issue(series, ME).await);
    }
    assert_eq!(code_of[&glow], "GLOW15");
    let used_code = api.issue(used, ME).await;
    let once_code = api.issue(once, ME).await;
    let lapsed_code = api.issue(lapsed, ME).await;
    api.issue(ended, ME).await;
    api.issue(revoked, ME).await;
    let shared_code = api.issue(shared, ME).await;

    assert_eq!(wallet_of(&api, ME).await.len(), 12, "all twelve before");
    let (status, v) = redeem(&api, "T-1", 500_000, &[&used_code, &once_code]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let yesterday = Utc::now().date_naive().pred_opt().unwrap();
    let set_day = |sql: &'static str, key: Arg| {
        let store = app.store.clone();
        async move {
            let n = store
                .execute_autocommit(sql, &[Arg::OptDate(Some(yesterday)), key])
                .await
                .unwrap();
            assert_eq!(n, 1, "{sql}");
        }
    };
    set_day(
        "UPDATE coupons SET valid_till = $1 WHERE code = $2",
        Arg::Text(lapsed_code.clone()),
    )
    .await;
    // Seed 002: "A coupon expires immediately if the end date for the promotion is passed".
    set_day(
        "UPDATE offers SET expires_on = $1 WHERE id = $2",
        Arg::I64(ended.get()),
    )
    .await;
    let (status, v) = api
        .post(
            &format!("/offers/{revoked}/revoke"),
            json!({"mode": "CUSTOMERS", "customers": [{"mobile": ME}], "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // The lead's transfer share: the friend gets an issual and the coupon moves to them.
    api.issue(flat500, FRIEND).await;
    let friend = customer_id(&app, FRIEND).await;
    app.store
        .execute_autocommit(
            "INSERT INTO issuals (org_id, offer_id, coupon_id, customer_id, issued_at, valid_till, source) \
             SELECT org_id, offer_id, id, $1, $2, valid_till, 'share' FROM coupons WHERE code = $3",
            &[Arg::I64(friend), Arg::Time(Utc::now()), Arg::Text(shared_code.clone())],
        )
        .await
        .unwrap();
    app.store
        .execute_autocommit(
            "UPDATE coupons SET customer_id = $1 WHERE code = $2",
            &[Arg::I64(friend), Arg::Text(shared_code.clone())],
        )
        .await
        .unwrap();

    let coupons = wallet_of(&api, ME).await;
    let got: Vec<(i64, &str, &str, &str)> = coupons
        .iter()
        .map(|c| {
            (
                c["offerId"].as_i64().unwrap(),
                c["offerName"].as_str().unwrap(),
                c["discountWords"].as_str().unwrap(),
                c["whereWords"].as_str().unwrap(),
            )
        })
        .collect();
    let want: Vec<(i64, &str, &str, &str)> = expected
        .iter()
        .map(|(id, name, words, place)| (id.get(), *name, *words, *place))
        .collect();
    assert_eq!(got, want);
    let want_codes: Vec<String> = expected.iter().map(|e| code_of[&e.0].clone()).collect();
    assert_eq!(
        codes(&coupons),
        want_codes,
        "each with the code the till redeems"
    );
    let glow_out = &coupons[4];
    assert_eq!(glow_out["common"], true);
    assert_eq!(glow_out["discountType"], "PERC");
    assert_eq!(glow_out["discountValue"], 15);
    assert_eq!(coupons[0]["discountType"], "ABS");
    assert_eq!(coupons[0]["discountValue"], 50000);
    assert_eq!(coupons[0]["common"], false);
    assert_eq!(coupons[1]["validTill"], "2098-06-30");
    assert_eq!(coupons[5]["discountCap"], 10000);
    assert!(coupons[4]["discountCap"].is_null());
    assert!(coupons[0]["redeemableFrom"].is_null());

    // The wallet the customers' pages show: the rest is history, newest first, each in its
    // state.
    let org_id = app.org_id("Acme").await;
    let me = offerdesk::domain::ids::CustomerId(customer_id(&app, ME).await);
    let w = offerdesk::app::wallet::wallet(&app.store, org_id, me, Utc::now())
        .await
        .unwrap();
    assert_eq!(w.active.len(), 6);
    let mut history: Vec<(String, WalletState)> = w
        .history
        .iter()
        .map(|c| (c.offer_name.clone(), c.state))
        .collect();
    history.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        history,
        [
            ("Ended".to_string(), WalletState::Expired),
            ("Lapsed".to_string(), WalletState::Expired),
            ("Once".to_string(), WalletState::Used),
            ("Revoked".to_string(), WalletState::Revoked),
            ("Shared".to_string(), WalletState::Shared),
            ("Used".to_string(), WalletState::Used),
        ]
    );
    assert!(
        w.history
            .windows(2)
            .all(|p| p[0].issued_at >= p[1].issued_at),
        "newest first"
    );
    assert!(
        w.active.iter().all(|c| !c.shareable),
        "no offer is shareable"
    );

    // The friend holds the shared coupon now (and their own Flat500).
    let theirs = codes(&wallet_of(&api, FRIEND).await);
    assert_eq!(theirs.len(), 2, "{theirs:?}");
    assert!(theirs.contains(&shared_code));

    // The other identifiers find the same customer; an unknown customer has no coupons.
    let (status, v) = api.get("/customers/wallet?externalId=nobody-42").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["coupons"], json!([]));
    assert_eq!(
        v["customer"],
        json!({"type": "EXTERNAL_ID", "value": "nobody-42"})
    );
    assert!(wallet_of(&api, "+919899999999").await.is_empty());
    let (status, v) = api
        .get("/customers/wallet?mobile=%2B91%2098110-00001")
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["customer"]["value"], ME, "normalised");
    assert_eq!(v["coupons"].as_array().unwrap().len(), 6);

    let (_, doc) = api.get("/openapi.json").await;
    assert!(
        doc["paths"]["/api/v2/customers/wallet"]["get"].is_object(),
        "documented"
    );
    assert!(
        doc["paths"]["/api/v2/customers/wallet"]["post"].is_object(),
        "documented"
    );
}

#[tokio::test]
async fn a_cart_says_which_coupons_apply_and_why_not_and_consumes_nothing() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let zone = app.add_coded("Acme", CodedKind::Zone, "W", "West").await;
    app.add_store("Acme", "S1", zone).await;
    app.add_store("Acme", "S2", zone).await;

    let flat = offer(
        &api,
        "Flat200",
        json!({"discountType": "ABS", "discountValue": 20000}),
    )
    .await;
    let ten = offer(
        &api,
        "Ten",
        json!({"discountType": "PERC", "discountValue": 10, "discountCap": 12000}),
    )
    .await;
    let big = offer(
        &api,
        "Big",
        json!({"discountType": "ABS", "discountValue": 90000, "minBill": 200000}),
    )
    .await;
    let only_s2 = offer(
        &api,
        "Only S2",
        json!({"discountType": "ABS", "discountValue": 1000, "stores": ["S2"]}),
    )
    .await;
    let glow = api
        .series(
            json!({"name": "Glow15", "discountType": "PERC", "discountValue": 15,
            "codeType": "COMMON", "commonCode": "GLOW15", "validTill": "2099-12-31"}),
        )
        .await;
    let flat_code = api.issue(flat, ME).await;
    let ten_code = api.issue(ten, ME).await;
    let big_code = api.issue(big, ME).await;
    let s2_code = api.issue(only_s2, ME).await;
    api.issue(glow, ME).await;

    let cart = json!({"customer": {"mobile": ME},
        "cart": {"billAmount": 150000, "storeCode": "S1", "tillCode": "T9"}});
    let check = |body: Value| {
        let api = api.clone();
        async move {
            let (status, v) = api.post("/customers/wallet", body).await;
            assert_eq!(status, StatusCode::OK, "{v}");
            v
        }
    };
    let v = check(cart.clone()).await;
    // (code, applies, discount, refusal code): applying ones by discount, then the others
    // best first (the larger fixed amount first).
    let want: Vec<(&str, bool, i64, &str)> = vec![
        ("GLOW15", true, 22500, ""),
        (&flat_code, true, 20000, ""),
        (&ten_code, true, 12000, ""),
        (&big_code, false, 0, "bill_out_of_range"),
        (&s2_code, false, 0, "store_not_allowed"),
    ];
    let got: Vec<(&str, bool, i64, &str)> = v["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap(),
                c["applies"].as_bool().unwrap(),
                c["discount"].as_i64().unwrap(),
                c["reason"]["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(got, want, "{v}");
    let big_out = &v["coupons"][3];
    assert_eq!(
        big_out["reason"]["message"], "the bill amount must be at least ₹2,000",
        "{big_out}"
    );
    assert_eq!(big_out["offerName"], "Big");
    assert!(v["coupons"][0].get("reason").is_none());
    assert_eq!(v["customer"]["value"], ME);

    // A bigger bill at S2: the minimum is met and the S2-only coupon applies too.
    let v = check(json!({"customer": {"mobile": ME},
        "cart": {"billAmount": 250000, "storeCode": "S2",
            "lines": [{"sku": "A", "quantity": 1, "unitPrice": 250000}]}}))
    .await;
    let applies: Vec<(&str, i64)> = v["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["applies"] == true)
        .map(|c| (c["code"].as_str().unwrap(), c["discount"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        applies,
        [
            (big_code.as_str(), 90000),
            ("GLOW15", 37500),
            (flat_code.as_str(), 20000),
            (ten_code.as_str(), 12000),
            (s2_code.as_str(), 1000)
        ]
    );

    // Nothing was consumed: asked again, the same answer; then redeeming works.
    let again = check(cart.clone()).await;
    assert_eq!(again["coupons"].as_array().unwrap().len(), 5);
    assert_eq!(wallet_of(&api, ME).await.len(), 5);
    let (status, v) = redeem(&api, "T-1", 150000, &[&flat_code, "GLOW15"]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["totalDiscount"], 42500, "{v}");
    let left = codes(&wallet_of(&api, ME).await);
    assert_eq!(left, [big_code.clone(), s2_code.clone(), ten_code.clone()]);
    let v = check(cart).await;
    assert_eq!(v["coupons"].as_array().unwrap().len(), 3);
    assert_eq!(v["coupons"][0]["code"], ten_code.as_str());

    // An unknown customer: no coupons, 200.
    let v = check(json!({"customer": {"email": "nobody@example.com"},
        "cart": {"billAmount": 1000}}))
    .await;
    assert_eq!(v["coupons"], json!([]));
}

#[tokio::test]
async fn another_orgs_key_sees_nothing_of_a_customer() {
    let app = spawn_app().await;
    let acme = Api::of(&app, "Acme", 1000).await;
    let globex = Api::of(&app, "Globex", 1000).await;
    let a = offer(
        &acme,
        "Acme200",
        json!({"discountType": "ABS", "discountValue": 20000}),
    )
    .await;
    acme.series(
        json!({"name": "AcmeCommon", "discountType": "ABS", "discountValue": 500,
        "codeType": "COMMON", "commonCode": "ACME5", "validTill": "2099-12-31"}),
    )
    .await;
    let acme_code = acme.issue(a, ME).await;

    assert!(
        wallet_of(&globex, ME).await.is_empty(),
        "same number, other org"
    );
    let (status, v) = globex
        .post(
            "/customers/wallet",
            json!({"customer": {"mobile": ME}, "cart": {"billAmount": 100000}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["coupons"], json!([]));

    // Globex's own coupon for the same number is all Globex sees.
    let g = offer(
        &globex,
        "Globex100",
        json!({"discountType": "ABS", "discountValue": 10000}),
    )
    .await;
    let globex_code = globex.issue(g, ME).await;
    assert_eq!(codes(&wallet_of(&globex, ME).await), [globex_code]);
    assert_eq!(codes(&wallet_of(&acme, ME).await), [acme_code]);
}

#[tokio::test]
async fn bad_input_answers_json_errors() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let field = |v: &Value| v["error"]["field"].as_str().unwrap_or("").to_string();

    for (query, code, fld) in [
        ("", "invalid_field", ""),
        (
            "?mobile=%2B919811000001&email=a%40example.com",
            "invalid_field",
            "",
        ),
        ("?mobile=12", "invalid_field", "mobile"),
        ("?email=not-an-email", "invalid_field", "email"),
        ("?mobile=%2B919811000001&code=X", "invalid_query", ""),
    ] {
        let (status, v) = api.get(&format!("/customers/wallet{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {v}");
        assert_eq!(error_code(&v), code, "{query}: {v}");
        assert_eq!(field(&v), fld, "{query}: {v}");
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
    }

    let cart = json!({"billAmount": 1000});
    for (body, code, fld) in [
        (
            json!({"customer": {}, "cart": cart}),
            "invalid_field",
            "customer",
        ),
        (
            json!({"customer": {"mobile": ME, "externalId": "x"}, "cart": cart}),
            "invalid_field",
            "customer",
        ),
        (
            json!({"customer": {"mobile": "12"}, "cart": cart}),
            "invalid_field",
            "customer.mobile",
        ),
        (json!({"customer": {"mobile": ME}}), "invalid_body", ""),
        (
            json!({"customer": {"mobile": ME}, "cart": cart, "codes": []}),
            "invalid_body",
            "codes",
        ),
        (
            json!({"customer": {"mobile": ME, "firstName": "A"}, "cart": cart}),
            "invalid_body",
            "customer.firstName",
        ),
        (
            json!({"customer": {"mobile": ME}, "cart": {"billAmount": 1000, "coupons": 1}}),
            "invalid_body",
            "cart.coupons",
        ),
        (
            json!({"customer": {"mobile": ME}, "cart": {"billAmount": -1}}),
            "invalid_field",
            "cart.billAmount",
        ),
        (
            json!({"customer": {"mobile": ME}, "cart": {"billAmount": "x"}}),
            "invalid_body",
            "cart.billAmount",
        ),
        (
            json!({"customer": {"mobile": ME}, "cart": {"billAmount": 10,
                "lines": [{"sku": "A", "quantity": -1, "unitPrice": 10}]}}),
            "invalid_field",
            "cart.lines[0]",
        ),
    ] {
        let (status, v) = api.post("/customers/wallet", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(error_code(&v), code, "{body}: {v}");
        if !fld.is_empty() {
            assert_eq!(field(&v), fld, "{body}: {v}");
        }
    }

    // No key, a wrong key, another method: JSON errors too.
    let http = reqwest::Client::new();
    let url = format!(
        "{}/api/v2/customers/wallet?mobile=%2B919811000001",
        app.address
    );
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(error_code(&v), "unauthorized");
    let r = http.get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http.put(&url).bearer_auth(&api.key).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(error_code(&v), "method_not_allowed");
}
