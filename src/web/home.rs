//! The home page and the health check.

use super::auth::CurrentUser;
use super::chrome::Chrome;
use super::error::render;
use super::{AppState, WebError};
use crate::domain::user::Permission;
use crate::store::masters::Overview;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

/// `GET /healthz`: 200 when the database answers, 503 otherwise (OPS-3).
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({
            "status": "ok",
            "database": state.store.backend_name(),
            // Instances alive on this database, which share each API key's rate.
            "instances": state.api.instances(),
        })),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "unavailable", "database": state.store.backend_name()}))
        }
    }
}

#[derive(Template)]
#[template(path = "pages/home.html")]
struct HomePage {
    chrome: Chrome,
    overview: Overview,
    currency: String,
    time_zone: String,
}

pub async fn home(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let overview = state.store.overview(user.org_id).await?;
    render(
        StatusCode::OK,
        &HomePage {
            chrome: Chrome::new(&user, &session, "home"),
            overview,
            currency: user.currency.clone(),
            time_zone: user.time_zone.name().to_string(),
        },
    )
}
