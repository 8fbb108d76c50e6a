//! Signing in with a one-time code: the form (a mobile number or an email), the code step,
//! and what happens after — the page the customer came from finishes what they asked for (get
//! the coupon, claim the shared one, open the kiosk), the guest's coupons move into the wallet.

use super::pages::{BrandView, page};
use super::{Visitor, client_address};
use crate::domain::ids::OrgId;
use crate::domain::issue::CustomerRef;
use crate::domain::masters::IdentifierType;
use crate::state::AppState;
use crate::web::WebError;
use crate::web::csrf::{self, CsrfForm};
use crate::web::error::see_other;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

/// The sign-in form as a page shows it (both steps).
#[derive(Debug, Clone, Default)]
pub struct SignInForm {
    pub org_id: i64,
    pub next: String,
    pub who: String,
    /// Second step: the code was sent to `who`.
    pub code_step: bool,
    pub error: String,
    pub csrf: String,
    pub heading: String,
    /// Shown under the heading (what signing in is for).
    pub lead: String,
}

impl SignInForm {
    pub fn new(org_id: OrgId, next: &str, csrf: String, heading: &str, lead: &str) -> SignInForm {
        SignInForm {
            org_id: org_id.get(),
            next: next.into(),
            csrf,
            heading: heading.into(),
            lead: lead.into(),
            ..SignInForm::default()
        }
    }
}

#[derive(Template)]
#[template(path = "customer/sign_in.html")]
struct SignInPage {
    brand: BrandView,
    s: SignInForm,
}

#[derive(Deserialize)]
pub struct SendForm {
    org: i64,
    #[serde(default)]
    who: String,
    #[serde(default)]
    next: String,
}

/// A mobile number (digits, spaces, +) or an email, parsed.
pub fn parse_who(raw: &str) -> Result<CustomerRef, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Enter your mobile number or email address.".into());
    }
    let kind = if raw.contains('@') {
        IdentifierType::Email
    } else {
        IdentifierType::Mobile
    };
    CustomerRef::parse(kind, raw).map_err(|e| super::pages::sentence(&e.replace('`', "")))
}

/// Where a sign-in may continue to: one of the customers' pages, else the wallet.
fn safe_next(next: &str) -> String {
    let ok = ["/get/", "/share/", "/kiosk/", "/wallet"]
        .iter()
        .any(|p| next.starts_with(p))
        && !next.contains("//")
        && next.chars().all(|c| c.is_ascii_graphic());
    if ok { next.into() } else { "/wallet".into() }
}

async fn form_page(
    state: &AppState,
    session: &Session,
    org: OrgId,
    mut s: SignInForm,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    s.csrf = csrf::token(session);
    if s.heading.is_empty() {
        s.heading = if s.code_step {
            "Enter your code".into()
        } else {
            "Sign in to your wallet".into()
        };
    }
    let brand = BrandView::of(state, org).await?;
    page(status, &SignInPage { brand, s })
}

/// `POST /wallet/code`: sends a code (the same answer whether or not the number is known).
pub async fn send(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<SendForm>,
) -> Result<HttpResponse, WebError> {
    let org = OrgId(form.org);
    let brand = state.store.org_brand(org).await?;
    let mut s = SignInForm {
        org_id: form.org,
        next: safe_next(&form.next),
        who: form.who.clone(),
        ..SignInForm::default()
    };
    let who = match parse_who(&form.who) {
        Ok(w) => w,
        Err(e) => {
            s.error = e;
            return form_page(&state, &session, org, s, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let sent = crate::app::sign_in::send_code(
        &state.store,
        org,
        &brand.name,
        &who,
        &client_address(&req),
        Utc::now(),
    )
    .await?;
    state.wake_outbox();
    s.who = who.value.clone();
    match sent {
        Ok(()) => {
            s.code_step = true;
            s.lead = format!(
                "We sent a 6-digit code to {}. It is valid for 10 minutes.",
                who.value
            );
            form_page(&state, &session, org, s, StatusCode::OK).await
        }
        Err(refusal) => {
            // A code sent a moment ago is still good: go on to the code step.
            s.code_step = matches!(refusal, crate::domain::otp::SendRefusal::TooSoon(_));
            s.error = super::pages::sentence(&refusal.to_string());
            form_page(&state, &session, org, s, StatusCode::TOO_MANY_REQUESTS).await
        }
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    org: i64,
    who: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

/// `POST /wallet/confirm`: a right code signs in and finishes what the customer came for.
pub async fn confirm(
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<HttpResponse, WebError> {
    let org = OrgId(form.org);
    let next = safe_next(&form.next);
    let who = parse_who(&form.who).map_err(WebError::BadRequest)?;
    let now = Utc::now();
    match crate::app::sign_in::confirm_code(&state.store, org, &who, &form.code, now).await? {
        Err(refusal) => {
            let s = SignInForm {
                org_id: form.org,
                next,
                who: who.value,
                code_step: true,
                error: super::pages::sentence(&refusal.to_string()),
                ..SignInForm::default()
            };
            form_page(&state, &session, org, s, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Ok(customer) => {
            let visitor = Visitor(session);
            let guest = visitor.guest(org);
            visitor.sign_in(org, customer);
            if let Some(guest) = guest {
                state.store.move_guest_coupons(org, guest, customer).await?;
            }
            visitor.forget_guest();
            after_sign_in(&state, &visitor, org, &next).await
        }
    }
}

/// Finishes what the customer signed in for.
async fn after_sign_in(
    state: &AppState,
    visitor: &Visitor,
    org: OrgId,
    next: &str,
) -> Result<HttpResponse, WebError> {
    if let Some(token) = next.strip_prefix("/get/") {
        return super::get::finish(state, visitor, org, token).await;
    }
    if let Some(token) = next.strip_prefix("/share/") {
        return super::share::finish(state, visitor, token).await;
    }
    if let Some(store) = next.strip_prefix("/kiosk/")
        && let Ok(id) = store.parse::<i64>()
    {
        visitor.start_kiosk(id, Utc::now().timestamp());
        return Ok(see_other(&format!("/kiosk/{id}")));
    }
    Ok(see_other("/wallet"))
}

/// `POST /wallet/sign-out`.
pub async fn sign_out(
    session: Session,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> HttpResponse {
    Visitor(session).sign_out();
    see_other("/wallet")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_customers_pages() {
        assert_eq!(safe_next("/get/abc"), "/get/abc");
        assert_eq!(safe_next("/kiosk/3"), "/kiosk/3");
        assert_eq!(safe_next("https://evil.example"), "/wallet");
        assert_eq!(safe_next("/offers/1"), "/wallet");
        assert_eq!(safe_next("/get//evil.example"), "/wallet");
    }

    #[test]
    fn who_is_a_mobile_or_an_email() {
        assert_eq!(
            parse_who("+91 98765 43210").unwrap().kind,
            IdentifierType::Mobile
        );
        assert_eq!(
            parse_who("Asha@Example.com").unwrap().value,
            "asha@example.com"
        );
        assert!(parse_who("").is_err());
        assert!(parse_who("12").unwrap_err().ends_with('.'));
    }
}
