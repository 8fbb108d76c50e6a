//! The till's and the kiosk's view of a customer's wallet (issue #18 item 7, seed 004: "the
//! salesperson will see coupons in his wallet and will offer to use it"):
//! `GET /api/v2/customers/wallet?mobile=…` (or `email=`, `externalId=`; exactly one) lists
//! the customer's usable coupons, best first, each with the code the till redeems;
//! `POST /api/v2/customers/wallet` with a customer and a cart says for each of them whether it
//! applies to that cart, with its discount, or why not. Nothing is written. A customer the org
//! does not know answers 200 with no coupons, the same as a customer without any. The flow is
//! `app::wallet`; the order `domain::wallet::best_first`.

use super::coupons::{CustomerIn, CustomerOut};
use super::redemption::LineIn;
use super::{ApiClient, ApiError, ErrorDetail, parse_body};
use crate::app::wallet::CartCheck;
use crate::domain::issue::CustomerRef;
use crate::domain::offer::Discount;
use crate::domain::redemption::{LineInput, RedeemRequest};
use crate::domain::wallet::WalletCoupon;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The customer whose wallet is asked for: exactly one identifier.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WalletQuery {
    /// A mobile number (8 to 15 digits, optionally starting with +; spaces and dashes are
    /// ignored). URL-encode the `+` as `%2B`.
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub external_id: Option<String>,
}

/// The customer, named by exactly one identifier.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WalletCustomerIn {
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
}

/// The cart as the validate and redeem calls take it (amounts in minor units).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WalletCartIn {
    /// The bill in minor units.
    pub bill_amount: i64,
    #[serde(default)]
    pub store_code: Option<String>,
    #[serde(default)]
    pub till_code: Option<String>,
    #[serde(default)]
    pub lines: Vec<LineIn>,
}

/// Which of the customer's coupons apply to this cart.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WalletCartBody {
    pub customer: WalletCustomerIn,
    pub cart: WalletCartIn,
}

/// A usable coupon of the customer's.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalletCouponOut {
    /// What the till redeems (`POST /coupon/redeem`); for a common-code offer, its common code.
    pub code: String,
    pub offer_id: i64,
    pub offer_name: String,
    /// ABS (amount) or PERC (percentage).
    pub discount_type: String,
    /// ABS: minor units; PERC: percent (12.5 = 12.5%).
    #[schema(value_type = f64)]
    pub discount_value: serde_json::Number,
    /// For PERC: the most one redemption gives, in minor units.
    pub discount_cap: Option<i64>,
    /// "15% off, at most ₹500".
    pub discount_words: String,
    /// The last day it can be used (its own, or the offer's end if earlier); absent: no end.
    pub valid_till: Option<NaiveDate>,
    /// Set when it can be redeemed only from a later day.
    pub redeemable_from: Option<NaiveDate>,
    /// Where it can be used: "at any store", "at stores Andheri and Bandra".
    pub where_words: String,
    /// A common code (everyone of the offer's customers uses the same code).
    pub common: bool,
    /// The offer's point-of-sale code, for the cashier.
    pub pos_code: Option<String>,
    pub issued_at: DateTime<Utc>,
}

/// `GET`: the customer's usable coupons, best first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalletOut {
    pub customer: CustomerOut,
    pub coupons: Vec<WalletCouponOut>,
}

/// One coupon against the cart.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalletCartCoupon {
    #[serde(flatten)]
    pub coupon: WalletCouponOut,
    /// Whether redeeming it with this cart would succeed now.
    pub applies: bool,
    /// The discount it would give this cart, in minor units (0 when it does not apply).
    pub discount: i64,
    /// Why it does not apply: the stable code and message of the validate call's refusal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<ErrorDetail>,
}

/// `POST`: the customer's usable coupons against the cart; those that apply first, the larger
/// discount first, then the others best first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalletCartOut {
    pub customer: CustomerOut,
    pub coupons: Vec<WalletCartCoupon>,
}

fn coupon_out(c: &WalletCoupon) -> WalletCouponOut {
    let (discount_type, discount_value, discount_cap) = match c.discount {
        Discount::Fixed { amount } => ("ABS", serde_json::Number::from(amount), None),
        Discount::Percent { basis_points, cap } => (
            "PERC",
            if basis_points % 100 == 0 {
                serde_json::Number::from(basis_points / 100)
            } else {
                serde_json::Number::from_f64(basis_points as f64 / 100.0)
                    .unwrap_or_else(|| serde_json::Number::from(0))
            },
            cap,
        ),
    };
    WalletCouponOut {
        code: c.code.clone(),
        offer_id: c.offer_id.get(),
        offer_name: c.offer_name.clone(),
        discount_type: discount_type.into(),
        discount_value,
        discount_cap,
        discount_words: c.discount_words.clone(),
        valid_till: c.valid_till,
        redeemable_from: c.redeemable_from,
        where_words: c.where_words.clone(),
        common: c.common,
        pos_code: c.pos_code.clone(),
        issued_at: c.issued_at,
    }
}

/// The one identifier given, normalised; 400 naming `prefix`+field otherwise.
fn customer_of(
    mobile: &Option<String>,
    email: &Option<String>,
    external_id: &Option<String>,
    prefix: &str,
) -> Result<CustomerRef, ApiError> {
    let c = CustomerIn {
        mobile: mobile.clone(),
        email: email.clone(),
        external_id: external_id.clone(),
        first_name: None,
    };
    c.parse("customer").map_err(|mut e| {
        // `customer.mobile` → `{prefix}mobile`
        // (none or two given: the whole customer; a query has no field to name then).
        e.field = e.field.and_then(|f| match f.strip_prefix("customer.") {
            Some(name) => Some(format!("{prefix}{name}")),
            None if prefix.is_empty() => None,
            None => Some(prefix.trim_end_matches('.').to_string()),
        });
        e
    })
}

/// The customer's usable coupons — unique and common codes, each with the code to redeem —
/// best first: coupons usable today before those that start later; fixed amounts before
/// percentages; larger amounts, then larger percentages (uncapped, then larger caps) first;
/// ties by the earliest last day. An unknown customer answers 200 with no coupons. Writes
/// nothing.
#[utoipa::path(get, path = "/api/v2/customers/wallet", tag = "wallet", params(WalletQuery),
    responses((status = 200, body = WalletOut), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    client: ApiClient,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q: WalletQuery = serde_html_form::from_str(req.query_string())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()))?;
    let customer = customer_of(&q.mobile, &q.email, &q.external_id, "")?;
    let org_id = client.key.org_id;
    let coupons = match crate::app::wallet::customer_by_ref(&state.store, org_id, &customer).await?
    {
        Some(id) => crate::app::wallet::wallet(&state.store, org_id, id, Utc::now())
            .await?
            .active
            .iter()
            .map(coupon_out)
            .collect(),
        None => Vec::new(),
    };
    Ok(HttpResponse::Ok().json(WalletOut {
        customer: CustomerOut::from(&customer),
        coupons,
    }))
}

/// For each of the customer's usable coupons: whether it applies to this cart, the discount it
/// would give, or why not (the refusal's stable code and message, as `POST /coupon/validate`
/// answers them). Coupons that apply come first, the larger discount first; the others follow
/// best first. Each coupon is checked on its own (not combined with the others). An unknown
/// customer answers 200 with no coupons. Nothing is redeemed or reserved.
#[utoipa::path(post, path = "/api/v2/customers/wallet", tag = "wallet", request_body = WalletCartBody,
    responses((status = 200, body = WalletCartOut), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn check(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: WalletCartBody = parse_body(&body)?;
    let c = &b.customer;
    let customer = customer_of(&c.mobile, &c.email, &c.external_id, "customer.")?;
    let cart = &b.cart;
    if cart.bill_amount < 0 {
        return Err(ApiError::field("cart.billAmount", "must not be negative"));
    }
    for (i, l) in cart.lines.iter().enumerate() {
        if l.quantity < 0 || l.unit_price < 0 {
            return Err(ApiError::field(
                &format!("cart.lines[{i}]"),
                "quantity and unitPrice must not be negative",
            ));
        }
    }
    let trim = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let org_id = client.key.org_id;
    let request = RedeemRequest {
        org_id,
        transaction_number: String::new(),
        bill_amount: cart.bill_amount,
        bill_unknown: false,
        store_code: trim(&cart.store_code),
        till_code: trim(&cart.till_code),
        customer: Some(customer.clone()),
        codes: Vec::new(),
        lines: cart
            .lines
            .iter()
            .map(|l| LineInput {
                sku: l.sku.clone(),
                category: l.category.clone(),
                brand: l.brand.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                on_sale: l.on_sale,
            })
            .collect(),
        api_key_id: Some(client.key.id),
        consumer_id: client.key.consumer_id,
    };
    let checks: Vec<CartCheck> =
        match crate::app::wallet::customer_by_ref(&state.store, org_id, &customer).await? {
            Some(id) => {
                crate::app::wallet::check_cart(
                    &state.store,
                    &state.api.offers,
                    &request,
                    id,
                    Utc::now(),
                )
                .await?
            }
            None => Vec::new(),
        };
    let coupons = checks
        .iter()
        .map(|c| WalletCartCoupon {
            coupon: coupon_out(&c.coupon),
            applies: c.outcome.result.is_ok(),
            discount: c.outcome.result.clone().unwrap_or(0),
            reason: c.outcome.result.as_ref().err().map(|r| ErrorDetail {
                code: r.code().to_string(),
                message: c.outcome.message(),
                field: None,
            }),
        })
        .collect();
    Ok(HttpResponse::Ok().json(WalletCartOut {
        customer: CustomerOut::from(&customer),
        coupons,
    }))
}
