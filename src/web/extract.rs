//! Extractors and responders the console's handlers share: the offer named by the route, of the
//! user's org, for a user with the permission the handler needs; and a list page that answers
//! htmx with its table alone.

use crate::domain::ids::OfferId;
use crate::domain::user::Permission;
use crate::store::offers::OfferRecord;
use crate::web::auth::CurrentUser;
use crate::web::error::render;
use crate::web::{AppState, WebError, is_htmx};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::future::LocalBoxFuture;
use std::marker::PhantomData;

/// A permission a handler needs, as a type (`MyOffer<ToEdit>`).
pub trait Needs {
    const PERMISSION: Permission;
}

/// Reading offers (every role).
pub struct ToView;
/// Editing an offer's rules (admin, marketing, CSM).
pub struct ToEdit;
/// Managing offers: create, claim, generate, issue, upload (admin, marketing).
pub struct ToManage;
/// Serving customers: resend, revoke a customer's coupons (admin, marketing, CSM).
pub struct ToServe;

impl Needs for ToView {
    const PERMISSION: Permission = Permission::View;
}
impl Needs for ToEdit {
    const PERMISSION: Permission = Permission::EditOffers;
}
impl Needs for ToManage {
    const PERMISSION: Permission = Permission::ManageOffers;
}
impl Needs for ToServe {
    const PERMISSION: Permission = Permission::ServeCustomers;
}

/// The offer of the route's `{id}`, for a signed-in user who may `P`: a user without the
/// permission is answered 403 before anything is read, an offer of another org (or none) 404.
pub struct MyOffer<P> {
    pub user: CurrentUser,
    pub offer: OfferRecord,
    needs: PhantomData<P>,
}

impl<P: Needs + 'static> FromRequest for MyOffer<P> {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let user = CurrentUser::from_request(&req, payload);
        Box::pin(async move {
            let user = user.await?;
            user.require(P::PERMISSION)?;
            let id: OfferId = req
                .match_info()
                .get("id")
                .and_then(|s| s.parse().ok())
                .ok_or(WebError::NotFound)?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| WebError::Internal(anyhow::anyhow!("app state missing")))?;
            let offer = state.store.get_offer(user.org_id, id).await?;
            Ok(MyOffer {
                user,
                offer,
                needs: PhantomData,
            })
        })
    }
}

/// A list page: htmx (filters, paging) gets the table alone, a browser the whole page made
/// around it by `page`.
pub fn page_or_table<T: Template, P: Template>(
    req: &HttpRequest,
    table: T,
    page: impl FnOnce(T) -> P,
) -> Result<HttpResponse, WebError> {
    if is_htmx(req) {
        render(StatusCode::OK, &table)
    } else {
        render(StatusCode::OK, &page(table))
    }
}
