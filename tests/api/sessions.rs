//! Console sessions live in the database (issue 12): signing out ends a session everywhere,
//! a copied cookie included; idle and too-old sessions end; the Account page lists one's
//! sessions and signs out the others. Sign-in throttling keys on account and address so a
//! stranger's wrong guesses do not lock the owner out; a form posted from another site's page
//! is refused by its Origin.

use crate::helpers::{PASSWORD, TestApp, csrf_in, spawn_app};
use chrono::{Duration, Utc};
use offerdesk::domain::ids::UserId;
use offerdesk::store::dyntx::Arg;
use reqwest::StatusCode;
use reqwest::redirect::Policy;

/// A client that keeps no cookies: the session cookie is handled by hand, so it can be copied.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("offerdesk_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// Signs in by hand: the session cookie (`name=value`) and the page's CSRF token.
async fn sign_in_by_hand(app: &TestApp, email: &str) -> (String, String) {
    let http = bare_client();
    let login = http
        .get(format!("{}/login", app.address))
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&login).unwrap();
    let csrf = csrf_in(&login.text().await.unwrap());
    let r = http
        .post(format!("{}/login", app.address))
        .header("Cookie", &cookie)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", email),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&r).expect("a new session cookie at sign-in");
    let account = http
        .get(format!("{}/account", app.address))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), StatusCode::OK);
    let csrf = csrf_in(&account.text().await.unwrap());
    (cookie, csrf)
}

async fn get_with(app: &TestApp, cookie: &str, path: &str) -> StatusCode {
    bare_client()
        .get(format!("{}{path}", app.address))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
}

async fn post_with(
    app: &TestApp,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    bare_client()
        .post(format!("{}{path}", app.address))
        .header("Cookie", cookie)
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn signing_out_ends_the_session_for_every_copy_of_its_cookie() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let (cookie, csrf) = sign_in_by_hand(&app, &email).await;
    // A copy of the cookie (another machine, a stolen header) works while the session lives.
    assert_eq!(
        get_with(&app, &cookie, "/admin/structure").await,
        StatusCode::OK
    );

    let out = post_with(&app, &cookie, "/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);

    // The copy no longer reads pages …
    assert_eq!(
        get_with(&app, &cookie, "/admin/structure").await,
        StatusCode::SEE_OTHER,
        "redirected to sign in"
    );
    // … nor changes anything.
    let r = post_with(
        &app,
        &cookie,
        "/admin/zones",
        &[("csrf_token", &csrf), ("code", "NORTH"), ("name", "North")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let org = app.org_id("Acme").await;
    let zones = app
        .store
        .list_coded(org, offerdesk::store::masters::CodedKind::Zone)
        .await
        .unwrap();
    assert!(zones.is_empty(), "nothing was created");

    // A second instance on the same database agrees.
    let other = crate::helpers::spawn_app_on(app.db.clone()).await;
    assert_eq!(
        get_with(&other, &cookie, "/admin/structure").await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn idle_and_too_old_sessions_end() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    // Idle longer than the 8 hours allowed by default.
    let (idle, _) = sign_in_by_hand(&app, &email).await;
    let (fresh, _) = sign_in_by_hand(&app, &email).await;
    let sessions = app.store.list_sessions(UserId(1)).await.unwrap();
    assert_eq!(sessions.len(), 2);
    app.store
        .execute_autocommit(
            "UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2",
            &[
                Arg::Time(Utc::now() - Duration::hours(8) - Duration::minutes(1)),
                Arg::Text(sessions[1].id_hash.clone()),
            ],
        )
        .await
        .unwrap();
    let statuses = [
        get_with(&app, &idle, "/").await,
        get_with(&app, &fresh, "/").await,
    ];
    // Which of the two was made idle is known by its hash only: exactly one is refused.
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(app.store.list_sessions(UserId(1)).await.unwrap().len(), 1);

    // Used all the time, but signed in more than 7 days ago.
    let (old, _) = sign_in_by_hand(&app, &email).await;
    app.store
        .execute_autocommit(
            "UPDATE sessions SET created_at = $1",
            &[Arg::Time(
                Utc::now() - Duration::days(7) - Duration::minutes(1),
            )],
        )
        .await
        .unwrap();
    assert_eq!(get_with(&app, &old, "/").await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_account_page_lists_sessions_and_signs_out_the_others() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let (laptop, csrf) = sign_in_by_hand(&app, &email).await;
    let (phone, _) = sign_in_by_hand(&app, &email).await;
    let page = bare_client()
        .get(format!("{}/account", app.address))
        .header("Cookie", &laptop)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(page.matches("<tr class=\"session\">").count(), 2, "{page}");
    assert_eq!(page.matches("this session").count(), 1);
    assert!(page.contains("127.0.0.1"));
    assert!(page.contains("Sign out the other sessions"));

    let r = post_with(
        &app,
        &laptop,
        "/account/sessions/sign-out-others",
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The flash rides in the renewed cookie.
    let laptop = session_cookie(&r).unwrap_or(laptop);
    assert_eq!(get_with(&app, &phone, "/").await, StatusCode::SEE_OTHER);
    let page = bare_client()
        .get(format!("{}/account", app.address))
        .header("Cookie", &laptop)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Signed out 1 other session."), "{page}");
    assert_eq!(page.matches("<tr class=\"session\">").count(), 1);
    assert_eq!(get_with(&app, &laptop, "/").await, StatusCode::OK);
}

#[tokio::test]
async fn a_form_posted_from_another_sites_page_is_refused() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let (cookie, csrf) = sign_in_by_hand(&app, &email).await;
    let form = [
        ("csrf_token", csrf.as_str()),
        ("code", "NORTH"),
        ("name", "North"),
    ];
    let evil = bare_client()
        .post(format!("{}/admin/zones", app.address))
        .header("Cookie", &cookie)
        .header("Origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let referred = bare_client()
        .post(format!("{}/admin/zones", app.address))
        .header("Cookie", &cookie)
        .header("Referer", "https://evil.example/page")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(referred.status(), StatusCode::FORBIDDEN);
    let org = app.org_id("Acme").await;
    let zones = || async {
        app.store
            .list_coded(org, offerdesk::store::masters::CodedKind::Zone)
            .await
            .unwrap()
            .len()
    };
    assert_eq!(zones().await, 0);
    // From our own page (the browser sends our origin) it is accepted.
    let own = bare_client()
        .post(format!("{}/admin/zones", app.address))
        .header("Cookie", &cookie)
        .header("Origin", app.address.clone())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
    assert_eq!(zones().await, 1);
}

/// A client whose requests come from `ip` (another loopback address).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn try_login(
    app: &TestApp,
    http: &reqwest::Client,
    email: &str,
    password: &str,
) -> StatusCode {
    let login = http
        .get(format!("{}/login", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_in(&login);
    http.post(format!("{}/login", app.address))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_strangers_wrong_guesses_do_not_lock_the_owner_out() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let stranger = client_from("127.0.0.2");
    for _ in 0..5 {
        assert_eq!(
            try_login(&app, &stranger, &email, "wrong password!").await,
            StatusCode::UNAUTHORIZED
        );
    }
    // The stranger is throttled from their address …
    assert_eq!(
        try_login(&app, &stranger, &email, "wrong password!").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        try_login(&app, &stranger, &email, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "not even the right password gets through while throttled"
    );
    // … the owner, from an address that has not been failing, signs in.
    let owner = client_from("127.0.0.1");
    assert_eq!(
        try_login(&app, &owner, &email, PASSWORD).await,
        StatusCode::SEE_OTHER
    );

    // Many accounts guessed from one address (spraying) is throttled there …
    let sprayer = client_from("127.0.0.3");
    let mut throttled = false;
    for i in 0..offerdesk::web::auth::MAX_FAILURES_PER_ADDRESS + 1 {
        let status = try_login(&app, &sprayer, &format!("user{i}@acme.example.com"), "x").await;
        throttled |= status == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(throttled, "an address guessing many accounts is throttled");
    // … without locking the owner, elsewhere, out.
    let owner = client_from("127.0.0.4");
    assert_eq!(
        try_login(&app, &owner, &email, PASSWORD).await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn guesses_from_many_addresses_meet_a_higher_account_ceiling() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    // Wrong guesses spread over addresses, 4 each (under the per-address limit of 5).
    let per_address = offerdesk::web::auth::MAX_FAILURES_PER_EMAIL_AND_ADDRESS - 1;
    let addresses = offerdesk::web::auth::MAX_FAILURES_PER_EMAIL / per_address + 1;
    let mut last = StatusCode::UNAUTHORIZED;
    'outer: for a in 0..addresses {
        let http = client_from(&format!("127.0.1.{}", a + 1));
        for _ in 0..per_address {
            last = try_login(&app, &http, &email, "wrong password!").await;
            if last == StatusCode::TOO_MANY_REQUESTS {
                break 'outer;
            }
        }
    }
    assert_eq!(
        last,
        StatusCode::TOO_MANY_REQUESTS,
        "a distributed guessing run is stopped at the account's ceiling"
    );
}

#[tokio::test]
async fn deactivating_a_user_ends_their_sessions_for_good() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let email = app
        .create_user("Acme", offerdesk::domain::user::Role::Csm)
        .await;
    let (cookie, _) = sign_in_by_hand(&app, &email).await;
    assert_eq!(get_with(&app, &cookie, "/").await, StatusCode::OK);
    let org = app.org_id("Acme").await;
    let user = app
        .store
        .list_users(org)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == email)
        .unwrap();
    let actor = offerdesk::domain::user::Actor::system("test");
    let csm = offerdesk::domain::user::Role::Csm;
    app.store
        .update_user_access(org, user.id, csm, false, &actor)
        .await
        .unwrap();
    assert_eq!(get_with(&app, &cookie, "/").await, StatusCode::SEE_OTHER);
    // Reactivated, the old cookie still signs nobody in.
    app.store
        .update_user_access(org, user.id, csm, true, &actor)
        .await
        .unwrap();
    assert_eq!(get_with(&app, &cookie, "/").await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn signing_in_again_ends_the_browsers_previous_session() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let (first, _) = sign_in_by_hand(&app, &email).await;
    // Sign in again from the same browser (its cookie sent along).
    let http = bare_client();
    let login = http
        .get(format!("{}/login", app.address))
        .header("Cookie", &first)
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&login).unwrap_or(first.clone());
    let csrf = csrf_in(&login.text().await.unwrap());
    let r = http
        .post(format!("{}/login", app.address))
        .header("Cookie", &cookie)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let second = session_cookie(&r).unwrap();
    assert_eq!(get_with(&app, &second, "/").await, StatusCode::OK);
    assert_eq!(
        get_with(&app, &first, "/").await,
        StatusCode::SEE_OTHER,
        "a copy of the earlier cookie no longer signs in"
    );
    assert_eq!(app.store.list_sessions(UserId(1)).await.unwrap().len(), 1);
}
