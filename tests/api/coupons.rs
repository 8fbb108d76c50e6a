//! Bulk code generation through the store on both databases: exact counts, uniqueness within
//! the org even when random draws collide with existing codes, and the org check.

use crate::helpers::spawn_app;
use crate::offers::{FAR, offer_in};
use offerdesk::domain::coupon::{CodeFormat, check_code_space};
use offerdesk::domain::offer::Charset;
use offerdesk::domain::user::Actor;
use offerdesk::store::StoreError;

#[tokio::test]
async fn generation_writes_exactly_n_unique_codes_even_when_draws_collide() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let org = app.org_id("Acme").await;
    let first = offer_in(&app, "Acme", "First", FAR).await;
    let second = offer_in(&app, "Acme", "Second", FAR).await;
    let actor = Actor::system("test");
    // 4 digits: 10,000 codes, at most half of them usable.
    let format = CodeFormat {
        prefix: String::new(),
        length: 4,
        charset: Charset::Numeric,
    };
    assert_eq!(
        app.store
            .generate_codes(org, first, &format, 2_000, &actor, None)
            .await
            .unwrap(),
        2_000
    );
    // With 2,000 of 10,000 taken, nearly every batch of 2,500 draws hits a taken code.
    check_code_space(&format, 2_500, 2_000).unwrap();
    assert_eq!(
        app.store
            .generate_codes(org, second, &format, 2_500, &actor, None)
            .await
            .unwrap(),
        2_500
    );
    assert_eq!(app.store.count_coupons(org, first).await.unwrap(), 2_000);
    assert_eq!(app.store.count_coupons(org, second).await.unwrap(), 2_500);
    assert!(
        check_code_space(&format, 1_000, 4_500).is_err(),
        "the format is now (half) full"
    );
    let (audit, _) = app
        .store
        .list_audit(org, Some("offer"), 1, 0)
        .await
        .unwrap();
    assert_eq!(audit[0].summary, "Generated 2,500 codes");
}

#[tokio::test]
async fn codes_are_only_generated_for_the_orgs_own_offers() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    app.create_org_admin("Globex").await;
    let globex_offer = offer_in(&app, "Globex", "Theirs", FAR).await;
    let acme = app.org_id("Acme").await;
    let format = CodeFormat {
        prefix: "A".into(),
        length: 8,
        charset: Charset::Alphanumeric,
    };
    let result = app
        .store
        .generate_codes(
            acme,
            globex_offer,
            &format,
            10,
            &Actor::system("test"),
            None,
        )
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)));
    assert_eq!(
        app.store
            .count_coupons(app.org_id("Globex").await, globex_offer)
            .await
            .unwrap(),
        0,
        "nothing written"
    );
}
