//! Errors of console handlers and how a person sees them.

use crate::store::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, http::header};
use askama::Template;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// Not signed in: browsers are sent to the login page and come back to `next`.
    #[error("login required")]
    LoginRequired { next: String },
    #[error("the form was stale or did not come from this site")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => WebError::NotFound,
            other => WebError::Internal(other.into()),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(e.into())
    }
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::LoginRequired { next } = self {
            let location = format!("/login?next={}", urlencode(next));
            // htmx follows HX-Redirect with a full page load instead of swapping a login form.
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location.clone()))
                .insert_header(("HX-Redirect", location))
                .finish();
        }
        let (title, message) = match self {
            WebError::NotFound => ("Not found", "There is nothing here, or it belongs to another organisation.".to_string()),
            WebError::Forbidden => ("Not allowed", "Your role does not allow this. Ask an admin if you need it.".to_string()),
            WebError::Csrf => (
                "Form expired",
                "This form was stale or did not come from this site. Go back, reload the page and try again.".to_string(),
            ),
            WebError::BadRequest(m) => ("Bad request", m.clone()),
            WebError::Internal(e) => {
                tracing::error!(error = ?e, "request failed");
                ("Something went wrong", "The request failed on our side; it has been logged. Try again in a moment.".to_string())
            }
            WebError::LoginRequired { .. } => unreachable!("handled above"),
        };
        let status = self.status_code();
        let body = ErrorPage {
            status: status.as_u16(),
            title,
            message: &message,
        }
        .render()
        .unwrap_or_else(|_| title.to_string());
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}

/// Percent-encodes a string for a query parameter.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Renders `tpl` with `status` (422 for a form with errors, 200 otherwise).
pub fn render(status: StatusCode, tpl: &impl Template) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(tpl.render()?))
}

/// A `303 See Other` to `to` (the answer to a successful form post).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}
