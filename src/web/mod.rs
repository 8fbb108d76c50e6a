//! The browser console: handlers by area, the session/CSRF extractors, the page chrome.

pub mod admin;
pub mod api_docs;
pub mod assets;
pub mod auth;
pub mod chrome;
pub mod csrf;
pub mod customer;
pub mod error;
pub mod extract;
pub mod home;
pub mod offers;
pub mod promotions;
pub mod qr;

use actix_web::web;

pub use chrome::Chrome;
pub use error::WebError;

pub use crate::state::AppState;

/// Registers every console route. Each handler takes a `CurrentUser` (or is the login page)
/// and names the permission it needs.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(home::healthz))
        .route("/login", web::get().to(auth::login_page))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/", web::get().to(home::home))
        .route("/account", web::get().to(auth::account_page))
        .route("/api-docs", web::get().to(api_docs::show))
        .route("/account/password", web::post().to(auth::change_password))
        .route(
            "/account/sessions/sign-out-others",
            web::post().to(auth::sign_out_others),
        );
    admin::configure(cfg);
    offers::configure(cfg);
    promotions::configure(cfg);
}

/// Whether the request came from htmx (then a partial is answered).
pub fn is_htmx(req: &actix_web::HttpRequest) -> bool {
    req.headers().contains_key("HX-Request")
}
