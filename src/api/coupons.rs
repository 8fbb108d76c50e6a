//! Coupons over the API: issue (API-2), details (API-5), code uploads and their jobs.
//! Validation, redemption and reversal are in `redemption`.

use super::{ApiClient, ApiError, parse_body};
use crate::app::issue::IssueSource;
use crate::domain::ids::{JobId, OfferId};
use crate::domain::issue::IssueOutcome;
use crate::domain::issue::{CustomerRef, IssueRefusal};
use crate::domain::masters::IdentifierType;
use crate::domain::redemption::parse_codes;
use crate::state::AppState;
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
    let ctx = crate::app::issue::context(&state.store, client.key.org_id, OfferId(series_id))
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => ApiError::not_found("series"),
            e => e.into(),
        })?;
    let (source, actor) = source_of(client);
    let rows = vec![customer.clone(); count];
    Ok(crate::app::issue::issue_many(&state.store, &ctx, &rows, &source, &actor).await?)
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
                series_id: c.offer_id.get(),
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
    #[schema(value_type = i64)]
    pub job_id: JobId,
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
            series_id: j.offer_id.get(),
            status: j.status.as_str().to_string(),
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
        .get_offer(org, OfferId(b.series_id))
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
            OfferId(b.series_id),
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
    path: web::Path<JobId>,
) -> Result<HttpResponse, ApiError> {
    let row = state
        .store
        .get_job(client.key.org_id, path.into_inner())
        .await
        .map_err(|_| ApiError::not_found("job"))?;
    Ok(HttpResponse::Ok().json(JobOut::from(row)))
}
