//! `PUT /api/v2/carts/{cartId}` (PRM-1): a till's cart evaluated against the live promotions
//! and the coupons it names (`open`), closed exactly once (`closed`), or cancelled. The flow is
//! `app::cart`.

use super::coupons::CustomerIn;
use super::{ApiClient, ApiError, parse_body};
use crate::app::cart::{CartAnswer, CartError, CartInput, CartState};
use crate::domain::masters::MasterCode;
use crate::domain::products::Sku;
use crate::domain::promotion::CartLine;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Most lines a cart may have.
const MAX_LINES: usize = 500;
/// Most codes a cart may name.
const MAX_CODES: usize = 50;
/// Most units on one line.
const MAX_QUANTITY: i64 = 1_000_000;
/// Highest unit price, in minor units (a line's amount then stays far inside `i64`).
const MAX_UNIT_PRICE: i64 = 1_000_000_000_000;

/// A cart line; amounts in minor units. Category, brand and attributes, when not given, are
/// looked up in the catalogue by SKU (`PUT /api/v2/products`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CartLineIn {
    pub sku: String,
    pub quantity: i64,
    pub unit_price: i64,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// A cart as a till or a shop sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CartBody {
    /// `open` (evaluate, no side effect), `closed` (commit, once per cart id) or `cancelled`.
    pub state: String,
    #[serde(default)]
    pub store_code: Option<String>,
    #[serde(default)]
    pub till_code: Option<String>,
    #[serde(default)]
    pub customer: Option<CustomerIn>,
    /// How the customer pays (`card`, `cash`, `upi` …), for payment-mode promotions.
    #[serde(default)]
    pub payment_mode: Option<String>,
    /// Gift vouchers applied to the cart, for gift-voucher promotions.
    #[serde(default)]
    pub gift_vouchers: Vec<String>,
    /// Promotion codes and coupon codes, up to 50.
    #[serde(default)]
    pub codes: Vec<String>,
    pub lines: Vec<CartLineIn>,
}

fn input_of(cart_id: &str, b: CartBody, client: &ApiClient) -> Result<CartInput, ApiError> {
    let cart_id = cart_id.trim();
    if cart_id.is_empty() || cart_id.len() > 64 {
        return Err(ApiError::field("cartId", "is required: 1 to 64 characters"));
    }
    let state = match b.state.trim() {
        "open" => CartState::Open,
        "closed" => CartState::Closed,
        "cancelled" => CartState::Cancelled,
        other => {
            return Err(ApiError::field(
                "state",
                format!("must be open, closed or cancelled (got {other:?})"),
            ));
        }
    };
    if b.lines.len() > MAX_LINES {
        return Err(ApiError::field(
            "lines",
            format!("at most {MAX_LINES} lines"),
        ));
    }
    if b.codes.len() > MAX_CODES {
        return Err(ApiError::field(
            "codes",
            format!("at most {MAX_CODES} codes"),
        ));
    }
    for (i, l) in b.lines.iter().enumerate() {
        if l.sku.trim().is_empty() {
            return Err(ApiError::field(&format!("lines[{i}].sku"), "is required"));
        }
        if l.sku.trim().chars().count() > Sku::MAX_LEN {
            return Err(ApiError::field(
                &format!("lines[{i}].sku"),
                format!("must be at most {} characters", Sku::MAX_LEN),
            ));
        }
        if !(1..=MAX_QUANTITY).contains(&l.quantity) {
            return Err(ApiError::field(
                &format!("lines[{i}].quantity"),
                "must be from 1 to 1,000,000",
            ));
        }
        if !(0..=MAX_UNIT_PRICE).contains(&l.unit_price) {
            return Err(ApiError::field(
                &format!("lines[{i}].unitPrice"),
                "must be from 0 to 1,000,000,000,000 minor units",
            ));
        }
    }
    for (i, c) in b.codes.iter().enumerate() {
        if c.trim().is_empty() {
            return Err(ApiError::field(&format!("codes[{i}]"), "is blank"));
        }
    }
    let trim = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    for (field, code) in [("storeCode", &b.store_code), ("tillCode", &b.till_code)] {
        if code
            .as_ref()
            .is_some_and(|c| c.trim().chars().count() > MasterCode::MAX_LEN)
        {
            return Err(ApiError::field(
                field,
                format!("must be at most {} characters", MasterCode::MAX_LEN),
            ));
        }
    }
    Ok(CartInput {
        org_id: client.key.org_id,
        cart_id: cart_id.to_string(),
        state,
        store_code: trim(b.store_code).map(|s| s.to_uppercase()),
        till_code: trim(b.till_code),
        customer: b
            .customer
            .as_ref()
            .map(|c| c.parse("customer"))
            .transpose()?,
        payment_mode: trim(b.payment_mode).map(|s| s.to_lowercase()),
        gift_vouchers: b.gift_vouchers,
        codes: b.codes.iter().map(|c| c.trim().to_string()).collect(),
        lines: b
            .lines
            .into_iter()
            .map(|l| CartLine {
                sku: l.sku.trim().to_string(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                category: trim(l.category),
                brand: trim(l.brand),
                attributes: l.attributes,
            })
            .collect(),
        api_key_id: Some(client.key.id),
        consumer_id: client.key.consumer_id,
    })
}

/// Evaluates (`open`), closes (`closed`) or cancels (`cancelled`) a cart. `open` writes
/// nothing and may be called any number of times. `closed` records the coupon redemptions
/// (the cart id is their transaction number) and the promotions' uses once: a retried close
/// answers the first result with `replayed: true`; a promotion that lost the race for its last
/// use is left out and listed in `dropped`. `cancelled` after `closed` reverses all of it; a
/// cancelled cart cannot be closed (409 `cart_cancelled`).
#[utoipa::path(put, path = "/api/v2/carts/{cartId}", tag = "carts", request_body = CartBody,
    params(("cartId" = String, Path, description = "the till's id for this cart, 1 to 64 characters")),
    responses((status = 200, body = CartAnswer), (status = 400, body = super::ErrorBody),
        (status = 409, description = "the cart was cancelled", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: CartBody = parse_body(&body)?;
    let input = input_of(&path, b, &client)?;
    match crate::app::cart::cart(&state.store, &state.api.offers, &state.api.carts, &input).await {
        Ok(answer) => Ok(HttpResponse::Ok().json(answer)),
        Err(CartError::Cancelled) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "cart_cancelled",
            "this cart was cancelled; use a new cart id",
        )),
        Err(CartError::Store(e)) => Err(e.into()),
    }
}
