//! The console's static files (CSS, htmx, scripts), embedded in the binary with `rust-embed`,
//! so the release binary copied alone to an empty directory serves a styled console. Each file
//! is also served under a content-hashed name (`app.3f9a1c2e.css`) with a year-long immutable
//! cache; pages link the hashed names (`url`), so a new build's files are fetched at once.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use rust_embed::RustEmbed;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

/// file name → hashed name, and back.
struct Names {
    hashed: HashMap<String, String>,
    plain: HashMap<String, String>,
}

fn names() -> &'static Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut hashed = HashMap::new();
        let mut plain = HashMap::new();
        for file in Static::iter() {
            let Some(embedded) = Static::get(&file) else {
                continue;
            };
            let digest: String = embedded.metadata.sha256_hash()[..4]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let name = hashed_name(&file, &digest);
            hashed.insert(file.to_string(), name.clone());
            plain.insert(name, file.to_string());
        }
        Names { hashed, plain }
    })
}

/// `app.css` + `3f9a1c2e` → `app.3f9a1c2e.css`.
fn hashed_name(file: &str, digest: &str) -> String {
    match file.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{digest}.{ext}"),
        None => format!("{file}.{digest}"),
    }
}

/// The address pages link for a static file: its content-hashed name.
pub fn url(file: &str) -> String {
    match names().hashed.get(file) {
        Some(h) => format!("/static/{h}"),
        None => format!("/static/{file}"),
    }
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit_once('.').map(|(_, e)| e) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// `GET /static/{file}`: a hashed name is cached for a year; the plain name (old links) is
/// served too, revalidated each time.
pub async fn serve(path: web::Path<String>) -> HttpResponse {
    let requested = path.into_inner();
    let (file, immutable) = match names().plain.get(&requested) {
        Some(plain) => (plain.clone(), true),
        None => (requested, false),
    };
    match Static::get(&file) {
        Some(embedded) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, content_type(&file)))
            .insert_header((
                CACHE_CONTROL,
                if immutable {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                },
            ))
            .body(embedded.data.into_owned()),
        None => HttpResponse::NotFound()
            .insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body("not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_static_file_has_a_hashed_name_that_maps_back() {
        let css = url("app.css");
        assert!(
            css.starts_with("/static/app.") && css.ends_with(".css"),
            "{css}"
        );
        assert_ne!(css, "/static/app.css");
        let name = css.trim_start_matches("/static/");
        assert_eq!(names().plain.get(name).map(String::as_str), Some("app.css"));
        assert_eq!(
            hashed_name("htmx-2.0.4.min.js", "ab12cd34"),
            "htmx-2.0.4.min.ab12cd34.js"
        );
    }
}
