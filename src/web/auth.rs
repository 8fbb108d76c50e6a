//! Signing in and out (ORG-2), the signed-in user extractor, and the account page.

use super::chrome::Chrome;
use super::csrf::{self, CsrfForm};
use super::error::{render, see_other};
use super::{AppState, WebError};
use crate::domain::FieldErrors;
use crate::domain::user::{Email, NewPassword, Permission, Role};
use crate::passwords;
use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Duration, Utc};
use chrono_tz::Tz;
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;

const SESSION_USER: &str = "uid";
/// The user's session version when the session began; a password change bumps it.
const SESSION_VERSION: &str = "sv";
/// Failed logins allowed per email within `THROTTLE_WINDOW` before it is locked for the window.
pub const MAX_FAILURES_PER_EMAIL: i64 = 5;
/// Failed logins allowed per client address within the window (many emails from one place).
pub const MAX_FAILURES_PER_ADDRESS: i64 = 50;
pub const THROTTLE_MINUTES: i64 = 15;

/// The signed-in user of a console request, loaded fresh from the database each time so that
/// a deactivated user or a changed role takes effect at once.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub org_name: String,
    pub currency: String,
    pub time_zone: Tz,
    pub csrf: String,
}

impl CurrentUser {
    /// Refuses with 403 unless the user's role allows `perm`.
    pub fn require(&self, perm: Permission) -> Result<(), WebError> {
        if self.role.can(perm) {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    pub fn can(&self, perm: Permission) -> bool {
        self.role.can(perm)
    }

    /// The audit actor for changes this user makes.
    pub fn actor(&self) -> crate::domain::user::Actor {
        crate::domain::user::Actor::user(self.id, &self.email)
    }
}

impl FromRequest for CurrentUser {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let next = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            let session = req.get_session();
            let Some(uid) = session.get::<i64>(SESSION_USER).ok().flatten() else {
                return Err(WebError::LoginRequired { next });
            };
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| WebError::Internal(anyhow::anyhow!("app state missing")))?;
            let user = state.store.session_user(uid).await?;
            let version = session
                .get::<i64>(SESSION_VERSION)
                .ok()
                .flatten()
                .unwrap_or(0);
            let Some(u) = user.filter(|u| u.active && u.session_version == version) else {
                session.purge();
                return Err(WebError::LoginRequired { next });
            };
            let role = Role::parse("role", &u.role)
                .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))?;
            Ok(CurrentUser {
                id: u.id,
                org_id: u.org_id,
                email: u.email,
                name: u.name,
                role,
                org_name: u.org_name,
                currency: u.currency,
                time_zone: u.time_zone.parse().unwrap_or(chrono_tz::Asia::Kolkata),
                csrf: csrf::token(&session),
            })
        })
    }
}

#[derive(Template)]
#[template(path = "pages/login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    next: String,
    error: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
}

/// Only same-site paths are followed after login (no open redirect).
fn safe_next(next: &str) -> String {
    // Browsers drop tabs and newlines from a Location, so "/\t/evil" would become "//evil".
    let clean = !next.chars().any(|c| c.is_control() || c.is_whitespace());
    if clean && next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_string()
    } else {
        "/".to_string()
    }
}

pub async fn login_page(
    session: Session,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, WebError> {
    let page = LoginPage {
        csrf: csrf::token(&session),
        email: String::new(),
        next: safe_next(&q.next),
        error: String::new(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let email = form.email.trim().to_lowercase();
    let next = safe_next(&form.next);
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let fail = |status: StatusCode, error: String| {
        render(
            status,
            &LoginPage {
                csrf: csrf::token(&session),
                email: form.email.clone(),
                next: next.clone(),
                error,
            },
        )
    };

    let now = Utc::now();
    let since = now - Duration::minutes(THROTTLE_MINUTES);
    // The attempt is recorded as failed before the password is checked (and forgotten if it
    // succeeds), so parallel guesses cannot all slip under the limit.
    state.store.record_login_failure(&email, &address).await?;
    let (by_email, by_address, oldest) = state
        .store
        .recent_login_failures(&email, &address, since)
        .await?;
    if by_email > MAX_FAILURES_PER_EMAIL || by_address > MAX_FAILURES_PER_ADDRESS {
        let unlock = oldest
            .map(|o| o + Duration::minutes(THROTTLE_MINUTES))
            .unwrap_or(now + Duration::minutes(THROTTLE_MINUTES));
        let minutes = ((unlock - now).num_seconds() + 59) / 60;
        let minutes = minutes.clamp(1, THROTTLE_MINUTES);
        tracing::warn!(%address, "login throttled");
        return fail(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-in attempts. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            ),
        );
    }

    let creds = state.store.find_credentials(&email).await?;
    let ok = passwords::verify(
        form.password.clone(),
        creds.as_ref().map(|c| c.password_hash.clone()),
    )
    .await;
    match creds {
        Some(c) if ok && c.active => {
            state.store.clear_login_failures(&email, since).await?;
            session.renew();
            session
                .insert(SESSION_USER, c.id)
                .map_err(|e| WebError::Internal(anyhow::anyhow!("session: {e}")))?;
            session
                .insert(SESSION_VERSION, c.session_version)
                .map_err(|e| WebError::Internal(anyhow::anyhow!("session: {e}")))?;
            csrf::rotate(&session);
            tracing::info!(user_id = c.id, "signed in");
            Ok(see_other(&next))
        }
        _ => {
            // One message whatever was wrong, so the form does not reveal which emails exist.
            fail(
                StatusCode::UNAUTHORIZED,
                "Email or password is incorrect.".into(),
            )
        }
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(session: Session, CsrfForm(_): CsrfForm<Empty>) -> HttpResponse {
    session.purge();
    see_other("/login")
}

#[derive(Template)]
#[template(path = "pages/account.html")]
struct AccountPage {
    chrome: Chrome,
    errors: FieldErrors,
}

pub async fn account_page(user: CurrentUser, session: Session) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    render(
        StatusCode::OK,
        &AccountPage {
            chrome: Chrome::new(&user, &session, "account"),
            errors: FieldErrors::default(),
        },
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let mut errors = FieldErrors::default();
    let creds = state.store.find_credentials(&user.email).await?;
    if !passwords::verify(form.current.clone(), creds.map(|c| c.password_hash)).await {
        errors.push("current", "is not your current password");
    }
    let new = errors.take(NewPassword::parse("new", &form.new));
    if form.new != form.confirm {
        errors.push("confirm", "does not match the new password");
    }
    match new {
        Some(new) if errors.is_empty() => {
            let hash = passwords::hash(new.expose().to_string()).await?;
            // Other sessions of this account end; this one carries on with the new version.
            let version = state.store.set_password_hash(user.id, &hash).await?;
            let _ = session.insert(SESSION_VERSION, version);
            Chrome::flash(&session, "Your password was changed.");
            Ok(see_other("/account"))
        }
        _ => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AccountPage {
                chrome: Chrome::new(&user, &session, "account"),
                errors,
            },
        ),
    }
}

/// Used by the CLI and the first start: an email parsed for an admin account.
pub fn parse_admin_email(raw: &str) -> anyhow::Result<Email> {
    Email::parse("email", raw).map_err(|e| anyhow::anyhow!("{e}"))
}
