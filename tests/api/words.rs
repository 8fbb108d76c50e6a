//! The console and the API say what the engine does (issue 13): where an offer can be used,
//! by name; its real end once a campaign claims it; coupon expiry with the issue day counted
//! and an example date; refusals quoting money in the org's currency.

use crate::helpers::{spawn_app, spawn_app_without_worker};
use crate::integration::Api;
use chrono::{Duration, Utc};
use offerdesk::domain::masters::NewConsumer;
use offerdesk::domain::user::Actor;
use offerdesk::store::masters::CodedKind;
use reqwest::StatusCode;
use serde_json::json;

/// "29 Dec 2026", as the console writes dates.
fn day_text(d: chrono::NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

#[tokio::test]
async fn where_an_offer_can_be_used_is_named_with_its_minimum_bill() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let zone = app.add_coded("Acme", CodedKind::Zone, "WEST", "West").await;
    for code in ["AND", "BAN", "POW", "THA", "VAS", "KUR"] {
        app.add_store("Acme", code, zone).await;
    }
    let two = api
        .series(
            json!({"name": "Two stores", "discountType": "ABS", "discountValue": 10000,
            "validTill": "2099-12-31", "stores": ["AND", "BAN"], "minBill": 100000}),
        )
        .await;
    let six = api
        .series(
            json!({"name": "Six stores", "discountType": "ABS", "discountValue": 10000,
            "validTill": "2099-12-31", "stores": ["AND", "BAN", "POW", "THA", "VAS", "KUR"]}),
        )
        .await;
    let (_, v) = api.get(&format!("/coupon/series/{two}")).await;
    let headline = v["description"].as_str().unwrap();
    assert!(
        headline.contains("at stores Store AND and Store BAN, on bills of ₹1,000 or more"),
        "{headline}"
    );
    let (_, v) = api.get(&format!("/coupon/series/{six}")).await;
    let headline = v["description"].as_str().unwrap();
    assert!(
        headline.contains("at stores Store AND, Store BAN, Store KUR and 3 more"),
        "{headline}"
    );
    // The Configuration tab says the same.
    let admin = app.signed_in("admin@acme.example.com").await;
    let page = admin.get(&format!("/offers/{two}")).await.body;
    assert!(
        page.contains("Redeemable at stores Store AND and Store BAN"),
        "{page}"
    );
    assert!(page.contains("On bills of ₹1,000 or more"));
}

#[tokio::test]
async fn an_offer_ending_with_its_campaign_shows_the_campaigns_end_once_claimed() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let org = app.org_id("Acme").await;
    let campaign = app
        .store
        .create_consumer(
            org,
            &NewConsumer::parse("Diwali SMS", "dvs", "2026-01-01", "2099-06-30").unwrap(),
            &Actor::system("test"),
        )
        .await
        .unwrap();
    let offer = api
        .series(json!({"name": "Diwali", "discountType": "ABS", "discountValue": 100, "expiryType": "CAMPAIGN"}))
        .await;
    let admin = app.signed_in("admin@acme.example.com").await;
    let before = admin.get(&format!("/offers/{offer}")).await.body;
    assert!(before.contains("not claimed yet"), "{before}");

    let (status, v) = api
        .post(
            &format!("/offers/{offer}/claim"),
            json!({"consumerId": campaign}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let page = admin.get(&format!("/offers/{offer}")).await.body;
    assert!(
        page.contains("Ends on 30 Jun 2099, along with Diwali SMS, which claimed it"),
        "{page}"
    );
    assert!(!page.contains("Ends along with the campaign that claims it"));
    let dashboard = admin.get("/offers").await.body;
    assert!(dashboard.contains("30 Jun 2099"), "{dashboard}");
    let (_, v) = api.get(&format!("/coupon/series/{offer}")).await;
    assert_eq!(v["endsOn"], "2099-06-30", "{v}");
    assert_eq!(v["expiryType"], "CAMPAIGN");
}

#[tokio::test]
async fn coupon_expiry_counts_the_issue_day_and_gives_todays_example() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = api
        .series(
            json!({"name": "Thirty days", "discountType": "ABS", "discountValue": 100,
            "validTill": "2099-12-31", "couponExpiryType": "DAYS", "couponExpiryValue": 30}),
        )
        .await;
    let admin = app.signed_in("admin@acme.example.com").await;
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .date_naive();
    let page = admin.get(&format!("/offers/{offer}")).await.body;
    let words = format!(
        "Coupons are valid for 30 days counting the issue day (never after the offer ends): one issued today ({}) is valid through {}",
        day_text(today),
        day_text(today + Duration::days(29))
    );
    assert!(page.contains(&words), "{page}");
    // The engine agrees: a coupon issued now is valid through that day.
    let (_, issued) = api
        .post(
            "/coupon/issue",
            json!({"seriesId": offer, "customer": {"mobile": "9800000001"}}),
        )
        .await;
    assert_eq!(
        issued["validTill"],
        (today + Duration::days(29)).to_string(),
        "{issued}"
    );
}

#[tokio::test]
async fn a_refusal_quotes_money_in_the_orgs_currency() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = api
        .series(
            json!({"name": "Big basket", "discountType": "ABS", "discountValue": 10000,
            "validTill": "2099-12-31", "minBill": 100000}),
        )
        .await;
    let code = api.issue(offer, "9800000001").await;
    let (status, v) = api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "T1", "billAmount": 50000, "customer": {"mobile": "9800000001"}, "codes": [code]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["code"], "bill_out_of_range");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("at least ₹1,000"), "{message}");
    assert!(!message.contains("100000"), "{message}");
    let (_, v) = api
        .get(&format!(
            "/coupon/is_redeemable?code={code}&mobile=9800000001&billAmount=50000"
        ))
        .await;
    let message = v["coupons"][0]["error"]["message"].as_str().unwrap();
    assert!(message.contains("at least ₹1,000"), "{message}");
}

#[tokio::test]
async fn a_common_codes_performance_counts_redemptions_against_the_cap_and_customers() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = api
        .series(json!({"name": "Glow15", "discountType": "PERC", "discountValue": 15, "codeType": "COMMON",
            "commonCode": "GLOW15", "maxRedeem": 1000, "anyUser": true, "validTill": "2099-12-31"}))
        .await;
    for (t, mobile) in [("T1", "9800000001"), ("T2", "9800000002")] {
        let (status, v) = api
            .post(
                "/coupon/redeem",
                json!({"transactionNumber": t, "billAmount": 10000, "customer": {"mobile": mobile}, "codes": ["GLOW15"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let admin = app.signed_in("admin@acme.example.com").await;
    let page = admin
        .get(&format!("/offers/{offer}?tab=performance"))
        .await
        .body;
    let tile = |id: &str| {
        let marker = format!("id=\"{id}\">");
        let start = page.find(&marker).map(|i| i + marker.len()).unwrap();
        page[start..].split('<').next().unwrap().to_string()
    };
    assert_eq!(tile("common-redemptions"), "2");
    assert_eq!(tile("common-left"), "998");
    assert_eq!(tile("common-customers"), "2");
    assert!(page.contains("of a cap of 1,000"));
    assert!(
        !page.contains("Redemption rate"),
        "no issued/rate for a common code"
    );
}

#[tokio::test]
async fn consecutive_customers_get_codes_from_all_over_the_generated_range() {
    let app = spawn_app_without_worker().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = api
        .series(json!({"name": "Welcome", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31",
            "codeType": "UNIQUE", "codeLength": 6, "codeCharset": "NUMERIC"}))
        .await;
    let admin = app.signed_in("admin@acme.example.com").await;
    let page = admin
        .post(
            &format!("/offers/{offer}/coupons/generate"),
            &[("count", "1000")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let org = app.org_id("Acme").await;
    let job = crate::reliability::finished_job(&app, offer).await;
    assert_eq!(job.status.as_str(), "done", "{job:?}");
    let mut all: Vec<String> = app
        .store
        .list_coupons(
            org,
            offer,
            &offerdesk::store::coupons::CouponQuery {
                limit: 2000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.code)
        .collect();
    assert_eq!(all.len(), 1000);
    all.sort();
    let mut positions = Vec::new();
    for i in 0..20 {
        let code = api.issue(offer, &format!("98000000{i:02}")).await;
        positions.push(all.binary_search(&code).expect("a generated code"));
    }
    // In sorted code order, consecutive issues are not neighbours, and the twenty come from
    // across the whole range, not one corner of it.
    let neighbours = positions
        .windows(2)
        .filter(|w| w[0].abs_diff(w[1]) <= 2)
        .count();
    assert!(neighbours <= 2, "{positions:?}");
    let spread = positions.iter().max().unwrap() - positions.iter().min().unwrap();
    assert!(spread > 500, "{positions:?}");
}

#[tokio::test]
async fn first_names_given_at_issue_fill_messages_and_a_missing_one_reads_well() {
    use offerdesk::domain::offer::form::{OfferContext, OfferForm, parse};
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let org = app.org_id("Acme").await;
    let form = OfferForm {
        name: "Welcome".into(),
        expires_on: "2099-12-31".into(),
        discount_type: "ABS".into(),
        discount_value: "100".into(),
        resend_text: "Hi {first_name}, your code {code} is waiting".into(),
        ..OfferForm::defaults()
    };
    let ctx = OfferContext {
        digits: 2,
        today: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        ..Default::default()
    };
    let offer = app
        .store
        .create_offer(
            org,
            &parse(&form, &ctx).unwrap(),
            None,
            None,
            &Actor::system("t"),
        )
        .await
        .unwrap();
    // Over the API with a first name, in the console with one, and one without.
    let (status, v) = api
        .post(
            "/coupon/issue",
            json!({"seriesId": offer, "customer": {"email": "asha@x.io", "firstName": "Asha"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let asha = v["code"].as_str().unwrap().to_string();
    let admin = app.signed_in("admin@acme.example.com").await;
    let page = admin
        .post(
            &format!("/offers/{offer}/coupons/issue"),
            &[
                ("kind", "EMAIL"),
                ("value", "ravi@x.io"),
                ("first_name", "Ravi"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let (_, v) = api
        .post(
            "/coupon/issue",
            json!({"seriesId": offer, "customer": {"email": "nobody@x.io"}}),
        )
        .await;
    let nobody = v["code"].as_str().unwrap().to_string();

    let smtp = crate::sinks::SmtpSink::start().await;
    let mut settings = crate::helpers::test_settings(app.db.url());
    settings.smtp_url = Some(smtp.url());
    let coupons = app
        .store
        .list_coupons(
            org,
            offer,
            &offerdesk::store::coupons::CouponQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for c in coupons.iter().filter(|c| c.identifier.is_some()) {
        let page = admin
            .post(&format!("/offers/{offer}/coupons/{}/resend", c.id), &[])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    offerdesk::cli::run_jobs(&app.store, &settings, Utc::now())
        .await
        .unwrap();
    let all: String = smtp.mails().iter().map(|m| m.text()).collect();
    assert!(
        all.contains(&format!("Hi Asha, your code {asha} is waiting")),
        "{all}"
    );
    assert!(all.contains("Hi Ravi, your code"), "{all}");
    assert!(
        all.contains(&format!("Hi, your code {nobody} is waiting")),
        "{all}"
    );
    assert!(!all.contains("Hi ,"));
}

#[tokio::test]
async fn a_common_code_in_use_is_refused_at_its_own_step() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    api.series(json!({"name": "Glow", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31",
        "codeType": "COMMON", "commonCode": "GLOW15"}))
        .await;
    let b = app.signed_in("admin@acme.example.com").await;
    b.get("/offers/new").await;
    let p = b
        .post(
            "/offers/new/step/3",
            &[
                ("delivery", "system"),
                ("generation", "common"),
                ("common_code", "glow15"),
                ("coupon_expiry", "offer"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    assert!(
        p.body.contains("is already used by the offer Glow"),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("value=\"glow15\""),
        "the typed value is kept"
    );
}

#[tokio::test]
async fn a_bad_audience_file_offers_no_retry_that_cannot_help() {
    let app = spawn_app_without_worker().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = api
        .series(json!({"name": "Welcome", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31"}))
        .await;
    let b = app.signed_in("admin@acme.example.com").await;
    let page = b
        .upload(
            &format!("/offers/{offer}/coupons/bulk-issue"),
            &[],
            "audience.csv",
            "type,value\nMOBILE,12\nFAX,123\n",
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let job = crate::reliability::finished_job(&app, offer).await;
    assert_eq!(job.status.as_str(), "failed", "{job:?}");
    let tab = b.get(&format!("/offers/{offer}/coupons")).await.body;
    assert!(tab.contains("every line is checked first"), "{tab}");
    assert!(!tab.contains("Audience received — issuing"));
    assert!(tab.contains("job-failed"), "{tab}");
    assert!(!tab.contains(">Retry</button>"), "{tab}");
    assert!(tab.contains("Fix the file"), "{tab}");
}

#[tokio::test]
async fn zones_and_concepts_upload_by_csv_all_or_nothing() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let b = app.signed_in("admin@acme.example.com").await;
    let org = app.org_id("Acme").await;
    let bad = b
        .upload(
            "/admin/structure/upload",
            &[("kind", "zones")],
            "zones.csv",
            "code,name\nNORTH,North\nNO RTH,Bad code\nSOUTH,\n",
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("Line 3"), "{}", bad.body);
    assert!(bad.body.contains("Line 4"), "{}", bad.body);
    assert!(
        app.store
            .list_coded(org, CodedKind::Zone)
            .await
            .unwrap()
            .is_empty()
    );

    let ok = b
        .upload(
            "/admin/structure/upload",
            &[("kind", "zones")],
            "zones.csv",
            "code,name\nNORTH,North\nSOUTH,South\n",
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let ok = b
        .upload(
            "/admin/structure/upload",
            &[("kind", "concepts")],
            "concepts.csv",
            "code,name\nOUTLET,Outlet\n",
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let zones: Vec<String> = app
        .store
        .list_coded(org, CodedKind::Zone)
        .await
        .unwrap()
        .into_iter()
        .map(|z| z.name)
        .collect();
    assert_eq!(zones, vec!["North".to_string(), "South".to_string()]);
    assert_eq!(
        app.store.list_coded(org, CodedKind::Concept).await.unwrap()[0].name,
        "Outlet"
    );
}

#[tokio::test]
async fn an_audience_file_may_carry_first_names() {
    let app = spawn_app_without_worker().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = api
        .series(json!({"name": "Welcome", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31"}))
        .await;
    let b = app.signed_in("admin@acme.example.com").await;
    let page = b
        .upload(
            &format!("/offers/{offer}/coupons/bulk-issue"),
            &[],
            "audience.csv",
            "type,value,first_name\nEMAIL,meera@x.io,Meera\nEMAIL,kiran@x.io,\n",
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let org = app.org_id("Acme").await;
    let job = crate::reliability::finished_job(&app, offer).await;
    assert_eq!(job.status.as_str(), "done", "{job:?}");
    let names: Vec<(String, Option<String>)> = app
        .store
        .fetch_all_read(
            "SELECT identifier, first_name FROM customers WHERE org_id = $1 ORDER BY identifier",
            &[offerdesk::store::dyntx::Arg::from(org)],
        )
        .await
        .unwrap();
    assert_eq!(
        names,
        vec![
            ("kiran@x.io".to_string(), None),
            ("meera@x.io".to_string(), Some("Meera".to_string())),
        ]
    );
    // A header that is neither form is refused with both named.
    let page = b
        .upload(
            &format!("/offers/{offer}/coupons/bulk-issue"),
            &[],
            "audience.csv",
            "type,value,name\nEMAIL,a@x.io,A\n",
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let job = crate::reliability::finished_job(&app, offer).await;
    assert_eq!(job.status.as_str(), "failed", "{job:?}");
    assert!(
        job.error
            .unwrap_or_default()
            .contains("`type,value` or `type,value,first_name`")
    );
}
