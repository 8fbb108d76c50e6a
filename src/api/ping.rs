//! `POST /api/v2/ping`: checks a key, touching no data — for an integration's health check and
//! for `bench redeem`'s HTTP floor (the same server stack as a redemption, without the database).

use super::ApiClient;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

/// The fixed answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pong {
    pub ok: bool,
}

/// Answers `{"ok":true}` to a valid key (the key's rate applies, like every call); the body,
/// if any, is ignored.
#[utoipa::path(post, path = "/api/v2/ping", tag = "coupons",
    responses((status = 200, body = Pong),
        (status = 401, description = "missing or unknown key", body = super::ErrorBody),
        (status = 429, description = "over the key's rate; see Retry-After", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn ping(_client: ApiClient, _body: web::Bytes) -> HttpResponse {
    // The body is read (and dropped) so that the connection stays open for the next call.
    HttpResponse::Ok().json(Pong { ok: true })
}
