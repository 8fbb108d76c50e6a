//! Coupons over the API: issue (API-2), validate (API-3), redeem and reverse (API-4), details
//! (API-5).

use super::{ApiClient, ApiError, parse_body};
use crate::domain::issue::{CustomerRef, IssueRefusal};
use crate::domain::masters::IdentifierType;
use crate::domain::redemption::{CodeOutcome, LineInput, RedeemRequest, Redeemed, parse_codes};
use crate::state::AppState;
use crate::store::issue::{IssueOutcome, IssueSource};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A customer, named by exactly one identifier.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomerIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The customer's first name, kept for `{first_name}` in messages (when issuing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
}

impl CustomerIn {
    /// The first name given, checked (at most 100 characters).
    pub fn first_name(&self, field: &str) -> Result<Option<String>, ApiError> {
        match self.first_name.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(n) if n.chars().count() > 100 => Err(ApiError::field(
                &format!("{field}.firstName"),
                "at most 100 characters",
            )),
            Some(n) => Ok(Some(n.to_string())),
        }
    }

    /// The one identifier given, normalised; 400 naming `field` otherwise.
    pub fn parse(&self, field: &str) -> Result<CustomerRef, ApiError> {
        let given: Vec<(IdentifierType, &String, &str)> = [
            (IdentifierType::Mobile, &self.mobile, "mobile"),
            (IdentifierType::Email, &self.email, "email"),
            (IdentifierType::ExternalId, &self.external_id, "externalId"),
        ]
        .into_iter()
        .filter_map(|(k, v, name)| v.as_ref().map(|v| (k, v, name)))
        .collect();
        match given.as_slice() {
            [(kind, value, name)] => CustomerRef::parse(*kind, value)
                .map_err(|m| ApiError::field(&format!("{field}.{name}"), m)),
            [] => Err(ApiError::field(
                field,
                "give the customer's mobile, email or externalId",
            )),
            _ => Err(ApiError::field(
                field,
                "give exactly one of mobile, email or externalId",
            )),
        }
    }
}

/// The customer as answered: the kind of identifier and its normalised value.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerOut {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

impl From<&CustomerRef> for CustomerOut {
    fn from(c: &CustomerRef) -> Self {
        CustomerOut {
            kind: c.kind.as_str().to_string(),
            value: c.value.clone(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IssueBody {
    pub series_id: i64,
    pub customer: CustomerIn,
}

/// An issued coupon.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuedOut {
    pub code: String,
    pub series_id: i64,
    /// The coupon's last valid day (org calendar); null when it does not expire.
    pub valid_till: Option<NaiveDate>,
    pub customer: CustomerOut,
}

fn issue_error(r: &IssueRefusal) -> ApiError {
    let status = match r {
        IssueRefusal::TotalCap(_)
        | IssueRefusal::NoCodesLeft(_)
        | IssueRefusal::MaxPerCustomer(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, r.code(), r.to_string())
}

fn source_of(client: &ApiClient) -> (IssueSource, crate::domain::user::Actor) {
    let label = format!("API key {}", client.key.name);
    (
        IssueSource {
            label: label.clone(),
            consumer: client.key.consumer_id,
        },
        crate::domain::user::Actor::system(&label),
    )
}

async fn issue_to(
    state: &AppState,
    client: &ApiClient,
    series_id: i64,
    customer: &CustomerRef,
    count: usize,
) -> Result<Vec<IssueOutcome>, ApiError> {
    let ctx = state
        .store
        .issue_context(client.key.org_id, series_id)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => ApiError::not_found("series"),
            e => e.into(),
        })?;
    let (source, actor) = source_of(client);
    let rows = vec![customer.clone(); count];
    Ok(state.store.issue_many(&ctx, &rows, &source, &actor).await?)
}

/// Issues a coupon of one offer to one customer (ISS-1, ISS-2).
#[utoipa::path(post, path = "/api/v2/coupon/issue", tag = "coupons", request_body = IssueBody,
    responses((status = 200, body = IssuedOut), (status = 404, body = super::ErrorBody),
        (status = 409, description = "cap reached, no codes left, max per customer", body = super::ErrorBody),
        (status = 422, description = "an issue rule refused", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: IssueBody = parse_body(&body)?;
    let customer = b.customer.parse("customer")?;
    let first_name = b.customer.first_name("customer")?;
    let outcome = issue_to(&state, &client, b.series_id, &customer, 1)
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("series"))?;
    if outcome.is_ok() {
        remember_name(&state, &client, &customer, first_name).await?;
    }
    match outcome {
        Ok(i) => Ok(HttpResponse::Ok().json(IssuedOut {
            code: i.code,
            series_id: b.series_id,
            valid_till: i.valid_till,
            customer: (&customer).into(),
        })),
        Err(r) => Err(issue_error(&r)),
    }
}

/// Keeps the customer's first name when one was sent.
async fn remember_name(
    state: &AppState,
    client: &ApiClient,
    customer: &CustomerRef,
    first_name: Option<String>,
) -> Result<(), ApiError> {
    if let Some(name) = first_name {
        state
            .store
            .set_first_names(client.key.org_id, &[(customer.clone(), name)])
            .await?;
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BulkIssueBody {
    /// Offers to issue, one coupon of each.
    pub series_ids: Vec<i64>,
    pub customer: CustomerIn,
}

/// One offer's result in a bulk or multiple issue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssueResult {
    pub series_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_till: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<super::ErrorDetail>,
}

impl IssueResult {
    fn of(series_id: i64, outcome: Result<IssueOutcome, ApiError>) -> IssueResult {
        let (code, valid_till, error) = match outcome {
            Ok(Ok(i)) => (Some(i.code), i.valid_till, None),
            Ok(Err(r)) => (None, None, Some(issue_error(&r))),
            Err(e) => (None, None, Some(e)),
        };
        IssueResult {
            series_id,
            code,
            valid_till,
            error: error.map(|e| super::ErrorDetail {
                code: e.code,
                message: e.message,
                field: e.field,
            }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssueResults {
    pub customer: CustomerOut,
    pub results: Vec<IssueResult>,
}

/// Issues one coupon of each of several offers to one customer; each offer answers on its own.
#[utoipa::path(post, path = "/api/v2/coupon/bulk/issue", tag = "coupons", request_body = BulkIssueBody,
    responses((status = 200, body = IssueResults), (status = 400, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn bulk_issue(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: BulkIssueBody = parse_body(&body)?;
    let customer = b.customer.parse("customer")?;
    remember_name(
        &state,
        &client,
        &customer,
        b.customer.first_name("customer")?,
    )
    .await?;
    if b.series_ids.is_empty() || b.series_ids.len() > 50 {
        return Err(ApiError::field("seriesIds", "give 1 to 50 series ids"));
    }
    let mut results = Vec::with_capacity(b.series_ids.len());
    for id in &b.series_ids {
        let outcome = issue_to(&state, &client, *id, &customer, 1)
            .await
            .and_then(|mut v| v.pop().ok_or_else(|| ApiError::not_found("series")));
        results.push(IssueResult::of(*id, outcome));
    }
    Ok(HttpResponse::Ok().json(IssueResults {
        customer: (&customer).into(),
        results,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MultipleIssueBody {
    pub series_id: i64,
    pub customer: CustomerIn,
    /// 1 to 500 coupons.
    pub count: i64,
}

/// Issues up to 500 coupons of one offer to one customer in one transaction; each is decided
/// on every issue rule (a per-customer max stops the rest).
#[utoipa::path(post, path = "/api/v2/coupon/issue/multiple", tag = "coupons", request_body = MultipleIssueBody,
    responses((status = 200, body = IssueResults), (status = 404, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue_multiple(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: MultipleIssueBody = parse_body(&body)?;
    let customer = b.customer.parse("customer")?;
    remember_name(
        &state,
        &client,
        &customer,
        b.customer.first_name("customer")?,
    )
    .await?;
    if !(1..=500).contains(&b.count) {
        return Err(ApiError::field("count", "must be from 1 to 500"));
    }
    let outcomes = issue_to(&state, &client, b.series_id, &customer, b.count as usize).await?;
    Ok(HttpResponse::Ok().json(IssueResults {
        customer: (&customer).into(),
        results: outcomes
            .into_iter()
            .map(|o| IssueResult::of(b.series_id, Ok(o)))
            .collect(),
    }))
}

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
        code: o.code.clone(),
        is_redeemable: o.result.is_ok(),
        series_id: o.offer.as_ref().map(|f| f.id),
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
                        code,
                        series_id,
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

/// Query of coupon details: codes, or a customer.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DetailsQuery {
    /// Codes separated by commas (at most 50).
    pub codes: Option<String>,
    /// A customer: mobile, email or external id (the kind is recognised).
    pub customer: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponOut {
    pub code: String,
    pub series_id: i64,
    pub series_name: String,
    /// unissued, issued, redeemed, revoked or expired.
    pub status: String,
    pub customer: Option<CustomerOut>,
    pub issued_at: Option<DateTime<Utc>>,
    pub valid_till: Option<NaiveDate>,
    pub redeem_count: i64,
    pub redeemed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponsOut {
    pub coupons: Vec<CouponOut>,
}

/// A customer named in a query by its value alone.
fn guess_customer(raw: &str) -> Result<CustomerRef, ApiError> {
    let kind = if raw.contains('@') {
        IdentifierType::Email
    } else if IdentifierType::Mobile.normalise(raw).is_ok() {
        IdentifierType::Mobile
    } else {
        IdentifierType::ExternalId
    };
    CustomerRef::parse(kind, raw).map_err(|m| ApiError::field("customer", m))
}

/// Coupon details by codes, or a customer's coupons (API-5).
#[utoipa::path(get, path = "/api/v2/coupon", tag = "coupons", params(DetailsQuery),
    responses((status = 200, body = CouponsOut), (status = 400, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn details(
    state: web::Data<AppState>,
    client: ApiClient,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q: DetailsQuery = serde_html_form::from_str(req.query_string())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()))?;
    let org = client.key.org_id;
    let rows = if let Some(codes) = &q.codes {
        let codes = parse_codes(&codes.split(',').map(str::to_string).collect::<Vec<_>>())
            .map_err(|m| ApiError::field("codes", m))?;
        state.store.coupons_by_codes(org, &codes).await?
    } else {
        let named = CustomerIn {
            first_name: None,
            mobile: q.mobile,
            email: q.email,
            external_id: q.external_id,
        };
        let customer = match &q.customer {
            Some(raw) => guess_customer(raw)?,
            None => named.parse("customer")?,
        };
        state.store.coupons_of_customer(org, &customer).await?
    };
    Ok(HttpResponse::Ok().json(CouponsOut {
        coupons: rows
            .into_iter()
            .map(|c| CouponOut {
                status: c.shown_status().to_string(),
                customer: c.customer().as_ref().map(|cr| cr.into()),
                code: c.code,
                series_id: c.offer_id,
                series_name: c.offer_name,
                issued_at: c.issued_at,
                valid_till: c.valid_till,
                redeem_count: c.redeem_count,
                redeemed_at: c.redeemed_at,
            })
            .collect(),
    }))
}

/// One existing code, optionally with the customer it is issued to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UploadItem {
    pub code: String,
    #[serde(default)]
    pub customer: Option<CustomerIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UploadBody {
    pub series_id: i64,
    /// 1 to 100,000 codes; with customers when the offer takes codes with customers.
    pub codes: Vec<UploadItem>,
}

/// A background job (uploads), as the API reports it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobOut {
    pub job_id: i64,
    pub series_id: i64,
    /// queued, running, done or failed.
    pub status: String,
    pub summary: Option<String>,
    /// For a refused upload: every bad item by its line (line 2 is `codes[0]`).
    pub error: Option<String>,
}

impl From<crate::store::jobs::JobRow> for JobOut {
    fn from(j: crate::store::jobs::JobRow) -> Self {
        JobOut {
            job_id: j.id,
            series_id: j.offer_id,
            status: j.status,
            summary: j.summary,
            error: j.error,
        }
    }
}

/// Uploads existing codes (COD-3), all or nothing: every bad code (blank, malformed, repeated,
/// already in the org, bad customer) is reported and nothing is applied. Runs as the console's
/// upload job; the answer waits for it up to 30 s (then 202 with the job to poll).
#[utoipa::path(post, path = "/api/v2/coupon/upload", tag = "coupons", request_body = UploadBody,
    responses((status = 200, body = JobOut), (status = 202, description = "still running: poll /api/v2/jobs/{id}", body = JobOut),
        (status = 422, description = "bad lines; nothing applied", body = JobOut), (status = 404, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn upload(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    use crate::domain::offer::Generation;
    use crate::store::jobs::JobKind;
    let b: UploadBody = parse_body(&body)?;
    if b.codes.is_empty() || b.codes.len() > 100_000 {
        return Err(ApiError::field("codes", "give 1 to 100,000 codes"));
    }
    let org = client.key.org_id;
    let offer = state
        .store
        .get_offer(org, b.series_id)
        .await
        .map_err(|_| ApiError::not_found("series"))?;
    let Generation::Upload { with_customers } = offer.rules.generation else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_an_upload_offer",
            "only offers with uploaded codes (codeType UPLOAD) take code uploads",
        ));
    };
    // The items as the console's CSV; customers are checked here so errors name the item.
    let mut csv = csv::Writer::from_writer(Vec::new());
    let header: &[&str] = if with_customers {
        &["code", "type", "value"]
    } else {
        &["code"]
    };
    let csv_err =
        |e: csv::Error| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string());
    csv.write_record(header).map_err(csv_err)?;
    for (i, item) in b.codes.iter().enumerate() {
        match (&item.customer, with_customers) {
            (Some(c), true) => {
                let c = c.parse(&format!("codes[{i}].customer"))?;
                // Read back by the job as any CSV upload: cells written spreadsheet-safe.
                crate::domain::csv_safe::write_record(
                    &mut csv,
                    &[item.code.as_str(), c.kind.as_str(), c.value.as_str()],
                )
                .map_err(csv_err)?;
            }
            (None, false) => crate::domain::csv_safe::write_record(&mut csv, &[item.code.as_str()])
                .map_err(csv_err)?,
            (None, true) => {
                return Err(ApiError::field(
                    &format!("codes[{i}].customer"),
                    "this offer takes codes with their customers",
                ));
            }
            (Some(_), false) => {
                return Err(ApiError::field(
                    &format!("codes[{i}].customer"),
                    "this offer takes codes without customers",
                ));
            }
        }
    }
    let data = csv
        .into_inner()
        .map_err(|e| csv_err(e.into_error().into()))?;
    let label = format!("API key {}", client.key.name);
    let job = state
        .store
        .create_job(
            org,
            b.series_id,
            JobKind::UploadCodes,
            serde_json::json!({"with_customers": with_customers, "actor": label, "consumer": client.key.consumer_id}),
            Some("api-upload.csv"),
            true,
            None,
        )
        .await?;
    let bytes = data.len() as i64;
    for (seq, chunk) in data.chunks(crate::store::jobs::CHUNK_BYTES).enumerate() {
        state
            .store
            .append_job_input(job, seq as i64, chunk.to_vec())
            .await?;
    }
    state.store.queue_job(job, bytes).await?;
    state.jobs.wake();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let row = state.store.get_job(org, job).await?;
        let status = match row.status.as_str() {
            "done" => Some(StatusCode::OK),
            "failed" => Some(StatusCode::UNPROCESSABLE_ENTITY),
            _ if std::time::Instant::now() > deadline => Some(StatusCode::ACCEPTED),
            _ => None,
        };
        if let Some(status) = status {
            return Ok(HttpResponse::build(status).json(JobOut::from(row)));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A job of the key's org (an upload answered 202).
#[utoipa::path(get, path = "/api/v2/jobs/{id}", tag = "coupons",
    params(("id" = i64, Path, description = "the job id")),
    responses((status = 200, body = JobOut), (status = 404, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn job(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let row = state
        .store
        .get_job(client.key.org_id, path.into_inner())
        .await
        .map_err(|_| ApiError::not_found("job"))?;
    Ok(HttpResponse::Ok().json(JobOut::from(row)))
}
