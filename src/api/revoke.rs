//! Revoking coupons of an offer over the API (API-6, REV-1).

use super::coupons::CustomerIn;
use super::{ApiClient, ApiError, parse_body};
use crate::domain::ids::OfferId;
use crate::domain::revoke::{Revocation, RevokeMode};
use crate::domain::user::Actor;
use crate::state::AppState;
use crate::store::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most customers one request may name (more: several requests).
pub const MAX_CUSTOMERS: usize = 5_000;

/// What to revoke.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RevokeBody {
    /// `ALL_NOT_REDEEMED` (unissued and issued coupons), `UNISSUED`, or `CUSTOMERS` (every
    /// issued, not redeemed coupon of the listed customers).
    pub mode: String,
    /// For `CUSTOMERS`: 1 to 5,000 customers, each by exactly one of mobile, email, externalId.
    #[serde(default)]
    pub customers: Vec<CustomerIn>,
    /// Must be `true`: revoked coupons can never be redeemed or reversed.
    #[serde(default)]
    pub confirm: bool,
}

/// How many coupons were revoked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokeOut {
    pub series_id: i64,
    pub revoked: u64,
}

/// Revokes coupons of an offer (REV-1): all not-redeemed coupons, only unissued ones, or every
/// issued, not redeemed coupon of some customers. Redeemed coupons are never revoked; revoked
/// ones are refused at redemption with `revoked`. Common-code offers cannot be revoked per
/// customer (422 `common_code_customers`).
#[utoipa::path(post, path = "/api/v2/offers/{id}/revoke", tag = "series", request_body = RevokeBody,
    params(("id" = i64, Path, description = "the series (offer) id")),
    responses((status = 200, body = RevokeOut),
        (status = 400, description = "bad body, or `confirm` is not true", body = super::ErrorBody),
        (status = 404, body = super::ErrorBody),
        (status = 422, description = "a common code cannot be revoked per customer", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let series_id = path.into_inner();
    let b: RevokeBody = parse_body(&body)?;
    if !b.confirm {
        return Err(ApiError::field(
            "confirm",
            "must be true: revoked coupons can never be redeemed or reversed",
        ));
    }
    let mode = RevokeMode::parse(&b.mode).ok_or_else(|| {
        ApiError::field("mode", "must be ALL_NOT_REDEEMED, UNISSUED or CUSTOMERS")
    })?;
    let customers = match mode {
        RevokeMode::Customers => {
            if b.customers.is_empty() || b.customers.len() > MAX_CUSTOMERS {
                return Err(ApiError::field(
                    "customers",
                    "give 1 to 5,000 customers for mode CUSTOMERS",
                ));
            }
            b.customers
                .iter()
                .enumerate()
                .map(|(i, c)| c.parse(&format!("customers[{i}]")))
                .collect::<Result<Vec<_>, _>>()?
        }
        _ if !b.customers.is_empty() => {
            return Err(ApiError::field(
                "customers",
                "only mode CUSTOMERS takes customers",
            ));
        }
        _ => Vec::new(),
    };
    let revocation = Revocation::of(mode, customers);
    let actor = Actor::system(&format!("API key {}", client.key.name));
    match crate::app::revoke::revoke(
        &state.store,
        client.key.org_id,
        OfferId(series_id),
        &revocation,
        &actor,
    )
    .await
    {
        Ok(Ok(revoked)) => Ok(HttpResponse::Ok().json(RevokeOut { series_id, revoked })),
        Ok(Err(refusal)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            refusal.code(),
            refusal.to_string(),
        )),
        Err(StoreError::NotFound) => Err(ApiError::not_found("series")),
        Err(e) => Err(e.into()),
    }
}
