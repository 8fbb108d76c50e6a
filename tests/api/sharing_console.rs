//! The console side of customers' pages (issue #18) over HTTP, on both databases: the org's
//! brand settings; an offer's public link and poster, sharing and referral reward on its page,
//! with their rules, role checks, CSRF and org isolation; and the Referrals view's figures.

use crate::helpers::{Browser, TestApp, spawn_app, test_settings};
use crate::integration::Api;
use crate::issuing::offer_with;
use crate::offers::offer_in;
use chrono::Utc;
use offerdesk::domain::ids::{OfferId, OrgId};
use offerdesk::domain::org::DEFAULT_ACCENT;
use offerdesk::domain::sharing::{ShareMode, SharingSettings};
use offerdesk::domain::user::Role;
use offerdesk::store::dyntx::Arg;
use reqwest::StatusCode;

/// Acme with an admin (and an API key); the admin's browser.
async fn acme(app: &TestApp) -> (Api, Browser) {
    let api = Api::of(app, "Acme", 1000).await;
    let b = app.signed_in("admin@acme.example.com").await;
    (api, b)
}

async fn audits(app: &TestApp, action: &str) -> i64 {
    let (n,): (i64,) = app
        .store
        .fetch_one_read(
            "SELECT COUNT(*) FROM audit_log WHERE action = $1",
            &[action.into()],
        )
        .await
        .unwrap();
    n
}

async fn sharing(app: &TestApp, org: OrgId, offer: OfferId) -> SharingSettings {
    app.store.offer_sharing(org, offer).await.unwrap()
}

/// The org form's other fields as they are, so a post changes only the brand.
async fn org_fields(app: &TestApp) -> Vec<(&'static str, String)> {
    let org = app.store.get_org(app.org_id("Acme").await).await.unwrap();
    vec![
        ("name", org.name),
        ("currency", org.currency.code().to_string()),
        ("time_zone", org.time_zone.name().to_string()),
        ("live_promotion_cap", org.live_promotion_cap.to_string()),
    ]
}

async fn post_brand(
    app: &TestApp,
    b: &Browser,
    name: &str,
    logo: &str,
    accent: &str,
) -> crate::helpers::Page {
    let mut fields = org_fields(app).await;
    fields.extend([
        ("brand", "on".to_string()),
        ("brand_name", name.to_string()),
        ("brand_logo_url", logo.to_string()),
        ("brand_accent", accent.to_string()),
    ]);
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post("/admin/org", &pairs).await
}

#[tokio::test]
async fn brand_settings_are_saved_and_bad_values_are_refused_with_nothing_changed() {
    let app = spawn_app().await;
    let (_, b) = acme(&app).await;
    let org = app.org_id("Acme").await;

    // Defaults: the org's name, no logo, the default accent.
    let brand = app.store.org_brand(org).await.unwrap();
    assert_eq!(
        (
            brand.name.as_str(),
            brand.logo_url.as_deref(),
            brand.accent.as_str()
        ),
        ("Acme", None, DEFAULT_ACCENT)
    );
    let page = b.get("/admin/org").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Customers' pages"), "{}", page.body);
    assert!(page.body.contains("name=\"brand_accent\""));

    // Bad values: every one is named, the typed values come back, nothing is written.
    let long = "x".repeat(81);
    let p = post_brand(
        &app,
        &b,
        &long,
        "http://cdn.example.com/logo.png",
        "#ffff00",
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("Display name must be at most 80 characters"),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("Logo URL must start with https://"),
        "{}",
        p.body
    );
    assert!(p.body.contains("Accent colour is too light"), "{}", p.body);
    assert!(p.body.contains("value=\"http://cdn.example.com/logo.png\""));
    assert!(p.body.contains("value=\"#ffff00\""));
    let p = post_brand(&app, &b, "Acme Stores", "//evil.example/x.png", "teal").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("Accent colour must be a colour written #rrggbb"),
        "{}",
        p.body
    );
    assert!(p.body.contains("value=\"Acme Stores\""));
    assert_eq!(app.store.org_brand(org).await.unwrap(), brand);
    assert_eq!(audits(&app, "org.brand_updated").await, 0);

    // Good values are saved (the colour in lower case) and audited once.
    let p = post_brand(
        &app,
        &b,
        "Acme Stores",
        "https://cdn.example.com/acme.svg",
        "#1D4ED8",
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let saved = app.store.org_brand(org).await.unwrap();
    assert_eq!(saved.name, "Acme Stores");
    assert_eq!(
        saved.logo_url.as_deref(),
        Some("https://cdn.example.com/acme.svg")
    );
    assert_eq!(saved.accent, "#1d4ed8");
    assert_eq!(audits(&app, "org.brand_updated").await, 1);
    // The audit log reads as words: each changed field, before and after.
    let log = b.get("/admin/audit").await.body;
    for words in [
        "Display name",
        "Acme Stores",
        "Accent colour",
        "#1d4ed8",
        "(default)",
    ] {
        assert!(log.contains(words), "{words}: {log}");
    }
    let page = b.get("/admin/org").await;
    assert!(
        page.body
            .contains("value=\"https://cdn.example.com/acme.svg\"")
    );
    // Saving the same again records nothing; a path on this server is a logo too.
    post_brand(
        &app,
        &b,
        "Acme Stores",
        "https://cdn.example.com/acme.svg",
        "#1d4ed8",
    )
    .await;
    assert_eq!(audits(&app, "org.brand_updated").await, 1);
    let p = post_brand(&app, &b, "Acme Stores", "/static/acme.svg", "#1d4ed8").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.org_brand(org).await.unwrap().logo_url.as_deref(),
        Some("/static/acme.svg")
    );

    // Blank fields go back to the defaults, which follow the org's name.
    let p = post_brand(&app, &b, "", "", "").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(app.store.org_brand(org).await.unwrap(), brand);

    // A form without the brand fields (an older page) keeps the brand.
    post_brand(&app, &b, "Acme Stores", "", "#1d4ed8").await;
    let fields = org_fields(&app).await;
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        b.post("/admin/org", &pairs).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.store.org_brand(org).await.unwrap().name, "Acme Stores");

    // The page's role check holds: a marketing manager cannot change it.
    let email = app.create_user("Acme", Role::Marketing).await;
    let m = app.signed_in(&email).await;
    let p = post_brand(&app, &m, "Hijacked", "", "").await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.org_brand(org).await.unwrap().name, "Acme Stores");
}

#[tokio::test]
async fn publishing_shows_the_link_and_poster_and_taking_it_down_removes_them() {
    let app = spawn_app().await;
    let (_, b) = acme(&app).await;
    let org = app.org_id("Acme").await;
    let offer = offer_with(&app, "Diwali", |_| {}).await;
    let base = test_settings(app.db.url())
        .base_url
        .trim_end_matches('/')
        .to_string();

    let page = b.get(&format!("/offers/{offer}")).await;
    assert!(page.body.contains("id=\"customers-side\""), "{}", page.body);
    assert!(page.body.contains("Not published"));
    assert!(!page.body.contains("/get/"));

    let p = b
        .post(&format!("/offers/{offer}/sharing/publish"), &[])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(
        p.location.as_deref(),
        Some(format!("/offers/{offer}#customers-side").as_str())
    );
    let token = sharing(&app, org, offer)
        .await
        .public_token
        .expect("a token");
    assert!(token.len() >= 16, "{token}");
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{token}"
    );
    assert_eq!(
        app.store.offer_by_public_token(&token).await.unwrap(),
        Some((org, offer))
    );
    let page = b.get(&format!("/offers/{offer}")).await;
    assert!(
        page.body.contains("The offer is published"),
        "the flash says so"
    );
    assert!(
        page.body.contains(&format!("href=\"{base}/get/{token}\"")),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&format!("{base}/get/{token}</a>")),
        "the full link is shown"
    );
    assert!(
        page.body
            .contains(&format!("href=\"{base}/get/{token}/poster\""))
    );
    assert!(page.body.contains("Printable poster"));

    // Publishing again keeps the link (printed posters keep working).
    b.post(&format!("/offers/{offer}/sharing/publish"), &[])
        .await;
    assert_eq!(
        sharing(&app, org, offer).await.public_token.as_deref(),
        Some(token.as_str())
    );
    assert_eq!(audits(&app, "offer.published").await, 1);

    let p = b
        .post(&format!("/offers/{offer}/sharing/unpublish"), &[])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(sharing(&app, org, offer).await.public_token, None);
    assert_eq!(app.store.offer_by_public_token(&token).await.unwrap(), None);
    let page = b.get(&format!("/offers/{offer}")).await;
    assert!(!page.body.contains("/get/"), "{}", page.body);
    assert!(page.body.contains("Not published"));
    assert_eq!(audits(&app, "offer.unpublished").await, 1);

    // A new publication is a new link.
    b.post(&format!("/offers/{offer}/sharing/publish"), &[])
        .await;
    let again = sharing(&app, org, offer).await.public_token.unwrap();
    assert_ne!(again, token);
}

#[tokio::test]
async fn a_common_code_offer_cannot_be_made_shareable() {
    let app = spawn_app().await;
    let (_, b) = acme(&app).await;
    let org = app.org_id("Acme").await;
    let glow = offer_with(&app, "Glow", |f| {
        f.generation = "common".into();
        f.common_code = "GLOW15".into();
    })
    .await;
    let page = b.get(&format!("/offers/{glow}")).await;
    assert!(page.body.contains("id=\"common-note\""), "{}", page.body);

    let p = b
        .post(
            &format!("/offers/{glow}/sharing"),
            &[
                ("shareable", "on"),
                ("share_mode", "fresh"),
                ("referral_offer_id", ""),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body.contains(
            "Sharing cannot be turned on for a common-code offer: everyone holds the same code"
        ),
        "{}",
        p.body
    );
    // The typed choice comes back.
    assert!(p.body.contains("value=\"fresh\" checked"), "{}", p.body);
    assert_eq!(sharing(&app, org, glow).await, SharingSettings::default());
    assert_eq!(audits(&app, "offer.sharing_updated").await, 0);

    // Its other settings can still be saved, and a common code can have a public link.
    let p = b
        .post(
            &format!("/offers/{glow}/sharing"),
            &[("share_mode", "fresh"), ("referral_offer_id", "")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(sharing(&app, org, glow).await.mode, ShareMode::Fresh);
    let p = b
        .post(&format!("/offers/{glow}/sharing/publish"), &[])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(sharing(&app, org, glow).await.is_published());
}

#[tokio::test]
async fn share_mode_and_referral_offer_are_saved_and_bad_choices_refused() {
    let app = spawn_app().await;
    let (_, b) = acme(&app).await;
    let org = app.org_id("Acme").await;
    let offer = offer_with(&app, "Diwali", |_| {}).await;
    let reward = offer_with(&app, "Thank-you 10%", |_| {}).await;
    let ended = offer_in(&app, "Acme", "Summer 2001", "2001-06-30").await;
    app.create_org_admin("Other").await;
    let elsewhere = offer_in(&app, "Other", "Theirs", crate::offers::FAR).await;

    let page = b.get(&format!("/offers/{offer}")).await;
    assert!(
        page.body.contains(&format!(
            "<option value=\"{reward}\" >Thank-you 10%</option>"
        )),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains(&format!("<option value=\"{ended}\"")),
        "an ended offer is not offered"
    );
    assert!(page.body.contains("Summer 2001 (ended 30 Jun 2001)"));
    assert!(
        !page.body.contains("Theirs"),
        "another org's offers are not listed"
    );
    assert!(
        !page.body.contains("id=\"referrals-link\""),
        "not shareable yet"
    );

    let path = format!("/offers/{offer}/sharing");
    let p = b
        .post(
            &path,
            &[
                ("shareable", "on"),
                ("share_mode", "fresh"),
                ("referral_offer_id", &reward.to_string()),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let saved = sharing(&app, org, offer).await;
    assert_eq!(
        (saved.shareable, saved.mode, saved.referral_offer_id),
        (true, ShareMode::Fresh, Some(reward))
    );
    assert_eq!(audits(&app, "offer.sharing_updated").await, 1);
    let page = b.get(&format!("/offers/{offer}")).await;
    assert!(page.body.contains("Sharing settings saved."));
    assert!(page.body.contains("value=\"fresh\" checked"));
    assert!(
        page.body
            .contains(&format!("<option value=\"{reward}\" selected>")),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!(
        "href=\"/offers/{offer}/referrals\" id=\"referrals-link\""
    )));

    let log = b.get("/admin/audit").await.body;
    for words in [
        "Customers may share its coupons",
        "Give the friend a fresh coupon",
        "Referral reward",
        "Thank-you 10%",
    ] {
        assert!(log.contains(words), "{words}: {log}");
    }
    // Refused: the offer itself, an ended offer, another org's, no such offer, a bogus mode.
    // (referral, mode) → the message; the typed values come back and nothing changes.
    let refusals: [(String, &str, &str); 5] = [
        (
            offer.to_string(),
            "transfer",
            "Referral reward must be another offer",
        ),
        (
            ended.to_string(),
            "transfer",
            "Referral reward cannot be Summer 2001: it ended on 30 Jun 2001",
        ),
        (
            elsewhere.to_string(),
            "transfer",
            "Referral reward must be one of the organisation",
        ),
        (
            "999999".into(),
            "transfer",
            "Referral reward must be one of the organisation",
        ),
        (
            String::new(),
            "copy",
            "What the friend receives must be one of the two choices",
        ),
    ];
    for (referral, mode, message) in &refusals {
        let p = b
            .post(
                &path,
                &[("share_mode", mode), ("referral_offer_id", referral)],
            )
            .await;
        assert_eq!(
            p.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{referral} {mode}"
        );
        assert!(p.body.contains(message), "{message}: {}", p.body);
        assert!(
            !p.body
                .contains("name=\"shareable\" id=\"shareable\" checked"),
            "the unticked box stays unticked"
        );
        if *mode == "transfer" {
            assert!(p.body.contains("value=\"transfer\" checked"));
        }
        assert_eq!(sharing(&app, org, offer).await, saved);
    }
    assert_eq!(audits(&app, "offer.sharing_updated").await, 1);

    // No reward, coupons move to the friend, sharing off.
    let p = b
        .post(
            &path,
            &[("share_mode", "transfer"), ("referral_offer_id", "")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let now = sharing(&app, org, offer).await;
    assert_eq!(
        (now.shareable, now.mode, now.referral_offer_id),
        (false, ShareMode::Transfer, None)
    );
    assert_eq!(audits(&app, "offer.sharing_updated").await, 2);
}

/// Who may change an offer's customers' side: those who may edit the offer. Written out
/// here, not asked of `Role::can`.
const MAY_CHANGE: [(Role, bool); 4] = [
    (Role::Admin, true),
    (Role::Marketing, true),
    (Role::Csm, true),
    (Role::Viewer, false),
];

#[tokio::test]
async fn only_roles_that_edit_offers_may_change_the_customers_side_and_all_may_read_it() {
    let app = spawn_app().await;
    acme(&app).await;
    let org = app.org_id("Acme").await;
    let reward = offer_with(&app, "Reward", |_| {}).await;
    for (role, allowed) in MAY_CHANGE {
        let email = if role == Role::Admin {
            "admin@acme.example.com".to_string()
        } else {
            app.create_user("Acme", role).await
        };
        let b = app.signed_in(&email).await;
        let offer = offer_with(&app, &format!("For {}", role.as_str()), |_| {}).await;
        let expected = if allowed {
            StatusCode::SEE_OTHER
        } else {
            StatusCode::FORBIDDEN
        };

        let page = b.get(&format!("/offers/{offer}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("id=\"customers-side\""));
        assert_eq!(page.body.contains("id=\"sharing-form\""), allowed, "{role}");
        assert_eq!(page.body.contains("id=\"publish\""), allowed, "{role}");

        let p = b
            .post(&format!("/offers/{offer}/sharing/publish"), &[])
            .await;
        assert_eq!(p.status, expected, "{role} publish");
        assert_eq!(
            sharing(&app, org, offer).await.is_published(),
            allowed,
            "{role}"
        );
        let p = b
            .post(
                &format!("/offers/{offer}/sharing"),
                &[
                    ("shareable", "on"),
                    ("share_mode", "fresh"),
                    ("referral_offer_id", &reward.to_string()),
                ],
            )
            .await;
        assert_eq!(p.status, expected, "{role} save");
        assert_eq!(sharing(&app, org, offer).await.shareable, allowed, "{role}");

        // Made shareable and published by the test when the role may not.
        if !allowed {
            app.store
                .publish_offer(org, offer, &offerdesk::domain::user::Actor::system("test"))
                .await
                .unwrap();
            let page = b.get(&format!("/offers/{offer}")).await;
            assert!(
                page.body.contains("id=\"public-link\""),
                "a viewer sees the link"
            );
            assert!(!page.body.contains("id=\"unpublish\""));
        }
        let p = b
            .post(&format!("/offers/{offer}/sharing/unpublish"), &[])
            .await;
        assert_eq!(p.status, expected, "{role} unpublish");
        assert_eq!(
            sharing(&app, org, offer).await.is_published(),
            !allowed,
            "{role}"
        );

        let view = b.get(&format!("/offers/{offer}/referrals")).await;
        assert_eq!(view.status, StatusCode::OK, "{role} reads the referrals");
    }
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (_, b) = acme(&app).await;
    let org = app.org_id("Acme").await;
    let offer = offer_with(&app, "Diwali", |_| {}).await;
    for (path, fields) in [
        (format!("/offers/{offer}/sharing/publish"), vec![]),
        (
            format!("/offers/{offer}/sharing"),
            vec![
                ("shareable", "on"),
                ("share_mode", "fresh"),
                ("referral_offer_id", ""),
            ],
        ),
    ] {
        let p = b.post_raw(&path, &fields).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}");
        let p = b
            .post_raw(&path, &[&[("csrf_token", "forged")][..], &fields].concat())
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(sharing(&app, org, offer).await, SharingSettings::default());
    b.post(&format!("/offers/{offer}/sharing/publish"), &[])
        .await;
    let p = b
        .post_raw(&format!("/offers/{offer}/sharing/unpublish"), &[])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(sharing(&app, org, offer).await.is_published());
    let mut fields = org_fields(&app).await;
    fields.push(("brand_name", "Forged".into()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        b.post_raw("/admin/org", &pairs).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.store.org_brand(org).await.unwrap().name, "Acme");
}

#[tokio::test]
async fn another_orgs_offer_is_not_found() {
    let app = spawn_app().await;
    let (_, b) = acme(&app).await;
    app.create_org_admin("Other").await;
    let other = app.org_id("Other").await;
    let theirs = offer_in(&app, "Other", "Theirs", crate::offers::FAR).await;
    app.store
        .publish_offer(
            other,
            theirs,
            &offerdesk::domain::user::Actor::system("test"),
        )
        .await
        .unwrap();
    let before = sharing(&app, other, theirs).await;
    assert_eq!(
        b.get(&format!("/offers/{theirs}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get(&format!("/offers/{theirs}/referrals")).await.status,
        StatusCode::NOT_FOUND
    );
    for path in ["sharing", "sharing/publish", "sharing/unpublish"] {
        let p = b
            .post(
                &format!("/offers/{theirs}/{path}"),
                &[
                    ("shareable", "on"),
                    ("share_mode", "fresh"),
                    ("referral_offer_id", ""),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(sharing(&app, other, theirs).await, before);
    // Nor does the store mix orgs up.
    let acme = app.org_id("Acme").await;
    assert_eq!(
        sharing(&app, acme, theirs).await,
        SharingSettings::default()
    );
}

/// A customer's id by the mobile their coupon was issued to.
async fn customer(app: &TestApp, org: OrgId, mobile: &str) -> i64 {
    let (id,): (i64,) = app
        .store
        .fetch_one_read(
            "SELECT id FROM customers WHERE org_id = $1 AND identifier LIKE $2",
            &[org.get().into(), format!("%{mobile}").into()],
        )
        .await
        .unwrap();
    id
}

async fn coupon(app: &TestApp, org: OrgId, code: &str) -> i64 {
    let (id,): (i64,) = app
        .store
        .fetch_one_read(
            "SELECT id FROM coupons WHERE org_id = $1 AND code = $2",
            &[org.get().into(), code.into()],
        )
        .await
        .unwrap();
    id
}

/// A share as the customers' pages write it: the share's token, the coupon shared, its owner,
/// the number it was texted to, the claim (friend, the coupon the friend holds) and the reward
/// (its coupon, or why none).
#[derive(Default)]
struct NewShare<'a> {
    token: &'a str,
    coupon: i64,
    owner: i64,
    sms_to: Option<&'a str>,
    claim: Option<(i64, i64)>,
    reward: Option<(Option<i64>, Option<&'a str>)>,
}

async fn share(app: &TestApp, org: OrgId, offer: OfferId, s: NewShare<'_>) {
    let now = Utc::now();
    app.store
        .execute_autocommit(
            "INSERT INTO shares (org_id, offer_id, token, coupon_id, owner_id, channel, sent_to, created_at, \
             friend_id, claimed_at, friend_coupon_id, reward_coupon_id, rewarded_at, reward_note) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            &[
                org.get().into(),
                offer.get().into(),
                s.token.into(),
                s.coupon.into(),
                s.owner.into(),
                if s.sms_to.is_some() { "sms" } else { "link" }.into(),
                s.sms_to.map(str::to_string).into(),
                now.into(),
                s.claim.map(|c| c.0).into(),
                Arg::OptTime(s.claim.map(|_| now)),
                s.claim.map(|c| c.1).into(),
                s.reward.and_then(|r| r.0).into(),
                Arg::OptTime(s.reward.map(|_| now)),
                s.reward.and_then(|r| r.1).map(str::to_string).into(),
            ],
        )
        .await
        .unwrap();
}

/// What `seed_shares` made.
struct Seeded {
    /// The reward coupon's code.
    thanks: String,
    /// A coupon of another offer, shared too.
    elsewhere: String,
}

/// The offer made shareable with `reward`, and its shares: Asha shares two coupons — Ravi
/// claims one by link and used it (Asha was rewarded), Meena claims one sent by SMS and used
/// it (no reward: a rule refused); Kiran shares one nobody claimed yet, and one Ravi claimed
/// but has not used. Ravi also shared a coupon of `other`.
async fn seed_shares(
    app: &TestApp,
    api: &Api,
    b: &Browser,
    offer: OfferId,
    reward: OfferId,
    other: OfferId,
) -> Seeded {
    let org = app.org_id("Acme").await;
    let p = b
        .post(
            &format!("/offers/{offer}/sharing"),
            &[
                ("shareable", "on"),
                ("share_mode", "transfer"),
                ("referral_offer_id", &reward.to_string()),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let asha1 = api.issue(offer, "9876543210").await;
    let asha2 = api.issue(offer, "9876543210").await;
    let kiran = api.issue(offer, "9123456789").await;
    let elsewhere = api.issue(other, "9000000001").await;
    let meena_fresh = api.issue(offer, "9000000002").await;
    let thanks = api.issue(reward, "9876543210").await;
    let asha = customer(app, org, "9876543210").await;
    let ravi = customer(app, org, "9000000001").await;
    let meena = customer(app, org, "9000000002").await;
    let kiran_id = customer(app, org, "9123456789").await;
    let c1 = coupon(app, org, &asha1).await;
    let c_meena = coupon(app, org, &meena_fresh).await;
    let c3 = coupon(app, org, &kiran).await;
    let shares = [
        NewShare {
            token: "shareA",
            coupon: c1,
            owner: asha,
            claim: Some((ravi, c1)),
            reward: Some((Some(coupon(app, org, &thanks).await), None)),
            ..Default::default()
        },
        NewShare {
            token: "shareB",
            coupon: coupon(app, org, &asha2).await,
            owner: asha,
            sms_to: Some("+919000000002"),
            claim: Some((meena, c_meena)),
            reward: Some((
                None,
                Some("the customer already has 1 coupon(s) of this offer, the most allowed"),
            )),
        },
        NewShare {
            token: "shareC",
            coupon: c3,
            owner: kiran_id,
            ..Default::default()
        },
        NewShare {
            token: "shareD",
            coupon: c3,
            owner: kiran_id,
            claim: Some((ravi, c3)),
            ..Default::default()
        },
    ];
    for s in shares {
        share(app, org, offer, s).await;
    }
    let e = NewShare {
        token: "shareE",
        coupon: coupon(app, org, &elsewhere).await,
        owner: ravi,
        ..Default::default()
    };
    share(app, org, other, e).await;
    app.store
        .execute_autocommit(
            "UPDATE coupons SET status = 'redeemed', redeem_count = 1 WHERE id = $1 OR id = $2",
            &[c1.into(), c_meena.into()],
        )
        .await
        .unwrap();
    Seeded { thanks, elsewhere }
}

#[tokio::test]
async fn the_referrals_view_counts_shares_claims_redemptions_and_rewards() {
    let app = spawn_app().await;
    let (api, b) = acme(&app).await;
    let org = app.org_id("Acme").await;
    let offer = offer_with(&app, "Diwali", |_| {}).await;
    let reward = offer_with(&app, "Thank-you", |_| {}).await;
    let other = offer_with(&app, "Unrelated", |_| {}).await;

    let empty = b.get(&format!("/offers/{offer}/referrals")).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(
        empty
            .body
            .contains("Nobody has shared a coupon of this offer yet"),
        "{}",
        empty.body
    );

    let Seeded { thanks, elsewhere } = seed_shares(&app, &api, &b, offer, reward, other).await;
    let counts = app.store.referral_counts(org, offer).await.unwrap();
    assert_eq!(
        (
            counts.shares,
            counts.claims,
            counts.redemptions,
            counts.rewards,
            counts.unrewarded
        ),
        (4, 3, 2, 1, 1)
    );
    let page = b.get(&format!("/offers/{offer}/referrals")).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    for (id, n) in [
        ("shares", 4),
        ("claims", 3),
        ("redemptions", 2),
        ("rewards", 1),
    ] {
        let tile = body
            .split(&format!("id=\"count-{id}\""))
            .nth(1)
            .unwrap_or_else(|| panic!("no {id} tile: {body}"));
        let figure = tile
            .split("<strong>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap();
        assert_eq!(figure, n.to_string(), "{id}");
    }
    assert!(body.contains("1 not issued"), "{body}");
    assert!(body.contains("The reward is a coupon of Thank-you"));
    // Identifiers are masked; the reward's code, or why there is none, is shown.
    assert!(
        !body.contains("9876543210")
            && !body.contains("9000000001")
            && !body.contains("9000000002"),
        "{body}"
    );
    assert!(body.contains("<td>••••••3210</td>"), "{body}");
    assert!(body.contains("<td>••••••0001</td>"), "{body}");
    assert!(body.contains("SMS to +91••••••0002"), "{body}");
    assert!(
        body.contains(&format!("<code class=\"reward-code\">{thanks}</code>")),
        "{body}"
    );
    assert!(
        body.contains(
            "No reward: the customer already has 1 coupon(s) of this offer, the most allowed"
        ),
        "{body}"
    );
    assert!(body.contains("Not claimed"));
    assert!(body.contains("When the friend uses their coupon"));
    assert_eq!(
        body.matches("<span class=\"badge on\">Redeemed</span>")
            .count(),
        2
    );
    assert!(
        !body.contains(&elsewhere),
        "another offer's share is not listed"
    );

    // Another org's user cannot see it.
    app.create_org_admin("Other").await;
    let them = app.signed_in("admin@other.example.com").await;
    assert_eq!(
        them.get(&format!("/offers/{offer}/referrals")).await.status,
        StatusCode::NOT_FOUND
    );
}

/// In headless Chromium: the brand settings, the offer page's customers' side set up by
/// clicking (publish, sharing on, a fresh coupon for the friend, a reward), and the Referrals
/// view; screenshots in target/screenshots/sharing-*.png.
#[tokio::test]
async fn the_customers_side_is_set_up_by_clicking_in_a_browser() {
    use crate::browser::{browser, chromedriver, screenshot_path, sign_in, wait_for_text};
    use thirtyfour::prelude::*;
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    let (api, b) = acme(&app).await;
    let offer = offer_with(&app, "Diwali 20% off", |_| {}).await;
    let reward = offer_with(&app, "Thank-you ₹100", |_| {}).await;
    let other = offer_with(&app, "Monsoon", |_| {}).await;
    offer_in(&app, "Acme", "Summer 2001", "2001-06-30").await;
    let web = browser(&driver).await;
    let base = app.address.clone();
    sign_in(&web, &base, "admin@acme.example.com").await;
    // Tall enough for whole sections.
    web.set_window_rect(0, 0, 1280, 2200).await.unwrap();

    // Brand settings, with a refused colour shown inline.
    web.goto(format!("{base}/admin/org")).await.unwrap();
    let accent = web.find(By::Name("brand_accent")).await.unwrap();
    accent.send_keys("#fde047").await.unwrap();
    web.find(By::Name("brand_name"))
        .await
        .unwrap()
        .send_keys("Acme Stores")
        .await
        .unwrap();
    web.find(By::Css("form[action='/admin/org'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "Accent colour is too light").await;
    web.find(By::Id("brand-settings"))
        .await
        .unwrap()
        .screenshot(&screenshot_path("sharing-1-brand-refused"))
        .await
        .unwrap();

    // The offer page: publish, then sharing on with a fresh coupon and a reward.
    web.goto(format!("{base}/offers/{offer}")).await.unwrap();
    web.find(By::Id("publish"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "The offer is published").await;
    web.find(By::Id("shareable"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    web.find(By::Css("input[name=share_mode][value=fresh]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    web.find(By::Css(format!(
        "#referral_offer_id option[value='{reward}']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    web.find(By::Id("save-sharing"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "Sharing settings saved.").await;
    let org = app.org_id("Acme").await;
    let saved = sharing(&app, org, offer).await;
    assert!(saved.shareable && saved.is_published());
    assert_eq!(
        (saved.mode, saved.referral_offer_id),
        (ShareMode::Fresh, Some(reward))
    );
    let section = web.find(By::Id("customers-side")).await.unwrap();
    section.scroll_into_view().await.unwrap();
    section
        .screenshot(&screenshot_path("sharing-2-offer-section"))
        .await
        .unwrap();

    // The Referrals view, from the offer page's link.
    seed_shares(&app, &api, &b, offer, reward, other).await;
    web.goto(format!("{base}/offers/{offer}")).await.unwrap();
    web.find(By::Id("referrals-link"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "Friends' coupons redeemed").await;
    web.screenshot(&screenshot_path("sharing-3-referrals"))
        .await
        .unwrap();
    web.quit().await.unwrap();
}
