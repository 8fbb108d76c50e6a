//! Signing in and out (ORG-2), the signed-in user extractor, and the account page.

use super::chrome::Chrome;
use super::csrf::{self, CsrfForm};
use super::error::{render, see_other};
use super::{AppState, WebError};
use crate::domain::FieldErrors;
use crate::domain::ids::{OrgId, UserId};
use crate::domain::user::{NewPassword, Permission, Role};
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
/// The random id of the session's row in the database (`sessions`); without a live row the
/// cookie signs nobody in.
const SESSION_ID: &str = "sid";
/// A session's last use is written at most this often (seconds), not on every request.
const TOUCH_EVERY_SECS: i64 = 60;
/// The user's session version when the session began; a password change bumps it.
const SESSION_VERSION: &str = "sv";
/// Failed sign-ins allowed against one account from one address within `THROTTLE_MINUTES`;
/// then that address may not try the account until the window has passed. The owner, from an
/// address that has not been failing, still gets in.
pub const MAX_FAILURES_PER_EMAIL_AND_ADDRESS: i64 = 5;
/// Failed sign-ins allowed against one account from all addresses together (a guessing run
/// spread over many addresses), a higher ceiling.
pub const MAX_FAILURES_PER_EMAIL: i64 = 50;
/// Failed sign-ins allowed from one address against any accounts (guessing many accounts).
pub const MAX_FAILURES_PER_ADDRESS: i64 = 50;
pub const THROTTLE_MINUTES: i64 = 15;

/// The signed-in user of a console request, loaded fresh from the database each time so that
/// a deactivated user or a changed role takes effect at once.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub org_name: String,
    pub currency: crate::domain::org::Currency,
    pub time_zone: Tz,
    pub csrf: String,
    /// The stored hash of this session's id (the Account page marks "this session").
    pub session_hash: String,
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
            let Some(uid) = session.get::<UserId>(SESSION_USER).ok().flatten() else {
                return Err(WebError::LoginRequired { next });
            };
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| WebError::Internal(anyhow::anyhow!("app state missing")))?;
            // The session must be live in the database: signed out, idle or too old, it is not.
            let sid = session.get::<String>(SESSION_ID).ok().flatten();
            let row = match &sid {
                Some(id) => state.store.find_session(id).await?,
                None => None,
            };
            let Some(row) = row.filter(|r| r.user_id == uid) else {
                session.purge();
                return Err(WebError::LoginRequired { next });
            };
            let now = Utc::now();
            let idle = Duration::minutes(state.settings.session_idle_minutes);
            let lifetime = Duration::hours(state.settings.session_max_hours);
            if now - row.last_seen_at > idle || now - row.created_at > lifetime {
                state.store.delete_session(&row.id_hash).await?;
                session.purge();
                return Err(WebError::LoginRequired { next });
            }
            let user = state.store.session_user(uid).await?;
            let version = session
                .get::<i64>(SESSION_VERSION)
                .ok()
                .flatten()
                .unwrap_or(0);
            let Some(u) = user.filter(|u| u.active && u.session_version == version) else {
                state.store.delete_session(&row.id_hash).await?;
                session.purge();
                return Err(WebError::LoginRequired { next });
            };
            // Only a session that signs someone in counts as used.
            if (now - row.last_seen_at).num_seconds() >= TOUCH_EVERY_SECS {
                state.store.touch_session(&row.id_hash, now).await?;
            }
            Ok(CurrentUser {
                id: u.id,
                org_id: u.org_id,
                email: u.email,
                name: u.name,
                role: u.role,
                org_name: u.org_name,
                currency: u.currency,
                time_zone: u.time_zone.0,
                csrf: csrf::token(&session),
                session_hash: row.id_hash,
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
    let failures = state
        .store
        .recent_login_failures(&email, &address, since)
        .await?;
    if failures.by_email_and_address > MAX_FAILURES_PER_EMAIL_AND_ADDRESS
        || failures.by_email > MAX_FAILURES_PER_EMAIL
        || failures.by_address > MAX_FAILURES_PER_ADDRESS
    {
        let unlock = failures
            .oldest
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
            let sid = base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                rand::RngExt::random::<[u8; 32]>(&mut rand::rng()),
            );
            let agent = req
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            // The browser's previous session (if any) ends: a copy of the old cookie signs
            // nobody in.
            if let Ok(Some(old)) = session.get::<String>(SESSION_ID) {
                state
                    .store
                    .delete_session(&crate::store::sessions::hash_session_id(&old))
                    .await?;
            }
            state
                .store
                .create_session(&sid, c.id, &address, agent, now)
                .await?;
            session.renew();
            session
                .insert(SESSION_ID, &sid)
                .map_err(|e| WebError::Internal(anyhow::anyhow!("session: {e}")))?;
            session
                .insert(SESSION_USER, c.id)
                .map_err(|e| WebError::Internal(anyhow::anyhow!("session: {e}")))?;
            session
                .insert(SESSION_VERSION, c.session_version)
                .map_err(|e| WebError::Internal(anyhow::anyhow!("session: {e}")))?;
            csrf::rotate(&session);
            tracing::info!(user_id = %c.id, "signed in");
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

/// Signs out: the session's row is deleted, so the cookie (and any copy of it) signs nobody
/// in any more, on every instance.
pub async fn logout(
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, WebError> {
    if let Ok(Some(id)) = session.get::<String>(SESSION_ID) {
        state
            .store
            .delete_session(&crate::store::sessions::hash_session_id(&id))
            .await?;
    }
    session.purge();
    Ok(see_other("/login"))
}

/// Signs out every other session of the account (Account page).
pub async fn sign_out_others(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let ended = state
        .store
        .delete_other_sessions(user.id, &user.session_hash)
        .await?;
    Chrome::flash(
        &session,
        &match ended {
            0 => "There were no other sessions.".to_string(),
            1 => "Signed out 1 other session.".to_string(),
            n => format!("Signed out {n} other sessions."),
        },
    );
    tracing::info!(user_id = %user.id, ended, "signed out other sessions");
    Ok(see_other("/account"))
}

/// One session as the Account page lists it.
struct SessionView {
    started: String,
    last_used: String,
    address: String,
    device: String,
    current: bool,
}

async fn session_views(state: &AppState, user: &CurrentUser) -> Result<Vec<SessionView>, WebError> {
    let when = |t| crate::domain::offer::describe::time_text(t, user.time_zone);
    Ok(state
        .store
        .list_sessions(user.id)
        .await?
        .into_iter()
        .map(|s| SessionView {
            started: when(s.created_at),
            last_used: when(s.last_seen_at),
            address: if s.ip.is_empty() {
                "unknown".into()
            } else {
                s.ip
            },
            device: browser_label(&s.user_agent),
            current: s.id_hash == user.session_hash,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "pages/account.html")]
struct AccountPage {
    chrome: Chrome,
    errors: FieldErrors,
    sessions: Vec<SessionView>,
    idle_hours: String,
    max_days: String,
}

impl AccountPage {
    async fn new(
        state: &AppState,
        user: &CurrentUser,
        session: &Session,
        errors: FieldErrors,
    ) -> Result<AccountPage, WebError> {
        let idle = state.settings.session_idle_minutes;
        let max = state.settings.session_max_hours;
        Ok(AccountPage {
            chrome: Chrome::new(user, session, "account"),
            errors,
            sessions: session_views(state, user).await?,
            idle_hours: if idle % 60 == 0 {
                crate::domain::money::plural(idle / 60, "hour", "hours")
            } else {
                crate::domain::money::plural(idle, "minute", "minutes")
            },
            max_days: if max % 24 == 0 {
                crate::domain::money::plural(max / 24, "day", "days")
            } else {
                crate::domain::money::plural(max, "hour", "hours")
            },
        })
    }
}

pub async fn account_page(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let page = AccountPage::new(&state, &user, &session, FieldErrors::default()).await?;
    render(StatusCode::OK, &page)
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
            state
                .store
                .delete_other_sessions(user.id, &user.session_hash)
                .await?;
            Chrome::flash(&session, "Your password was changed.");
            Ok(see_other("/account"))
        }
        _ => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AccountPage::new(&state, &user, &session, errors).await?,
        ),
    }
}

/// "Chrome on Linux" from a user-agent string, for the sessions list (the raw string as a
/// last resort, shortened).
fn browser_label(ua: &str) -> String {
    if ua.trim().is_empty() {
        return "Unknown browser".into();
    }
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("OPR/") {
        "Opera"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        ""
    };
    let os = if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Android") {
        "Android"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        ""
    };
    match (browser, os) {
        ("", _) => ua.chars().take(40).collect(),
        (b, "") => b.to_string(),
        (b, o) => format!("{b} on {o}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_name_the_browser_and_system() {
        for (ua, label) in [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.0; rv:120.0) Gecko/20100101 Firefox/120.0",
                "Firefox on macOS",
            ),
            ("curl/8.5.0", "curl/8.5.0"),
            ("", "Unknown browser"),
        ] {
            assert_eq!(browser_label(ua), label, "{ua}");
        }
    }
}
