//! Sharing a coupon (seed 004): the owner's share page (a link, its QR code, or an SMS to a
//! friend) and the friend's page, where confirming a number claims the coupon — once per
//! share, never one's own, not when the friend holds the offer already.

use super::Visitor;
use super::get::{OfferView, offer_view};
use super::pages::{BrandView, notice, page};
use super::sign_in::{SignInForm, parse_who};
use crate::domain::masters::IdentifierType;
use crate::state::AppState;
use crate::web::WebError;
use crate::web::csrf::{self, CsrfForm};
use crate::web::error::see_other;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "customer/share.html")]
struct SharePage {
    brand: BrandView,
    coupon_id: i64,
    offer_name: String,
    link: String,
    qr: String,
    csrf: String,
    friend: String,
    error: String,
    flash: String,
}

#[derive(Template)]
#[template(path = "customer/shared.html")]
struct SharedPage {
    brand: BrandView,
    token: String,
    offer: OfferView,
    from: String,
    signed_in: bool,
    csrf: String,
    s: SignInForm,
}

#[derive(Deserialize)]
pub struct SmsForm {
    #[serde(default)]
    friend: String,
}

/// The owner's share page of a coupon: its share link (made on first visit), and the SMS to
/// `sms` when asked.
async fn page_for(
    state: &AppState,
    visitor: &Visitor,
    coupon_id: i64,
    sms: Option<&str>,
) -> Result<HttpResponse, WebError> {
    let Some((org, owner)) = visitor.signed_in() else {
        return Ok(see_other("/wallet"));
    };
    let brand = BrandView::of(state, org).await?;
    let csrf = csrf::token(&visitor.0);
    let mut friend = String::new();
    let mut error = String::new();
    let sms_to = match sms.map(parse_who) {
        Some(Ok(w)) if w.kind == IdentifierType::Mobile => Some(w),
        Some(Ok(_)) => {
            error = "Enter your friend's mobile number (SMS goes to mobiles only).".into();
            friend = sms.unwrap_or_default().into();
            None
        }
        Some(Err(e)) => {
            error = e;
            friend = sms.unwrap_or_default().into();
            None
        }
        None => None,
    };
    let base = state.settings.base_url.trim_end_matches('/').to_string();
    let shared = crate::app::sharing::share(
        &state.store,
        org,
        owner,
        coupon_id,
        sms_to.as_ref(),
        &base,
        &brand.name,
        Utc::now(),
    )
    .await?;
    state.wake_outbox();
    let token = match shared {
        Ok(t) => t,
        Err(refusal) => {
            return notice(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(brand),
                "This coupon cannot be shared",
                &super::pages::sentence(&refusal.to_string()),
            );
        }
    };
    let wallet = crate::app::wallet::wallet(&state.store, org, owner, Utc::now()).await?;
    let offer_name = wallet
        .active
        .iter()
        .find(|c| c.coupon_id == coupon_id)
        .map(|c| c.offer_name.clone())
        .unwrap_or_default();
    let link = format!("{base}/share/{token}");
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(
        status,
        &SharePage {
            brand,
            coupon_id,
            offer_name,
            qr: crate::web::qr::svg(&link).unwrap_or_default(),
            link,
            csrf,
            flash: sms_to
                .map(|w| format!("We sent the link to {} by SMS.", w.value))
                .unwrap_or_default(),
            friend,
            error,
        },
    )
}

/// `GET /wallet/coupons/{id}/share`.
pub async fn show(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    page_for(&state, &Visitor(session), path.into_inner(), None).await
}

/// `POST /wallet/coupons/{id}/share`: the link by SMS to a friend's mobile.
pub async fn by_sms(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<SmsForm>,
) -> Result<HttpResponse, WebError> {
    page_for(
        &state,
        &Visitor(session),
        path.into_inner(),
        Some(&form.friend),
    )
    .await
}

/// `GET /share/{token}`: the friend's page.
pub async fn landing(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let token = path.into_inner();
    let Some(share) = state.store.share_by_token(&token).await? else {
        return notice(
            StatusCode::NOT_FOUND,
            None,
            "This link is not valid",
            "The share link may have been mistyped. Ask your friend to send it again.",
        );
    };
    let org = share.org_id;
    let visitor = Visitor(session.clone());
    let csrf = csrf::token(&session);
    let owner = state.store.customer_ref(org, share.owner_id).await?;
    let from = state
        .store
        .first_name(org, share.owner_id)
        .await?
        .unwrap_or_else(|| super::pages::masked(&owner.value));
    let s = SignInForm::new(
        org,
        &format!("/share/{token}"),
        csrf.clone(),
        "Get this coupon",
        "Enter your mobile number or email; we send you a code to confirm it, and the coupon goes into your wallet.",
    );
    page(
        StatusCode::OK,
        &SharedPage {
            brand: BrandView::of(&state, org).await?,
            offer: offer_view(&state, org, share.offer_id).await?,
            from,
            signed_in: visitor.customer(org).is_some(),
            csrf,
            token,
            s,
        },
    )
}

/// `POST /share/{token}/claim`: the signed-in friend claims the coupon.
pub async fn claim(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<HttpResponse, WebError> {
    finish(&state, &Visitor(session), &path.into_inner()).await
}

/// Claims the share for the signed-in customer and shows the coupon, or says why not.
pub async fn finish(
    state: &AppState,
    visitor: &Visitor,
    token: &str,
) -> Result<HttpResponse, WebError> {
    let Some(share) = state.store.share_by_token(token).await? else {
        return Ok(see_other(&format!("/share/{token}")));
    };
    // Only a customer of the share's org claims it.
    let org = share.org_id;
    let Some(friend) = visitor.customer(org) else {
        return Ok(see_other(&format!("/share/{token}")));
    };
    match crate::app::sharing::claim(&state.store, token, friend, Utc::now()).await? {
        Ok(held) => {
            state.wake_outbox();
            Ok(see_other(&format!(
                "/wallet?{}={}#coupon-{}",
                if held.again { "had" } else { "got" },
                held.coupon_id,
                held.coupon_id
            )))
        }
        Err(refusal) => notice(
            StatusCode::CONFLICT,
            Some(BrandView::of(state, org).await?),
            "We could not give you this coupon",
            &super::pages::sentence(&refusal.to_string()),
        ),
    }
}
