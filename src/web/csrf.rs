//! CSRF protection: a random token per session, required on every state-changing request as
//! the form field `csrf_token` or the `X-CSRF-Token` header (htmx sends the header).

use super::WebError;
use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use rand::RngExt;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use subtle::ConstantTimeEq;

const SESSION_KEY: &str = "csrf";

/// The session's CSRF token, created on first use.
pub fn token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(SESSION_KEY) {
        return t;
    }
    rotate(session)
}

/// Replaces the session's token (at login).
pub fn rotate(session: &Session) -> String {
    let bytes: [u8; 32] = rand::rng().random();
    let t = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let _ = session.insert(SESSION_KEY, &t);
    t
}

/// Checks a submitted token against the session's, in constant time.
pub fn verify(session: &Session, submitted: Option<&str>) -> Result<(), WebError> {
    let expected = session.get::<String>(SESSION_KEY).ok().flatten();
    match (expected, submitted) {
        (Some(e), Some(s)) if !s.is_empty() && bool::from(e.as_bytes().ct_eq(s.as_bytes())) => {
            Ok(())
        }
        _ => Err(WebError::Csrf),
    }
}

fn header_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("X-CSRF-Token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A url-encoded form whose CSRF token has been checked; then deserialized into `T`.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await?;
            let fields: HashMap<String, String> =
                serde_urlencoded::from_bytes(&body).unwrap_or_default();
            let submitted = header_token(&req).or_else(|| fields.get("csrf_token").cloned());
            verify(&req.get_session(), submitted.as_deref())?;
            if let Some(field) = crate::domain::control_in_urlencoded(&body) {
                return Err(WebError::BadRequest(format!(
                    "The field `{field}` contains a control character (such as NUL); nothing was saved."
                ))
                .into());
            }
            // serde_html_form reads repeated keys (multi-selects) into Vecs.
            let value = serde_html_form::from_bytes::<T>(&body)
                .map_err(|e| WebError::BadRequest(format!("the form could not be read: {e}")))?;
            Ok(CsrfForm(value))
        })
    }
}

/// A multipart upload (text fields plus one file) whose CSRF token has been checked.
pub struct CsrfUpload {
    pub fields: HashMap<String, String>,
    pub file_name: String,
    pub file: Vec<u8>,
}

/// Largest upload accepted in memory by the console's masters uploads.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

impl CsrfUpload {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

impl FromRequest for CsrfUpload {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut multipart = actix_multipart::Multipart::new(req.headers(), payload.take());
        Box::pin(async move {
            let mut fields = HashMap::new();
            let mut file = Vec::new();
            let mut file_name = String::new();
            let mut total = 0usize;
            while let Some(field) = multipart.next().await {
                let mut field = field.map_err(|e| {
                    WebError::BadRequest(format!("the upload could not be read: {e}"))
                })?;
                let name = field.name().unwrap_or("").to_string();
                let is_file = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .is_some();
                if is_file {
                    file_name = field
                        .content_disposition()
                        .and_then(|cd| cd.get_filename())
                        .unwrap_or("")
                        .to_string();
                }
                let mut value = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(|e| {
                        WebError::BadRequest(format!("the upload could not be read: {e}"))
                    })?;
                    total += chunk.len();
                    if total > MAX_UPLOAD_BYTES {
                        return Err(
                            WebError::BadRequest("the file is larger than 20 MB".into()).into()
                        );
                    }
                    value.extend_from_slice(&chunk);
                }
                if is_file {
                    file = value;
                } else {
                    fields.insert(name, String::from_utf8_lossy(&value).into_owned());
                }
            }
            let submitted = header_token(&req).or_else(|| fields.get("csrf_token").cloned());
            verify(&req.get_session(), submitted.as_deref())?;
            if let Some((name, _)) = fields.iter().find(|(_, v)| crate::domain::has_control(v)) {
                return Err(WebError::BadRequest(format!(
                    "The field `{name}` contains a control character (such as NUL); nothing was saved."
                ))
                .into());
            }
            Ok(CsrfUpload {
                fields,
                file_name,
                file,
            })
        })
    }
}
