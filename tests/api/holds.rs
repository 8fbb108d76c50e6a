//! Earned and reward promotions over HTTP on both databases (issue #17): events earn by a
//! single activity or a tracker's milestone (once, also when two events reach it at once), a
//! retried event changes nothing, rewards are acquired once per request and per the maximum,
//! and the cart applies what the customer holds — to that customer only.

use crate::helpers::spawn_app;
use crate::integration::Api;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn rules(name: &str, kind: &str, holding: Value) -> Value {
    json!({
        "name": name,
        "kind": {"type": kind},
        "validity": {"starts": "2026-01-01T00:00:00Z"},
        "benefit": {"target": {"type": "cart"}, "value": {"type": "percent", "basisPoints": 1500}},
        "stacking": "stackable",
        "holding": holding
    })
}

async fn promotion(api: &Api, rules: Value) -> i64 {
    let (status, v) = api.post("/promotions", json!({"promotion": rules})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "live", "{v}");
    v["id"].as_i64().unwrap()
}

/// The discount an open cart of 1,000.00 gets for `mobile`.
async fn discount_for(api: &Api, cart: &str, mobile: &str) -> i64 {
    let (status, v) = api
        .put(
            &format!("/carts/{cart}"),
            json!({"state": "open", "customer": {"mobile": mobile},
                   "lines": [{"sku": "TEE-1", "quantity": 1, "unitPrice": 100000}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["discount"].as_i64().unwrap()
}

async fn event(api: &Api, id: &str, mobile: &str, amount: i64) -> Value {
    let (status, v) = api
        .post(
            "/events",
            json!({"type": "transaction", "eventId": id, "customer": {"mobile": mobile},
                   "amount": amount}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["results"][0].clone()
}

#[tokio::test]
async fn a_transaction_of_2000_or_more_earns_the_promotion_for_that_customer_once() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let promo = promotion(
        &api,
        rules(
            "15% after a big purchase",
            "earned",
            json!({"windowDays": 30, "maxPerCustomer": 1,
                   "earning": {"event": "transaction", "minAmount": 200000}}),
        ),
    )
    .await;
    // Not held yet: the cart gets nothing.
    assert_eq!(discount_for(&api, "C-0", "9800000001").await, 0);
    // ₹1,500 is below the minimum; ₹2,500 earns it.
    assert_eq!(
        event(&api, "E-1", "9800000001", 150000).await["earned"],
        json!([])
    );
    let earned = event(&api, "E-2", "9800000001", 250000).await;
    assert_eq!(earned["earned"][0]["promotionId"], promo, "{earned}");
    assert!(earned["earned"][0]["validTill"].is_string());
    assert_eq!(earned["replayed"], false);
    // A retried event answers the same and earns nothing more.
    let again = event(&api, "E-2", "9800000001", 250000).await;
    assert_eq!(again["earned"], earned["earned"]);
    assert_eq!(again["replayed"], true);
    // Held once at most: another big purchase does not earn it again.
    assert_eq!(
        event(&api, "E-3", "9800000001", 900000).await["earned"],
        json!([])
    );
    // The cart applies it for that customer only.
    assert_eq!(discount_for(&api, "C-1", "9800000001").await, 15000);
    assert_eq!(discount_for(&api, "C-2", "9800000002").await, 0);
    // Another org's key never earns it.
    let other = Api::of(&app, "Globex", 10_000).await;
    assert_eq!(
        event(&other, "E-9", "9800000003", 900000).await["earned"],
        json!([])
    );
}

#[tokio::test]
async fn a_milestone_reached_by_two_events_at_once_earns_once() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let promo = promotion(
        &api,
        rules(
            "Fifth visit",
            "earned",
            json!({"windowDays": 7, "earning": {"event": "transaction",
                   "milestone": {"measure": "count", "target": 5}}}),
        ),
    )
    .await;
    for i in 1..=3 {
        assert_eq!(
            event(&api, &format!("V-{i}"), "9800000011", 1000).await["earned"],
            json!([])
        );
    }
    // The 4th and 5th... and 6th arrive together: exactly one of them is the 5th.
    let (a, b, c) = tokio::join!(
        event(&api, "V-4", "9800000011", 1000),
        event(&api, "V-5", "9800000011", 1000),
        event(&api, "V-6", "9800000011", 1000)
    );
    let earned: Vec<&Value> = [&a, &b, &c]
        .into_iter()
        .filter(|r| r["earned"].as_array().is_some_and(|e| !e.is_empty()))
        .collect();
    assert_eq!(earned.len(), 1, "{a} {b} {c}");
    assert_eq!(earned[0]["earned"][0]["promotionId"], promo);
}

#[tokio::test]
async fn a_reward_is_held_once_per_request_and_within_the_maximum() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let promo = promotion(
        &api,
        rules(
            "Reward: 15% off",
            "reward",
            json!({"windowDays": 3, "maxPerCustomer": 1}),
        ),
    )
    .await;
    let reward = |request: &'static str| {
        let api = api.clone();
        async move {
            api.post(
                "/customers/rewards",
                json!({"promotionId": promo, "customer": {"mobile": "9800000021"},
                       "cost": {"points": 500}, "requestId": request}),
            )
            .await
        }
    };
    let (status, first) = reward("R-1").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["replayed"], false);
    let (_, again) = reward("R-1").await;
    assert_eq!(again["holdId"], first["holdId"]);
    assert_eq!(again["replayed"], true);
    let (status, over) = reward("R-2").await;
    assert_eq!(status, StatusCode::CONFLICT, "{over}");
    assert_eq!(over["error"]["code"], "max_per_customer");
    assert_eq!(discount_for(&api, "C-1", "9800000021").await, 15000);
    assert_eq!(discount_for(&api, "C-2", "9800000022").await, 0);

    // An automatic promotion is not acquired; bad bodies are field-named errors.
    let auto = promotion(&api, rules("Automatic", "automatic", json!({}))).await;
    let (status, v) = api
        .post(
            "/customers/rewards",
            json!({"promotionId": auto, "customer": {"mobile": "9800000021"},
                   "cost": {"points": 1}, "requestId": "R-3"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["code"], "not_reward");
    let (status, v) = api
        .post(
            "/customers/rewards",
            json!({"promotionId": promo, "customer": {"mobile": "9800000021"},
                   "cost": {"points": 1, "amount": 5}, "requestId": "R-4"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "cost");
    let (status, v) = api
        .post(
            "/events",
            json!({"type": "Big Spend", "eventId": "X", "customer": {"mobile": "9800000021"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "type");
    // An earned promotion without what earns it is refused.
    let (status, v) = api
        .post(
            "/promotions",
            json!({"promotion": rules("No earning", "earned", json!({"windowDays": 3}))}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "promotion.holding");
}
