//! `spawn_app()`: the real app on port 0 with a fresh database (SQLite file, or a fresh
//! PostgreSQL database when `TEST_POSTGRES_URL` is set, dropped afterwards), plus a cookie-
//! keeping client that knows the session's CSRF token.

use offerdesk::config::Settings;
use offerdesk::domain::ids::OrgId;
use offerdesk::domain::org::{Currency, OrgSettings};
use offerdesk::domain::user::{Actor, Email, Role};
use offerdesk::startup::Application;
use offerdesk::store::Store;
use offerdesk::store::orgs::NewUser;
use rand::RngExt;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use sqlx::Connection;

pub const PASSWORD: &str = "correct horse battery";

/// A fresh database for one test; a PostgreSQL one is dropped when this is dropped.
pub enum TestDb {
    /// The directory is kept (and removed) with the value.
    Sqlite(#[allow(dead_code)] tempfile::TempDir, String),
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    pub async fn new() -> TestDb {
        match std::env::var("TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let suffix: u64 = rand::rng().random();
                let name = format!("offerdesk_test_{suffix:016x}");
                let mut conn = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("connect TEST_POSTGRES_URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .expect("TEST_POSTGRES_URL has a database");
                let url = format!("{base}/{name}");
                TestDb::Postgres {
                    admin_url,
                    name,
                    url,
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite:{}", dir.path().join("test.db").display());
                TestDb::Sqlite(dir, url)
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite(_, url) => url,
            TestDb::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
        {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async; use a short-lived runtime on its own thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        )))
                        .execute(&mut conn)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub store: Store,
    pub db: std::sync::Arc<TestDb>,
}

pub fn test_settings(db_url: &str) -> Settings {
    let mut s = Settings::from_lookup(|_| None).unwrap();
    s.database_url = db_url.to_string();
    s.bind = "127.0.0.1:0".into();
    s.scheduler = false;
    s
}

/// Starts the app on a random port with a fresh database.
pub async fn spawn_app() -> TestApp {
    let db = std::sync::Arc::new(TestDb::new().await);
    spawn_app_on(db).await
}

/// Starts the app on a fresh database with settings changed by `edit`.
pub async fn spawn_app_with(edit: impl FnOnce(&mut Settings)) -> TestApp {
    let db = std::sync::Arc::new(TestDb::new().await);
    let mut settings = test_settings(db.url());
    edit(&mut settings);
    let app = Application::build(settings).await.expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.store().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp { address, store, db }
}

/// Starts the app on a fresh database without the background job worker: jobs queued over
/// HTTP wait until the test runs them with [`TestApp::run_queued_jobs`], on its own task.
pub async fn spawn_app_without_worker() -> TestApp {
    spawn_app_with(|s| s.worker = false).await
}

/// Starts another app instance on the same database (restart / second instance).
pub async fn spawn_app_on(db: std::sync::Arc<TestDb>) -> TestApp {
    let app = Application::build(test_settings(db.url()))
        .await
        .expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.store().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp { address, store, db }
}

impl TestApp {
    /// Creates an org (if missing) with an admin; returns the admin's email.
    pub async fn create_org_admin(&self, org: &str) -> String {
        let email = format!("admin@{}.example.com", org.to_lowercase().replace(' ', "-"));
        let settings = OrgSettings {
            name: org.into(),
            currency: Currency::parse("c", "INR").unwrap(),
            time_zone: chrono_tz::Asia::Kolkata,
        };
        offerdesk::cli::create_admin(&self.store, &settings, &email, PASSWORD)
            .await
            .unwrap();
        email
    }

    /// Adds a user with `role` to `org`; returns the email.
    pub async fn create_user(&self, org: &str, role: Role) -> String {
        let org_row = self
            .store
            .find_org_by_name(org)
            .await
            .unwrap()
            .expect("org exists");
        let email = format!(
            "{}@{}.example.com",
            role.as_str(),
            org.to_lowercase().replace(' ', "-")
        );
        let hash = offerdesk::passwords::hash(PASSWORD.into()).await.unwrap();
        let user = NewUser {
            email: Email::parse("e", &email).unwrap(),
            name: format!("{} user", role.label()),
            password_hash: hash,
            role,
        };
        self.store
            .create_user(org_row.id, &user, &Actor::system("test"))
            .await
            .unwrap();
        email
    }

    pub fn browser(&self) -> Browser {
        Browser {
            base: self.address.clone(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
            csrf: String::new(),
        }
    }

    /// A browser signed in as `email`.
    pub async fn signed_in(&self, email: &str) -> Browser {
        let mut b = self.browser();
        let resp = b.login(email, PASSWORD).await;
        assert_eq!(
            resp.status(),
            StatusCode::SEE_OTHER,
            "login of {email} failed"
        );
        b.refresh_csrf().await;
        b
    }
}

/// A cookie-keeping HTTP client, like a person's browser without JavaScript.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    pub csrf: String,
}

/// The value of the first `name="csrf_token" value="…"` in a page.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .map(|i| i + marker.len())
        .expect("page has a csrf token");
    html[start..].split('"').next().unwrap().to_string()
}

pub struct Page {
    pub status: StatusCode,
    pub body: String,
    pub location: Option<String>,
}

impl Browser {
    pub async fn get(&self, path: &str) -> Page {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        page(r).await
    }

    pub async fn get_htmx(&self, path: &str) -> Page {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap();
        page(r).await
    }

    pub async fn login(&mut self, email: &str, password: &str) -> reqwest::Response {
        let login = self.get("/login").await;
        self.csrf = csrf_in(&login.body);
        self.client
            .post(format!("{}/login", self.base))
            .form(&[
                ("csrf_token", self.csrf.as_str()),
                ("email", email),
                ("password", password),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Reads the CSRF token of the current session from a page.
    pub async fn refresh_csrf(&mut self) {
        let p = self.get("/account").await;
        self.csrf = csrf_in(&p.body);
    }

    /// Posts a form with the session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly `fields` (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap();
        page(r).await
    }

    /// Uploads a CSV file with the session's CSRF token and extra fields.
    pub async fn upload(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        csv: &str,
    ) -> Page {
        let mut form = reqwest::multipart::Form::new().text("csrf_token", self.csrf.clone());
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let part = reqwest::multipart::Part::bytes(csv.as_bytes().to_vec())
            .file_name(file_name.to_string())
            .mime_str("text/csv")
            .unwrap();
        form = form.part("file", part);
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap();
        page(r).await
    }
}

async fn page(r: reqwest::Response) -> Page {
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    let body = r.text().await.unwrap();
    Page {
        status,
        body,
        location,
    }
}

impl TestApp {
    /// Runs every queued job to its end, one after another, as the worker would; how many
    /// ran. Only for an app from [`spawn_app_without_worker`]: a worker could still be
    /// running a job it claimed when this returns.
    pub async fn run_queued_jobs(&self) -> usize {
        offerdesk::app::jobs::Jobs::new(self.store.clone())
            .run_until_idle(chrono::Utc::now())
            .await
            .expect("run the queued jobs")
    }

    pub async fn org_id(&self, org: &str) -> OrgId {
        self.store
            .find_org_by_name(org)
            .await
            .unwrap()
            .expect("org exists")
            .id
    }

    /// Adds a zone, concept, category or brand straight through the store; returns its id.
    pub async fn add_coded(
        &self,
        org: &str,
        kind: offerdesk::store::masters::CodedKind,
        code: &str,
        name: &str,
    ) -> i64 {
        let new = offerdesk::domain::masters::NewCodedName::parse(code, name).unwrap();
        self.store
            .create_coded(self.org_id(org).await, kind, &new, &Actor::system("test"))
            .await
            .unwrap()
    }

    /// Adds a store named "Store CODE" in `zone_id`; returns its id.
    pub async fn add_store(&self, org: &str, code: &str, zone_id: i64) -> i64 {
        let org_id = self.org_id(org).await;
        let row = offerdesk::domain::masters::StoreRow {
            code: offerdesk::domain::masters::MasterCode::parse("code", code).unwrap(),
            name: format!("Store {code}"),
            zone_id,
            concept_id: None,
        };
        self.store
            .create_store(org_id, &row, &Actor::system("test"))
            .await
            .unwrap();
        self.store.store_ids(org_id).await.unwrap()[&code.to_uppercase()]
    }
}
