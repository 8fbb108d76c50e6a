//! Claiming an offer for a consumer over the API (API-6, CLM-1). A key bound to a consumer
//! claims for it (and only for it); an unbound key names the consumer.

use super::{ApiClient, ApiError, parse_body};
use crate::domain::claim::ClaimConsumer;
use crate::domain::ids::OfferId;
use crate::domain::user::Actor;
use crate::state::AppState;
use crate::store::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClaimBody {
    /// The campaign or program claiming the offer. Optional for a key bound to a consumer
    /// (then that consumer; another one is refused with 403).
    #[serde(default)]
    pub consumer_id: Option<i64>,
}

/// A consumer as answered.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerOut {
    pub id: i64,
    pub name: String,
    /// OUTBOUND, DVS, TIMELINE, LOYALTY or THIRD_PARTY.
    #[serde(rename = "type")]
    pub kind: String,
}

impl From<&ClaimConsumer> for ConsumerOut {
    fn from(c: &ClaimConsumer) -> Self {
        ConsumerOut {
            id: c.id,
            name: c.name.clone(),
            kind: c.kind.as_str().to_ascii_uppercase(),
        }
    }
}

/// The offer and who holds it now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimedOut {
    pub series_id: i64,
    pub claimed_by: ConsumerOut,
    /// The consumer held the offer before this request (a repeated claim changes nothing).
    pub already_claimed: bool,
}

/// Claims an offer for a consumer (CLM-1). Once claimed, no other consumer may claim, issue
/// or redeem it; repeating a claim by the same consumer answers 200 and changes nothing.
#[utoipa::path(post, path = "/api/v2/offers/{id}/claim", tag = "series",
    params(("id" = i64, Path, description = "the series (offer) id")),
    request_body = ClaimBody,
    responses((status = 200, body = ClaimedOut),
        (status = 400, description = "no consumer named and the key acts for none", body = super::ErrorBody),
        (status = 403, description = "`forbidden`: the key acts for another consumer", body = super::ErrorBody),
        (status = 404, description = "unknown series or consumer (of the key's org)", body = super::ErrorBody),
        (status = 409, description = "`already_claimed` by another consumer (named), or `consumer_holds_an_offer` (an outbound campaign holds one)", body = super::ErrorBody),
        (status = 422, description = "`campaign_ended`, or `consumer_has_no_end_date` for an offer that ends with its campaign", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn claim(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: ClaimBody = if body.iter().all(u8::is_ascii_whitespace) {
        ClaimBody::default()
    } else {
        parse_body(&body)?
    };
    let series_id = path.into_inner();
    let key = &client.key;
    let consumer_id = match (b.consumer_id, key.consumer_id) {
        (Some(asked), Some(bound)) if asked != bound => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this API key acts for another consumer and may claim offers only for it",
            ));
        }
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => {
            return Err(ApiError::field(
                "consumerId",
                "give the consumerId to claim the offer for (this key acts for no consumer)",
            ));
        }
    };
    let actor = Actor::system(&format!("API key {}", key.name));
    let outcome = match crate::app::claim::claim(
        &state.store,
        key.org_id,
        OfferId(series_id),
        consumer_id,
        &actor,
    )
    .await
    {
        Ok(o) => o,
        Err(StoreError::NotFound) => {
            // Say which of the two is unknown.
            return Err(
                match state.store.get_consumer(key.org_id, consumer_id).await {
                    Err(StoreError::NotFound) => ApiError::not_found("consumer"),
                    _ => ApiError::not_found("series"),
                },
            );
        }
        Err(e) => return Err(e.into()),
    };
    match outcome {
        Ok(done) => Ok(HttpResponse::Ok().json(ClaimedOut {
            series_id,
            claimed_by: (&done.consumer).into(),
            already_claimed: done.already,
        })),
        Err(refusal) => {
            let status = if refusal.is_conflict() {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Err(ApiError::new(status, refusal.code(), refusal.to_string()))
        }
    }
}
