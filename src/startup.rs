//! Builds the HTTP server: session cookies, security headers, static files, routes.

use crate::config::Settings;
use crate::state::AppState;
use crate::store::Store;
use crate::web;
use actix_session::SessionMiddleware;
use actix_session::config::CookieContentSecurity;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::{App, HttpMessage, HttpServer, web as aweb};
use anyhow::Context;
use base64::Engine;
use rand::RngExt;
use std::net::TcpListener;

/// The content security policy: only our own scripts, styles and form targets; never framed.
/// Images may also come over https (a brand's logo on customers' pages).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

/// A running console + API server.
pub struct Application {
    port: u16,
    server: Server,
    store: Store,
    heartbeat: Heartbeat,
    background: Background,
}

/// The job worker and the scheduler this instance runs, stopped at shutdown.
struct Background {
    /// The database, for the releases at shutdown (on connections of their own).
    database_url: String,
    jobs: crate::app::jobs::Jobs,
    worker: Option<tokio::task::JoinHandle<()>>,
    scheduler: Option<(crate::scheduler::Scheduler, tokio::task::JoinHandle<()>)>,
}

impl Background {
    /// Stops the worker and the scheduler and gives back what they held: a job interrupted
    /// mid-run goes back to the queue (its transaction is rolled back) and messages claimed
    /// but not delivered lose their lease, so the next instance takes them at once.
    async fn stop(self, store: &Store) {
        if let Some(worker) = self.worker {
            worker.abort();
            let _ = worker.await;
        }
        // On connections of their own: a connection the aborted job was using may still be
        // inside its (rolled-back) transaction.
        let fresh = Store::connect(&self.database_url).await;
        let releaser = fresh.as_ref().unwrap_or(store);
        let released = releaser.release_jobs(self.jobs.owner()).await;
        match released {
            Ok(n) if n > 0 => tracing::info!(jobs = n, "interrupted jobs queued again"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not queue interrupted jobs again"),
        }
        if let Some((scheduler, task)) = self.scheduler {
            task.abort();
            let _ = task.await;
            let held = scheduler.in_flight();
            if let Err(e) = releaser.release_outbox(&held).await {
                tracing::warn!(error = %e, "could not give back claimed messages");
            }
        }
        if let Ok(fresh) = fresh {
            fresh.close().await;
        }
    }
}

/// This instance's heartbeat on the database (see `store::instances`).
struct Heartbeat {
    id: String,
    task: tokio::task::JoinHandle<()>,
}

/// Heartbeats every 2 s: the instance is counted alive, and the API shares each key's rate
/// among the instances seen. The first beat is written before the server starts.
/// A random id for this instance (its heartbeat row, the leases it takes).
fn instance_id() -> String {
    let bytes: [u8; 12] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn spawn_heartbeat(
    store: Store,
    api: crate::app::api_access::ApiState,
    id: String,
) -> Heartbeat {
    let beat = |store: Store, api: crate::app::api_access::ApiState, id: String| async move {
        match store.heartbeat(&id, chrono::Utc::now()).await {
            Ok(n) => api.set_instances(n),
            Err(e) => tracing::warn!(error = %e, "instance heartbeat failed"),
        }
    };
    beat(store.clone(), api.clone(), id.clone()).await;
    let task = {
        let id = id.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
            tick.tick().await;
            loop {
                tick.tick().await;
                beat(store.clone(), api.clone(), id.clone()).await;
            }
        })
    };
    Heartbeat { id, task }
}

/// The session signing/encryption key: from config, or generated once and kept in the
/// database so restarts and other instances accept existing sessions.
async fn session_key(settings: &Settings, store: &Store) -> anyhow::Result<Key> {
    let encoded = match &settings.session_key {
        Some(k) => k.clone(),
        None => {
            store
                .setting_or_insert("session_key", || {
                    let bytes: [u8; 64] = rand::rng().random();
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                })
                .await?
        }
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .context("OFFERDESK_SESSION_KEY must be base64")?;
    anyhow::ensure!(
        bytes.len() >= 64,
        "OFFERDESK_SESSION_KEY must decode to at least 64 bytes"
    );
    Ok(Key::from(&bytes))
}

impl Application {
    /// Opens (creating and migrating) the database and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let store = Store::open(&settings.database_url).await.with_context(|| {
            format!(
                "opening database {}",
                crate::store::redact_url(&settings.database_url)
            )
        })?;
        Application::build_with_store(settings, store).await
    }

    pub async fn build_with_store(settings: Settings, store: Store) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let key = session_key(&settings, &store).await?;
        let instance = instance_id();
        let jobs = crate::app::jobs::Jobs::new(store.clone()).owned_by(&instance);
        let worker = settings.worker.then(|| jobs.spawn());
        let outbox_wake = std::sync::Arc::new(tokio::sync::Notify::new());
        let scheduler = if settings.scheduler {
            let s = crate::scheduler::Scheduler::new(store.clone(), &settings)?;
            Some((s.clone(), s.spawn(outbox_wake.clone())))
        } else {
            None
        };
        let api = crate::app::api_access::ApiState::default();
        let heartbeat = spawn_heartbeat(store.clone(), api.clone(), instance).await;
        let state = aweb::Data::new(AppState {
            store: store.clone(),
            settings: settings.clone(),
            jobs: jobs.clone(),
            api,
            outbox_wake,
        });
        let secure = settings.cookie_secure;
        let server = HttpServer::new(move || {
            // Customers' pages: their own cookie, never the console's (see web::customer).
            let customers = |prefix: &'static str| {
                let session =
                    SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                        .cookie_name("offerdesk_wallet".into())
                        .cookie_secure(secure)
                        .cookie_http_only(true)
                        .cookie_same_site(SameSite::Lax)
                        .cookie_content_security(CookieContentSecurity::Private)
                        .build();
                aweb::scope(prefix)
                    .wrap(session)
                    .wrap(Compress::default())
                    .configure(move |cfg| web::customer::configure(prefix, cfg))
            };
            let session = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                .cookie_name("offerdesk_session".into())
                .cookie_secure(secure)
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_content_security(CookieContentSecurity::Private)
                .build();
            let headers = DefaultHeaders::new()
                .add(("Content-Security-Policy", CSP))
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("X-Frame-Options", "DENY"))
                .add(("Referrer-Policy", "same-origin"));
            App::new()
                .app_data(state.clone())
                .wrap(actix_web::middleware::from_fn(crate::edge::edge))
                .wrap(headers)
                .wrap(actix_web::middleware::from_fn(measure))
                // A span per request (method, route, status, request id) around everything.
                .wrap(tracing_actix_web::TracingLogger::default())
                .route("/metrics", aweb::get().to(metrics_page))
                // The API: keys, not sessions; small JSON answers, not compressed.
                .configure(crate::api::configure)
                .service(customers(web::customer::PREFIXES[0]))
                .service(customers(web::customer::PREFIXES[1]))
                .service(customers(web::customer::PREFIXES[2]))
                .service(customers(web::customer::PREFIXES[3]))
                .service(customers(web::customer::PREFIXES[4]))
                // The console: the session cookie and compression are only for it.
                .service(
                    aweb::scope("")
                        .wrap(session)
                        .wrap(Compress::default())
                        .route("/static/{file}", aweb::get().to(web::assets::serve))
                        .configure(web::configure),
                )
        })
        .listen(listener)?
        .shutdown_timeout(30)
        .run();
        Ok(Application {
            port,
            server,
            store,
            heartbeat,
            background: Background {
                database_url: settings.database_url.clone(),
                jobs,
                worker,
                scheduler,
            },
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until SIGINT/SIGTERM; in-flight requests finish before the pools close.
    /// A handle that stops the server gracefully, as SIGTERM does (tests).
    pub fn stop_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        // Before the pools close: the worker and the scheduler give back their leases.
        self.background.stop(&self.store).await;
        self.heartbeat.task.abort();
        if let Err(e) = self
            .store
            .leave(&self.heartbeat.id, chrono::Utc::now())
            .await
        {
            tracing::warn!(error = %e, "could not remove this instance's heartbeat");
        }
        self.store.close().await;
        result
    }
}

/// Records each request's latency by method, route pattern and status.
async fn measure(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = req.method().to_string();
    let mut res = next.call(req).await?;
    // The request id of the request's span, for a support ticket to quote.
    let id = res
        .request()
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string());
    if let Some(value) =
        id.and_then(|i: String| actix_web::http::header::HeaderValue::from_str(&i).ok())
    {
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            value,
        );
    }
    // The route's pattern (`/offers/{id}`), not the path: one series per route.
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let elapsed = started.elapsed();
    crate::metrics::metrics()
        .http
        .with_label_values(&[method.as_str(), route.as_str(), res.status().as_str()])
        .observe(elapsed.as_secs_f64());
    // One line per request, inside its span (so it carries the request id); health checks are
    // left out of the log.
    if route != "/healthz" {
        tracing::info!(
            status = res.status().as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "{method} {route}"
        );
    }
    Ok(res)
}

/// `GET /metrics`: Prometheus' text format; with `OFFERDESK_METRICS_TOKEN` set, only for a
/// request that brings it as a bearer token.
async fn metrics_page(
    req: actix_web::HttpRequest,
    state: aweb::Data<AppState>,
) -> actix_web::HttpResponse {
    if let Some(token) = &state.settings.metrics_token {
        let sent = req
            .headers()
            .get("Authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or("");
        use subtle::ConstantTimeEq;
        if !bool::from(sent.as_bytes().ct_eq(token.as_bytes())) {
            return actix_web::HttpResponse::Unauthorized()
                .content_type("text/plain; charset=utf-8")
                .body("send the metrics token as `Authorization: Bearer <token>`");
        }
    }
    actix_web::HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::metrics::metrics().render())
}
