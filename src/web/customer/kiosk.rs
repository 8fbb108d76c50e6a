//! The store kiosk (`/kiosk/{store}`, seed 004): a customer types their number, confirms the
//! code, sees their coupons and picks one, which shows a QR code for the cashier. The kiosk
//! forgets the customer after a minute without a tap (each page also reloads to the start
//! after a minute, without script).

use super::pages::{BrandView, notice, page};
use super::sign_in::SignInForm;
use super::wallet::CouponCard;
use super::{KIOSK_IDLE_SECONDS, Visitor};
use crate::state::AppState;
use crate::web::WebError;
use crate::web::csrf;
use crate::web::error::see_other;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;

#[derive(Template)]
#[template(path = "customer/kiosk.html")]
struct KioskPage {
    brand: BrandView,
    store_id: i64,
    store_name: String,
    idle: i64,
    /// Signed in: their coupons; else the sign-in form.
    coupons: Option<Vec<CouponCard>>,
    /// The picked coupon, shown large for the cashier.
    picked: Option<CouponCard>,
    s: SignInForm,
}

async fn render(
    state: &AppState,
    session: &Session,
    store_id: i64,
    picked_id: Option<i64>,
) -> Result<HttpResponse, WebError> {
    let Some((org, store_name)) = state.store.store_for_kiosk(store_id).await? else {
        return notice(
            StatusCode::NOT_FOUND,
            None,
            "No such store",
            "This kiosk address names no store. Ask the staff to check the kiosk's address.",
        );
    };
    let visitor = Visitor(session.clone());
    let now = Utc::now();
    let alive = visitor.kiosk_alive(store_id, now.timestamp());
    let customer = if alive { visitor.customer(org) } else { None };
    let csrf = csrf::token(session);
    let s = SignInForm::new(
        org,
        &format!("/kiosk/{store_id}"),
        csrf,
        "See your coupons",
        "Type your mobile number; we send you a code by SMS to confirm it.",
    );
    let (coupons, picked) = match customer {
        Some(customer) => {
            let wallet = crate::app::wallet::wallet(&state.store, org, customer, now).await?;
            let cards: Vec<CouponCard> = wallet
                .active
                .iter()
                .map(|c| CouponCard::of(c, None))
                .collect();
            let picked = picked_id.and_then(|id| {
                wallet
                    .active
                    .iter()
                    .find(|c| c.coupon_id == id)
                    .map(|c| CouponCard::of(c, None))
            });
            (Some(cards), picked)
        }
        None if picked_id.is_some() => return Ok(see_other(&format!("/kiosk/{store_id}"))),
        None => (None, None),
    };
    page(
        StatusCode::OK,
        &KioskPage {
            brand: BrandView::of(state, org).await?,
            store_id,
            store_name,
            idle: KIOSK_IDLE_SECONDS,
            coupons,
            picked,
            s,
        },
    )
}

/// `GET /kiosk/{store}`.
pub async fn show(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    render(&state, &session, path.into_inner(), None).await
}

/// `GET /kiosk/{store}/coupons/{id}`: the picked coupon's QR code for the cashier.
pub async fn coupon(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, WebError> {
    let (store, id) = path.into_inner();
    render(&state, &session, store, Some(id)).await
}

/// `GET /kiosk/{store}/leave`: forgets the customer (the "Done" button and the idle reload).
pub async fn leave(session: Session, path: web::Path<i64>) -> HttpResponse {
    Visitor(session).sign_out();
    see_other(&format!("/kiosk/{}", path.into_inner()))
}
