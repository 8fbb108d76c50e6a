//! Signing in and out, throttling, CSRF, sessions across restarts, security headers.

use crate::helpers::{PASSWORD, spawn_app, spawn_app_on};
use offerdesk::domain::user::Role;
use reqwest::StatusCode;

#[tokio::test]
async fn health_check_answers() {
    let app = spawn_app().await;
    let r = reqwest::get(format!("{}/healthz", app.address))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn pages_require_sign_in_and_come_back_after_it() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let mut b = app.browser();
    let p = b.get("/admin/structure").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location.as_deref(), Some("/login?next=/admin/structure"));

    let login = b.get("/login?next=/admin/structure").await;
    b.csrf = crate::helpers::csrf_in(&login.body);
    let r = b
        .post_raw(
            "/login",
            &[
                ("csrf_token", &b.csrf.clone()),
                ("email", &email),
                ("password", PASSWORD),
                ("next", "/admin/structure"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/admin/structure"));
    let p = b.get("/admin/structure").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("Stores &amp; tills"));
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_message() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let mut b = app.browser();
    let wrong = b.login(&email, "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.text().await.unwrap();
    let unknown = b.login("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = unknown.text().await.unwrap();
    for body in [&wrong, &unknown] {
        assert!(body.contains("Email or password is incorrect."));
    }
    // The typed email is kept in the form.
    assert!(wrong.contains(&format!("value=\"{email}\"")));
    assert_eq!(
        b.get("/").await.status,
        StatusCode::SEE_OTHER,
        "still signed out"
    );
}

#[tokio::test]
async fn login_is_throttled_after_five_failures() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let mut b = app.browser();
    for _ in 0..5 {
        assert_eq!(
            b.login(&email, "wrong password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = b.login(&email, PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Too many failed sign-in attempts. Try again in 15 minutes.")
    );
    // Another account from the same place is not locked by this one.
    let other = app.create_user("Acme", Role::Viewer).await;
    assert_eq!(
        b.login(&other, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn login_form_without_csrf_token_is_refused() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let b = app.browser();
    b.get("/login").await;
    let p = b
        .post_raw("/login", &[("email", &email), ("password", PASSWORD)])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = b
        .post_raw(
            "/login",
            &[
                ("csrf_token", "forged"),
                ("email", &email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(
        b.get("/").await.status,
        StatusCode::SEE_OTHER,
        "not signed in"
    );
}

#[tokio::test]
async fn state_changing_forms_need_the_csrf_token() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let b = app.signed_in(&email).await;
    let p = b
        .post_raw(
            "/admin/pocs",
            &[("name", "Asha"), ("email", "asha@example.com")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("Form expired"));
    let p = b
        .post_raw(
            "/admin/pocs",
            &[
                ("csrf_token", "not-the-token"),
                ("name", "Asha"),
                ("email", "asha@example.com"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // The htmx header is accepted in place of the field.
    let r = b
        .client
        .post(format!("{}/admin/pocs", b.base))
        .header("X-CSRF-Token", &b.csrf)
        .form(&[("name", "Ravi"), ("email", "ravi@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let list = b.get("/admin/pocs").await.body;
    assert!(
        !list.contains("asha@example.com"),
        "refused posts changed nothing"
    );
    assert!(list.contains("ravi@example.com"));
    // Uploads too.
    let mut form = reqwest::multipart::Form::new().text("kind", "brands");
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(b"code,name\nNIKE,Nike\n".to_vec()).file_name("b.csv"),
    );
    let r = b
        .client
        .post(format!("{}/admin/catalog/upload", b.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Sign-out too.
    assert_eq!(
        b.post_raw("/logout", &[]).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let b = app.signed_in(&email).await;
    assert_eq!(b.get("/").await.status, StatusCode::OK);
    let p = b.post("/logout", &[]).await;
    assert_eq!(p.location.as_deref(), Some("/login"));
    assert_eq!(b.get("/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sessions_survive_a_restart_and_work_on_another_instance() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let mut b = app.signed_in(&email).await;
    let second = spawn_app_on(app.db.clone()).await;
    b.base = second.address.clone();
    let p = b.get("/").await;
    assert_eq!(
        p.status,
        StatusCode::OK,
        "the session key is shared through the database"
    );
    assert!(p.body.contains("Acme"));
}

#[tokio::test]
async fn a_deactivated_user_is_signed_out_at_once() {
    let app = spawn_app().await;
    let admin = app.create_org_admin("Acme").await;
    let csm = app.create_user("Acme", Role::Csm).await;
    let csm_browser = app.signed_in(&csm).await;
    assert_eq!(csm_browser.get("/").await.status, StatusCode::OK);
    let a = app.signed_in(&admin).await;
    let users = app
        .store
        .list_users(
            app.store
                .find_org_by_name("Acme")
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await
        .unwrap();
    let id = users.iter().find(|u| u.email == csm).unwrap().id;
    let p = a
        .post(&format!("/admin/users/{id}"), &[("action", "deactivate")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(csm_browser.get("/").await.status, StatusCode::SEE_OTHER);
    let mut again = app.browser();
    assert_eq!(
        again.login(&csm, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = spawn_app().await;
    let r = reqwest::get(format!("{}/login", app.address))
        .await
        .unwrap();
    let csp = r
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("form-action 'self'"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(
        r.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("HttpOnly"));
}

#[tokio::test]
async fn people_change_their_own_password() {
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let b = app.signed_in(&email).await;
    let elsewhere = app.signed_in(&email).await;
    let p = b
        .post(
            "/account/password",
            &[("current", "wrong"), ("new", "short"), ("confirm", "other")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("Current password is not your current password")
    );
    assert!(
        p.body
            .contains("New password must be at least 10 characters")
    );
    assert!(
        p.body
            .contains("Repeated password does not match the new password")
    );
    let p = b
        .post(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("new", "a new long secret"),
                ("confirm", "a new long secret"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(
        b.get("/account").await.status,
        StatusCode::OK,
        "the session that changed it stays signed in"
    );
    assert_eq!(
        elsewhere.get("/account").await.status,
        StatusCode::SEE_OTHER,
        "other sessions of the account end"
    );
    let mut fresh = app.browser();
    assert_eq!(
        fresh.login(&email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        fresh.login(&email, "a new long secret").await.status(),
        StatusCode::SEE_OTHER
    );
}
