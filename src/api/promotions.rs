//! Promotions, the product catalogue and customer tags over the API (PRM-1): create, read and
//! move promotions through their life; write and delete products; set a customer's tiers and
//! segments.
//! A promotion's JSON is the engine's `domain::promotion::Promotion` (see README "Cart
//! promotions"), plus its `status`.

use super::coupons::CustomerIn;
use super::{ApiClient, ApiError, parse_body};
use crate::app::promotions::PromotionRefusal;
use crate::domain::ids::PromotionId;
use crate::domain::products::DeleteRefusal;
use crate::domain::promotion::{Promotion, Status};
use crate::domain::user::Actor;
use crate::state::AppState;
use crate::store::catalogue::NewProduct;
use crate::store::promotions::PromotionRecord;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

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
#[serde(deny_unknown_fields, rename_all = "camelCase")]
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
    let promotion = rules_of(b.promotion, 0)?;
    let actor = Actor::system(&format!("API key {}", client.key.name));
    let org = client.key.org_id;
    let id = crate::app::promotions::create(&state.store, org, &promotion, status, &actor)
        .await?
        .map_err(refusal)?;
    Ok(HttpResponse::Ok().json(out(state.store.get_promotion(org, id).await?)))
}

/// A refusal as the API answers it: 400 naming the first field at fault, 409 otherwise.
fn refusal(r: PromotionRefusal) -> ApiError {
    let message = r.message();
    match r {
        PromotionRefusal::Invalid(errors) => ApiError {
            field: Some(format!("promotion.{}", errors.0[0].field.api())),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_field", message)
        },
        PromotionRefusal::Frozen(fields) => ApiError {
            // The holding's window and maximum sit beside `limits`, not in it.
            field: Some(match fields[0] {
                crate::domain::promotion::PromotionField::Holding => "promotion.holding".into(),
                f => format!("promotion.limits.{}", f.api()),
            }),
            ..ApiError::new(StatusCode::CONFLICT, "restrictions_frozen", message)
        },
        PromotionRefusal::LiveCap(_) => ApiError::new(StatusCode::CONFLICT, "live_cap", message),
        PromotionRefusal::CodeTaken(_) => {
            ApiError::new(StatusCode::CONFLICT, "code_taken", message)
        }
        PromotionRefusal::Move { .. } => ApiError::new(StatusCode::CONFLICT, "status", message),
        PromotionRefusal::Changed => ApiError::new(StatusCode::CONFLICT, "changed", message),
    }
}

/// Reads `promotion` of a body as the engine's rules, naming the field at fault.
fn rules_of(mut value: serde_json::Value, id: i64) -> Result<Promotion, ApiError> {
    if let Some(o) = value.as_object_mut() {
        o.insert("id".into(), id.into());
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = format!("promotion.{}", e.path());
        ApiError {
            field: Some(path.clone()),
            ..ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("{path}: {}", e.into_inner()),
            )
        }
    })
}

/// A promotion's new rules.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionEdit {
    #[schema(value_type = Object)]
    pub promotion: serde_json::Value,
}

/// Replaces a promotion's rules. Once it has been live its limits cannot change (seed 003):
/// an edit that changes them answers 409 `restrictions_frozen` naming the limit.
#[utoipa::path(put, path = "/api/v2/promotions/{id}", tag = "promotions",
    request_body = PromotionEdit, params(("id" = i64, Path, description = "the promotion id")),
    responses((status = 200, body = PromotionOut), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<PromotionId>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: PromotionEdit = parse_body(&body)?;
    let id = path.into_inner();
    let edited = rules_of(b.promotion, id.get())?;
    let org = client.key.org_id;
    let actor = Actor::system(&format!("API key {}", client.key.name));
    crate::app::promotions::update(&state.store, org, &edited, &actor)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => ApiError::not_found("promotion"),
            other => other.into(),
        })?
        .map_err(refusal)?;
    Ok(HttpResponse::Ok().json(out(state.store.get_promotion(org, id).await?)))
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
    let actor = Actor::system(&format!("API key {}", client.key.name));
    crate::app::promotions::set_status(&state.store, org, id, to, &actor)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => ApiError::not_found("promotion"),
            other => other.into(),
        })?
        .map_err(refusal)?;
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
    let actor = Actor::system(&format!("API key {}", client.key.name));
    state
        .store
        .upsert_products(client.key.org_id, &rows, &actor)
        .await?;
    Ok(HttpResponse::Ok().json(Written {
        written: rows.len(),
    }))
}

/// A live or paused promotion that names a product's SKU.
#[derive(Debug, Serialize, ToSchema)]
pub struct PromotionUseOut {
    pub id: i64,
    pub name: String,
    /// `live` or `paused`.
    pub status: String,
}

/// The 409 of a product in use: the API's error envelope, with the promotions that name it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductInUseBody {
    pub error: ProductInUseDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductInUseDetail {
    /// `product_in_use`.
    pub code: String,
    pub message: String,
    /// The live and paused promotions naming the SKU, by id: end or change them first.
    pub promotions: Vec<PromotionUseOut>,
}

/// Deletes a product of the catalogue by SKU (percent-encoded in the path). A cart line of that
/// SKU no longer gets its category, brand or attributes from the catalogue. Refused with 409
/// `product_in_use`, naming them, while live or paused promotions name the SKU (a condition's or
/// the benefit's included SKUs, the benefit's SKU); drafts and ended promotions do not count.
#[utoipa::path(delete, path = "/api/v2/products/{sku}", tag = "promotions",
    params(("sku" = String, Path, description = "the product's SKU")),
    responses((status = 204, description = "deleted"), (status = 404, body = super::ErrorBody),
        (status = 409, body = ProductInUseBody)),
    security(("bearer" = [])))]
pub async fn delete_product(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sku = path.trim();
    let actor = Actor::system(&format!("API key {}", client.key.name));
    let refusal = match state
        .store
        .delete_product(client.key.org_id, sku, &actor)
        .await?
    {
        Ok(_) => return Ok(HttpResponse::NoContent().finish()),
        Err(r) => r,
    };
    let message = refusal.message(sku);
    match refusal {
        DeleteRefusal::Unknown => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", message)),
        DeleteRefusal::InUse(uses) => Ok(HttpResponse::Conflict().json(ProductInUseBody {
            error: ProductInUseDetail {
                code: "product_in_use".into(),
                message,
                promotions: uses
                    .into_iter()
                    .map(|u| PromotionUseOut {
                        id: u.id.get(),
                        name: u.name,
                        status: u.status.as_str().into(),
                    })
                    .collect(),
            },
        })),
    }
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
