//! Validation, redemption and reversal over the API (API-3..5, RED-1..5): the bodies and
//! answers; the flow is `app::redeem`.

use super::coupons::CustomerIn;
use super::{ApiClient, ApiError, parse_body};
use crate::domain::redemption::{CodeOutcome, LineInput, RedeemRequest, Redeemed, parse_codes};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A cart line: amounts in minor units.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LineIn {
    #[serde(default)]
    pub sku: String,
    /// Category code of the org's catalog.
    #[serde(default)]
    pub category: Option<String>,
    /// Brand code of the org's catalog.
    #[serde(default)]
    pub brand: Option<String>,
    pub quantity: i64,
    pub unit_price: i64,
    #[serde(default)]
    pub on_sale: bool,
}

/// Validate (`transactionNumber` absent) or redeem a set of codes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedeemBody {
    #[serde(default)]
    pub transaction_number: Option<String>,
    /// The bill in minor units.
    pub bill_amount: i64,
    #[serde(default)]
    pub store_code: Option<String>,
    #[serde(default)]
    pub till_code: Option<String>,
    #[serde(default)]
    pub customer: Option<CustomerIn>,
    /// 1 to 50 codes.
    pub codes: Vec<String>,
    #[serde(default)]
    pub lines: Vec<LineIn>,
}

fn request_of(
    b: &RedeemBody,
    client: &ApiClient,
    needs_transaction: bool,
) -> Result<RedeemRequest, ApiError> {
    let transaction_number = b
        .transaction_number
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    if needs_transaction && (transaction_number.is_empty() || transaction_number.len() > 64) {
        return Err(ApiError::field(
            "transactionNumber",
            "is required: 1 to 64 characters",
        ));
    }
    if b.bill_amount < 0 {
        return Err(ApiError::field("billAmount", "must not be negative"));
    }
    let customer = b
        .customer
        .as_ref()
        .map(|c| c.parse("customer"))
        .transpose()?;
    let codes = parse_codes(&b.codes).map_err(|m| ApiError::field("codes", m))?;
    for (i, l) in b.lines.iter().enumerate() {
        if l.quantity < 0 || l.unit_price < 0 {
            return Err(ApiError::field(
                &format!("lines[{i}]"),
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
    Ok(RedeemRequest {
        org_id: client.key.org_id,
        transaction_number,
        bill_amount: b.bill_amount,
        bill_unknown: false,
        store_code: trim(&b.store_code),
        till_code: trim(&b.till_code),
        customer,
        codes,
        lines: b
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
    })
}

/// One code's validation answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CodeCheck {
    pub code: String,
    pub is_redeemable: bool,
    pub series_id: Option<i64>,
    /// The discount this cart would get, in minor units.
    pub discount: i64,
    pub valid_till: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<super::ErrorDetail>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    /// True when every code is redeemable.
    pub is_redeemable: bool,
    pub total_discount: i64,
    pub coupons: Vec<CodeCheck>,
}

fn check_of(o: &CodeOutcome) -> CodeCheck {
    CodeCheck {
        code: o.code.to_string(),
        is_redeemable: o.result.is_ok(),
        series_id: o.offer.as_ref().map(|f| f.id.get()),
        discount: o.result.clone().unwrap_or(0),
        valid_till: o.valid_till,
        error: o.result.as_ref().err().map(|r| super::ErrorDetail {
            code: r.code().to_string(),
            message: o.message(),
            field: None,
        }),
    }
}

async fn validation(state: &AppState, req: &RedeemRequest) -> Result<HttpResponse, ApiError> {
    let outcomes = crate::app::redeem::validate(&state.store, &state.api.offers, req).await?;
    let coupons: Vec<CodeCheck> = outcomes.iter().map(check_of).collect();
    Ok(HttpResponse::Ok().json(Validation {
        is_redeemable: coupons.iter().all(|c| c.is_redeemable),
        total_discount: coupons.iter().map(|c| c.discount).sum(),
        coupons,
    }))
}

/// Query of `is_redeemable`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedeemableQuery {
    /// One code, or several separated by commas.
    pub code: String,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub store_code: Option<String>,
    pub till_code: Option<String>,
    /// Bill in minor units (default 0: bill-amount rules then refuse).
    pub bill_amount: Option<i64>,
}

/// Is this code (are these codes) redeemable by this customer here and now (RED-1)? Writes
/// nothing.
#[utoipa::path(get, path = "/api/v2/coupon/is_redeemable", tag = "redemption", params(RedeemableQuery),
    responses((status = 200, body = Validation), (status = 400, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn is_redeemable(
    state: web::Data<AppState>,
    client: ApiClient,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q: RedeemableQuery = serde_html_form::from_str(req.query_string())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()))?;
    let customer = CustomerIn {
        first_name: None,
        mobile: q.mobile,
        email: q.email,
        external_id: q.external_id,
    };
    let has_customer =
        customer.mobile.is_some() || customer.email.is_some() || customer.external_id.is_some();
    let body = RedeemBody {
        transaction_number: None,
        bill_amount: q.bill_amount.unwrap_or(0),
        store_code: q.store_code,
        till_code: q.till_code,
        customer: has_customer.then_some(customer),
        codes: q.code.split(',').map(str::to_string).collect(),
        lines: Vec::new(),
    };
    let mut r = request_of(&body, &client, false)?;
    r.bill_unknown = q.bill_amount.is_none();
    validation(&state, &r).await
}

/// Validates codes against a cart (RED-1, RED-3): each code's discount or refusal. Writes
/// nothing.
#[utoipa::path(post, path = "/api/v2/coupon/validate", tag = "redemption", request_body = RedeemBody,
    responses((status = 200, body = Validation), (status = 400, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn validate(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: RedeemBody = parse_body(&body)?;
    let r = request_of(&b, &client, false)?;
    validation(&state, &r).await
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedeemedCode {
    pub code: String,
    pub series_id: i64,
    pub discount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedeemOut {
    pub transaction_number: String,
    pub redeemed_at: DateTime<Utc>,
    pub total_discount: i64,
    /// True when this transaction was redeemed before: this is its first result.
    pub replayed: bool,
    pub coupons: Vec<RedeemedCode>,
}

/// Redeems 1–50 codes in one transaction, all or nothing (RED-2); idempotent by transaction
/// number. Refusals: 404 unknown code, 409 already redeemed / cap or limit reached /
/// `transaction_reversed` (the transaction number was redeemed and reversed before), 422 any
/// other rule; the error names the code.
#[utoipa::path(post, path = "/api/v2/coupon/redeem", tag = "redemption", request_body = RedeemBody,
    responses((status = 200, body = RedeemOut), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn redeem(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: RedeemBody = parse_body(&body)?;
    let r = request_of(&b, &client, true)?;
    let answer = redeem_answer(&state, &r).await;
    let outcome = match &answer {
        Ok((_, replayed)) if *replayed => "replayed".to_string(),
        Ok(_) => "redeemed".to_string(),
        Err(e) => e.code.clone(),
    };
    crate::metrics::metrics()
        .redemptions
        .with_label_values(&[outcome.as_str()])
        .inc();
    answer.map(|(response, _)| response)
}

/// The answer to a parsed redeem call, and whether it replayed an earlier result.
async fn redeem_answer(
    state: &AppState,
    r: &RedeemRequest,
) -> Result<(HttpResponse, bool), ApiError> {
    match crate::app::redeem::redeem(&state.store, &state.api.offers, r).await? {
        Redeemed::Done {
            codes,
            redeemed_at,
            replay,
        } => Ok((
            HttpResponse::Ok().json(RedeemOut {
                transaction_number: r.transaction_number.clone(),
                redeemed_at,
                total_discount: codes.iter().map(|c| c.2).sum(),
                replayed: replay,
                coupons: codes
                    .into_iter()
                    .map(|(code, series_id, discount)| RedeemedCode {
                        code: code.into_string(),
                        series_id: series_id.get(),
                        discount,
                    })
                    .collect(),
            }),
            replay,
        )),
        Redeemed::Refused(o) => {
            let refusal = o.result.clone().err();
            let (code, message) = refusal
                .as_ref()
                .map(|r| (r.code(), o.message()))
                .unwrap_or(("refused", String::new()));
            let status = match &refusal {
                Some(crate::domain::redemption::Refusal::Rule(r)) if r.code() == "unknown_code" => {
                    StatusCode::NOT_FOUND
                }
                Some(crate::domain::redemption::Refusal::Rule(r)) if r.is_conflict() => {
                    StatusCode::CONFLICT
                }
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            Err(ApiError::new(
                status,
                code,
                format!("{}: {message}; nothing was redeemed", o.code),
            ))
        }
        Redeemed::TransactionReversed(codes) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "transaction_reversed",
            format!(
                "transaction {} was redeemed and then reversed ({}); nothing was redeemed now — use a new transaction number to redeem again",
                r.transaction_number,
                codes.join(", ")
            ),
        )),
        Redeemed::TransactionMismatch(codes) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "transaction_mismatch",
            format!(
                "transaction {} was already used with other codes ({})",
                r.transaction_number,
                codes.join(", ")
            ),
        )),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReverseBody {
    pub transaction_number: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReverseOut {
    pub transaction_number: String,
    pub reversed_codes: Vec<String>,
    /// True when the transaction had been reversed before (nothing changed now).
    pub already_reversed: bool,
}

/// Reverses a transaction's redemptions (RED-4): counts and caps are restored; revoked or
/// expired coupons do not come back into use.
#[utoipa::path(post, path = "/api/v2/coupon/reverse", tag = "redemption", request_body = ReverseBody,
    responses((status = 200, body = ReverseOut), (status = 404, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reverse(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: ReverseBody = parse_body(&body)?;
    let txn = b.transaction_number.trim();
    if txn.is_empty() {
        return Err(ApiError::field("transactionNumber", "is required"));
    }
    match crate::app::redeem::reverse(&state.store, client.key.org_id, txn).await {
        Ok(r) => Ok(HttpResponse::Ok().json(ReverseOut {
            transaction_number: txn.to_string(),
            reversed_codes: r.codes,
            already_reversed: r.already,
        })),
        Err(crate::store::StoreError::NotFound) => Err(ApiError::not_found("transaction")),
        Err(e) => Err(e.into()),
    }
}
