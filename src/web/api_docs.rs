//! The integration API explained for people (API-6's human-readable page): how to
//! authenticate, the error shape, a walk-through, and every endpoint as the generated OpenAPI
//! description lists it.

use super::auth::CurrentUser;
use super::chrome::Chrome;
use super::error::render;
use super::{AppState, WebError};
use crate::domain::user::Permission;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use utoipa::OpenApi;

/// One endpoint of the API.
pub struct Endpoint {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub statuses: String,
}

#[derive(Template)]
#[template(path = "pages/api_docs.html")]
struct ApiDocsPage {
    chrome: Chrome,
    base: String,
    endpoints: Vec<Endpoint>,
}

/// The endpoints in the order the description lists them.
fn endpoints() -> Vec<Endpoint> {
    let doc = crate::api::openapi::ApiDoc::openapi();
    let mut out = Vec::new();
    for (path, item) in doc.paths.paths {
        let ops = [
            ("GET", item.get),
            ("POST", item.post),
            ("PUT", item.put),
            ("DELETE", item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let summary = op
                .summary
                .clone()
                .or(op.description.clone())
                .unwrap_or_default();
            let statuses = op
                .responses
                .responses
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            out.push(Endpoint {
                method: method.to_string(),
                path: path.clone(),
                summary,
                statuses,
            });
        }
    }
    out
}

/// `GET /api-docs`: every signed-in user may read how integrations talk to the system.
pub async fn show(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    render(
        StatusCode::OK,
        &ApiDocsPage {
            chrome: Chrome::new(&user, &session, "api-docs"),
            base: state.settings.base_url.trim_end_matches('/').to_string(),
            endpoints: endpoints(),
        },
    )
}
