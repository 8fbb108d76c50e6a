//! An offer's public link (`/get/{token}`) and its printable poster: the customer confirms a
//! number (or continues as a guest) and the coupon is in their wallet. A second try answers
//! the same coupon; every issue rule's refusal is said in plain words.

use super::Visitor;
use super::pages::{BrandView, notice, page};
use super::sign_in::SignInForm;
use crate::domain::ids::{OfferId, OrgId};
use crate::state::AppState;
use crate::web::WebError;
use crate::web::csrf::{self, CsrfForm};
use crate::web::error::see_other;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;

/// What the link page says of its offer.
pub struct OfferView {
    pub name: String,
    pub discount: String,
    pub validity: String,
}

#[derive(Template)]
#[template(path = "customer/get.html")]
struct GetPage {
    brand: BrandView,
    token: String,
    offer: OfferView,
    /// The customer is signed in: one button takes the coupon.
    signed_in: bool,
    /// All taken: no form.
    closed: Option<String>,
    csrf: String,
    s: SignInForm,
}

#[derive(Template)]
#[template(path = "customer/poster.html")]
struct PosterPage {
    brand: BrandView,
    offer: OfferView,
    link: String,
    qr: String,
}

/// The published offer of a link token.
async fn published(state: &AppState, token: &str) -> Result<Option<(OrgId, OfferId)>, WebError> {
    Ok(state.store.offer_by_public_token(token).await?)
}

pub(super) async fn offer_view(
    state: &AppState,
    org: OrgId,
    offer: OfferId,
) -> Result<OfferView, WebError> {
    let o = state.store.get_offer(org, offer).await?;
    let org_row = state.store.get_org(org).await?;
    let discount = o
        .rules
        .discount
        .words(org_row.currency.code(), org_row.currency.minor_digits());
    // The validity a coupon taken now gets, by the issue's own arithmetic.
    let ctx = crate::app::issue::context(&state.store, org, offer).await?;
    let validity = match crate::domain::coupon::coupon_valid_till(
        Utc::now(),
        ctx.rules.coupon_expiry,
        ctx.ends_on,
        ctx.tz,
    ) {
        Some(last) => format!(
            "Get it today and it is valid through {}.",
            crate::domain::offer::describe::date_text(last)
        ),
        None => "It does not expire.".into(),
    };
    Ok(OfferView {
        name: o.rules.name,
        discount,
        validity,
    })
}

async fn gone(state: &AppState, org: Option<OrgId>) -> Result<HttpResponse, WebError> {
    let brand = match org {
        Some(o) => Some(BrandView::of(state, o).await?),
        None => None,
    };
    notice(
        StatusCode::NOT_FOUND,
        brand,
        "This link is not valid any more",
        "The offer behind this link has been withdrawn, or the link was mistyped. Your coupons are still in your wallet.",
    )
}

/// `GET /get/{token}`.
pub async fn landing(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let token = path.into_inner();
    let Some((org, offer)) = published(&state, &token).await? else {
        return gone(&state, None).await;
    };
    let closed = state.store.redemption_limit_reached(offer).await?.then(|| {
        "All the coupons this offer allows have been used, so it can no longer be taken."
            .to_string()
    });
    let visitor = Visitor(session.clone());
    let csrf = csrf::token(&session);
    let s = SignInForm::new(
        org,
        &format!("/get/{token}"),
        csrf.clone(),
        "Get this coupon",
        "Enter your mobile number or email; we send you a code to confirm it, and the coupon goes into your wallet.",
    );
    let tpl = GetPage {
        brand: BrandView::of(&state, org).await?,
        offer: offer_view(&state, org, offer).await?,
        signed_in: visitor.customer(org).is_some(),
        closed,
        csrf,
        token,
        s,
    };
    page(StatusCode::OK, &tpl)
}

/// `POST /get/{token}`: the signed-in customer takes the coupon.
pub async fn take(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<HttpResponse, WebError> {
    let token = path.into_inner();
    let Some((org, _)) = published(&state, &token).await? else {
        return gone(&state, None).await;
    };
    finish(&state, &Visitor(session), org, &token).await
}

/// Gets the link's coupon for the signed-in customer (or the session's guest) and shows it in
/// the wallet, or says why not.
pub async fn finish(
    state: &AppState,
    visitor: &Visitor,
    org: OrgId,
    token: &str,
) -> Result<HttpResponse, WebError> {
    let Some((link_org, offer)) = published(state, token).await? else {
        return gone(state, Some(org)).await;
    };
    let customer = match (visitor.customer(link_org), visitor.guest(link_org)) {
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Ok(see_other(&format!("/get/{token}"))),
    };
    let who = state.store.customer_ref(link_org, customer).await?;
    let got = crate::app::sharing::get_from_link(
        &state.store,
        link_org,
        offer,
        customer,
        &who,
        Utc::now(),
    )
    .await?;
    state.wake_outbox();
    match got {
        Ok(held) => Ok(see_other(&format!(
            "/wallet?{}={}#coupon-{}",
            if held.again { "had" } else { "got" },
            held.coupon_id,
            held.coupon_id
        ))),
        Err(words) => notice(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(BrandView::of(state, link_org).await?),
            "We could not give you this coupon",
            &super::pages::sentence(&words),
        ),
    }
}

/// `POST /get/{token}/guest`: the coupon goes into a guest wallet kept for this browser
/// session (seed 002); signing in later moves it into the customer's wallet.
pub async fn as_guest(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<HttpResponse, WebError> {
    let token = path.into_inner();
    let Some((org, _)) = published(&state, &token).await? else {
        return gone(&state, None).await;
    };
    let visitor = Visitor(session);
    if visitor.customer(org).is_none() && visitor.guest(org).is_none() {
        let (guest, _) = state
            .store
            .new_guest(
                org,
                &crate::store::offer_sharing::new_public_token(),
                Utc::now(),
            )
            .await?;
        visitor.set_guest(org, guest);
    }
    finish(&state, &visitor, org, &token).await
}

/// `GET /get/{token}/poster`: a printable page with the link's QR code.
pub async fn poster(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let token = path.into_inner();
    let Some((org, offer)) = published(&state, &token).await? else {
        return gone(&state, None).await;
    };
    let link = format!(
        "{}/get/{token}",
        state.settings.base_url.trim_end_matches('/')
    );
    let qr = crate::web::qr::svg(&link).unwrap_or_default();
    page(
        StatusCode::OK,
        &PosterPage {
            brand: BrandView::of(&state, org).await?,
            offer: offer_view(&state, org, offer).await?,
            link,
            qr,
        },
    )
}
