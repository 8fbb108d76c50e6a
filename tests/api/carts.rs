//! Cart promotions over HTTP (PRM-1, seed 003): promotions created through the API, the cart
//! API applying them with coupons, closing exactly once, cancelling, limits under concurrency
//! across two instances, hints and bad input.

use crate::helpers::{spawn_app, spawn_app_on};
use crate::integration::Api;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Seed 003: "Buy 2 Pants, Get 1 Belt for 50% off" — over and above the condition.
fn pants_and_belt() -> Value {
    json!({
        "name": "Two pants, belt half price",
        "kind": {"type": "automatic"},
        "validity": {"starts": "2026-01-01T00:00:00Z"},
        "conditions": [{"type": "productQuantity",
            "products": {"include": {"categories": ["PANTS"]}}, "atLeast": 2}],
        "benefit": {
            "target": {"type": "products",
                "criteria": {"type": "filter", "products": {"include": {"categories": ["BELTS"]}}},
                "quantity": 1},
            "value": {"type": "percent", "basisPoints": 5000}},
        "stacking": "stackable"
    })
}

/// "10% off a cart of 2,000 or more", at most `uses` carts.
pub(crate) fn ten_off_over_2000(uses: Option<i64>) -> Value {
    json!({
        "name": "Ten off over 2000",
        "kind": {"type": "automatic"},
        "validity": {"starts": "2026-01-01T00:00:00Z"},
        "conditions": [{"type": "cartAmount", "atLeast": 200000}],
        "benefit": {"target": {"type": "cart"}, "value": {"type": "percent", "basisPoints": 1000}},
        "stacking": "stackable",
        "limits": {"globalUses": uses}
    })
}

pub(crate) async fn promotion(api: &Api, rules: Value) -> i64 {
    let (status, v) = api.post("/promotions", json!({"promotion": rules})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "live");
    v["id"].as_i64().unwrap()
}

pub(crate) fn line(sku: &str, quantity: i64, unit_price: i64) -> Value {
    json!({"sku": sku, "quantity": quantity, "unitPrice": unit_price})
}

pub(crate) async fn cart(
    api: &Api,
    id: &str,
    state: &str,
    codes: &[&str],
    lines: Vec<Value>,
) -> (StatusCode, Value) {
    api.put(
        &format!("/carts/{id}"),
        json!({"state": state, "codes": codes, "lines": lines,
               "customer": {"mobile": "9800000001"}}),
    )
    .await
}

/// `carts` closes of a 2,500 cart (`{prefix}-{i}`), taken in turn by `racers` clients spread
/// over `apis`: how many got `promo` (10% off, 250), every other one nothing.
pub(crate) async fn race_closes(
    apis: &[Api],
    racers: usize,
    carts: usize,
    prefix: &str,
    promo: i64,
) -> usize {
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for r in 0..racers {
        let (api, next, prefix) = (
            apis[r % apis.len()].clone(),
            next.clone(),
            prefix.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            let mut got = 0;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= carts {
                    return got;
                }
                let lines = vec![line("TV", 1, 250000)];
                let (status, v) = cart(&api, &format!("{prefix}-{i}"), "closed", &[], lines).await;
                assert_eq!(status, StatusCode::OK, "{v}");
                let applied = v["applied"].as_array().unwrap();
                if applied.iter().any(|a| a["id"] == promo) {
                    assert_eq!(v["discount"], 25000, "{v}");
                    got += 1;
                } else {
                    assert_eq!(v["discount"], 0, "{v}");
                }
            }
        }));
    }
    let mut got = 0;
    for t in tasks {
        got += t.await.unwrap();
    }
    got
}

/// Whether a backend of the test's database came to wait on a lock (`condition` on
/// `pg_stat_activity` besides) within five seconds.
pub(crate) async fn waits_on_lock(watcher: &mut sqlx::PgConnection, condition: &str) -> bool {
    for _ in 0..200 {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND {condition}"
        )))
        .fetch_one(&mut *watcher)
        .await
        .unwrap();
        if n > 0 {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    false
}

const WELCOME: &str = r#"{"name":"Welcome","discountType":"ABS","discountValue":20000,"codeType":"UNIQUE","validTill":"2027-12-31"}"#;

#[tokio::test]
async fn a_promotion_and_a_coupon_apply_together_close_once_and_cancel_reverses_both() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    // The catalogue knows the categories; the till sends only SKUs and prices.
    let (status, v) = api
        .put(
            "/products",
            json!({"products": [
                {"sku": "PANT-1", "name": "Chinos", "price": 150000, "category": "PANTS"},
                {"sku": "BELT-1", "name": "Leather belt", "price": 80000, "category": "BELTS"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let promo = promotion(&api, pants_and_belt()).await;
    let series = api.series(serde_json::from_str(WELCOME).unwrap()).await;
    let code = api.issue(series, "9800000001").await;
    let lines = || vec![line("PANT-1", 2, 150000), line("BELT-1", 1, 80000)];

    // Open: the belt at half price (40,000), then the coupon's 20,000 on what is left.
    let (status, open) = cart(&api, "T-1", "open", &[&code], lines()).await;
    assert_eq!(status, StatusCode::OK, "{open}");
    assert_eq!(open["subtotal"], 380000);
    assert_eq!(open["discount"], 60000);
    assert_eq!(open["total"], 320000);
    assert_eq!(open["applied"][0]["kind"], "promotion");
    assert_eq!(open["applied"][0]["id"], promo);
    assert_eq!(open["applied"][0]["discount"], 40000);
    assert_eq!(open["applied"][1]["kind"], "coupon");
    assert_eq!(open["applied"][1]["code"], code.as_str());
    assert_eq!(open["applied"][1]["discount"], 20000);
    let line_sum: i64 = open["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["discount"].as_i64().unwrap())
        .sum();
    assert_eq!(
        line_sum, 60000,
        "the lines carry the whole discount: {open}"
    );
    // Open has no side effect: the same answer again, and the coupon is still redeemable.
    let (_, again) = cart(&api, "T-1", "open", &[&code], lines()).await;
    assert_eq!(again, open);

    // Close: the same amounts, once; a retry answers the first result.
    let (status, closed) = cart(&api, "T-1", "closed", &[&code], lines()).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["discount"], 60000);
    assert_eq!(closed["applied"][1]["name"], "Welcome", "{closed}");
    let (_, retried) = cart(&api, "T-1", "closed", &[&code], lines()).await;
    assert_eq!(retried["replayed"], true);
    assert_eq!(retried["discount"], 60000);
    // The coupon was redeemed through the cart: the coupon API sees that redemption.
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "OTHER", "billAmount": 100000,
                   "customer": {"mobile": "9800000001"}, "codes": [code]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    // A second cart with the same code is told the coupon is used.
    let (_, other) = cart(&api, "T-2", "open", &[&code], lines()).await;
    assert_eq!(other["rejected"][0]["code"], code.as_str(), "{other}");
    assert_eq!(other["discount"], 40000);

    // Cancel: the close is reversed — the coupon can be used again, the cart not closed again.
    let (status, cancelled) = cart(&api, "T-1", "cancelled", &[], Vec::new()).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["state"], "cancelled");
    let (_, reopened) = cart(&api, "T-3", "open", &[&code], lines()).await;
    assert_eq!(reopened["discount"], 60000, "{reopened}");
    let (status, v) = cart(&api, "T-1", "closed", &[&code], lines()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(v["error"]["code"], "cart_cancelled");
}

#[tokio::test]
async fn the_last_use_of_a_limited_promotion_goes_to_one_cart_across_two_instances() {
    let app = spawn_app().await;
    let second = spawn_app_on(app.db.clone()).await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let promo = promotion(&api, ten_off_over_2000(Some(3))).await;
    let apis = [api.clone(), api.on(&second)];
    let mut tasks = Vec::new();
    for i in 0..24 {
        let api = apis[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            cart(
                &api,
                &format!("R-{i}"),
                "closed",
                &[],
                vec![line("TV", 1, 250000)],
            )
            .await
        }));
    }
    let mut got = 0;
    let mut dropped_or_refused = 0;
    let mut answers = Vec::new();
    for t in tasks {
        let (status, v) = t.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{v}");
        if v["applied"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == promo)
        {
            assert_eq!(v["discount"], 25000);
            got += 1;
        } else {
            assert_eq!(v["discount"], 0, "{v}");
            dropped_or_refused += 1;
        }
        answers.push(v["discount"].clone());
    }
    assert_eq!(got, 3, "exactly the limit's 3 carts get it");
    assert_eq!(dropped_or_refused, 21);
    // Each cart's retried close answers what its close answered (the stored answer is the final
    // one, also for a cart that lost the race after its first evaluation saw the promotion).
    for (i, first) in answers.iter().enumerate() {
        let (status, again) = cart(
            &apis[(i + 1) % 2],
            &format!("R-{i}"),
            "closed",
            &[],
            vec![line("TV", 1, 250000)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(&again["discount"], first, "R-{i}: {again}");
        assert_eq!(again["replayed"], true, "{again}");
    }
    // An open cart now sees the limit reached.
    let (_, open) = cart(&api, "R-open", "open", &[], vec![line("TV", 1, 250000)]).await;
    assert_eq!(open["discount"], 0, "{open}");
}

/// Twelve closes of one cart sent at once over two instances (on SQLite, closes in flight run
/// in one transaction of the writer, so several of them meet in one): the cart is closed once —
/// one use recorded — and every answer is that close's.
#[tokio::test]
async fn closes_of_one_cart_sent_at_once_record_it_once_and_answer_alike() {
    let app = spawn_app().await;
    let second = spawn_app_on(app.db.clone()).await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let promo = promotion(&api, ten_off_over_2000(Some(50))).await;
    let apis = [api.clone(), api.on(&second)];
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let api = apis[(i / 2) % 2].clone();
            // Half of them close S-1; the others close carts of their own beside them.
            let id = if i % 2 == 0 {
                "S-1".to_string()
            } else {
                format!("S-other-{i}")
            };
            tokio::spawn(async move {
                let (status, v) = cart(&api, &id, "closed", &[], vec![line("TV", 1, 250000)]).await;
                (id, status, v)
            })
        })
        .collect();
    let mut replayed = 0;
    for t in tasks {
        let (id, status, v) = t.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{id}: {v}");
        assert_eq!(v["discount"], 25000, "{id}: {v}");
        assert_eq!(v["applied"][0]["id"], promo, "{id}: {v}");
        if v["replayed"] == true {
            assert_eq!(id, "S-1", "only S-1 was closed more than once: {v}");
            replayed += 1;
        }
    }
    assert_eq!(
        replayed, 11,
        "one close of S-1 closed it, the other eleven answer its result"
    );
    let (uses,): (i64,) = app
        .store
        .fetch_one_read(
            "SELECT COUNT(*) FROM promotion_uses WHERE cart_id = $1",
            &["S-1".into()],
        )
        .await
        .unwrap();
    assert_eq!(uses, 1, "S-1's use recorded once");
    let (all,): (i64,) = app
        .store
        .fetch_one_read("SELECT COUNT(*) FROM promotion_uses", &[])
        .await
        .unwrap();
    assert_eq!(all, 13, "S-1 and the twelve other carts");
}

/// Uses another instance records (written straight into the table here): `n` of them now.
async fn uses_elsewhere(app: &crate::helpers::TestApp, promo: i64, n: i64) {
    let org = app.org_id("Acme").await;
    app.store
        .execute_autocommit(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $3) \
             INSERT INTO promotion_uses (org_id, promotion_id, cart_id, discount, used_at) \
             SELECT $1, $2, 'ELSEWHERE-' || n, 100, $4 FROM g",
            &[
                org.into(),
                promo.into(),
                n.into(),
                chrono::Utc::now().into(),
            ],
        )
        .await
        .unwrap();
}

/// An open counts a promotion near its limit (fewer than 1,000 uses left) every time, so the
/// uses another instance just recorded take its last use at once; far from the limit a count
/// this instance read lately serves for a quarter second (whether the cart gets the promotion
/// cannot depend on it then), after which the next open counts again.
#[tokio::test]
async fn an_open_counts_again_near_a_limit_at_once_and_far_from_it_within_a_quarter_second() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let tv = || vec![line("TV", 1, 250000)];
    let near = promotion(&api, ten_off_over_2000(Some(999))).await;
    let (_, before) = cart(&api, "N-1", "open", &[], tv()).await;
    assert_eq!(before["discount"], 25000, "{before}");
    uses_elsewhere(&app, near, 999).await;
    let (_, after) = cart(&api, "N-2", "open", &[], tv()).await;
    assert_eq!(after["discount"], 0, "the last use went elsewhere: {after}");

    let far = promotion(&api, ten_off_over_2000(Some(1_000))).await;
    let (_, before) = cart(&api, "F-1", "open", &[], tv()).await;
    assert_eq!(before["discount"], 25000, "{before}");
    uses_elsewhere(&app, far, 1_000).await;
    // A close right after may take the kept count for its first look; under the promotion's row
    // it counts exactly, and the promotion is not given (named as dropped when it looked given).
    let (status, closed) = cart(&api, "F-2", "closed", &[], tv()).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["discount"], 0, "{closed}");
    assert_eq!(closed["applied"], json!([]), "{closed}");
    for d in closed["dropped"].as_array().into_iter().flatten() {
        assert_eq!(d["reason"], "limit_reached", "{closed}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, after) = cart(&api, "F-3", "open", &[], tv()).await;
    assert_eq!(
        after["discount"], 0,
        "counted again after a quarter second: {after}"
    );
}

/// Far from its limit a promotion is counted by closing carts side by side (PostgreSQL: its row
/// FOR SHARE while at least twice the bound of transactions in flight — 100 here — is left);
/// near the limit they take turns. 280 carts race on two instances for a limit of 260, so the
/// closes change from one way to the other midway (the first ones see 260 left): exactly 260
/// get the promotion. With 32 racers, fewer than the bound, this cannot catch a shared count
/// that admits too much: the table of
/// `a_close_counting_side_by_side_starts_again_alone_when_the_limit_came_near` checks its rule.
#[tokio::test]
async fn closes_changing_from_side_by_side_to_in_turn_give_exactly_the_limit() {
    let app = spawn_app().await;
    let second = spawn_app_on(app.db.clone()).await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let promo = promotion(&api, ten_off_over_2000(Some(260))).await;
    let got = race_closes(&[api.clone(), api.on(&second)], 32, 280, "F", promo).await;
    assert_eq!(got, 260, "exactly the limit's 260 carts get it");
    let (_, open) = cart(&api, "F-open", "open", &[], vec![line("TV", 1, 250000)]).await;
    assert_eq!(open["discount"], 0, "{open}");
}

/// What a closing cart's count under the promotion's row answers (`lock_and_count`), by the
/// limit and the uses left the cart saw before its transaction, with 60 uses recorded and
/// PostgreSQL's `max_connections` of 100 (shared when ≥ 200 were left; then too near when the
/// count plus 100 passes the limit): SQLite counts alone, always.
#[tokio::test]
async fn a_close_counting_side_by_side_starts_again_alone_when_the_limit_came_near() {
    use offerdesk::domain::ids::PromotionId;
    use offerdesk::store::promotion_limits::{Held, UsageAsk, lock_and_count};
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let promo = promotion(&api, ten_off_over_2000(Some(150))).await;
    for i in 0..60 {
        let (status, v) = cart(
            &api,
            &format!("U-{i}"),
            "closed",
            &[],
            vec![line("TV", 1, 250000)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let (max_connections, postgres) = match app.store.backend_name() {
        "postgres" => {
            let (m,): (String,) = app
                .store
                .fetch_one_read("SHOW max_connections", &[])
                .await
                .unwrap();
            (m.parse::<i64>().unwrap(), true)
        }
        _ => (0, false),
    };
    assert!(!postgres || max_connections == 100, "the table assumes 100");
    if postgres {
        let (prepared,): (String,) = app
            .store
            .fetch_one_read("SHOW max_prepared_transactions", &[])
            .await
            .unwrap();
        assert_eq!(prepared, "0", "the table assumes a bound of 100");
    }
    let forever = (
        chrono::DateTime::UNIX_EPOCH,
        chrono::DateTime::from_timestamp(253_402_214_400, 0).unwrap(),
    );
    // (limit, uses left seen before, counted when PostgreSQL, too near when PostgreSQL)
    let table = [
        (150, 90, true, false),            // held alone: the count is exact
        (150, 1_000, false, true),         // shared, but 60 + 100 > 150
        (1_000_000, 999_940, true, false), // shared, far from the limit
        (260, 200, true, false),           // shared at exactly 2 × 100 left; 60 + 100 ≤ 260
        (159, 200, false, true),           // 60 + 100 > 159
    ];
    for (limit, left, counted, too_near) in table {
        let ask = UsageAsk {
            promotion: PromotionId(promo),
            global: Some(forever),
            customer: None,
            headroom: Some((limit, left)),
        };
        let mut tx = app.store.begin().await.unwrap();
        let held = lock_and_count(&mut tx, app.store.folded_sums(), None, &[ask])
            .await
            .unwrap();
        match held {
            Held::Counted(used) => {
                assert!(counted || !postgres, "({limit}, {left}) counted");
                assert_eq!(used[&PromotionId(promo)].uses, 60);
            }
            Held::TooNear => assert!(postgres && too_near, "({limit}, {left}) too near"),
        }
        drop(tx);
    }
}

/// PostgreSQL: a close that counted 300 uses left (so it counts side by side) waits for the
/// promotion's row while 250 uses are committed elsewhere; under the row it finds 250 + 100
/// (`max_connections`) past the limit of 300, so it rolls back and closes again holding the
/// row alone — and gets the promotion, once. (SQLite's one writer has no such wait.)
#[tokio::test]
async fn a_close_that_finds_the_limit_came_near_while_it_waited_closes_again_in_turn() {
    use crate::helpers::TestDb;
    use sqlx::Connection;
    let app = spawn_app().await;
    let TestDb::Postgres { url, .. } = &*app.db else {
        return;
    };
    let api = Api::of(&app, "Acme", 100_000).await;
    let promo = promotion(&api, ten_off_over_2000(Some(300))).await;
    let mut holder = sqlx::PgConnection::connect(url).await.unwrap();
    let mut watcher = sqlx::PgConnection::connect(url).await.unwrap();
    let mut tx = holder.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM promotions WHERE id = $1 FOR UPDATE")
        .bind(promo)
        .execute(&mut *tx)
        .await
        .unwrap();
    // The customer's id the close's first transaction will take (the cart's customer is new).
    let (last, called): (i64, bool) =
        sqlx::query_as("SELECT last_value, is_called FROM customers_id_seq")
            .fetch_one(&mut watcher)
            .await
            .unwrap();
    let first_id = if called { last + 1 } else { last };
    let closing = {
        let api = api.clone();
        tokio::spawn(
            async move { cart(&api, "W-1", "closed", &[], vec![line("TV", 1, 250000)]).await },
        )
    };
    // Until the close waits for the row.
    let waited = waits_on_lock(&mut watcher, "query LIKE '%_held(%'").await;
    assert!(waited, "the close never waited for the promotion's row");
    sqlx::query(
        "INSERT INTO promotion_uses (org_id, promotion_id, cart_id, discount, used_at) \
         SELECT org_id, id, 'ELSEWHERE-' || g, 25000, now() FROM promotions, generate_series(1, 250) g \
         WHERE id = $1",
    )
    .bind(promo)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (status, v) = closing.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["discount"], 25000, "{v}");
    assert!(v["dropped"].as_array().is_none_or(|d| d.is_empty()), "{v}");
    let (uses,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM promotion_uses WHERE promotion_id = $1")
            .bind(promo)
            .fetch_one(&mut watcher)
            .await
            .unwrap();
    assert_eq!(uses, 251, "the close's use recorded once");
    // It closed twice: the first transaction's new customer was rolled back with it (a sequence
    // does not roll back, so the customer kept has the next id).
    let (customer,): (i64,) =
        sqlx::query_as("SELECT id FROM customers WHERE identifier = '9800000001'")
            .fetch_one(&mut watcher)
            .await
            .unwrap();
    assert_eq!(customer, first_id + 1, "the close ran once only");
}

/// PostgreSQL: the functions a closing cart counts under (migrations 23 and 24, their locks
/// taken by migration 25's statements) hold each asked promotion in the mode its headroom
/// calls for — shared (advisory lock and row FOR SHARE) when at least twice the bound of 100
/// (`max_connections` 100 + no prepared transactions) was left, otherwise exclusively — each
/// promotion in its own mode within one call.
#[tokio::test]
async fn the_held_counts_take_each_promotion_shared_far_from_its_limit_and_alone_near_it() {
    use crate::helpers::TestDb;
    use sqlx::Connection;
    let app = spawn_app().await;
    let TestDb::Postgres { url, .. } = &*app.db else {
        return;
    };
    let api = Api::of(&app, "Acme", 100_000).await;
    let a = promotion(&api, ten_off_over_2000(Some(100_000))).await;
    let mut b_def = ten_off_over_2000(Some(100_000));
    b_def["name"] = json!("Other");
    let b = promotion(&api, b_def).await;
    let org = app.org_id("Acme").await;
    let mut holder = sqlx::PgConnection::connect(url).await.unwrap();
    let mut checker = sqlx::PgConnection::connect(url).await.unwrap();
    let (max_connections, prepared): (String, String) = sqlx::query_as(
        "SELECT current_setting('max_connections'), current_setting('max_prepared_transactions')",
    )
    .fetch_one(&mut checker)
    .await
    .unwrap();
    assert_eq!(
        (max_connections.as_str(), prepared.as_str()),
        ("100", "0"),
        "the table assumes a bound of 100"
    );
    // (uses left `r` of A, of B; whether each is held shared): r ≥ 200 shared, else — or no r
    // at all (null, or left out: `None` for B in the last row) — exclusive.
    let table: [(Option<i64>, Option<i64>, bool, bool); 5] = [
        (Some(500), Some(199), true, false),
        (Some(200), None, true, false),
        (Some(199), Some(100_000), false, true),
        (None, Some(0), false, false),
        (Some(0), None, false, false),
    ];
    let calls = [
        "SELECT COUNT(*) FROM promotions_used_held($1::jsonb)".to_string(),
        format!("SELECT COUNT(*) FROM promotion_counts_held($1::jsonb, {org}, 0)"),
    ];
    for call in &calls {
        for (ra, rb, a_shared, b_shared) in table {
            let ask = |p: i64, r: Option<i64>| {
                let mut ask = json!({"p": p, "l": 100_000, "r": r, "gf": "2020-01-01T00:00:00Z",
                       "gt": "2100-01-01T00:00:00Z", "r1f": "2020-01-01T00:00:00Z",
                       "r1t": "2100-01-01T00:00:00Z"});
                if r.is_none() && p == b {
                    ask.as_object_mut().unwrap().remove("r");
                }
                ask
            };
            // B first in the JSON (the functions take their locks in id order).
            let asks = json!([ask(b, rb), ask(a, ra)]);
            let mut tx = holder.begin().await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(call.as_str()))
                .bind(asks.to_string())
                .execute(&mut *tx)
                .await
                .unwrap();
            for (id, shared) in [(a, a_shared), (b, b_shared)] {
                // What another transaction can take of the promotion meanwhile, each probe in a
                // transaction of its own: (advisory shared, advisory exclusive, row FOR KEY
                // SHARE, FOR SHARE, FOR NO KEY UPDATE).
                let mut got = Vec::new();
                for probe in [
                    "SELECT pg_try_advisory_xact_lock_shared(1601, CAST($1 % 2147483647 AS INT))",
                    "SELECT pg_try_advisory_xact_lock(1601, CAST($1 % 2147483647 AS INT))",
                    "SELECT TRUE FROM promotions WHERE id = $1 FOR KEY SHARE NOWAIT",
                    "SELECT TRUE FROM promotions WHERE id = $1 FOR SHARE NOWAIT",
                    "SELECT TRUE FROM promotions WHERE id = $1 FOR NO KEY UPDATE NOWAIT",
                ] {
                    let mut other = checker.begin().await.unwrap();
                    let r: Result<(bool,), _> =
                        sqlx::query_as(probe).bind(id).fetch_one(&mut *other).await;
                    got.push(matches!(r, Ok((true,))));
                    other.rollback().await.unwrap();
                }
                // Held shared: others may share it but not take it alone; held alone (FOR NO
                // KEY UPDATE, which leaves FOR KEY SHARE free): neither.
                let want = vec![shared, false, true, shared, false];
                assert_eq!(
                    got, want,
                    "{call} r = {ra:?}/{rb:?}: promotion {id} shared = {shared}"
                );
            }
            tx.rollback().await.unwrap();
        }
    }
}

/// Each instance keeps the catalogue facts and store zones its carts looked up; a product or a
/// store written elsewhere (another instance, an upload) applies from the next cart on.
#[tokio::test]
async fn a_product_or_store_changed_elsewhere_applies_to_the_next_cart_of_every_instance() {
    let app = spawn_app().await;
    let second = spawn_app_on(app.db.clone()).await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let other = api.on(&second);
    let catalogue = |belt_category: &str| {
        json!({"products": [
            {"sku": "PANT-1", "name": "Chinos", "price": 150000, "category": "PANTS"},
            {"sku": "BELT-1", "name": "Leather belt", "price": 80000, "category": belt_category}]})
    };
    let (status, v) = api.put("/products", catalogue("BELTS")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    promotion(&api, pants_and_belt()).await;
    let lines = || vec![line("PANT-1", 2, 150000), line("BELT-1", 1, 80000)];
    let (_, open) = cart(&other, "K-1", "open", &[], lines()).await;
    assert_eq!(open["discount"], 40000, "the belt is a belt: {open}");
    // The belt re-filed as a hat through the first instance: no belt in the cart any more.
    let (status, v) = api.put("/products", catalogue("HATS")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, open) = cart(&other, "K-1", "open", &[], lines()).await;
    assert_eq!(
        open["discount"], 0,
        "the second instance sees the hat: {open}"
    );
    let (status, v) = api.put("/products", catalogue("BELTS")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, open) = cart(&other, "K-1", "open", &[], lines()).await;
    assert_eq!(open["discount"], 40000, "{open}");
    // A SKU the catalogue did not have when the second instance looked it up, added later.
    let new_belt = || vec![line("PANT-1", 2, 150000), line("BELT-2", 1, 60000)];
    let (_, open) = cart(&other, "K-3", "open", &[], new_belt()).await;
    assert_eq!(open["discount"], 0, "BELT-2 is unknown: {open}");
    let (status, v) = api
        .put(
            "/products",
            json!({"products": [{"sku": "BELT-2", "name": "Canvas belt", "price": 60000,
                                 "category": "BELTS"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, open) = cart(&other, "K-3", "open", &[], new_belt()).await;
    assert_eq!(open["discount"], 30000, "BELT-2 is a belt now: {open}");
    // Deleted from the catalogue (no live promotion names its SKU): no longer a belt.
    let (status, _) = api.delete("/products/BELT-2").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, open) = cart(&other, "K-3", "open", &[], new_belt()).await;
    assert_eq!(open["discount"], 0, "BELT-2 was deleted: {open}");

    // A promotion of zone Z2; store S1 is in Z1, then moved to Z2 by a store upload.
    let north = app
        .add_coded(
            "Acme",
            offerdesk::store::masters::CodedKind::Zone,
            "Z1",
            "North",
        )
        .await;
    let south = app
        .add_coded(
            "Acme",
            offerdesk::store::masters::CodedKind::Zone,
            "Z2",
            "South",
        )
        .await;
    app.add_store("Acme", "S1", north).await;
    let mut in_south = ten_off_over_2000(None);
    in_south["eligibility"] = json!({"zones": ["Z2"]});
    promotion(&api, in_south).await;
    let at_s1 = |api: Api| async move {
        api.put(
            "/carts/K-2",
            json!({"state": "open", "storeCode": "s1", "lines": [line("TV", 1, 250000)]}),
        )
        .await
        .1
    };
    assert_eq!(at_s1(other.clone()).await["discount"], 0, "S1 is in Z1");
    let org_id = app.org_id("Acme").await;
    let moved = offerdesk::domain::masters::StoreRow {
        code: offerdesk::domain::masters::MasterCode::parse("code", "S1").unwrap(),
        name: "Store S1".into(),
        zone_id: south,
        concept_id: None,
    };
    app.store
        .upsert_stores(
            org_id,
            &[moved],
            &offerdesk::domain::user::Actor::system("test"),
            true,
        )
        .await
        .unwrap();
    let open = at_s1(other.clone()).await;
    assert_eq!(open["discount"], 25000, "S1 is in Z2 now: {open}");
}

/// Review finding: on PostgreSQL, an upload of many products (several statements) and single
/// product writes of SKUs in it, at once, both hold the org's row to move the catalogue
/// version; taken first by every write, it orders them instead of deadlocking them.
#[tokio::test]
async fn concurrent_catalogue_writes_of_one_org_all_succeed() {
    use offerdesk::domain::products::{Product, Sku};
    use offerdesk::store::catalogue::NewProduct;
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let org_id = app.org_id("Acme").await;
    let actor = offerdesk::domain::user::Actor::system("test");
    let products: Vec<Product> = (0..1500)
        .map(|i| Product {
            sku: Sku::parse("sku", &format!("SKU-{i:04}")).unwrap(),
            name: format!("Product {i}"),
            price: 1000 + i,
            category: Some("CAT".into()),
            brand: None,
            attributes: Default::default(),
        })
        .collect();
    let mut tasks = Vec::new();
    for round in 0..3 {
        let (store, products, by) = (app.store.clone(), products.clone(), actor.clone());
        tasks.push(tokio::spawn(async move {
            store
                .upload_products(org_id, &products, &by)
                .await
                .map(|_| format!("upload {round}"))
        }));
        for i in 0..8 {
            let (store, by) = (app.store.clone(), actor.clone());
            tasks.push(tokio::spawn(async move {
                let one = NewProduct {
                    sku: format!("SKU-{:04}", 1499 - i * 7 - round),
                    name: "Edited".into(),
                    price: 5,
                    category: Some("CAT".into()),
                    brand: None,
                    attributes: Default::default(),
                };
                store
                    .upsert_products(org_id, &[one], &by)
                    .await
                    .map(|_| format!("edit {round}.{i}"))
            }));
        }
    }
    for t in tasks {
        let done = t.await.unwrap();
        assert!(done.is_ok(), "a catalogue write failed: {done:?}");
    }
}

/// Review finding: a close whose promotion is dropped (another cart took the last use) redeems
/// its coupon on the bill without that promotion — a 10% coupon takes 10% of what the customer
/// pays before it, on every cart, winners and losers alike — and the redemption recorded is the
/// figure the answer shows.
#[tokio::test]
async fn a_coupon_on_a_closing_cart_is_redeemed_on_the_bill_left_by_the_promotions_it_really_got() {
    let app = spawn_app().await;
    let second = spawn_app_on(app.db.clone()).await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let promo = promotion(&api, ten_off_over_2000(Some(2))).await;
    api.series(
        json!({"name": "Ten for all", "discountType": "PERC", "discountValue": 10,
        "codeType": "COMMON", "commonCode": "TENALL", "anyUser": true,
        "multipleRedemption": true, "maxRedemptionsPerCustomer": 100,
        "validTill": "2099-12-31"}),
    )
    .await;
    let org = app.store.find_org_by_name("Acme").await.unwrap().unwrap();
    let apis = [api.clone(), api.on(&second)];
    let mut tasks = Vec::new();
    for i in 0..16 {
        let api = apis[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            let id = format!("C-{i}");
            let answer = cart(
                &api,
                &id,
                "closed",
                &["TENALL"],
                vec![line("TV", 1, 250000)],
            )
            .await;
            (id, answer)
        }));
    }
    let mut winners = 0;
    for t in tasks {
        let (id, (status, v)) = t.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{v}");
        let applied = v["applied"].as_array().unwrap();
        let promotion: i64 = applied
            .iter()
            .filter(|a| a["id"] == promo && a["kind"] == "promotion")
            .map(|a| a["discount"].as_i64().unwrap())
            .sum();
        let coupon = applied
            .iter()
            .find(|a| a["kind"] == "coupon")
            .unwrap_or_else(|| panic!("the coupon applies to every cart: {v}"));
        // 250,000 with the promotion: 25,000 off, then 10% of 225,000; without: 10% of 250,000.
        let (want_promotion, want_coupon) = if promotion > 0 {
            winners += 1;
            (25000, 22500)
        } else {
            (0, 25000)
        };
        assert_eq!(promotion, want_promotion, "{v}");
        assert_eq!(coupon["discount"], want_coupon, "{v}");
        assert_eq!(v["discount"], want_promotion + want_coupon, "{v}");
        // The redemption recorded under the cart id (its transaction number) is that figure.
        let recorded = app.store.cart_redemptions(org.id, &id).await.unwrap();
        assert_eq!(recorded.len(), 1, "{id}");
        assert_eq!(recorded[0].discount, want_coupon, "{id}");
        let (status, replay) = cart(
            &api,
            &id,
            "closed",
            &["TENALL"],
            vec![line("TV", 1, 250000)],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(replay["replayed"], true);
        assert_eq!(replay["discount"], v["discount"], "{replay}");
    }
    assert_eq!(winners, 2, "the limit's two carts get the promotion");
}

#[tokio::test]
async fn a_cart_just_short_of_a_threshold_is_told_what_to_add() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    promotion(&api, ten_off_over_2000(None)).await;
    let (_, open) = cart(&api, "H-1", "open", &[], vec![line("SHIRT", 2, 90000)]).await;
    assert_eq!(open["discount"], 0);
    let hint = open["hints"][0]["message"].as_str().unwrap_or_default();
    assert!(
        hint.contains("add ₹200 more") && hint.contains("Ten off over 2000"),
        "{open}"
    );
}

#[tokio::test]
async fn bad_carts_and_bad_promotions_are_refused_naming_the_field_and_change_nothing() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let cases = [
        (json!({"state": "pending", "lines": []}), "state"),
        (
            json!({"state": "open", "lines": [line("A", 0, 100)]}),
            "lines[0].quantity",
        ),
        (
            json!({"state": "open", "lines": [line("A", 1, -5)]}),
            "lines[0].unitPrice",
        ),
        (
            json!({"state": "open", "lines": [line(" ", 1, 5)]}),
            "lines[0].sku",
        ),
        (
            json!({"state": "open", "lines": [line(&"S".repeat(65), 1, 5)]}),
            "lines[0].sku",
        ),
        (
            json!({"state": "open", "storeCode": "S".repeat(41), "lines": []}),
            "storeCode",
        ),
        (
            json!({"state": "open", "lines": [], "colour": "red"}),
            "colour",
        ),
    ];
    for (body, field) in cases {
        let (status, v) = api.put("/carts/B-1", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["error"]["field"], field, "{v}");
    }
    // Seed 003: a cart-amount condition stands alone.
    let mut mixed = ten_off_over_2000(None);
    mixed["conditions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "paymentMode", "modes": ["card"]}));
    let (status, v) = api.post("/promotions", json!({"promotion": mixed})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["field"]
            .as_str()
            .unwrap_or("")
            .starts_with("promotion.conditions"),
        "{v}"
    );
    let (status, v) = api
        .post("/promotions", json!({"promotion": {"name": "x"}}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    // A mistyped limit is refused by name, not taken as "no limit".
    let mut typo = ten_off_over_2000(None);
    typo["limits"] = json!({"globalUse": 100});
    let (status, v) = api.post("/promotions", json!({"promotion": typo})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("globalUse"),
        "{v}"
    );
    // An earned promotion without what earns it would never apply: refused, naming it.
    let mut earned = ten_off_over_2000(None);
    earned["kind"] = json!({"type": "earned"});
    let (status, v) = api.post("/promotions", json!({"promotion": earned})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "promotion.holding");
    let (_, list) = api.get("/promotions").await;
    assert_eq!(list["promotions"].as_array().unwrap().len(), 0);
    // An unknown code is rejected by name; nothing else changes.
    let (_, open) = cart(&api, "B-2", "open", &["NOPE"], vec![line("A", 1, 1000)]).await;
    assert_eq!(open["rejected"][0]["code"], "NOPE", "{open}");
    assert_eq!(open["total"], 1000);
}

#[tokio::test]
async fn a_paused_promotion_stops_applying_and_an_ended_one_cannot_come_back() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let promo = promotion(&api, ten_off_over_2000(None)).await;
    let tv = || vec![line("TV", 1, 250000)];
    assert_eq!(
        cart(&api, "P-1", "open", &[], tv()).await.1["discount"],
        25000
    );
    let (status, v) = api
        .post(
            &format!("/promotions/{promo}/status"),
            json!({"status": "paused"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "paused");
    assert_eq!(cart(&api, "P-1", "open", &[], tv()).await.1["discount"], 0);
    let (status, _) = api
        .post(
            &format!("/promotions/{promo}/status"),
            json!({"status": "ended"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) = api
        .post(
            &format!("/promotions/{promo}/status"),
            json!({"status": "live"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    // Another org sees none of it.
    let other = Api::of(&app, "Globex", 10_000).await;
    let (status, _) = other.get(&format!("/promotions/{promo}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_live_promotions_limits_cannot_be_edited_the_cap_holds_and_codes_stay_unique() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let promo = promotion(&api, ten_off_over_2000(Some(100))).await;
    // Its name may change; its limits may not (seed 003), not even by a crafted body.
    let mut edited = ten_off_over_2000(Some(100));
    edited["name"] = json!("Ten off, renamed");
    let (status, v) = api
        .put(
            &format!("/promotions/{promo}"),
            json!({"promotion": edited}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["promotion"]["name"], "Ten off, renamed");
    let (status, v) = api
        .put(
            &format!("/promotions/{promo}"),
            json!({"promotion": ten_off_over_2000(Some(100_000))}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "restrictions_frozen");
    assert_eq!(v["error"]["field"], "promotion.limits.globalUses");
    let (_, read) = api.get(&format!("/promotions/{promo}")).await;
    assert_eq!(read["promotion"]["limits"]["globalUses"], 100);

    // The org's cap of live promotions (set to 2 here) holds; a draft does not count.
    let org = app.org_id("Acme").await;
    app.store
        .set_live_promotion_cap(org, 2, &offerdesk::domain::user::Actor::system("test"))
        .await
        .unwrap();
    let mut coded = ten_off_over_2000(None);
    coded["kind"] = json!({"type": "codeLinked", "codes": ["TENOFF"]});
    promotion(&api, coded.clone()).await;
    let (status, v) = api
        .post("/promotions", json!({"promotion": pants_and_belt()}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "live_cap");
    let (status, v) = api
        .post(
            "/promotions",
            json!({"status": "draft", "promotion": pants_and_belt()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "draft");
    // A code is one promotion's (or one coupon's) only.
    let (status, v) = api
        .post(
            "/promotions",
            json!({"status": "draft", "promotion": coded}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "code_taken");
    // …and coupons cannot take it afterwards: not as a common code, not in an upload.
    let (status, v) = api
        .post(
            "/coupon/series",
            json!({"name": "Ten", "discountType": "ABS", "discountValue": 1000,
                   "codeType": "COMMON", "commonCode": "tenoff", "anyUser": true,
                   "validTill": "2027-12-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    let vendor = api
        .series(
            json!({"name": "Vendor", "discountType": "ABS", "discountValue": 500,
            "codeType": "UPLOAD", "validTill": "2027-12-31"}),
        )
        .await;
    let (status, v) = api
        .post(
            "/coupon/upload",
            json!({"seriesId": vendor, "codes": [{"code": "TENOFF"}, {"code": "VND-9"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"].as_str().unwrap_or("").contains("TENOFF"),
        "the promotion's code is named: {v}"
    );
    // A cap lowered below the live count stops new ones going live, not edits of live ones.
    app.store
        .set_live_promotion_cap(org, 1, &offerdesk::domain::user::Actor::system("test"))
        .await
        .unwrap();
    let mut renamed = ten_off_over_2000(Some(100));
    renamed["name"] = json!("Ten off, renamed again");
    let (status, v) = api
        .put(
            &format!("/promotions/{promo}"),
            json!({"promotion": renamed}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn one_use_per_customer_a_month_holds_when_the_same_customer_races_on_two_instances() {
    let app = spawn_app().await;
    let second = spawn_app_on(app.db.clone()).await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let mut rules = ten_off_over_2000(None);
    rules["limits"] = json!({"customerUses": 1, "customerReset": {"type": "calendarMonth"}});
    let promo = promotion(&api, rules).await;
    let apis = [api.clone(), api.on(&second)];
    let body = |mobile: &str| {
        json!({"state": "closed", "customer": {"mobile": mobile},
               "lines": [line("TV", 1, 250000)]})
    };
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (api, body) = (apis[i % 2].clone(), body("9811111111"));
        tasks.push(tokio::spawn(async move {
            api.put(&format!("/carts/M-{i}"), body).await
        }));
    }
    let mut got = 0;
    for t in tasks {
        let (status, v) = t.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{v}");
        if v["applied"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == promo)
        {
            got += 1;
        }
    }
    assert_eq!(got, 1, "one use this month for this customer");
    // Another customer still has theirs; the first is told at the till.
    let (_, other) = api.put("/carts/M-other", body("9822222222")).await;
    assert_eq!(other["discount"], 25000, "{other}");
    let mut open = body("9811111111");
    open["state"] = json!("open");
    let (_, again) = api.put("/carts/M-open", open).await;
    assert_eq!(again["discount"], 0, "{again}");
    // Cancelling the cart that used it gives the use back.
    let winner = {
        let mut found = None;
        for i in 0..16 {
            let (_, v) = api
                .put(
                    &format!("/carts/M-{i}"),
                    json!({"state": "closed", "customer": {"mobile": "9811111111"},
                           "lines": [line("TV", 1, 250000)]}),
                )
                .await;
            if v["discount"] == 25000 {
                found = Some(i);
            }
        }
        found.expect("a winning cart")
    };
    let (status, _) = api
        .put(
            &format!("/carts/M-{winner}"),
            json!({"state": "cancelled", "lines": []}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut open = body("9811111111");
    open["state"] = json!("open");
    let (_, back) = api.put("/carts/M-open-2", open).await;
    assert_eq!(back["discount"], 25000, "{back}");
}

/// A till's code means one thing: a promotion code may not have the shape of the coupon codes
/// an offer of the org generates (prefix, length, characters), and an offer may not start
/// generating codes of a promotion code's shape.
#[tokio::test]
async fn promotion_codes_never_have_the_shape_of_the_orgs_generated_coupon_codes() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    api.series(
        json!({"name": "Welcome", "discountType": "ABS", "discountValue": 1000,
        "codeType": "UNIQUE", "codePrefix": "WEL", "codeLength": 6,
        "codeCharset": "alphanumeric", "validTill": "2099-12-31"}),
    )
    .await;
    let coded = |code: &str| {
        let mut p = ten_off_over_2000(None);
        p["kind"] = json!({"type": "codeLinked", "codes": [code]});
        json!({"promotion": p})
    };
    // "WEL" and six letters or digits: a Welcome coupon could one day be WELSUMR24.
    let (status, v) = api.post("/promotions", coded("welsumr24")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "code_taken");
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("WELSUMR24") && message.contains("Welcome"),
        "the code and the offer are named: {v}"
    );
    // Another length, or a character those codes never have, is fine.
    for code in ["WELSUMR2", "WEL-SUMR24"] {
        let (status, v) = api.post("/promotions", coded(code)).await;
        assert_eq!(status, StatusCode::OK, "{code}: {v}");
    }
    // The other way round: an offer whose codes could repeat WELSUMR2 (no prefix, 8 letters and
    // digits) is refused naming the prefix; 9 characters are fine.
    let offer = |length: i64| {
        json!({"name": "Plain", "discountType": "ABS", "discountValue": 1000,
            "codeType": "UNIQUE", "codeLength": length, "codeCharset": "alphanumeric",
            "validTill": "2099-12-31"})
    };
    let (status, v) = api.post("/coupon/series", offer(8)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "code_shape_taken");
    assert_eq!(v["error"]["field"], "codePrefix");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("WELSUMR2"),
        "{v}"
    );
    let (status, v) = api.post("/coupon/series", offer(9)).await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // Data from before this rule stays editable: a promotion holding a code of an offer's shape
    // (the offer changed under it here, as an older database may have it) is renamed freely,
    // but it cannot take a new code of that shape.
    let (status, v) = api.post("/promotions", coded("OLDCODE1")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let old = v["id"].as_i64().unwrap();
    app.store
        .execute_autocommit(
            "UPDATE offers SET code_length = 8 WHERE name = 'Plain'",
            &[],
        )
        .await
        .unwrap();
    let mut renamed = coded("OLDCODE1");
    renamed["promotion"]["name"] = json!("Ten off, renamed");
    let (status, v) = api
        .put(&format!("/promotions/{old}"), renamed.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    renamed["promotion"]["kind"]["codes"] = json!(["OLDCODE1", "NEWCODE1"]);
    let (status, v) = api.put(&format!("/promotions/{old}"), renamed).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("NEWCODE1"),
        "{v}"
    );
}

/// A close that stopped between its commit and its coupons (a crash) is finished by the till's
/// retry: the coupon is redeemed once, on the bill the promotions left, and the answer stored.
#[tokio::test]
async fn a_retry_finishes_the_coupons_of_a_close_that_stopped_after_its_commit() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    promotion(&api, ten_off_over_2000(None)).await;
    let series = api.series(serde_json::from_str(WELCOME).unwrap()).await;
    let code = api.issue(series, "9800000001").await;
    let tv = || vec![line("TV", 1, 250000)];
    // The cart's row as a close leaves it at its commit: the promotion written, the code
    // pending with the lines it is to be redeemed against — and then the process stopped.
    let (status, closed) = cart(&api, "K-1", "closed", &[], tv()).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["discount"], 25000);
    let mut stopped = closed.clone();
    stopped["pending"] = json!([{"code": code, "reason": "no_such_code", "message": "?"}]);
    stopped["pendingLines"] = json!([{"sku": "TV", "quantity": 1, "unitPrice": 250000,
        "category": null, "brand": null}]);
    let stopped = stopped.to_string();
    app.store
        .execute_autocommit(
            "UPDATE carts SET result = $1 WHERE cart_id = 'K-1'",
            &[stopped.as_str().into()],
        )
        .await
        .unwrap();
    // The till retries: the coupon's ₹200 comes off what the promotion left, once.
    let (status, retried) = cart(&api, "K-1", "closed", &[&code], tv()).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(retried["replayed"], true);
    assert_eq!(retried["discount"], 45000, "{retried}");
    assert_eq!(retried["applied"][1]["kind"], "coupon");
    assert_eq!(retried["applied"][1]["code"], code.as_str());
    assert!(retried.get("pending").is_none(), "{retried}");
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "OTHER", "billAmount": 100000,
                   "customer": {"mobile": "9800000001"}, "codes": [code]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "the coupon is used: {v}");
    let (_, again) = cart(&api, "K-1", "closed", &[&code], tv()).await;
    assert_eq!(again["discount"], 45000, "{again}");
    let org = app.store.find_org_by_name("Acme").await.unwrap().unwrap();
    assert_eq!(
        app.store
            .cart_redemptions(org.id, "K-1")
            .await
            .unwrap()
            .len(),
        1
    );
}

/// PostgreSQL runs the application's statements without JIT: compiling them cost 15–30 ms per
/// limit count once the uses table was large (its estimate crossed `jit_above_cost`).
#[tokio::test]
async fn postgres_statements_run_without_jit() {
    let app = spawn_app().await;
    if app.store.backend_name() != "postgres" {
        return;
    }
    let (jit,): (String,) = app.store.fetch_one_read("SHOW jit", &[]).await.unwrap();
    assert_eq!(jit, "off");
    let mut tx = app.store.begin().await.unwrap();
    let (jit,): (String,) = tx.fetch_one("SHOW jit", &[]).await.unwrap();
    assert_eq!(jit, "off");
    tx.rollback().await.unwrap();
}
