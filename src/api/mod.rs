//! The JSON integration API under `/api/v2` (API-0..6): API-key authentication with a rate
//! limit per key, JSON errors `{"error":{"code","message"}}`, strict bodies (unknown fields and
//! wrong types answer 400 naming the field), and the OpenAPI description.

pub mod carts;
pub mod claims;
pub mod coupons;
pub mod customers;
pub mod holds;
pub mod openapi;
pub mod ping;
pub mod promotions;
pub mod redemption;
pub mod revoke;
pub mod series;
pub mod wallet;

pub use crate::app::api_access::ApiState;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::api_keys::ApiKeyAuth;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub fn configure(cfg: &mut web::ServiceConfig) {
    use web::{delete, get, post, put};
    cfg.service(
        web::scope("/api/v2")
            // Every answer is JSON: errors raised outside the handlers (a body over the limit,
            // a malformed header) are put in the API's envelope too.
            .wrap(actix_web::middleware::from_fn(json_errors))
            // Uploads of up to 100,000 codes; malformed paths answer in the API's JSON.
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .app_data(web::PathConfig::default().error_handler(|e, _| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_path", e.to_string()).into()
            }))
            .service(resource("/openapi.json").route(get().to(openapi::openapi_json)))
            .service(
                resource("/coupon/series")
                    .route(post().to(series::create))
                    .route(get().to(series::list)),
            )
            .service(resource("/coupon/series/{id}").route(get().to(series::get)))
            .service(resource("/coupon/issue").route(post().to(coupons::issue)))
            .service(resource("/coupon/bulk/issue").route(post().to(coupons::bulk_issue)))
            .service(resource("/coupon/issue/multiple").route(post().to(coupons::issue_multiple)))
            .service(resource("/coupon/is_redeemable").route(get().to(redemption::is_redeemable)))
            .service(resource("/coupon/validate").route(post().to(redemption::validate)))
            .service(resource("/coupon/redeem").route(post().to(redemption::redeem)))
            .service(resource("/coupon/reverse").route(post().to(redemption::reverse)))
            .service(resource("/coupon/upload").route(post().to(coupons::upload)))
            .service(resource("/jobs/{id}").route(get().to(coupons::job)))
            .service(resource("/coupon").route(get().to(coupons::details)))
            .service(resource("/offers/{id}/claim").route(post().to(claims::claim)))
            .service(resource("/offers/{id}/revoke").route(post().to(revoke::revoke)))
            .service(resource("/ping").route(post().to(ping::ping)))
            .service(resource("/carts/{cartId}").route(put().to(carts::put)))
            .service(
                resource("/promotions")
                    .route(post().to(promotions::create))
                    .route(get().to(promotions::list)),
            )
            .service(
                resource("/promotions/{id}")
                    .route(get().to(promotions::get))
                    .route(put().to(promotions::update)),
            )
            .service(resource("/promotions/{id}/status").route(post().to(promotions::set_status)))
            .service(resource("/products").route(put().to(promotions::put_products)))
            .service(resource("/products/{sku}").route(delete().to(promotions::delete_product)))
            .service(resource("/customers/tags").route(put().to(promotions::put_tags)))
            .service(resource("/events").route(post().to(holds::post_events)))
            .service(resource("/customers/rewards").route(post().to(holds::post_reward)))
            .service(resource("/customers/contacts").route(put().to(customers::put_contacts)))
            .service(
                resource("/customers/wallet")
                    .route(get().to(wallet::list))
                    .route(post().to(wallet::check)),
            )
            .default_service(web::to(not_found)),
    );
}

/// Largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// An endpoint whose other methods answer 405 with `Allow`, in the API's JSON.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} is not allowed on {}; see /api/v2/openapi.json",
            req.method(),
            req.path()
        ),
    )
    .error_response()
}

async fn not_found() -> HttpResponse {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see /api/v2/openapi.json",
    )
    .error_response()
}

/// Puts an error answer that is not JSON yet (413 from the body limit, 400 from a header
/// actix could not read) into the API's envelope, with a code named after its status.
async fn json_errors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => {
            // An error from an inner service: answer it as JSON here.
            let status = e.as_response_error().status_code();
            return Err(actix_web::error::InternalError::from_response(
                e.to_string(),
                enveloped(status, &e.to_string()),
            )
            .into());
        }
    };
    let is_json = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if res.status().is_success() || res.status().is_redirection() || is_json {
        return Ok(res.map_into_boxed_body());
    }
    let status = res.status();
    let message = res
        .response()
        .error()
        .map(|e| e.to_string())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    let (req, _) = res.into_parts();
    Ok(actix_web::dev::ServiceResponse::new(
        req,
        enveloped(status, &message),
    ))
}

/// The API's error body for a status raised outside a handler.
fn enveloped(status: StatusCode, message: &str) -> HttpResponse {
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
        format!(
            "the request body is larger than {} MB",
            MAX_BODY_BYTES / (1024 * 1024)
        )
    } else if status.is_server_error() {
        "the request failed on our side; it has been logged".to_string()
    } else {
        message.to_string()
    };
    ApiError::new(status, code, message).error_response()
}

/// An API error: status, stable code, message, and the field at fault when there is one.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    pub retry_after: Option<u64>,
}

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, snake_case: what a program branches on.
    pub code: String,
    /// What a person reads.
    pub message: String,
    /// The request field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// 400 for a field that is missing, malformed or out of range.
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.to_string()),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_field", message)
        }
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        if let Some(s) = self.retry_after {
            r.insert_header(("Retry-After", s.to_string()));
        }
        r.json(ErrorBody {
            error: ErrorDetail {
                code: self.code.clone(),
                message: self.message.clone(),
                field: self.field.clone(),
            },
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound => ApiError::not_found("record"),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            other => {
                tracing::error!(error = ?other, "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the request failed on our side; it has been logged",
                )
            }
        }
    }
}

/// Parses a JSON body strictly: a syntax error, an unknown field or a wrong type answers 400
/// naming the field (`codes[2]`, `customer.mobile`).
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if let Some(field) = control_in_json(body) {
        return Err(ApiError::field(
            &field,
            format!("{field} contains a control character (such as NUL); nothing was changed"),
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        // The path ends at the field at fault (an unknown field's own name included).
        let field = (path != "." && !path.is_empty()).then_some(path);
        let message = match &field {
            Some(f) if !message.starts_with("unknown field") => format!("{f}: {message}"),
            _ => message,
        };
        ApiError {
            field,
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", message)
        }
    })
}

/// The path of the first string (or key) of a JSON body that holds a control character other
/// than tab and line breaks. Such a character can only come escaped (`\u0000`, `\b`, `\f`) or
/// as a raw C1 character, so bodies without those are not parsed twice.
fn control_in_json(body: &[u8]) -> Option<String> {
    // DEL may stand raw in a JSON string.
    let suspicious = body.contains(&0x7F)
        || body
            .windows(2)
            .any(|w| matches!(w, [b'\\', b'u' | b'b' | b'f'] | [0xC2, 0x80..=0x9F]));
    if !suspicious {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    fn walk(v: &serde_json::Value, path: &str) -> Option<String> {
        let here = |p: &str| {
            if p.is_empty() {
                ".".to_string()
            } else {
                p.to_string()
            }
        };
        match v {
            serde_json::Value::String(s) => crate::domain::has_control(s).then(|| here(path)),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &format!("{path}[{i}]"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, item)| {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if crate::domain::has_control(k) {
                    Some(p.chars().filter(|c| !c.is_control()).collect())
                } else {
                    walk(item, &p)
                }
            }),
            _ => None,
        }
    }
    walk(&value, "")
}

/// The calling integration: its key, org and consumer. Extracting it authenticates the
/// request and spends one token of the key's rate limit.
#[derive(Debug, Clone)]
pub struct ApiClient {
    pub key: ApiKeyAuth,
}

impl FromRequest for ApiClient {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<ApiClient, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get("Authorization")
            .and_then(|h| h.to_str().ok())
            .map(str::to_string);
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "no state")
            })?;
            let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
            let token = header
                .as_deref()
                .and_then(|h| h.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| unauthorized("send the API key as `Authorization: Bearer <key>`"))?;
            let key = state
                .api
                .authenticate(&state.store, token)
                .await?
                .ok_or_else(|| unauthorized("the API key is unknown or revoked"))?;
            if let Err(wait) = state.api.take(key.id, key.rate_limit) {
                return Err(ApiError {
                    retry_after: Some(wait),
                    ..ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "rate_limited",
                        format!(
                            "this key may make {} requests per second; retry after {wait} s",
                            key.rate_limit
                        ),
                    )
                });
            }
            Ok(ApiClient { key })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_errors_name_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        #[allow(dead_code)]
        struct B {
            bill_amount: i64,
        }
        let e = parse_body::<B>(br#"{"billAmount":"x"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("billAmount"));
        let e = parse_body::<B>(br#"{"billAmount":1,"extra":2}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("extra"));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn control_characters_in_a_body_name_their_field() {
        assert_eq!(
            control_in_json(br#"{"a":"x","b":["ok","S\u00001"]}"#),
            Some("b[1]".into())
        );
        assert_eq!(
            control_in_json(br#"{"customer":{"mobile":"98\u001b"}}"#),
            Some("customer.mobile".into())
        );
        assert_eq!(
            control_in_json(br#"{"text":"line\nline\ttab \u00e9"}"#),
            None
        );
        assert_eq!(
            control_in_json(br#"{"text":"a\\u0000"}"#),
            None,
            "an escaped backslash"
        );
        assert_eq!(
            control_in_json(b"{\"code\":\"AB\x7fC\"}"),
            Some("code".into()),
            "raw DEL"
        );
    }
}
