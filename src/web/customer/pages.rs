//! What every customer page shares: the brand (name, logo, accent colour through a small
//! stylesheet, since the content security policy allows no inline styles), plain notices, and
//! rendering.

use crate::domain::ids::OrgId;
use crate::state::AppState;
use crate::web::WebError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

/// The brand as a page shows it.
#[derive(Debug, Clone)]
pub struct BrandView {
    pub org_id: i64,
    pub name: String,
    pub logo_url: Option<String>,
}

impl BrandView {
    pub async fn of(state: &AppState, org_id: OrgId) -> Result<BrandView, WebError> {
        let brand = state.store.org_brand(org_id).await?;
        Ok(BrandView {
            org_id: org_id.get(),
            name: brand.name,
            logo_url: brand.logo_url,
        })
    }
}

/// A page that only says something (a link that is no longer valid, a refusal).
#[derive(Template)]
#[template(path = "customer/notice.html")]
pub struct Notice {
    pub brand: Option<BrandView>,
    pub title: String,
    pub message: String,
    pub link: Option<(String, String)>,
}

/// Renders a customer page.
pub fn page(status: StatusCode, tpl: &impl Template) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(tpl.render()?))
}

/// A notice page.
pub fn notice(
    status: StatusCode,
    brand: Option<BrandView>,
    title: &str,
    message: &str,
) -> Result<HttpResponse, WebError> {
    page(
        status,
        &Notice {
            brand,
            title: title.into(),
            message: message.into(),
            link: None,
        },
    )
}

/// `GET /brand/{org}.css`: the org's accent colour for its customers' pages.
pub async fn brand_css(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id: i64 = path.into_inner().parse().map_err(|_| WebError::NotFound)?;
    let brand = state.store.org_brand(OrgId(id)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=60"))
        .body(format!(":root {{ --accent: {}; }}\n", brand.accent)))
}

/// A refusal's words as a sentence: a capital first letter and a full stop.
pub fn sentence(words: &str) -> String {
    let mut chars = words.trim().chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut s = format!("{}{}", first.to_uppercase(), chars.as_str());
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}

/// Masks a mobile or email for people other than its owner: `+91•••••3210`, `a•••@example.com`.
pub fn masked(identifier: &str) -> String {
    if let Some((name, domain)) = identifier.split_once('@') {
        let first: String = name.chars().take(1).collect();
        return format!("{first}•••@{domain}");
    }
    let chars: Vec<char> = identifier.chars().collect();
    if chars.len() <= 6 {
        return "•••".into();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}•••••{tail}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn refusals_read_as_sentences() {
        assert_eq!(super::sentence("the offer ended"), "The offer ended.");
        assert_eq!(super::sentence("done."), "Done.");
        assert_eq!(super::sentence(""), "");
    }

    #[test]
    fn identifiers_are_masked() {
        assert_eq!(super::masked("+919876543210"), "+91•••••3210");
        assert_eq!(super::masked("asha@example.com"), "a•••@example.com");
        assert_eq!(super::masked("12345"), "•••");
    }
}
