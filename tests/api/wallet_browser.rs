//! The customers' side in real headless Chromium at phone size (390×844): a coupon from an
//! offer's public link, signed in with the code from the SMS sink, seen in the wallet, shared,
//! claimed by a friend on another phone, redeemed through the API, and the recommender's
//! reward arriving. Screenshots go to target/screenshots for people to look at.

use crate::browser::{browser, chromedriver, screenshot_path, type_css, wait_for_text};
use crate::wallet_pages::{Fixture, fixture, publish};
use chrono::Utc;
use offerdesk::scheduler::Scheduler;
use reqwest::StatusCode;
use serde_json::json;
use thirtyfour::prelude::*;

async fn phone(driver: &crate::browser::Driver) -> WebDriver {
    let web = browser(driver).await;
    web.set_window_rect(0, 0, 390, 844).await.unwrap();
    web
}

async fn click(web: &WebDriver, text: &str) {
    web.find(By::XPath(format!(
        "//button[normalize-space(.)='{text}'] | //a[normalize-space(.)='{text}']"
    )))
    .await
    .unwrap_or_else(|_| panic!("no button or link {text:?}"))
    .click()
    .await
    .unwrap();
}

/// Signs in on the page's form with the code the SMS sink received.
async fn confirm_number(f: &Fixture, web: &WebDriver, mobile: &str) {
    type_css(web, "#who", mobile).await;
    click(web, "Send me a code").await;
    wait_for_text(web, "We sent a 6-digit code").await;
    let code = f.code_sent_to(mobile).await;
    type_css(web, "#code", &code).await;
    click(web, "Confirm").await;
}

#[tokio::test]
async fn a_coupon_from_a_link_is_shared_claimed_redeemed_and_rewarded_on_phones() {
    let (Some(d1), Some(d2)) = (chromedriver(), chromedriver()) else {
        return;
    };
    let f = fixture().await;
    let shared =
        crate::issuing::offer_with(&f.app, "Bring a friend", |o| o.discount_value = "25".into())
            .await;
    let reward = crate::issuing::offer_with(&f.app, "Thank you", |_| {}).await;
    let token = publish(&f.app, f.org, shared, true).await;
    f.app
        .store
        .execute_autocommit(
            "UPDATE offer_sharing SET referral_offer_id = $1 WHERE offer_id = $2",
            &[reward.get().into(), shared.get().into()],
        )
        .await
        .unwrap();
    let base = f.app.address.clone();

    // The owner opens the link, confirms a number and sees the coupon in the wallet.
    let owner = phone(&d1).await;
    owner.goto(format!("{base}/get/{token}")).await.unwrap();
    wait_for_text(&owner, "Get this coupon").await;
    owner
        .screenshot(&screenshot_path("customer_link"))
        .await
        .unwrap();
    confirm_number(&f, &owner, "+919800000071").await;
    wait_for_text(&owner, "The coupon is in your wallet.").await;
    owner
        .screenshot(&screenshot_path("customer_wallet"))
        .await
        .unwrap();

    // Shares it: the link to send.
    click(&owner, "Share with a friend").await;
    wait_for_text(&owner, "Share link").await;
    owner
        .screenshot(&screenshot_path("customer_share"))
        .await
        .unwrap();
    let link = owner
        .find(By::Id("link"))
        .await
        .unwrap()
        .value()
        .await
        .unwrap()
        .unwrap();

    // The friend opens it on their phone and claims it.
    let friend = phone(&d2).await;
    // The link is absolute on the configured base URL; this test's server has its own port.
    let path = &link[link.find("/share/").expect("a share link")..];
    friend.goto(format!("{base}{path}")).await.unwrap();
    wait_for_text(&friend, "shared a coupon with you").await;
    friend
        .screenshot(&screenshot_path("customer_shared"))
        .await
        .unwrap();
    confirm_number(&f, &friend, "+919800000072").await;
    wait_for_text(&friend, "The coupon is in your wallet.").await;
    let code = friend
        .find(By::Css(".coupon .code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // The friend pays with it at the till; the recommender's reward arrives.
    let (status, v) = f
        .api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "B1", "billAmount": 100000,
                   "customer": {"mobile": "+919800000072"}, "codes": [code]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    Scheduler::new(f.app.store.clone(), &f.settings)
        .unwrap()
        .run_once(Utc::now())
        .await
        .unwrap();
    owner.goto(format!("{base}/wallet")).await.unwrap();
    wait_for_text(&owner, "Thank you").await;
    wait_for_text(&owner, "Given to a friend").await;
    owner
        .screenshot(&screenshot_path("customer_rewarded"))
        .await
        .unwrap();

    // The poster and the kiosk, for people to look at.
    owner
        .goto(format!("{base}/get/{token}/poster"))
        .await
        .unwrap();
    wait_for_text(&owner, "Scan with your phone camera").await;
    owner
        .screenshot(&screenshot_path("customer_poster"))
        .await
        .unwrap();
    let zone = f
        .app
        .add_coded(
            "Acme",
            offerdesk::store::masters::CodedKind::Zone,
            "N",
            "North",
        )
        .await;
    let store = f.app.add_store("Acme", "S1", zone).await;
    friend.goto(format!("{base}/kiosk/{store}")).await.unwrap();
    wait_for_text(&friend, "See your coupons").await;
    friend
        .screenshot(&screenshot_path("customer_kiosk"))
        .await
        .unwrap();
    owner.quit().await.unwrap();
    friend.quit().await.unwrap();
}
