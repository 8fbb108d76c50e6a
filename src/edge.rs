//! Checks made at the edge of both the console and the API, before any handler: control characters in the query string are
//! refused (400 naming the parameter; in the API's JSON under `/api/`), and a state-changing
//! console request from another site's page is refused by its `Origin` (a second line behind
//! the CSRF token).

use crate::api::ApiError;
use crate::web::WebError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

use crate::domain::control_in_urlencoded;

fn is_api(req: &ServiceRequest) -> bool {
    req.path().starts_with("/api/")
}

/// The query-string and origin checks.
pub async fn edge(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    if let Some(field) = control_in_urlencoded(req.query_string().as_bytes()) {
        let message = format!("the parameter `{field}` contains a control character");
        let response = if is_api(&req) {
            ApiError::field(&field, message).error_response()
        } else {
            WebError::BadRequest(message).error_response()
        };
        return Ok(req.into_response(response));
    }
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state && !is_api(&req) && !same_origin(&req) {
        tracing::warn!(path = req.path(), "cross-origin form post refused");
        // The same answer as a missing CSRF token: the form did not come from this site.
        let response = WebError::Csrf.error_response();
        return Ok(req.into_response(response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The authority (`host[:port]`) of an absolute URL, without the scheme's default port (a
/// browser's `Origin` never carries `:443` or `:80`).
fn authority(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    Some(match scheme {
        "https" => host.strip_suffix(":443").unwrap_or(host),
        "http" => host.strip_suffix(":80").unwrap_or(host),
        _ => host,
    })
}

/// Whether the page that sent the request is ours: its `Origin` (or, without one, its
/// `Referer`) names this host or the configured base URL's. A request with neither (a script,
/// an old browser) is left to the CSRF token.
fn same_origin(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    let sent = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(sent) = sent else {
        return true;
    };
    let Some(from) = authority(sent) else {
        // "null" (a sandboxed frame, a file) or garbage: not our page.
        return false;
    };
    let host = req.connection_info().host().to_string();
    let base = req
        .app_data::<web::Data<crate::state::AppState>>()
        .and_then(|s| authority(&s.settings.base_url).map(str::to_string));
    from.eq_ignore_ascii_case(&host) || base.is_some_and(|b| from.eq_ignore_ascii_case(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_by_name() {
        assert_eq!(control_in_urlencoded(b"q=abc&x=1"), None);
        assert_eq!(
            control_in_urlencoded(b"q=abc&search=S%001"),
            Some("search".into())
        );
        assert_eq!(control_in_urlencoded(b"text=a%0D%0Ab%09c"), None);
        assert_eq!(control_in_urlencoded(b"a=%1B"), Some("a".into()));
    }

    #[test]
    fn the_authority_of_an_origin() {
        assert_eq!(authority("http://127.0.0.1:8080"), Some("127.0.0.1:8080"));
        assert_eq!(
            authority("https://evil.example/path?x"),
            Some("evil.example")
        );
        assert_eq!(authority("null"), None);
        assert_eq!(authority("https://x.example:443/"), Some("x.example"));
    }
}
