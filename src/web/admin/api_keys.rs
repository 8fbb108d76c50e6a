//! API keys of integrations (ORG-7), admins only: create (the key is shown once, in the
//! answer to the POST), list and revoke.

use super::FormErrors;
use crate::domain::user::Permission;
use crate::domain::{FieldError, FieldErrors};
use crate::store::StoreError;
use crate::store::api_keys::{ApiKeyRow, DEFAULT_RATE_LIMIT};
use crate::web::auth::CurrentUser;
use crate::web::csrf::CsrfForm;
use crate::web::error::{render, see_other};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono_tz::Tz;
use serde::Deserialize;

pub use crate::domain::api_key::{MAX_NAME_LEN, MAX_RATE_LIMIT, parse_key_name, parse_rate_limit};

/// The create form as typed.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiKeyForm {
    #[serde(default)]
    name: String,
    /// A consumer id, or "" for none.
    #[serde(default)]
    consumer_id: String,
    #[serde(default)]
    rate_limit: String,
}

impl Default for ApiKeyForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            consumer_id: String::new(),
            rate_limit: DEFAULT_RATE_LIMIT.to_string(),
        }
    }
}

/// A key to create, parsed from the form.
struct NewApiKey {
    name: String,
    consumer_id: Option<i64>,
    rate_limit: u32,
}

const UNKNOWN_CONSUMER: &str = "must be one of this organisation's campaigns or programs";

impl TryFrom<&ApiKeyForm> for NewApiKey {
    type Error = FieldErrors;

    fn try_from(f: &ApiKeyForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.take(parse_key_name("name", &f.name));
        let consumer_id = match f.consumer_id.trim() {
            "" => Some(None),
            raw => errors.take(
                raw.parse::<i64>()
                    .map(Some)
                    .map_err(|_| FieldError::new("consumer_id", UNKNOWN_CONSUMER)),
            ),
        };
        let rate_limit = errors.take(parse_rate_limit("rate_limit", &f.rate_limit));
        match (name, consumer_id, rate_limit) {
            (Some(name), Some(consumer_id), Some(rate_limit)) => Ok(NewApiKey {
                name,
                consumer_id,
                rate_limit,
            }),
            _ => Err(errors),
        }
    }
}

/// A key as listed.
pub struct ApiKeyView {
    pub id: i64,
    pub name: String,
    pub key_prefix: String,
    pub consumer: String,
    pub rate_limit: i64,
    pub created: String,
    pub last_used: String,
    /// The day it was revoked, or "" while active.
    pub revoked_on: String,
}

impl ApiKeyView {
    fn new(k: ApiKeyRow, tz: Tz) -> Self {
        let when = |t| crate::domain::offer::describe::time_text(t, tz);
        ApiKeyView {
            id: k.id,
            name: k.name,
            key_prefix: k.key_prefix,
            consumer: k.consumer_name.unwrap_or_else(|| "—".into()),
            rate_limit: k.rate_limit,
            created: when(k.created_at),
            last_used: k.last_used_at.map(when).unwrap_or_else(|| "never".into()),
            revoked_on: k
                .revoked_at
                .map(|t| t.with_timezone(&tz).format("%-d %b %Y").to_string())
                .unwrap_or_default(),
        }
    }
}

/// A key just created: its one showing.
pub struct CreatedKey {
    pub name: String,
    pub key: String,
}

#[derive(Template)]
#[template(path = "pages/api_keys.html")]
struct ApiKeysPage {
    chrome: Chrome,
    keys: Vec<ApiKeyView>,
    /// (id, name) of the org's consumers, for the select.
    consumers: Vec<(String, String)>,
    form: ApiKeyForm,
    errors: FormErrors,
    created: Option<CreatedKey>,
    max_rate_limit: u32,
    default_rate_limit: u32,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    form: ApiKeyForm,
    errors: FormErrors,
    created: Option<CreatedKey>,
) -> Result<ApiKeysPage, WebError> {
    Ok(ApiKeysPage {
        chrome: Chrome::new(user, session, "api-keys"),
        keys: state
            .store
            .list_api_keys(user.org_id)
            .await?
            .into_iter()
            .map(|k| ApiKeyView::new(k, user.time_zone))
            .collect(),
        consumers: state
            .store
            .list_consumers(user.org_id)
            .await?
            .into_iter()
            .map(|c| (c.id.to_string(), c.name))
            .collect(),
        form,
        errors,
        created,
        max_rate_limit: MAX_RATE_LIMIT,
        default_rate_limit: crate::store::api_keys::DEFAULT_RATE_LIMIT,
    })
}

pub async fn list(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let p = page(
        &state,
        &user,
        &session,
        ApiKeyForm::default(),
        FormErrors::default(),
        None,
    )
    .await?;
    render(StatusCode::OK, &p)
}

/// Creates a key and shows it in this answer, once: it is never in a URL, the session or a log.
pub async fn create(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<ApiKeyForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let errors = match NewApiKey::try_from(&form) {
        Ok(new) => match state
            .store
            .create_api_key(
                user.org_id,
                &new.name,
                new.consumer_id,
                new.rate_limit,
                &user.actor(),
            )
            .await
        {
            Ok((row, key)) => {
                let created = CreatedKey {
                    name: row.name,
                    key,
                };
                let p = page(
                    &state,
                    &user,
                    &session,
                    ApiKeyForm::default(),
                    FormErrors::default(),
                    Some(created),
                )
                .await?;
                let mut resp = render(StatusCode::OK, &p)?;
                // The page holds a secret: keep it out of caches and history stores.
                resp.headers_mut()
                    .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                return Ok(resp);
            }
            Err(StoreError::NotFound) => {
                let mut errors = FieldErrors::default();
                errors.push("consumer_id", UNKNOWN_CONSUMER);
                errors
            }
            Err(e) => return Err(e.into()),
        },
        Err(errors) => errors,
    };
    let p = page(
        &state,
        &user,
        &session,
        form,
        FormErrors::of("api_key", errors),
        None,
    )
    .await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &p)
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    /// The ticked "confirm" box: revoking cannot be undone.
    #[serde(default)]
    confirm: String,
}

pub async fn revoke(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let id = path.into_inner();
    if form.confirm.is_empty() {
        Chrome::flash(
            &session,
            "Not revoked: tick “confirm” next to the Revoke button first.",
        );
        return Ok(see_other("/admin/api-keys"));
    }
    state
        .store
        .revoke_api_key(user.org_id, id, &user.actor())
        .await?;
    Chrome::flash(
        &session,
        "Revoked the API key; requests with it are refused from now on.",
    );
    Ok(see_other("/admin/api-keys"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_are_whole_numbers_in_range() {
        assert_eq!(parse_rate_limit("r", " 200 ").unwrap(), 200);
        assert_eq!(parse_rate_limit("r", "1").unwrap(), 1);
        assert_eq!(parse_rate_limit("r", "100000").unwrap(), 100_000);
        for bad in ["", "0", "-1", "1.5", "100001", "ten", "99999999999"] {
            assert!(parse_rate_limit("r", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_form_parses_into_a_new_key() {
        let form = ApiKeyForm {
            name: " Till app ".into(),
            consumer_id: "".into(),
            rate_limit: "50".into(),
        };
        let new = NewApiKey::try_from(&form).unwrap();
        assert_eq!(
            (new.name.as_str(), new.consumer_id, new.rate_limit),
            ("Till app", None, 50)
        );
        let bad = ApiKeyForm {
            name: "x".repeat(101),
            consumer_id: "abc".into(),
            rate_limit: "0".into(),
        };
        let errors = NewApiKey::try_from(&bad).err().unwrap();
        assert!(!errors.get("name").is_empty());
        assert!(!errors.get("consumer_id").is_empty());
        assert!(!errors.get("rate_limit").is_empty());
    }
}
