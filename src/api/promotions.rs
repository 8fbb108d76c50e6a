//! Promotions, the product catalogue and customer tags over the API (PRM-1): create, read and
//! move promotions through their life; write products and a customer's tiers and segments.
//! A promotion's JSON is the engine's `domain::promotion::Promotion` (see README "Cart
//! promotions"), plus its `status`.

use super::coupons::CustomerIn;
use super::{ApiClient, ApiError, parse_body};
use crate::domain::ids::PromotionId;
use crate::domain::promotion::{Promotion, Status};
use crate::domain::user::Actor;
use crate::state::AppState;
use crate::store::promotions::{NewProduct, PromotionRecord};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Live promotions an org may have at once (seed 003: "up to 250 active promotions").
pub const LIVE_CAP: i64 = 250;

/// A promotion as the API shows it: its rules, id and status.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromotionOut {
    pub id: i64,
    pub status: String,
    /// The promotion's rules: `name`, `kind`, `eligibility`, `validity`, `conditions`,
    /// `benefit`, `stacking`, `limits` (README "Cart promotions").
    #[schema(value_type = Object)]
    pub promotion: serde_json::Value,
}

fn out(r: PromotionRecord) -> PromotionOut {
    PromotionOut {
        id: r.promotion.id,
        status: r.status.as_str().to_string(),
        promotion: serde_json::to_value(&r.promotion).unwrap_or_default(),
    }
}

/// A new promotion: its rules, and `status` `draft` or `live` (default `live`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromotionIn {
    #[serde(default)]
    pub status: Option<String>,
    #[schema(value_type = Object)]
    pub promotion: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PromotionList {
    pub promotions: Vec<PromotionOut>,
}

/// Creates a promotion. Every rule of seed 003 is expressed in `promotion`; a shape the seed
/// does not allow (a cart-amount condition combined with another, a recurring benefit without
/// a step, …) answers 400 naming the field. A code already used by a coupon or another
/// promotion answers 409. Over the org's cap of live promotions answers 409 `live_cap`.
#[utoipa::path(post, path = "/api/v2/promotions", tag = "promotions", request_body = PromotionIn,
    responses((status = 200, body = PromotionOut), (status = 400, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: PromotionIn = parse_body(&body)?;
    let status = match b.status.as_deref().unwrap_or("live") {
        "live" => Status::Live,
        "draft" => Status::Draft,
        other => {
            return Err(ApiError::field(
                "status",
                format!("must be draft or live (got {other:?})"),
            ));
        }
    };
    let mut with_id = b.promotion;
    if let Some(o) = with_id.as_object_mut() {
        o.insert("id".into(), 0.into());
    }
    let promotion: Promotion = serde_path_to_error::deserialize(with_id).map_err(|e| {
        let path = format!("promotion.{}", e.path());
        ApiError {
            field: Some(path.clone()),
            ..ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("{path}: {}", e.into_inner()),
            )
        }
    })?;
    if let Err(errors) = promotion.validate() {
        let first = &errors.0[0];
        let field = format!("promotion.{}", first.field.api());
        return Err(ApiError {
            field: Some(field.clone()),
            ..ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_field",
                errors
                    .0
                    .iter()
                    .map(|e| format!("promotion.{} {}", e.field.api(), e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        });
    }
    let org = client.key.org_id;
    if status == Status::Live && state.store.count_live_promotions(org).await? >= LIVE_CAP {
        return Err(live_cap());
    }
    let actor = Actor::system(&format!("API key {}", client.key.name));
    let id = state
        .store
        .create_promotion(org, &promotion, status, &actor)
        .await?;
    Ok(HttpResponse::Ok().json(out(state.store.get_promotion(org, id).await?)))
}

fn live_cap() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "live_cap",
        format!("the organisation already has {LIVE_CAP} live promotions; pause or end one first"),
    )
}

/// The org's promotions, newest first.
#[utoipa::path(get, path = "/api/v2/promotions", tag = "promotions",
    responses((status = 200, body = PromotionList)), security(("bearer" = [])))]
pub async fn list(state: web::Data<AppState>, client: ApiClient) -> Result<HttpResponse, ApiError> {
    let all = state.store.list_promotions(client.key.org_id).await?;
    Ok(HttpResponse::Ok().json(PromotionList {
        promotions: all.into_iter().map(out).collect(),
    }))
}

/// One promotion of the org.
#[utoipa::path(get, path = "/api/v2/promotions/{id}", tag = "promotions",
    params(("id" = i64, Path, description = "the promotion id")),
    responses((status = 200, body = PromotionOut), (status = 404, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<PromotionId>,
) -> Result<HttpResponse, ApiError> {
    let r = state
        .store
        .get_promotion(client.key.org_id, path.into_inner())
        .await
        .map_err(|_| ApiError::not_found("promotion"))?;
    Ok(HttpResponse::Ok().json(out(r)))
}

/// A move in a promotion's life.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusIn {
    /// `live`, `paused` or `ended`.
    pub status: String,
}

/// Puts a draft or paused promotion live, pauses a live one, or ends it (for good). A move
/// its life does not allow answers 409 `status`.
#[utoipa::path(post, path = "/api/v2/promotions/{id}/status", tag = "promotions",
    request_body = StatusIn, params(("id" = i64, Path, description = "the promotion id")),
    responses((status = 200, body = PromotionOut), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_status(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<PromotionId>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: StatusIn = parse_body(&body)?;
    let to = Status::parse(b.status.trim())
        .filter(|s| *s != Status::Draft)
        .ok_or_else(|| ApiError::field("status", "must be live, paused or ended"))?;
    let org = client.key.org_id;
    let id = path.into_inner();
    let current = state
        .store
        .get_promotion(org, id)
        .await
        .map_err(|_| ApiError::not_found("promotion"))?;
    if !current.status.may_become(to) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "status",
            format!(
                "a {} promotion cannot become {}",
                current.status.as_str(),
                to.as_str()
            ),
        ));
    }
    if to == Status::Live && state.store.count_live_promotions(org).await? >= LIVE_CAP {
        return Err(live_cap());
    }
    let actor = Actor::system(&format!("API key {}", client.key.name));
    state
        .store
        .set_promotion_status(org, id, current.status, to, &actor)
        .await?;
    Ok(HttpResponse::Ok().json(out(state.store.get_promotion(org, id).await?)))
}

/// A product of the catalogue; `price` in minor units.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProductIn {
    pub sku: String,
    pub name: String,
    pub price: i64,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductsIn {
    /// Up to 1,000 products; an existing SKU is replaced.
    pub products: Vec<ProductIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Written {
    pub written: usize,
}

/// Adds products to the catalogue or replaces them by SKU. Every bad product is named
/// (`products[3].price`) and nothing is written.
#[utoipa::path(put, path = "/api/v2/products", tag = "promotions", request_body = ProductsIn,
    responses((status = 200, body = Written), (status = 400, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_products(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: ProductsIn = parse_body(&body)?;
    if b.products.is_empty() || b.products.len() > 1000 {
        return Err(ApiError::field("products", "give 1 to 1,000 products"));
    }
    let mut bad = Vec::new();
    let mut rows = Vec::with_capacity(b.products.len());
    for (i, p) in b.products.into_iter().enumerate() {
        if p.sku.trim().is_empty() || p.sku.trim().len() > 64 {
            bad.push(format!("products[{i}].sku is required: 1 to 64 characters"));
        }
        if p.name.trim().is_empty() {
            bad.push(format!("products[{i}].name is required"));
        }
        if p.price < 0 {
            bad.push(format!("products[{i}].price must not be negative"));
        }
        let opt = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        rows.push(NewProduct {
            sku: p.sku.trim().to_string(),
            name: p.name.trim().to_string(),
            price: p.price,
            category: opt(p.category),
            brand: opt(p.brand),
            attributes: p.attributes,
        });
    }
    if !bad.is_empty() {
        return Err(ApiError {
            field: Some("products".into()),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_field", bad.join("; "))
        });
    }
    state
        .store
        .upsert_products(client.key.org_id, &rows)
        .await?;
    Ok(HttpResponse::Ok().json(Written {
        written: rows.len(),
    }))
}

/// A customer's tiers and segments (replacing what they had).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsIn {
    pub customer: CustomerIn,
    #[serde(default)]
    pub tiers: Vec<String>,
    #[serde(default)]
    pub segments: Vec<String>,
}

/// Sets a customer's tiers and segments, for promotions that target them (the customer is
/// created when new).
#[utoipa::path(put, path = "/api/v2/customers/tags", tag = "promotions", request_body = TagsIn,
    responses((status = 200, body = Written), (status = 400, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_tags(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: TagsIn = parse_body(&body)?;
    let customer = b.customer.parse("customer")?;
    for (name, values) in [("tiers", &b.tiers), ("segments", &b.segments)] {
        if let Some(i) = values.iter().position(|v| v.trim().is_empty()) {
            return Err(ApiError::field(&format!("{name}[{i}]"), "is blank"));
        }
    }
    state
        .store
        .set_customer_tags(client.key.org_id, &customer, &b.tiers, &b.segments)
        .await?;
    Ok(HttpResponse::Ok().json(Written {
        written: b.tiers.len() + b.segments.len(),
    }))
}
