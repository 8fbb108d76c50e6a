//! API keys (ORG-7): created by admins and shown once, stored hashed, revocable, per-org;
//! the console page, the store's authentication and the `create-api-key` command.

use crate::helpers::{Browser, TestApp, spawn_app};
use offerdesk::domain::ids::OrgId;
use offerdesk::domain::masters::NewConsumer;
use offerdesk::domain::user::{Actor, Role};
use offerdesk::store::api_keys::hash_api_key;
use reqwest::StatusCode;
use sqlx::Connection;

async fn admin_of(app: &TestApp, org: &str) -> Browser {
    let email = app.create_org_admin(org).await;
    app.signed_in(&email).await
}

/// Adds a loyalty program to `org`; returns its id.
async fn add_consumer(app: &TestApp, org: &str, name: &str) -> i64 {
    let c = NewConsumer::parse(name, "loyalty", "", "").unwrap();
    app.store
        .create_consumer(app.org_id(org).await, &c, &Actor::system("test"))
        .await
        .unwrap()
}

/// The key in the page's one-time box, if the page shows one.
fn shown_key(body: &str) -> Option<String> {
    let marker = "<code class=\"secret\">";
    let start = body.find(marker)? + marker.len();
    Some(body[start..].split('<').next()?.to_string())
}

async fn audit_count(app: &TestApp, org_id: OrgId) -> i64 {
    app.store.list_audit(org_id, None, 1, 0).await.unwrap().1
}

/// Every value of a one-column text query, read straight from the database.
async fn texts(app: &TestApp, sql: &'static str) -> Vec<String> {
    let url = app.db.url();
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
    }
}

#[tokio::test]
async fn an_admin_creates_a_key_and_sees_it_once() {
    let app = spawn_app().await;
    let b = admin_of(&app, "Acme").await;
    let org_id = app.org_id("Acme").await;
    let club = add_consumer(&app, "Acme", "Club").await;

    let form = b.get("/admin/api-keys").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("No API keys yet"));
    assert!(form.body.contains("name=\"rate_limit\" value=\"1000\""));
    assert!(form.body.contains("— none —") && form.body.contains(">Club</option>"));
    assert!(shown_key(&form.body).is_none());

    let resp = b
        .client
        .post(format!("{}/admin/api-keys", b.base))
        .form(&[
            ("csrf_token", b.csrf.as_str()),
            ("name", "Checkout"),
            ("consumer_id", &club.to_string()),
            ("rate_limit", "50"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body = resp.text().await.unwrap();
    assert!(body.contains("Copy this key now: it will not be shown again"));
    let key = shown_key(&body).expect("the key is shown");
    assert_eq!(key.len(), 47, "{key}");
    assert!(key.starts_with("odk_"));

    // Afterwards only the prefix is shown.
    let list = b.get("/admin/api-keys").await.body;
    assert!(!list.contains(&key));
    assert!(shown_key(&list).is_none());
    assert!(list.contains(&format!("{}…", &key[..12])));
    assert!(list.contains("Checkout") && list.contains("50 /s") && list.contains("Active"));
    assert!(list.contains("never"));

    // The database holds the hash, never the key.
    let auth = app
        .store
        .authenticate_api_key(&key)
        .await
        .unwrap()
        .expect("the key authenticates");
    assert_eq!(auth.org_id, org_id);
    assert_eq!(auth.consumer_id, Some(club));
    assert_eq!(auth.rate_limit, 50);
    assert_eq!(auth.name, "Checkout");
    let stored = texts(
        &app,
        "SELECT name || '|' || key_prefix || '|' || key_hash FROM api_keys",
    )
    .await;
    assert_eq!(
        stored,
        vec![format!("Checkout|{}|{}", &key[..12], hash_api_key(&key))]
    );
    let audit = texts(
        &app,
        "SELECT action || ' ' || summary || ' ' || COALESCE(details, '') FROM audit_log",
    )
    .await;
    assert!(audit.iter().any(|a| a.starts_with("api_key.created")));
    assert!(audit.iter().all(|a| !a.contains(&key)), "{audit:?}");

    // A near miss does not authenticate.
    let mut wrong = key.clone();
    wrong.pop();
    wrong.push(if key.ends_with('A') { 'B' } else { 'A' });
    assert!(
        app.store
            .authenticate_api_key(&wrong)
            .await
            .unwrap()
            .is_none()
    );
    assert!(app.store.authenticate_api_key("").await.unwrap().is_none());

    // Without a consumer and with the default limit.
    let p = b
        .post(
            "/admin/api-keys",
            &[
                ("name", "Reports"),
                ("consumer_id", ""),
                ("rate_limit", "200"),
            ],
        )
        .await;
    let key2 = shown_key(&p.body).unwrap();
    assert_ne!(key, key2);
    let auth2 = app
        .store
        .authenticate_api_key(&key2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(auth2.consumer_id, None);
    assert_eq!(auth2.rate_limit, 200, "the rate typed in the form");
    assert_eq!(app.store.list_api_keys(org_id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn bad_input_re_renders_with_errors_and_creates_nothing() {
    let app = spawn_app().await;
    let b = admin_of(&app, "Acme").await;
    app.create_org_admin("Other").await;
    let org_id = app.org_id("Acme").await;
    let theirs = add_consumer(&app, "Other", "Their club").await;
    let long = "x".repeat(101);
    let theirs = theirs.to_string();
    let cases: Vec<([(&str, &str); 3], &str)> = vec![
        (
            [("name", "  "), ("consumer_id", ""), ("rate_limit", "200")],
            "Name is required",
        ),
        (
            [("name", &long), ("consumer_id", ""), ("rate_limit", "200")],
            "Name must be at most 100 characters",
        ),
        (
            [
                ("name", "Till"),
                ("consumer_id", ""),
                ("rate_limit", "fast"),
            ],
            "Rate limit must be a whole number from 1 to 100000",
        ),
        (
            [("name", "Till"), ("consumer_id", ""), ("rate_limit", "0")],
            "Rate limit must be a whole number",
        ),
        (
            [
                ("name", "Till"),
                ("consumer_id", ""),
                ("rate_limit", "100001"),
            ],
            "Rate limit must be a whole number",
        ),
        (
            [("name", "Till"), ("consumer_id", ""), ("rate_limit", "1.5")],
            "Rate limit must be a whole number",
        ),
        (
            [
                ("name", "Till"),
                ("consumer_id", "999999"),
                ("rate_limit", "7"),
            ],
            "Consumer must be one of this organisation",
        ),
        (
            [
                ("name", "Till"),
                ("consumer_id", &theirs),
                ("rate_limit", "7"),
            ],
            "Consumer must be one of this organisation",
        ),
        (
            [
                ("name", "Till"),
                ("consumer_id", "abc"),
                ("rate_limit", "7"),
            ],
            "Consumer must be one of this organisation",
        ),
    ];
    for (fields, message) in cases {
        let p = b.post("/admin/api-keys", &fields).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(p.body.contains(message), "{fields:?}: {}", p.body);
        assert!(shown_key(&p.body).is_none());
        // The values typed are kept.
        let name = fields[0].1;
        if !name.trim().is_empty() {
            assert!(p.body.contains(&format!("value=\"{name}\"")), "{fields:?}");
        }
        assert!(
            p.body
                .contains(&format!("name=\"rate_limit\" value=\"{}\"", fields[2].1)),
            "{fields:?}"
        );
    }
    assert!(app.store.list_api_keys(org_id).await.unwrap().is_empty());
    let other = app.org_id("Other").await;
    assert!(app.store.list_api_keys(other).await.unwrap().is_empty());
    assert!(
        texts(
            &app,
            "SELECT action FROM audit_log WHERE action LIKE 'api_key.%'"
        )
        .await
        .is_empty()
    );
}

#[tokio::test]
async fn revoking_a_key_stops_it_authenticating() {
    let app = spawn_app().await;
    let b = admin_of(&app, "Acme").await;
    let org_id = app.org_id("Acme").await;
    let key = shown_key(
        &b.post(
            "/admin/api-keys",
            &[
                ("name", "Till app"),
                ("consumer_id", ""),
                ("rate_limit", "200"),
            ],
        )
        .await
        .body,
    )
    .unwrap();
    let id = app.store.list_api_keys(org_id).await.unwrap()[0].id;
    let path = format!("/admin/api-keys/{id}/revoke");

    // Without the confirm box ticked nothing happens.
    let p = b.post(&path, &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(
        app.store
            .authenticate_api_key(&key)
            .await
            .unwrap()
            .is_some()
    );
    assert!(b.get("/admin/api-keys").await.body.contains("Not revoked"));

    let p = b.post(&path, &[("confirm", "yes")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location.as_deref(), Some("/admin/api-keys"));
    assert!(
        app.store
            .authenticate_api_key(&key)
            .await
            .unwrap()
            .is_none()
    );
    let list = b.get("/admin/api-keys").await.body;
    assert!(list.contains("Revoked the API key"));
    assert!(list.contains("Revoked on "));
    assert!(!list.contains(&format!("action=\"{path}\"")));
    let row = &app.store.list_api_keys(org_id).await.unwrap()[0];
    assert!(row.revoked_at.is_some());

    // Revoking again changes nothing and is not audited twice.
    let before = audit_count(&app, org_id).await;
    assert_eq!(
        b.post(&path, &[("confirm", "yes")]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(audit_count(&app, org_id).await, before);
    let revoked = texts(
        &app,
        "SELECT summary FROM audit_log WHERE action = 'api_key.revoked'",
    )
    .await;
    assert_eq!(revoked.len(), 1);
    assert!(revoked[0].contains("Till app") && !revoked[0].contains(&key));
}

#[tokio::test]
async fn only_admins_see_create_and_revoke_keys() {
    let app = spawn_app().await;
    let admin = admin_of(&app, "Acme").await;
    let org_id = app.org_id("Acme").await;
    let key = shown_key(
        &admin
            .post(
                "/admin/api-keys",
                &[
                    ("name", "Till app"),
                    ("consumer_id", ""),
                    ("rate_limit", "200"),
                ],
            )
            .await
            .body,
    )
    .unwrap();
    let id = app.store.list_api_keys(org_id).await.unwrap()[0].id;
    assert!(
        admin
            .get("/")
            .await
            .body
            .contains("href=\"/admin/api-keys\"")
    );
    for role in [Role::Marketing, Role::Csm, Role::Viewer] {
        let email = app.create_user("Acme", role).await;
        let b = app.signed_in(&email).await;
        let before = audit_count(&app, org_id).await;
        let r = role.as_str();
        assert_eq!(
            b.get("/admin/api-keys").await.status,
            StatusCode::FORBIDDEN,
            "{r}"
        );
        let p = b
            .post(
                "/admin/api-keys",
                &[
                    ("name", "Sneaky"),
                    ("consumer_id", ""),
                    ("rate_limit", "200"),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{r}");
        assert!(shown_key(&p.body).is_none());
        let p = b
            .post(
                &format!("/admin/api-keys/{id}/revoke"),
                &[("confirm", "yes")],
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{r}");
        assert_eq!(audit_count(&app, org_id).await, before, "{r}");
        assert_eq!(app.store.list_api_keys(org_id).await.unwrap().len(), 1);
        assert!(
            app.store
                .authenticate_api_key(&key)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            !b.get("/").await.body.contains("href=\"/admin/api-keys\""),
            "{r} sees the nav link"
        );
    }
}

#[tokio::test]
async fn another_orgs_admin_cannot_see_or_revoke_a_key() {
    let app = spawn_app().await;
    let a = admin_of(&app, "Acme").await;
    let b = admin_of(&app, "Other").await;
    let acme = app.org_id("Acme").await;
    let key = shown_key(
        &a.post(
            "/admin/api-keys",
            &[
                ("name", "Acme till"),
                ("consumer_id", ""),
                ("rate_limit", "200"),
            ],
        )
        .await
        .body,
    )
    .unwrap();
    let id = app.store.list_api_keys(acme).await.unwrap()[0].id;
    assert!(!b.get("/admin/api-keys").await.body.contains("Acme till"));
    let before = audit_count(&app, acme).await;
    let p = b
        .post(
            &format!("/admin/api-keys/{id}/revoke"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    let auth = app.store.authenticate_api_key(&key).await.unwrap().unwrap();
    assert_eq!(auth.org_id, acme);
    assert_eq!(audit_count(&app, acme).await, before);
    assert!(
        app.store
            .revoke_api_key(app.org_id("Other").await, id, &Actor::system("test"))
            .await
            .is_err()
    );
    assert!(
        app.store
            .authenticate_api_key(&key)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn the_cli_function_creates_keys_for_existing_orgs_only() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let club = add_consumer(&app, "Acme", "Club").await;
    let key = offerdesk::cli::create_api_key(&app.store, "Acme", "Till", Some("Club"), 20)
        .await
        .unwrap();
    let auth = app.store.authenticate_api_key(&key).await.unwrap().unwrap();
    assert_eq!(auth.org_id, app.org_id("Acme").await);
    assert_eq!((auth.consumer_id, auth.rate_limit), (Some(club), 20));

    let e = offerdesk::cli::create_api_key(&app.store, "Nope", "Till", None, 20)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no org named \"Nope\""), "{e}");
    let e = offerdesk::cli::create_api_key(&app.store, "Acme", "Till", Some("Nope"), 20)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("no campaign or program named"),
        "{e}"
    );
    let e = offerdesk::cli::create_api_key(&app.store, "Acme", "Till", None, 0)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("whole number"), "{e}");
    let e = offerdesk::cli::create_api_key(&app.store, "Acme", " ", None, 20)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("is required"), "{e}");
    assert_eq!(
        app.store
            .list_api_keys(app.org_id("Acme").await)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_cli_prints_the_key_alone_on_stdout() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_offerdesk"))
            .args(args)
            .env("DATABASE_URL", app.db.url())
            .env_remove("RUST_LOG")
            .env_remove("OFFERDESK_CONFIG")
            .output()
            .unwrap()
    };
    let out = run(&[
        "create-api-key",
        "--org",
        "Acme",
        "--name",
        "Shell",
        "--rate-limit",
        "15",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout:?}");
    assert!(lines[0].starts_with("odk_"), "{stdout:?}");
    let auth = app
        .store
        .authenticate_api_key(lines[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((auth.name.as_str(), auth.rate_limit), ("Shell", 15));

    let out = run(&["create-api-key", "--org", "Nope", "--name", "Shell"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no org named"));
}
