//! Customers' pages over HTTP on both databases (WAL-1, WAL-2): one-time-code sign-in and its
//! limits, getting a coupon from an offer's public link (once, also under concurrency), the
//! wallet with a QR code that decodes to a redeemable code, guests, sharing with a friend and
//! the recommender's reward, the kiosk, and the customers' cookie never reaching the console.

use crate::helpers::{Browser, Page, TestApp, csrf_in, spawn_app, test_settings};
use crate::integration::Api;
use crate::issuing::offer_with;
use crate::sinks::HttpSink;
use chrono::Utc;
use offerdesk::config::Settings;
use offerdesk::domain::ids::{OfferId, OrgId};
use offerdesk::scheduler::Scheduler;
use reqwest::StatusCode;
use serde_json::json;

pub(crate) struct Fixture {
    pub(crate) app: TestApp,
    pub(crate) api: Api,
    pub(crate) org: OrgId,
    pub(crate) offer: OfferId,
    pub(crate) token: String,
    pub(crate) sms: HttpSink,
    pub(crate) settings: Settings,
}

/// An org "Acme" with an offer published at a link; an SMS sink the scheduler delivers to.
pub(crate) async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 1000).await;
    let org = app.org_id("Acme").await;
    let offer = offer_with(&app, "Diwali", |_| {}).await;
    let token = publish(&app, org, offer, false).await;
    let sms = HttpSink::start().await;
    let mut settings = test_settings(app.db.url());
    settings.sms_gateway_url = Some(sms.url());
    Fixture {
        app,
        api,
        org,
        offer,
        token,
        sms,
        settings,
    }
}

/// Publishes an offer's link (and makes it shareable when asked); the link's token.
pub(crate) async fn publish(app: &TestApp, org: OrgId, offer: OfferId, shareable: bool) -> String {
    let token = format!("link{}x{}", org.get(), offer.get());
    app.store
        .execute_autocommit(
            "INSERT INTO offer_sharing (offer_id, org_id, public_token, shareable, share_mode, updated_at) \
             VALUES ($1, $2, $3, $4, 'transfer', $5)",
            &[
                offer.get().into(),
                org.get().into(),
                token.as_str().into(),
                shareable.into(),
                Utc::now().into(),
            ],
        )
        .await
        .unwrap();
    token
}

impl Fixture {
    /// Delivers the outbox and answers the last code texted to `mobile`.
    pub(crate) async fn code_sent_to(&self, mobile: &str) -> String {
        Scheduler::new(self.app.store.clone(), &self.settings)
            .unwrap()
            .run_once(Utc::now())
            .await
            .unwrap();
        let body = self
            .sms
            .bodies()
            .into_iter()
            .rev()
            .find(|b| b["to"] == mobile && b["text"].as_str().unwrap_or("").contains("code"))
            .unwrap_or_else(|| panic!("no code was texted to {mobile}"));
        let text = body["text"].as_str().unwrap();
        text.split_whitespace().next().unwrap().to_string()
    }

    /// Signs `b` in as `mobile` from the page at `from` (whose sign-in form continues to it):
    /// the answer of the code's confirmation.
    async fn sign_in(&self, b: &mut Browser, from: &str, mobile: &str) -> Page {
        let page = b.get(from).await;
        b.csrf = csrf_in(&page.body);
        let next = if from.starts_with("/wallet") {
            "/wallet"
        } else {
            from
        };
        let sent = b
            .post(
                "/wallet/code",
                &[
                    ("org", &self.org.get().to_string()),
                    ("who", mobile),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert!(
            sent.body.contains("We sent a 6-digit code"),
            "{}",
            sent.body
        );
        let code = self.code_sent_to(mobile).await;
        b.post(
            "/wallet/confirm",
            &[
                ("org", &self.org.get().to_string()),
                ("who", mobile),
                ("code", &code),
                ("next", next),
            ],
        )
        .await
    }
}

/// Reads the QR code of an inline SVG as a scanner would: rasterise the SVG's modules, then
/// let `rqrr` find and decode the code in the picture.
pub(crate) fn scan(svg: &str) -> String {
    let dims = |name: &str| -> usize {
        let at = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        svg[at..].split('"').next().unwrap().parse().unwrap()
    };
    let (w, h) = (dims("width"), dims("height"));
    let mut dark = vec![false; w * h];
    let d_at = svg.find(" d=\"").unwrap() + 4;
    let path = svg[d_at..].split('"').next().unwrap();
    // The renderer writes each dark rectangle as `M{x} {y}h{w}v{h}H{x}V{y}`.
    for rect in path.split('M').filter(|r| !r.is_empty()) {
        let nums: Vec<usize> = rect
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let (x, y, rw, rh) = (nums[0], nums[1], nums[2], nums[3]);
        for yy in y..y + rh {
            for xx in x..x + rw {
                dark[yy * w + xx] = true;
            }
        }
    }
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale(
            w,
            h,
            |x, y| {
                if dark[y * w + x] { 0 } else { 255 }
            },
        );
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    grids[0].decode().unwrap().1
}

/// The first inline QR code of a page.
pub(crate) fn first_svg(html: &str) -> &str {
    let start = html.find("<svg").expect("page has a QR code");
    let end = html[start..].find("</svg>").unwrap() + start + 6;
    &html[start..end]
}

#[tokio::test]
async fn a_customer_signs_in_with_a_one_time_code_within_its_limits() {
    let f = fixture().await;
    let mut b = f.app.browser();
    let page = b.get("/wallet").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Sign in to your wallet"),
        "{}",
        page.body
    );
    b.csrf = csrf_in(&page.body);
    let org = f.org.get().to_string();

    // A number nobody has used gets the same answer as any other: a code is on its way.
    let sent = b
        .post(
            "/wallet/code",
            &[
                ("org", &org),
                ("who", "+91 98000 00001"),
                ("next", "/wallet"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK);
    assert!(
        sent.body
            .contains("We sent a 6-digit code to +919800000001")
    );
    // Asking again at once is refused for 30 seconds (the code sent is still good).
    let again = b
        .post(
            "/wallet/code",
            &[("org", &org), ("who", "+919800000001"), ("next", "/wallet")],
        )
        .await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        again.body.contains("you can ask for a new one in"),
        "{}",
        again.body
    );
    // Not a number: said plainly, nothing sent.
    let bad = b
        .post(
            "/wallet/code",
            &[("org", &org), ("who", "12"), ("next", "/wallet")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("is not a mobile number"), "{}", bad.body);

    let code = f.code_sent_to("+919800000001").await;
    assert_eq!(code.len(), 6);
    // The code is stored hashed, never as typed.
    let stored: Vec<(String,)> = f
        .app
        .store
        .fetch_all_read("SELECT code_hash FROM customer_otps", &[])
        .await
        .unwrap();
    assert!(
        stored
            .iter()
            .all(|(h,)| h.starts_with("$argon2id$") && !h.contains(&code))
    );

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let try_code = |c: String| {
        let (b, org) = (&b, org.clone());
        async move {
            b.post(
                "/wallet/confirm",
                &[
                    ("org", &org),
                    ("who", "+919800000001"),
                    ("code", &c),
                    ("next", "/wallet"),
                ],
            )
            .await
        }
    };
    let w = try_code(wrong.to_string()).await;
    assert_eq!(w.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        w.body
            .contains("That is not the code we sent; 4 tries left"),
        "{}",
        w.body
    );
    let ok = try_code(code.clone()).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let wallet = b.get("/wallet").await;
    assert!(
        wallet
            .body
            .contains("Signed in as <strong>+919800000001</strong>"),
        "{}",
        wallet.body
    );
    // A used code does not sign in a second time.
    let mut other = f.app.browser();
    other.csrf = csrf_in(&other.get("/wallet").await.body);
    let reused = other
        .post(
            "/wallet/confirm",
            &[
                ("org", &org),
                ("who", "+919800000001"),
                ("code", &code),
                ("next", "/wallet"),
            ],
        )
        .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reused.body.contains("This code was used already"),
        "{}",
        reused.body
    );

    // Five wrong tries spend a code: then even the right one is refused.
    let mut c = f.app.browser();
    c.csrf = csrf_in(&c.get("/wallet").await.body);
    c.post(
        "/wallet/code",
        &[("org", &org), ("who", "+919800000002"), ("next", "/wallet")],
    )
    .await;
    let right = f.code_sent_to("+919800000002").await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        c.post(
            "/wallet/confirm",
            &[
                ("org", &org),
                ("who", "+919800000002"),
                ("code", wrong),
                ("next", "/wallet"),
            ],
        )
        .await;
    }
    let late = c
        .post(
            "/wallet/confirm",
            &[
                ("org", &org),
                ("who", "+919800000002"),
                ("code", &right),
                ("next", "/wallet"),
            ],
        )
        .await;
    assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(late.body.contains("Too many wrong codes"), "{}", late.body);

    // Requests at once for one number: one code is sent, the others wait their 30 seconds.
    let mut d = f.app.browser();
    d.csrf = csrf_in(&d.get("/wallet").await.body);
    let fields = [
        ("org", org.as_str()),
        ("who", "+919800000003"),
        ("next", "/wallet"),
    ];
    let at_once =
        futures_util::future::join_all((0..4).map(|_| d.post("/wallet/code", &fields))).await;
    let sent: Vec<StatusCode> = at_once.iter().map(|p| p.status).collect();
    assert_eq!(
        sent.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{sent:?}"
    );
    let (codes,): (i64,) = f
        .app
        .store
        .fetch_one_read(
            "SELECT COUNT(*) FROM customer_otps WHERE identifier = '+919800000003'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(codes, 1);

    // The customers' cookie is not a console session.
    let console = b.get("/").await;
    assert_eq!(console.status, StatusCode::SEE_OTHER);
    assert!(console.location.unwrap().starts_with("/login"));
}

#[tokio::test]
async fn a_public_link_gives_one_coupon_whose_qr_code_redeems() {
    let f = fixture().await;
    let link = format!("/get/{}", f.token);
    let mut b = f.app.browser();
    let landing = b.get(&link).await;
    assert_eq!(landing.status, StatusCode::OK);
    assert!(landing.body.contains("Diwali") && landing.body.contains("Get this coupon"));
    let done = f.sign_in(&mut b, &link, "+919800000011").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let to = done.location.unwrap();
    assert!(to.starts_with("/wallet?got="), "{to}");

    let wallet = b.get(&to).await;
    assert!(wallet.body.contains("The coupon is in your wallet."));
    let code = scan(first_svg(&wallet.body));
    assert!(
        wallet.body.contains(&format!(">{code}<")),
        "the code in large type"
    );

    // Again, and several times at once: the same coupon, never a second one.
    b.csrf = csrf_in(&wallet.body);
    let tries = futures_util::future::join_all((0..6).map(|_| b.post(&link, &[]))).await;
    for t in &tries {
        assert_eq!(t.status, StatusCode::SEE_OTHER, "{}", t.body);
        assert!(
            t.location.as_deref().unwrap().starts_with("/wallet?had="),
            "{:?}",
            t.location
        );
    }
    let (issued,): (i64,) = f
        .app
        .store
        .fetch_one_read(
            "SELECT COUNT(*) FROM issuals WHERE offer_id = $1",
            &[f.offer.get().into()],
        )
        .await
        .unwrap();
    assert_eq!(issued, 1);

    // What the QR code says is what the till redeems.
    let (status, v) = f
        .api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "Q1", "billAmount": 100000,
                   "customer": {"mobile": "+919800000011"}, "codes": [code]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let wallet = b.get("/wallet").await;
    assert!(
        wallet.body.contains("History"),
        "a used coupon moves to the history"
    );

    // An unknown link says so.
    let gone = b.get("/get/nothing-here").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.body.contains("This link is not valid any more"));
}

#[tokio::test]
async fn a_link_whose_redemption_limit_is_reached_gives_nothing_and_refusals_are_plain() {
    let f = fixture().await;
    let capped = offer_with(&f.app, "One only", |o| o.total_redemption_cap = "1".into()).await;
    let token = publish(&f.app, f.org, capped, false).await;
    let link = format!("/get/{token}");
    let mut first = f.app.browser();
    let got = f.sign_in(&mut first, &link, "+919800000021").await;
    assert!(got.location.unwrap().starts_with("/wallet?got="));
    let wallet = first.get("/wallet").await;
    let code = scan(first_svg(&wallet.body));
    let (status, v) = f
        .api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "L1", "billAmount": 100000,
                   "customer": {"mobile": "+919800000021"}, "codes": [code]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // Seed 002: once the redemption limit is passed, customers can no longer get the coupon.
    let mut late = f.app.browser();
    let page = late.get(&link).await;
    assert!(
        page.body.contains("can no longer be taken"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Send me a code"));
    let refused = f
        .sign_in(&mut late, &format!("/get/{}", f.token), "+919800000022")
        .await;
    assert!(
        refused.location.unwrap().starts_with("/wallet?got="),
        "another offer still gives"
    );
    late.csrf = csrf_in(&late.get("/wallet").await.body);
    let no = late.post(&link, &[]).await;
    assert_eq!(no.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no.body.contains("can no longer be taken"), "{}", no.body);
}

#[tokio::test]
async fn a_guest_keeps_coupons_for_the_session_and_signing_in_moves_them() {
    let f = fixture().await;
    let link = format!("/get/{}", f.token);
    let mut b = f.app.browser();
    b.csrf = csrf_in(&b.get(&link).await.body);
    let got = b.post(&format!("{link}/guest"), &[]).await;
    assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
    let wallet = b.get("/wallet").await;
    assert!(wallet.body.contains("Guest"), "{}", wallet.body);
    assert!(wallet.body.contains("Keep these coupons"));
    let code = scan(first_svg(&wallet.body));
    // Another browser session does not see it.
    let stranger = f.app.browser().get("/wallet").await;
    assert!(!stranger.body.contains(&code));
    // Signing in moves it into the customer's wallet.
    let signed = f.sign_in(&mut b, "/wallet", "+919800000031").await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let mine = b.get("/wallet").await;
    assert!(mine.body.contains("Signed in as"));
    assert!(mine.body.contains(&format!(">{code}<")), "{}", mine.body);
    let (owner,): (String,) = f
        .app
        .store
        .fetch_one_read(
            "SELECT cu.identifier FROM coupons c JOIN customers cu ON cu.id = c.customer_id WHERE c.code = $1",
            &[code.as_str().into()],
        )
        .await
        .unwrap();
    assert_eq!(owner, "+919800000031");
}

#[tokio::test]
async fn a_shared_coupon_goes_to_one_friend_and_rewards_the_recommender_once() {
    let f = fixture().await;
    let shared = offer_with(&f.app, "Bring a friend", |_| {}).await;
    let reward = offer_with(&f.app, "Thank you", |_| {}).await;
    let token = publish(&f.app, f.org, shared, true).await;
    f.app
        .store
        .execute_autocommit(
            "UPDATE offer_sharing SET referral_offer_id = $1 WHERE offer_id = $2",
            &[reward.get().into(), shared.get().into()],
        )
        .await
        .unwrap();
    let mut owner = f.app.browser();
    let got = f
        .sign_in(&mut owner, &format!("/get/{token}"), "+919800000041")
        .await;
    let coupon_id = got
        .location
        .unwrap()
        .split('=')
        .nth(1)
        .unwrap()
        .split('#')
        .next()
        .unwrap()
        .to_string();
    let share_page = owner
        .get(&format!("/wallet/coupons/{coupon_id}/share"))
        .await;
    assert_eq!(share_page.status, StatusCode::OK, "{}", share_page.body);
    let marker = "/share/";
    let at = share_page.body.find(marker).unwrap() + marker.len();
    let share_token: String = share_page.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let share_link = format!("/share/{share_token}");
    assert!(
        scan(first_svg(&share_page.body)).ends_with(&share_link),
        "the QR code is the link"
    );

    // Sent by SMS: the friend's phone gets the link.
    owner.csrf = csrf_in(&share_page.body);
    let texted = owner
        .post(
            &format!("/wallet/coupons/{coupon_id}/share"),
            &[("friend", "+919800000049")],
        )
        .await;
    assert!(
        texted
            .body
            .contains("We sent the link to +919800000049 by SMS."),
        "{}",
        texted.body
    );
    let bad = owner
        .post(
            &format!("/wallet/coupons/{coupon_id}/share"),
            &[("friend", "friend@example.com")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("SMS goes to mobiles only"));
    Scheduler::new(f.app.store.clone(), &f.settings)
        .unwrap()
        .run_once(Utc::now())
        .await
        .unwrap();
    let sms_link = f
        .sms
        .bodies()
        .into_iter()
        .find(|b| b["to"] == "+919800000049")
        .expect("the friend was texted");
    let sms_text = sms_link["text"].as_str().unwrap().to_string();
    assert!(
        sms_text.contains("/share/") && sms_text.contains("Bring a friend"),
        "{sms_text}"
    );

    // The owner cannot claim their own share.
    owner.csrf = csrf_in(&share_page.body);
    let own = owner.post(&format!("{share_link}/claim"), &[]).await;
    assert_eq!(own.status, StatusCode::CONFLICT);
    assert!(own.body.contains("This is your own coupon"), "{}", own.body);

    // Two friends claim at once: exactly one gets it.
    let mut a = f.app.browser();
    let mut c = f.app.browser();
    for (b, m) in [(&mut a, "+919800000042"), (&mut c, "+919800000043")] {
        let page = b.get(&share_link).await;
        assert!(
            page.body.contains("shared a coupon with you"),
            "{}",
            page.body
        );
        let signed = f.sign_in(b, "/wallet", m).await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER);
        b.csrf = csrf_in(&b.get("/wallet").await.body);
    }
    let claim = format!("{share_link}/claim");
    let (ra, rc) = tokio::join!(a.post(&claim, &[]), c.post(&claim, &[]));
    let wins: Vec<&Page> = [&ra, &rc]
        .into_iter()
        .filter(|p| p.status == StatusCode::SEE_OTHER)
        .collect();
    assert_eq!(wins.len(), 1, "{} / {}", ra.body, rc.body);
    let (winner, winner_mobile, loser) = if ra.status == StatusCode::SEE_OTHER {
        (&a, "+919800000042", &rc)
    } else {
        (&c, "+919800000043", &ra)
    };
    assert!(
        loser.body.contains("already been claimed by someone else"),
        "{}",
        loser.body
    );
    // A repeated claim by the winner answers the same coupon.
    let again = winner.post(&claim, &[]).await;
    assert!(
        again
            .location
            .unwrap()
            .starts_with(&format!("/wallet?had={coupon_id}"))
    );

    // The coupon moved: the friend holds it, the owner's history says it was shared.
    let friend_wallet = winner.get("/wallet").await;
    let code = scan(first_svg(&friend_wallet.body));
    let owner_wallet = owner.get("/wallet").await;
    assert!(owner_wallet.body.contains(&code) && owner_wallet.body.contains("History"));
    assert!(
        !owner_wallet.body.contains("<svg"),
        "the owner has no active coupon left"
    );

    // The friend redeems it; the recommender's reward is issued once and delivered.
    let (status, v) = f
        .api
        .post(
            "/coupon/redeem",
            json!({"transactionNumber": "R1", "billAmount": 100000,
                   "customer": {"mobile": winner_mobile}, "codes": [code]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    for _ in 0..2 {
        Scheduler::new(f.app.store.clone(), &f.settings)
            .unwrap()
            .run_once(Utc::now())
            .await
            .unwrap();
    }
    let owner_wallet = owner.get("/wallet").await;
    assert!(
        owner_wallet.body.contains("Thank you"),
        "{}",
        owner_wallet.body
    );
    let (rewards,): (i64,) = f
        .app
        .store
        .fetch_one_read(
            "SELECT COUNT(*) FROM issuals WHERE offer_id = $1",
            &[reward.get().into()],
        )
        .await
        .unwrap();
    assert_eq!(rewards, 1);
}

#[tokio::test]
async fn the_kiosk_shows_a_customers_coupons_and_forgets_them() {
    let f = fixture().await;
    let zone = f
        .app
        .add_coded(
            "Acme",
            offerdesk::store::masters::CodedKind::Zone,
            "N",
            "North",
        )
        .await;
    let store_id = f.app.add_store("Acme", "S1", zone).await;
    let (status, v) = f
        .api
        .post(
            "/coupon/issue",
            json!({"seriesId": f.offer.get(), "customer": {"mobile": "+919800000051"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    let kiosk = format!("/kiosk/{store_id}");
    let mut k = f.app.browser();
    let start = k.get(&kiosk).await;
    assert_eq!(start.status, StatusCode::OK);
    assert!(start.body.contains("See your coupons"));
    let signed = f.sign_in(&mut k, &kiosk, "+919800000051").await;
    assert_eq!(signed.location.as_deref(), Some(kiosk.as_str()));
    let list = k.get(&kiosk).await;
    assert!(list.body.contains("Diwali"), "{}", list.body);
    // Without a tap for a minute the page reloads to the leave address.
    assert!(
        list.body
            .contains(&format!("content=\"60;url={kiosk}/leave\""))
    );
    let at = list.body.find(&format!("{kiosk}/coupons/")).unwrap();
    let pick: String = list.body[at..].split('"').next().unwrap().to_string();
    let picked = k.get(&pick).await;
    assert!(picked.body.contains("Show this to the cashier"));
    let code = scan(first_svg(&picked.body));
    assert!(picked.body.contains(&format!(">{code}<")));
    // Done: the kiosk forgets the customer.
    k.get(&format!("{kiosk}/leave")).await;
    let after = k.get(&pick).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert!(k.get(&kiosk).await.body.contains("See your coupons"));
}

#[tokio::test]
async fn a_coupon_applied_to_an_open_cart_is_used_only_when_paid_and_not_once_expired() {
    let f = fixture().await;
    let mut b = f.app.browser();
    f.sign_in(&mut b, &format!("/get/{}", f.token), "+919800000061")
        .await;
    let code = scan(first_svg(&b.get("/wallet").await.body));
    let cart = |id: &'static str, state: &'static str| {
        let (api, code) = (f.api.clone(), code.clone());
        async move {
            api.put(
                &format!("/carts/{id}"),
                json!({"state": state, "codes": [code], "customer": {"mobile": "+919800000061"},
                       "lines": [{"sku": "TEE-1", "quantity": 1, "unitPrice": 100000}]}),
            )
            .await
        }
    };
    // Applied to an open cart: the discount shows, nothing is used up.
    let (status, open) = cart("W-1", "open").await;
    assert_eq!(status, StatusCode::OK, "{open}");
    assert_eq!(open["discount"], 10000, "10% of 1,000.00: {open}");
    assert!(
        b.get("/wallet").await.body.contains(&format!(">{code}<")),
        "still active"
    );
    // The coupon expires before the sale is recorded (a day passes): it is not applied.
    let yesterday = (Utc::now() - chrono::Duration::days(1)).date_naive();
    for table in ["coupons", "issuals"] {
        f.app
            .store
            .execute_autocommit(
                &format!("UPDATE {table} SET valid_till = $1 WHERE org_id = $2"),
                &[Some(yesterday).into(), f.org.get().into()],
            )
            .await
            .unwrap();
    }
    let (status, closed) = cart("W-1", "closed").await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["discount"], 0, "{closed}");
    assert_eq!(closed["rejected"][0]["code"], code.as_str(), "{closed}");
    let (status, v) = f.api.get(&format!("/coupon?codes={code}")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["coupons"][0]["status"], "expired", "{v}");
    assert_eq!(v["coupons"][0]["redeemCount"], 0, "never used: {v}");
}

#[tokio::test]
async fn a_customer_of_another_org_cannot_claim_a_share_and_a_guest_merge_gives_no_second_coupon() {
    let f = fixture().await;
    let shared = offer_with(&f.app, "Bring a friend", |_| {}).await;
    let token = publish(&f.app, f.org, shared, true).await;
    let mut owner = f.app.browser();
    let got = f
        .sign_in(&mut owner, &format!("/get/{token}"), "+919800000081")
        .await;
    let coupon_id = got
        .location
        .unwrap()
        .split('=')
        .nth(1)
        .unwrap()
        .split('#')
        .next()
        .unwrap()
        .to_string();
    let page = owner
        .get(&format!("/wallet/coupons/{coupon_id}/share"))
        .await;
    let at = page.body.find("/share/").unwrap() + "/share/".len();
    let share: String = page.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();

    // A customer signed in with another org is nobody to this share.
    f.app.create_org_admin("Globex").await;
    let globex = f.app.org_id("Globex").await;
    let mut stranger = f.app.browser();
    stranger.csrf = csrf_in(&stranger.get(&format!("/share/{share}")).await.body);
    let g = globex.get().to_string();
    stranger
        .post(
            "/wallet/code",
            &[("org", &g), ("who", "+919800000082"), ("next", "/wallet")],
        )
        .await;
    let code = f.code_sent_to("+919800000082").await;
    let signed = stranger
        .post(
            "/wallet/confirm",
            &[
                ("org", &g),
                ("who", "+919800000082"),
                ("code", &code),
                ("next", "/wallet"),
            ],
        )
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let claim = stranger.post(&format!("/share/{share}/claim"), &[]).await;
    assert_eq!(
        claim.location.as_deref(),
        Some(format!("/share/{share}").as_str())
    );
    let (claimed,): (i64,) = f
        .app
        .store
        .fetch_one_read(
            "SELECT COUNT(*) FROM shares WHERE friend_id IS NOT NULL",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(claimed, 0);

    // A guest takes the offer's coupon, then signs in as a customer who holds one: still one.
    let (status, v) = f
        .api
        .post(
            "/coupon/issue",
            json!({"seriesId": shared.get(), "customer": {"mobile": "+919800000083"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let mut guest = f.app.browser();
    guest.csrf = csrf_in(&guest.get(&format!("/get/{token}")).await.body);
    guest.post(&format!("/get/{token}/guest"), &[]).await;
    let signed = f.sign_in(&mut guest, "/wallet", "+919800000083").await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let wallet = guest.get("/wallet").await;
    assert_eq!(
        wallet.body.matches("class=\"coupon\"").count(),
        1,
        "{}",
        wallet.body
    );
}
