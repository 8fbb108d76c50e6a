//! `/wallet`: the customer's coupons — active ones with the discount in words, expiry, where
//! they can be used, a QR code and the code in large type; used, expired, revoked and shared
//! ones in a history section. A guest sees the coupons of their browser session and is
//! offered to sign in to keep them.

use super::Visitor;
use super::pages::{BrandView, notice, page};
use super::sign_in::SignInForm;
use crate::domain::ids::{CustomerId, OrgId};
use crate::domain::wallet::WalletCoupon;
use crate::state::AppState;
use crate::web::WebError;
use crate::web::csrf;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

/// A coupon as the wallet shows it.
pub struct CouponCard {
    pub id: i64,
    pub code: String,
    pub offer_name: String,
    pub discount: String,
    pub expiry: String,
    pub where_words: String,
    pub qr: String,
    pub shareable: bool,
    pub state: String,
    /// Just added (the link's coupon).
    pub fresh: bool,
}

impl CouponCard {
    pub fn of(c: &WalletCoupon, fresh: Option<i64>) -> CouponCard {
        CouponCard {
            id: c.coupon_id,
            code: c.code.clone(),
            offer_name: c.offer_name.clone(),
            discount: c.discount_words.clone(),
            expiry: match c.valid_till {
                Some(d) => format!(
                    "Valid till {}",
                    crate::domain::offer::describe::date_text(d)
                ),
                None => "No expiry date".into(),
            },
            where_words: c.where_words.clone(),
            qr: crate::web::qr::svg(&c.code).unwrap_or_default(),
            shareable: c.shareable,
            state: c.state.label().to_string(),
            fresh: fresh == Some(c.coupon_id),
        }
    }
}

#[derive(Template)]
#[template(path = "customer/wallet.html")]
struct WalletPage {
    brand: BrandView,
    /// Who is signed in (their own number or email), empty for a guest.
    signed_as: String,
    active: Vec<CouponCard>,
    history: Vec<CouponCard>,
    flash: String,
    csrf: String,
    /// A guest's page offers signing in.
    s: Option<SignInForm>,
}

#[derive(Deserialize)]
pub struct WalletQuery {
    #[serde(default)]
    brand: String,
    got: Option<i64>,
    had: Option<i64>,
}

/// `GET /wallet`.
pub async fn show(
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<WalletQuery>,
) -> Result<HttpResponse, WebError> {
    let visitor = Visitor(session.clone());
    let csrf = csrf::token(&session);
    let flash = match (q.got, q.had) {
        (Some(_), _) => "The coupon is in your wallet.".to_string(),
        (_, Some(_)) => "You already have this coupon — here it is.".to_string(),
        _ => String::new(),
    };
    let fresh = q.got.or(q.had);
    if let Some((org, customer)) = visitor.signed_in() {
        let who = state.store.customer_ref(org, customer).await?;
        return wallet_page(&state, org, customer, who.value, flash, fresh, csrf, None).await;
    }
    let org = match state.store.org_for_pages(&q.brand).await? {
        Some(org) => org,
        None => match guest_org(&visitor) {
            Some(org) => org,
            None => {
                return notice(
                    StatusCode::NOT_FOUND,
                    None,
                    "Open your wallet from your brand's link",
                    "This address serves several brands. Open the link or QR code your brand gave you to see your coupons.",
                );
            }
        },
    };
    let s = SignInForm::new(
        org,
        "/wallet",
        csrf.clone(),
        "Sign in to your wallet",
        "Enter your mobile number or email; we send you a code to confirm it.",
    );
    match visitor.guest(org) {
        Some(guest) => {
            let mut s = s;
            s.heading = "Keep these coupons".into();
            s.lead = "These coupons are kept in this browser session only. Sign in with your mobile number or email to keep them in your wallet.".into();
            wallet_page(
                &state,
                org,
                guest,
                String::new(),
                flash,
                fresh,
                csrf,
                Some(s),
            )
            .await
        }
        None => {
            let brand = BrandView::of(&state, org).await?;
            page(
                StatusCode::OK,
                &WalletPage {
                    brand,
                    signed_as: String::new(),
                    active: Vec::new(),
                    history: Vec::new(),
                    flash,
                    csrf,
                    s: Some(s),
                },
            )
        }
    }
}

fn guest_org(visitor: &Visitor) -> Option<OrgId> {
    visitor.0.get::<i64>("guest_org").ok().flatten().map(OrgId)
}

#[allow(clippy::too_many_arguments)]
async fn wallet_page(
    state: &AppState,
    org: OrgId,
    customer: CustomerId,
    signed_as: String,
    flash: String,
    fresh: Option<i64>,
    csrf: String,
    s: Option<SignInForm>,
) -> Result<HttpResponse, WebError> {
    let wallet = crate::app::wallet::wallet(&state.store, org, customer, Utc::now()).await?;
    let tpl = WalletPage {
        brand: BrandView::of(state, org).await?,
        signed_as,
        active: wallet
            .active
            .iter()
            .map(|c| CouponCard::of(c, fresh))
            .collect(),
        history: wallet
            .history
            .iter()
            .map(|c| CouponCard::of(c, None))
            .collect(),
        flash,
        csrf,
        s,
    };
    page(StatusCode::OK, &tpl)
}
