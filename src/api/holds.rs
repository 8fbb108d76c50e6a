//! Customers' events and reward acquisitions over the API (issue #17): `POST /api/v2/events`
//! (one event, or `{"events":[…]}` up to 500 for backfills; idempotent by `eventId`) answers
//! what each event earned; `POST /api/v2/customers/rewards` makes a customer hold a reward
//! promotion (idempotent by `requestId`). The cart API applies what customers hold.

use super::coupons::CustomerIn;
use super::{ApiClient, ApiError, parse_body};
use crate::app::holds::{EventInput, EventOutcome, RewardInput, RewardRefusal};
use crate::domain::ids::PromotionId;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Events per call at most.
pub const MAX_EVENTS: usize = 500;

/// A customer's event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EventIn {
    /// `transaction`, `registration`, `profile_update` or a custom type (lower-case letters,
    /// digits, `_`).
    #[serde(rename = "type")]
    pub kind: String,
    pub customer: CustomerIn,
    /// Unique per event in the org: a retried event changes nothing and answers the same.
    pub event_id: String,
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub transaction_number: Option<String>,
    /// Minor units.
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// Several events (a backfill).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsIn {
    pub events: Vec<EventIn>,
}

/// What the events earned, in the order given.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsOut {
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<EventOutcome>,
}

fn event_input(e: EventIn, field: &str) -> Result<EventInput, ApiError> {
    let name_ok = !e.kind.is_empty()
        && e.kind.len() <= 40
        && e.kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        return Err(ApiError::field(
            &format!("{field}type"),
            "must be 1 to 40 lower-case letters, digits or _",
        ));
    }
    let id = e.event_id.trim();
    if id.is_empty() || id.chars().count() > 100 {
        return Err(ApiError::field(
            &format!("{field}eventId"),
            "must be 1 to 100 characters",
        ));
    }
    if e.amount.is_some_and(|a| a < 0) {
        return Err(ApiError::field(
            &format!("{field}amount"),
            "must not be negative",
        ));
    }
    Ok(EventInput {
        event_id: id.to_string(),
        kind: e.kind,
        customer: e.customer.parse(&format!("{field}customer"))?,
        occurred_at: e.occurred_at,
        amount: e.amount,
        transaction_number: e.transaction_number,
        attributes: e.attributes,
    })
}

/// Records customers' events; each answers the promotions it earned.
#[utoipa::path(post, path = "/api/v2/events", tag = "promotions", request_body = EventIn,
    responses((status = 200, body = EventsOut), (status = 400, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_events(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let batch = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .is_some_and(|v| v.get("events").is_some());
    let inputs = if batch {
        let b: EventsIn = parse_body(&body)?;
        if b.events.is_empty() || b.events.len() > MAX_EVENTS {
            return Err(ApiError::field(
                "events",
                format!("must hold 1 to {MAX_EVENTS} events"),
            ));
        }
        b.events
            .into_iter()
            .enumerate()
            .map(|(i, e)| event_input(e, &format!("events[{i}].")))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        vec![event_input(parse_body(&body)?, "")?]
    };
    let org = client.key.org_id;
    let mut results = Vec::with_capacity(inputs.len());
    for e in &inputs {
        results.push(
            crate::app::holds::record_event(&state.store, &state.api.carts, org, e, Utc::now())
                .await?,
        );
    }
    Ok(HttpResponse::Ok().json(EventsOut { results }))
}

/// What the customer paid for a reward in the other system.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostIn {
    #[serde(default)]
    pub points: Option<i64>,
    /// Minor units.
    #[serde(default)]
    pub amount: Option<i64>,
}

/// A reward a customer acquired.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RewardIn {
    pub promotion_id: i64,
    pub customer: CustomerIn,
    pub cost: CostIn,
    /// Unique per acquisition: a retried request holds nothing more and answers the same.
    pub request_id: String,
}

/// The hold a reward request made.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RewardOut {
    pub hold_id: i64,
    pub promotion_id: i64,
    /// Held until (exclusive); null: until the promotion ends.
    pub valid_till: Option<DateTime<Utc>>,
    pub replayed: bool,
}

/// Makes a customer hold a reward promotion they acquired for points or money.
#[utoipa::path(post, path = "/api/v2/customers/rewards", tag = "promotions", request_body = RewardIn,
    responses((status = 200, body = RewardOut), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_reward(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: RewardIn = parse_body(&body)?;
    let customer = b.customer.parse("customer")?;
    let request_id = b.request_id.trim().to_string();
    if request_id.is_empty() || request_id.chars().count() > 100 {
        return Err(ApiError::field("requestId", "must be 1 to 100 characters"));
    }
    match (b.cost.points, b.cost.amount) {
        (Some(p), None) if p >= 0 => {}
        (None, Some(a)) if a >= 0 => {}
        _ => {
            return Err(ApiError::field(
                "cost",
                "give exactly one of `points` or `amount`, not negative",
            ));
        }
    }
    let input = RewardInput {
        promotion_id: PromotionId(b.promotion_id),
        customer,
        cost_points: b.cost.points,
        cost_amount: b.cost.amount,
        request_id,
    };
    let held =
        crate::app::holds::acquire_reward(&state.store, client.key.org_id, &input, Utc::now())
            .await?;
    match held {
        Ok(h) => Ok(HttpResponse::Ok().json(RewardOut {
            hold_id: h.hold_id,
            promotion_id: h.promotion_id,
            valid_till: h.valid_till,
            replayed: h.replayed,
        })),
        Err(refusal) => {
            let (status, code) = match &refusal {
                RewardRefusal::NotReward(_) => (StatusCode::UNPROCESSABLE_ENTITY, "not_reward"),
                RewardRefusal::Hold(
                    crate::domain::promotion::holding::HoldRefusal::MaxPerCustomer(_),
                ) => (StatusCode::CONFLICT, "max_per_customer"),
                RewardRefusal::Hold(_) => (StatusCode::CONFLICT, "not_live"),
            };
            Err(ApiError::new(status, code, refusal.to_string()))
        }
    }
}
