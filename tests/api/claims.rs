//! Claiming offers (CLM-1, API-6): in the console and over the API; exclusivity in effect at
//! issue and redemption; one offer per outbound campaign; ended campaigns; "along with the
//! campaign" expiry; races across two instances; roles and org isolation.

use crate::helpers::{Browser, TestApp, spawn_app, spawn_app_on};
use crate::integration::Api;
use crate::offers::{FAR, offer_in};
use offerdesk::domain::ids::OfferId;
use offerdesk::domain::masters::NewConsumer;
use offerdesk::domain::user::{Actor, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// Adds a consumer to `org`; campaigns take `dates` (start, end).
async fn consumer(app: &TestApp, org: &str, name: &str, kind: &str, dates: (&str, &str)) -> i64 {
    let c = NewConsumer::parse(name, kind, dates.0, dates.1).unwrap();
    app.store
        .create_consumer(app.org_id(org).await, &c, &Actor::system("test"))
        .await
        .unwrap()
}

const RUNNING: (&str, &str) = ("2026-01-01", "2099-06-30");
const NO_DATES: (&str, &str) = ("", "");

/// An API client whose key acts for `consumer`.
async fn key_for(app: &TestApp, api: &Api, org: &str, consumer: i64) -> Api {
    let (_, key) = app
        .store
        .create_api_key(
            app.org_id(org).await,
            &format!("key of {consumer}"),
            Some(consumer),
            100_000,
            &Actor::system("test"),
        )
        .await
        .unwrap();
    Api { key, ..api.clone() }
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

async fn claimed_by(app: &TestApp, org: &str, offer: OfferId) -> Option<i64> {
    app.store
        .get_offer(app.org_id(org).await, offer)
        .await
        .unwrap()
        .claimed_by
        .map(|c| c.0)
}

async fn claim_audits(app: &TestApp, org: &str) -> Vec<String> {
    app.store
        .list_audit(app.org_id(org).await, Some("offer"), 1000, 0)
        .await
        .unwrap()
        .0
        .into_iter()
        .filter(|a| a.action == "offer.claimed")
        .map(|a| a.summary)
        .collect()
}

async fn marketing(app: &TestApp) -> Browser {
    app.create_org_admin("Acme").await;
    let email = app.create_user("Acme", Role::Marketing).await;
    app.signed_in(&email).await
}

#[tokio::test]
async fn claiming_in_the_console_shows_the_claimer_everywhere_and_is_audited() {
    let app = spawn_app().await;
    let b = marketing(&app).await;
    let club = consumer(&app, "Acme", "Club", "loyalty", NO_DATES).await;
    let bounce = consumer(&app, "Acme", "Bounce back", "dvs", RUNNING).await;
    let offer = offer_in(&app, "Acme", "Welcome", FAR).await;

    // Reachable from the dashboard's ⋯ menu and the offer page.
    let dashboard = b.get("/offers").await.body;
    assert!(dashboard.contains(&format!("href=\"/offers/{offer}/claim\"")));
    let page = b.get(&format!("/offers/{offer}")).await.body;
    assert!(page.contains("Claim for a campaign"), "{page}");

    let picker = b.get(&format!("/offers/{offer}/claim")).await;
    assert_eq!(picker.status, StatusCode::OK);
    assert!(picker.body.contains("id=\"claim-form\""));
    assert!(picker.body.contains(&format!("value=\"{club}\"")));
    assert!(picker.body.contains(&format!("value=\"{bounce}\"")));

    // No choice: an inline error, nothing claimed.
    let none = b.post(&format!("/offers/{offer}/claim"), &[]).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.body.contains("Choose the campaign or program"));
    assert_eq!(claimed_by(&app, "Acme", offer).await, None);

    let done = b
        .post(
            &format!("/offers/{offer}/claim"),
            &[("consumer_id", &club.to_string())],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let to = done.location.unwrap();
    assert_eq!(to, format!("/offers/{offer}?tab=information"));
    let info = b.get(&to).await.body;
    assert!(info.contains("Claimed by Loyalty program: Club."), "flash");
    assert!(
        info.contains("<dt>Claimed by</dt><dd>Loyalty program: Club</dd>"),
        "{info}"
    );
    assert!(
        !info.contains("Claim for a campaign"),
        "a claimed offer offers no claim"
    );
    assert!(
        b.get("/offers")
            .await
            .body
            .contains("Loyalty program: Club")
    );
    assert!(
        b.get(&format!("/admin/consumers/{club}"))
            .await
            .body
            .contains("Welcome"),
        "the consumer's page lists it"
    );
    let audits = claim_audits(&app, "Acme").await;
    assert_eq!(audits.len(), 1);
    // One sentence, no "Kind: name:" double colon (#13).
    assert!(
        audits[0].starts_with("Offer Welcome (")
            && audits[0].ends_with(") claimed by loyalty program Club"),
        "{}",
        audits[0]
    );

    // The claim page now names the owner and offers no picker.
    let claimed = b.get(&format!("/offers/{offer}/claim")).await.body;
    assert!(claimed.contains("Claimed by Loyalty program: Club"));
    assert!(!claimed.contains("id=\"claim-form\""));

    // Another consumer is refused inline, naming the owner; nothing changes.
    let refused = b
        .post(
            &format!("/offers/{offer}/claim"),
            &[("consumer_id", &bounce.to_string())],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("The offer is already claimed by Loyalty program: Club."),
        "{}",
        refused.body
    );
    assert_eq!(claimed_by(&app, "Acme", offer).await, Some(club));

    // The same consumer again: success, nothing written.
    let again = b
        .post(
            &format!("/offers/{offer}/claim"),
            &[("consumer_id", &club.to_string())],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert!(
        b.get(&format!("/offers/{offer}"))
            .await
            .body
            .contains("Already claimed by Loyalty program: Club.")
    );
    assert_eq!(claim_audits(&app, "Acme").await.len(), 1);

    // A consumer id that is not the org's is an inline error too.
    let other = b
        .post(
            &format!(
                "/offers/{}/claim",
                offer_in(&app, "Acme", "Spare", FAR).await
            ),
            &[("consumer_id", "999999")],
        )
        .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(other.body.contains("does not exist"));
}

#[tokio::test]
async fn api_claims_are_exclusive_idempotent_and_bind_issue_and_redemption() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let club = consumer(&app, "Acme", "Club", "loyalty", NO_DATES).await;
    let bounce = consumer(&app, "Acme", "Bounce back", "dvs", RUNNING).await;
    let club_key = key_for(&app, &api, "Acme", club).await;
    let bounce_key = key_for(&app, &api, "Acme", bounce).await;
    let series = api
        .series(
            json!({"name": "Welcome", "discountType": "ABS", "discountValue": 20000,
            "codeType": "UNIQUE", "validTill": "2099-12-31", "anyUser": true}),
        )
        .await;
    // A coupon issued before the claim, and the offer in the redemption cache of this instance.
    let early = api.issue(series, "9800000001").await;
    let (_, check) = bounce_key
        .get(&format!(
            "/coupon/is_redeemable?code={early}&billAmount=50000"
        ))
        .await;
    assert_eq!(check["isRedeemable"], true, "{check}");

    // A key acting for no consumer must name one.
    let (status, v) = api
        .post(&format!("/offers/{series}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "consumerId");
    // A key acting for a consumer may not claim for another.
    let (status, v) = club_key
        .post(
            &format!("/offers/{series}/claim"),
            json!({"consumerId": bounce}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(error_code(&v), "forbidden");
    assert_eq!(claimed_by(&app, "Acme", series).await, None);

    // The club's key claims for the club (no body needed).
    let r = club_key
        .http
        .post(format!("{}/api/v2/offers/{series}/claim", club_key.base))
        .bearer_auth(&club_key.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        json!({"seriesId": series, "claimedBy": {"id": club, "name": "Club", "type": "LOYALTY"},
            "alreadyClaimed": false})
    );
    // Again: the same answer, nothing written.
    let (status, v) = club_key
        .post(
            &format!("/offers/{series}/claim"),
            json!({"consumerId": club}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["alreadyClaimed"], true);
    assert_eq!(claim_audits(&app, "Acme").await.len(), 1);
    // Everyone else is refused, naming the owner.
    for (client, body) in [
        (&api, json!({"consumerId": bounce})),
        (&bounce_key, json!({})),
    ] {
        let (status, v) = client.post(&format!("/offers/{series}/claim"), body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{v}");
        assert_eq!(error_code(&v), "already_claimed");
        assert!(v["error"]["message"].as_str().unwrap().contains("Club"));
    }
    assert_eq!(claimed_by(&app, "Acme", series).await, Some(club));
    let (_, read) = api.get(&format!("/coupon/series/{series}")).await;
    assert!(read.to_string().contains("Club"), "{read}");

    // The claim in effect: another consumer's key can neither issue nor redeem …
    let (status, v) = bounce_key
        .post(
            "/coupon/issue",
            json!({"seriesId": series, "customer": {"mobile": "9800000002"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(error_code(&v), "claimed_by_other_consumer");
    let redeem = |t: &str| {
        json!({"transactionNumber": t, "billAmount": 50000, "storeCode": "S1",
            "customer": {"mobile": "9800000001"}, "codes": [early]})
    };
    let (status, v) = bounce_key.post("/coupon/redeem", redeem("B1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(error_code(&v), "claimed_by_other_consumer");
    // … while the club's key does both.
    let code = club_key.issue(series, "9800000003").await;
    assert!(!code.is_empty());
    let (status, v) = club_key.post("/coupon/redeem", redeem("C1")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn unknown_or_foreign_offers_and_consumers_are_not_found() {
    let app = spawn_app().await;
    let acme = Api::of(&app, "Acme", 1000).await;
    let globex = Api::of(&app, "Globex", 1000).await;
    let club = consumer(&app, "Acme", "Club", "loyalty", NO_DATES).await;
    let rival = consumer(&app, "Globex", "Rival", "loyalty", NO_DATES).await;
    let series = offer_in(&app, "Acme", "Welcome", FAR).await;
    for (client, path, body, what) in [
        (&globex, series, json!({"consumerId": rival}), "series"),
        (
            &acme,
            OfferId(999_999),
            json!({"consumerId": club}),
            "series",
        ),
        (&acme, series, json!({"consumerId": rival}), "consumer"),
        (&acme, series, json!({"consumerId": 999_999}), "consumer"),
    ] {
        let (status, v) = client.post(&format!("/offers/{path}/claim"), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(what),
            "{v}"
        );
    }
    let (status, v) = acme
        .post(
            &format!("/offers/{series}/claim"),
            json!({"consumerId": club, "extra": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(claimed_by(&app, "Acme", series).await, None);

    // The console: another org's offer is not there at all.
    let b = app.signed_in("admin@globex.example.com").await;
    assert_eq!(
        b.get(&format!("/offers/{series}/claim")).await.status,
        StatusCode::NOT_FOUND
    );
    let post = b
        .post(
            &format!("/offers/{series}/claim"),
            &[("consumer_id", &rival.to_string())],
        )
        .await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    assert_eq!(claimed_by(&app, "Acme", series).await, None);
}

#[tokio::test]
async fn an_outbound_campaign_holds_one_offer_while_dvs_and_loyalty_hold_several() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let blast = consumer(&app, "Acme", "Diwali blast", "outbound", RUNNING).await;
    let dvs = consumer(&app, "Acme", "Bounce back", "dvs", RUNNING).await;
    let club = consumer(&app, "Acme", "Club", "loyalty", NO_DATES).await;
    let mut offers = Vec::new();
    for name in ["First", "Second", "Third", "Fourth", "Fifth"] {
        offers.push(offer_in(&app, "Acme", name, FAR).await);
    }
    let claim = |offer: OfferId, consumer: i64| {
        let api = api.clone();
        async move {
            api.post(
                &format!("/offers/{offer}/claim"),
                json!({"consumerId": consumer}),
            )
            .await
        }
    };
    let (status, v) = claim(offers[0], blast).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["claimedBy"]["type"], "OUTBOUND");
    let (status, v) = claim(offers[1], blast).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(error_code(&v), "consumer_holds_an_offer");
    assert!(v["error"]["message"].as_str().unwrap().contains("First"));
    assert_eq!(claimed_by(&app, "Acme", offers[1]).await, None);
    // Re-claiming the one it holds is still fine.
    assert_eq!(claim(offers[0], blast).await.0, StatusCode::OK);
    for (offer, consumer) in [
        (offers[1], dvs),
        (offers[2], dvs),
        (offers[3], club),
        (offers[4], club),
    ] {
        let (status, v) = claim(offer, consumer).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }

    // The console lists the full outbound campaign as not choosable, with why.
    let email = app.create_user("Acme", Role::Marketing).await;
    let b = app.signed_in(&email).await;
    let spare = offer_in(&app, "Acme", "Spare", FAR).await;
    let page = b.get(&format!("/offers/{spare}/claim")).await.body;
    assert!(
        page.contains(&format!("value=\"{blast}\" disabled")),
        "{page}"
    );
    assert!(page.contains("Holds “First”"));
    assert!(page.contains(&format!("value=\"{dvs}\" ")));
    let refused = b
        .post(
            &format!("/offers/{spare}/claim"),
            &[("consumer_id", &blast.to_string())],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("already holds the offer First"));
}

#[tokio::test]
async fn ended_campaigns_may_not_claim_and_offers_ending_with_the_campaign_end_with_it() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let ended = consumer(
        &app,
        "Acme",
        "Summer 2020",
        "dvs",
        ("2020-06-01", "2020-08-31"),
    )
    .await;
    let timeline = consumer(&app, "Acme", "Journey", "timeline", RUNNING).await;
    let club = consumer(&app, "Acme", "Club", "loyalty", NO_DATES).await;
    let partner = consumer(&app, "Acme", "Partner", "third_party", NO_DATES).await;
    let fixed = offer_in(&app, "Acme", "Fixed", FAR).await;

    let (status, v) = api
        .post(
            &format!("/offers/{fixed}/claim"),
            json!({"consumerId": ended}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(error_code(&v), "campaign_ended");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2020-08-31")
    );
    assert_eq!(claimed_by(&app, "Acme", fixed).await, None);

    // The console hides the ended campaign from the picker and says so.
    let b = app.signed_in("admin@acme.example.com").await;
    let page = b.get(&format!("/offers/{fixed}/claim")).await.body;
    assert!(!page.contains(&format!("value=\"{ended}\"")));
    assert!(page.contains("Ended campaigns: Summer 2020 (ended 31 Aug 2020)."));
    assert!(page.contains(&format!("value=\"{partner}\"")));

    // "Along with the campaign": the campaign's end is the coupons' last day …
    let along = |name: &str| {
        json!({"name": name, "discountType": "ABS", "discountValue": 5000, "codeType": "UNIQUE",
            "expiryType": "CAMPAIGN"})
    };
    let journey_offer = api.series(along("Journey offer")).await;
    // … which an integration without an end date may not claim (the offer would never end).
    let (status, v) = api
        .post(
            &format!("/offers/{journey_offer}/claim"),
            json!({"consumerId": partner}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(error_code(&v), "consumer_has_no_end_date");
    let page = b.get(&format!("/offers/{journey_offer}/claim")).await.body;
    assert!(!page.contains(&format!("value=\"{partner}\"")));
    assert!(page.contains("Without an end date"));

    let journey_key = key_for(&app, &api, "Acme", timeline).await;
    let (status, v) = journey_key
        .post(&format!("/offers/{journey_offer}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, issued) = journey_key
        .post(
            "/coupon/issue",
            json!({"seriesId": journey_offer, "customer": {"mobile": "9800000001"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    assert_eq!(issued["validTill"], "2099-06-30");

    // A loyalty program's "along with the campaign" offer does not expire.
    let club_offer = api.series(along("Club offer")).await;
    let club_key = key_for(&app, &api, "Acme", club).await;
    let (status, v) = club_key
        .post(&format!("/offers/{club_offer}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, issued) = club_key
        .post(
            "/coupon/issue",
            json!({"seriesId": club_offer, "customer": {"mobile": "9800000001"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    assert_eq!(issued["validTill"], Value::Null);
}

/// Posts `bodies` concurrently, each through `apis[i % len]`.
async fn race(apis: &[Api], paths: Vec<String>, bodies: Vec<Value>) -> Vec<(StatusCode, Value)> {
    let start = Arc::new(tokio::sync::Barrier::new(bodies.len()));
    let mut tasks = Vec::new();
    for (i, (path, body)) in paths.into_iter().zip(bodies).enumerate() {
        let api = apis[i % apis.len()].clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            api.post(&path, body).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn twenty_consumers_race_for_one_offer_on_two_instances_and_exactly_one_wins() {
    let app = spawn_app().await;
    let second = spawn_app_on(app.db.clone()).await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let apis = [api.clone(), api.on(&second)];
    let mut consumers = Vec::new();
    for i in 0..20 {
        let kind = if i % 2 == 0 { "dvs" } else { "loyalty" };
        let dates = if i % 2 == 0 { RUNNING } else { NO_DATES };
        consumers.push(consumer(&app, "Acme", &format!("Racer {i:02}"), kind, dates).await);
    }
    for round in 0..3 {
        let offer = offer_in(&app, "Acme", &format!("Prize {round}"), FAR).await;
        let results = race(
            &apis,
            vec![format!("/offers/{offer}/claim"); consumers.len()],
            consumers.iter().map(|c| json!({"consumerId": c})).collect(),
        )
        .await;
        let winners: Vec<&Value> = results
            .iter()
            .filter(|(s, _)| *s == StatusCode::OK)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        let winner = winners[0]["claimedBy"]["id"].as_i64().unwrap();
        let name = winners[0]["claimedBy"]["name"].as_str().unwrap();
        for (status, v) in &results {
            if *status != StatusCode::OK {
                assert_eq!(*status, StatusCode::CONFLICT, "{v}");
                assert_eq!(error_code(v), "already_claimed");
                assert!(v["error"]["message"].as_str().unwrap().contains(name));
            }
        }
        assert_eq!(claimed_by(&app, "Acme", offer).await, Some(winner));
    }
    assert_eq!(claim_audits(&app, "Acme").await.len(), 3);

    // One outbound campaign racing for ten offers at once holds exactly one of them.
    let blast = consumer(&app, "Acme", "Blast", "outbound", RUNNING).await;
    let mut offers = Vec::new();
    for i in 0..10 {
        offers.push(offer_in(&app, "Acme", &format!("Blast offer {i}"), FAR).await);
    }
    let results = race(
        &apis,
        offers
            .iter()
            .map(|o| format!("/offers/{o}/claim"))
            .collect(),
        vec![json!({"consumerId": blast}); offers.len()],
    )
    .await;
    let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{results:?}");
    for (status, v) in &results {
        if *status != StatusCode::OK {
            assert_eq!(error_code(v), "consumer_holds_an_offer", "{v}");
        }
    }
    let mut held = 0;
    for o in &offers {
        if claimed_by(&app, "Acme", *o).await == Some(blast) {
            held += 1;
        }
    }
    assert_eq!(held, 1);
}

#[tokio::test]
async fn csms_and_viewers_may_not_claim_and_see_no_claim_action() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let club = consumer(&app, "Acme", "Club", "loyalty", NO_DATES).await;
    let offer = offer_in(&app, "Acme", "Welcome", FAR).await;
    let org = app.org_id("Acme").await;
    for role in [Role::Csm, Role::Viewer] {
        let email = app.create_user("Acme", role).await;
        let b = app.signed_in(&email).await;
        let audit_before = app.store.list_audit(org, None, 1, 0).await.unwrap().1;
        assert_eq!(
            b.get(&format!("/offers/{offer}/claim")).await.status,
            StatusCode::FORBIDDEN,
            "{role}"
        );
        let post = b
            .post(
                &format!("/offers/{offer}/claim"),
                &[("consumer_id", &club.to_string())],
            )
            .await;
        assert_eq!(post.status, StatusCode::FORBIDDEN, "{role}");
        assert_eq!(claimed_by(&app, "Acme", offer).await, None);
        assert_eq!(
            app.store.list_audit(org, None, 1, 0).await.unwrap().1,
            audit_before
        );
        assert!(
            !b.get("/offers")
                .await
                .body
                .contains(&format!("/offers/{offer}/claim")),
            "{role} sees no Claim in the menu"
        );
        assert!(
            !b.get(&format!("/offers/{offer}"))
                .await
                .body
                .contains("Claim for a campaign")
        );
    }
    // Without a CSRF token even an admin's claim is refused.
    let b = app.signed_in("admin@acme.example.com").await;
    let forged = b
        .post_raw(
            &format!("/offers/{offer}/claim"),
            &[("consumer_id", &club.to_string())],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(claimed_by(&app, "Acme", offer).await, None);
}

#[tokio::test]
async fn the_claim_page_in_a_browser() {
    use crate::browser::{browser, chromedriver, screenshot_path, sign_in, wait_for_text};
    use thirtyfour::prelude::*;
    let Some(driver) = chromedriver() else {
        return;
    };
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let held = offer_in(&app, "Acme", "Diwali 500 off", FAR).await;
    let blast = consumer(&app, "Acme", "Diwali SMS blast", "outbound", RUNNING).await;
    let org = app.org_id("Acme").await;
    offerdesk::app::claim::claim(&app.store, org, held, blast, &Actor::system("test"))
        .await
        .unwrap()
        .unwrap();
    consumer(&app, "Acme", "New year email", "outbound", RUNNING).await;
    consumer(&app, "Acme", "Bounce back", "dvs", RUNNING).await;
    consumer(&app, "Acme", "Onboarding journey", "timeline", RUNNING).await;
    consumer(&app, "Acme", "Gold club", "loyalty", NO_DATES).await;
    consumer(&app, "Acme", "Marketplace", "third_party", NO_DATES).await;
    consumer(
        &app,
        "Acme",
        "Summer 2020",
        "dvs",
        ("2020-06-01", "2020-08-31"),
    )
    .await;
    let offer = offer_in(&app, "Acme", "Welcome 10%", FAR).await;

    let web = browser(&driver).await;
    sign_in(&web, &app.address, &email).await;
    web.goto(format!("{}/offers/{offer}", app.address))
        .await
        .unwrap();
    web.find(By::Id("claim-offer"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "Claim “Welcome 10%”").await;
    // Tall enough for the whole picker, its note and the button in one picture.
    web.set_window_rect(0, 0, 1280, 1250).await.unwrap();
    web.screenshot(&screenshot_path("30-claim")).await.unwrap();
    web.find(By::Css("#claim-form input[type=radio]:not([disabled])"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    web.find(By::Css("#claim-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "Claimed by Outbound campaign: New year email.").await;
    web.screenshot(&screenshot_path("31-claimed"))
        .await
        .unwrap();
    // The claim page of a held offer names the holder instead of offering a picker.
    web.goto(format!("{}/offers/{offer}/claim", app.address))
        .await
        .unwrap();
    wait_for_text(&web, "Claimed by Outbound campaign: New year email").await;
    web.screenshot(&screenshot_path("32-claim-held"))
        .await
        .unwrap();
    web.quit().await.unwrap();
}

#[tokio::test]
async fn a_key_of_an_outbound_campaign_creates_its_one_offer_and_no_second() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let blast = consumer(&app, "Acme", "Diwali blast", "outbound", RUNNING).await;
    let bound = key_for(&app, &api, "Acme", blast).await;
    let body = |name: &str| serde_json::json!({"name": name, "discountType": "PERC", "discountValue": 10, "validTill": "2099-01-01"});
    let (status, v) = bound.post("/coupon/series", body("Only one")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["claimedBy"], "Diwali blast");
    let (status, v) = bound.post("/coupon/series", body("One too many")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(error_code(&v), "consumer_holds_an_offer");
}
