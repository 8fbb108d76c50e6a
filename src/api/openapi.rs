//! The OpenAPI description of `/api/v2`, generated from the handlers and types.

use super::{
    carts, claims, coupons, customers, holds, ping, promotions, redemption, revoke, series, wallet,
};
use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "offerdesk integration API", version = "2",
        description = "Offers (coupon series), issuing, validation, redemption and reversal. \
            Authenticate with `Authorization: Bearer <API key>`. Errors are `{\"error\":{\"code\",\"message\",\"field\"?}}`. \
            Amounts are integers in the currency's minor units."),
    paths(series::create, series::get, series::list, coupons::issue, coupons::bulk_issue,
        coupons::issue_multiple, redemption::is_redeemable, redemption::validate, redemption::redeem,
        redemption::reverse, coupons::details, coupons::upload, coupons::job,
        claims::claim, revoke::revoke, ping::ping, carts::put, promotions::create,
        promotions::list, promotions::get, promotions::update, promotions::set_status, promotions::put_products,
        promotions::delete_product, promotions::put_tags,
        customers::put_contacts,
        wallet::list, wallet::check, holds::post_events, holds::post_reward),
    modifiers(&Bearer),
    tags((name = "series", description = "Offers (coupon series)"),
        (name = "coupons", description = "Issuing and coupon details"),
        (name = "redemption", description = "Validate, redeem, reverse"),
        (name = "carts", description = "Carts: promotions and coupons applied together"),
        (name = "promotions", description = "Cart promotions, the product catalogue, customer tiers and segments"),
        (name = "wallet", description = "A customer's coupons at the till and the kiosk"))
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/v2/openapi.json` (no key needed: it describes, it does not reveal).
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
