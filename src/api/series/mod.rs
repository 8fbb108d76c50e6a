//! Offers (coupon series) over the API: create (API-0), read back, and list with the
//! redemption-restriction filter (API-1). Creation goes through the wizard's own parser, so an
//! offer made by an integration obeys exactly the console's rules.

mod form;

use super::{ApiClient, ApiError, parse_body};
use crate::app::offers::OfferRefusal;
use crate::domain::ids::{OfferId, OrgId};
use crate::domain::offer::form::parse;
use crate::domain::offer::input::OfferField;
use crate::domain::offer::{Discount, Generation, OfferExpiry, ScopeKind};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use form::ApiOffer;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An offer as an integration describes it. Only `name`, `discountType`, `discountValue` and
/// (for a fixed expiry) `validTill` are required; everything else has the wizard's default.
/// Amounts are in the currency's minor units; a percentage is a number (12.5 = 12.5%).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct SeriesBody {
    pub name: String,
    /// The point-of-sale identifier a cashier sees.
    pub pos_code: Option<String>,
    /// FIXED (default) or CAMPAIGN (ends with the claiming campaign).
    pub expiry_type: Option<String>,
    /// The offer's last day (YYYY-MM-DD), for a FIXED expiry.
    pub valid_till: Option<String>,
    /// ABS (amount) or PERC (percentage).
    pub discount_type: String,
    #[schema(value_type = f64)]
    pub discount_value: Option<serde_json::Number>,
    /// For PERC: the most one redemption gives, in minor units.
    pub discount_cap: Option<i64>,
    /// Category codes (the offer then applies to selected products).
    pub categories: Vec<String>,
    /// Brand codes.
    pub brands: Vec<String>,
    pub include_sale_items: bool,
    /// SYSTEM (default) or THIRD_PARTY.
    pub delivery: Option<String>,
    /// UNIQUE (default), COMMON or UPLOAD. (RANDOMIZED codes are made only in the console.)
    pub code_type: Option<String>,
    pub code_length: Option<u32>,
    /// NUMERIC, ALPHANUMERIC or UNAMBIGUOUS (default).
    pub code_charset: Option<String>,
    pub code_prefix: Option<String>,
    pub common_code: Option<String>,
    pub sample_code: Option<String>,
    pub upload_with_customers: bool,
    /// OFFER (default), DAYS or MONTH_ENDS.
    pub coupon_expiry_type: Option<String>,
    pub coupon_expiry_value: Option<u32>,
    pub max_issuals_per_customer: Option<u32>,
    pub min_issual_gap_days: Option<u32>,
    pub total_issual_cap: Option<i64>,
    /// Anyone may redeem, not only the customer the coupon was issued to.
    pub any_user: bool,
    pub multiple_redemption: bool,
    pub max_redemptions_per_customer: Option<u32>,
    pub redemption_gap_days: Option<u32>,
    /// The total redemption cap of the offer.
    pub max_redeem: Option<i64>,
    pub min_bill: Option<i64>,
    pub max_bill: Option<i64>,
    /// Store codes allowing redemption (with tills, zones and concepts; none = everywhere).
    pub stores: Vec<String>,
    pub tills: Vec<String>,
    pub zones: Vec<String>,
    pub concepts: Vec<String>,
    /// MON … SUN; none = every day.
    pub weekdays: Vec<String>,
    /// e.g. "16:00-18:00, 22:00-02:00".
    pub time_slots: Option<String>,
    /// Dates (YYYY-MM-DD) the offer may be redeemed on; none = any.
    pub dates: Vec<String>,
    /// The 10:00 offer-expiry email to POCs (REM-1); unknown emails become POCs of the org.
    pub expiry_reminder: Option<ExpiryReminderIn>,
    /// The notice to each customer whose coupon expired unused, at 10:00 org time on the day
    /// after the coupon's last day (absent or null: none).
    pub expiry_notice: Option<ExpiryNoticeIn>,
}

/// A coupon's expiry notice as sent: its channel and text. Errors name
/// `expiryNotice.channel` or `expiryNotice.text`.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct ExpiryNoticeIn {
    /// SMS or EMAIL (either case); the customer is reached at their identifier of that kind,
    /// else at the mobile or email set in their contacts.
    pub channel: String,
    /// Up to 500 characters; placeholders {first_name}, {code}, {expiry} (the coupon's last
    /// day), {discount}.
    pub text: String,
}

/// A coupon's expiry notice as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpiryNoticeOut {
    /// SMS or EMAIL.
    pub channel: String,
    pub text: String,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpiryReminderIn {
    /// Days before the offer's last day (1–365).
    pub days_before: u32,
    pub poc_emails: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpiryReminderOut {
    pub days_before: u32,
    pub poc_emails: Vec<String>,
}

/// An offer as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeriesOut {
    pub id: i64,
    /// The offer (series) code, unique in the org.
    pub offer_code: String,
    pub name: String,
    pub discount_type: String,
    /// ABS: minor units; PERC: percent (12.5 = 12.5%).
    #[schema(value_type = f64)]
    pub discount_value: serde_json::Number,
    pub discount_cap: Option<i64>,
    pub code_type: String,
    pub common_code: Option<String>,
    pub expiry_type: String,
    pub valid_till: Option<NaiveDate>,
    /// The offer's real last day: `validTill`, or the claiming campaign's end when that is
    /// earlier or the offer ends with its campaign; absent when it does not end.
    pub ends_on: Option<NaiveDate>,
    pub any_user: bool,
    pub max_redeem: Option<i64>,
    pub claimed_by: Option<String>,
    pub coupon_count: i64,
    pub issued_count: i64,
    pub redeemed_count: i64,
    pub description: String,
    /// The POC expiry reminder, when set.
    pub expiry_reminder: Option<ExpiryReminderOut>,
    /// The notice sent when a coupon expired unused, when set.
    pub expiry_notice: Option<ExpiryNoticeOut>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn series_out(state: &AppState, org_id: OrgId, id: OfferId) -> Result<SeriesOut, ApiError> {
    let o = state
        .store
        .get_offer(org_id, id)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => ApiError::not_found("series"),
            e => e.into(),
        })?;
    let org = state.store.get_org(org_id).await?;
    let digits = org.currency.minor_digits();
    let mut names = state
        .store
        .names_for_description(org_id, org.currency.code(), digits)
        .await?;
    let tz: chrono_tz::Tz = org.time_zone.0;
    names.today = Some(chrono::Utc::now().with_timezone(&tz).date_naive());
    let campaign_end = match &o.claimed_by {
        Some((id, name, _)) => {
            let end = state.store.get_consumer(org_id, *id).await?.ends_on;
            names.claimed_by = Some((name.clone(), end));
            end
        }
        None => None,
    };
    let r = &o.rules;
    let (discount_type, discount_value, discount_cap) = match r.discount {
        Discount::Fixed { amount } => ("ABS", serde_json::Number::from(amount), None),
        Discount::Percent { basis_points, cap } => (
            "PERC",
            if basis_points % 100 == 0 {
                serde_json::Number::from(basis_points / 100)
            } else {
                serde_json::Number::from_f64(basis_points as f64 / 100.0)
                    .unwrap_or_else(|| serde_json::Number::from(0))
            },
            cap,
        ),
    };
    Ok(SeriesOut {
        id: o.id.get(),
        offer_code: o.offer_code.clone(),
        name: r.name.clone(),
        discount_type: discount_type.into(),
        discount_value,
        discount_cap,
        code_type: r.generation.kind().to_ascii_uppercase(),
        common_code: match &r.generation {
            Generation::Common { code } => Some(code.clone()),
            _ => None,
        },
        expiry_type: match r.expiry {
            OfferExpiry::Fixed(_) => "FIXED".into(),
            OfferExpiry::WithCampaign => "CAMPAIGN".into(),
        },
        valid_till: match r.expiry {
            OfferExpiry::Fixed(d) => Some(d),
            OfferExpiry::WithCampaign => None,
        },
        ends_on: crate::domain::issue::offer_ends_on(&r.expiry, campaign_end),
        any_user: r.redemption.anyone_can_redeem,
        max_redeem: r.redemption.total_cap,
        claimed_by: o.claimed_by.as_ref().map(|c| c.1.clone()),
        coupon_count: o.coupon_count,
        issued_count: o.issued_count,
        redeemed_count: o.redeemed_count,
        description: r.describe(&names).headline,
        expiry_reminder: match &r.poc_reminder {
            Some(p) => {
                let pocs = state.store.list_pocs(org_id).await?;
                Some(ExpiryReminderOut {
                    days_before: p.days_before,
                    poc_emails: pocs
                        .into_iter()
                        .filter(|x| p.poc_ids.contains(&x.id))
                        .map(|x| x.email)
                        .collect(),
                })
            }
            None => None,
        },
        expiry_notice: r.issual.expiry_notice.as_ref().map(|n| ExpiryNoticeOut {
            channel: n.channel.as_str().to_ascii_uppercase(),
            text: n.text.clone(),
        }),
        created_at: o.created_at,
        updated_at: o.updated_at,
    })
}

/// Creates an offer from the wizard's configuration as JSON (API-0). Validation errors answer
/// 400 naming the field; a taken common code 409.
#[utoipa::path(post, path = "/api/v2/coupon/series", tag = "series", request_body = SeriesBody,
    responses((status = 200, body = SeriesOut), (status = 400, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: SeriesBody = parse_body(&body)?;
    let org_id = client.key.org_id;
    let org = state.store.get_org(org_id).await?;
    let digits = org.currency.minor_digits();
    let tz: chrono_tz::Tz = org.time_zone.0;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let actor = crate::domain::user::Actor::system(&format!("API key {}", client.key.name));
    if b.code_type
        .as_deref()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("randomized"))
    {
        // Seed 001: randomized common codes are made only by offers created in Incentives.
        return Err(ApiError {
            field: Some("codeType".into()),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "randomized_console_only",
                "randomized common codes are made only by offers created in the console (Incentives → Create offer); use UNIQUE, COMMON or UPLOAD",
            )
        });
    }
    let input = ApiOffer::resolve(&state, org_id, &b, &actor).await?;
    let ctx = state
        .store
        .offer_context(org_id, digits, today, None)
        .await?;
    let rules = parse(&input, &ctx).map_err(|errors| {
        let first = errors.0.first().map(|e| e.field.api().to_string());
        let message = errors
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field.api(), e.message))
            .collect::<Vec<_>>()
            .join("; ");
        ApiError {
            field: first,
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_field", message)
        }
    })?;
    // A key bound to a consumer creates offers claimed by it: the claim rules apply (an
    // outbound campaign holds one offer, an ended campaign none, …).
    let id = match crate::app::offers::create(
        &state.store,
        org_id,
        &rules,
        client.key.consumer_id,
        None,
        &actor,
    )
    .await?
    {
        Ok(id) => id,
        Err(OfferRefusal::Claim(refusal)) => {
            let status = if refusal.is_conflict() {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            return Err(ApiError::new(status, refusal.code(), refusal.to_string()));
        }
        Err(OfferRefusal::RandomizedOutsideIncentives) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "randomized_console_only",
                "randomized common codes are made only by offers created in the console",
            ));
        }
        Err(OfferRefusal::ShapeTaken { field, code }) => {
            return Err(ApiError {
                field: Some(field.api().into()),
                ..ApiError::new(
                    StatusCode::CONFLICT,
                    "code_shape_taken",
                    format!(
                        "this offer's generated codes could repeat the promotion code {code}; choose another prefix or length"
                    ),
                )
            });
        }
        Err(OfferRefusal::NoFixedPartLeft) => {
            return Err(ApiError {
                field: Some("sampleCode".into()),
                ..ApiError::new(
                    StatusCode::CONFLICT,
                    "sample_code_exhausted",
                    "every fixed part for randomized codes of this length is used by another offer of the organisation",
                )
            });
        }
        Err(OfferRefusal::Taken(field)) if field != OfferField::CommonCode => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "offer_code_taken",
                "another offer of the organisation has this offer code; retry",
            ));
        }
        Err(OfferRefusal::Taken(_)) => {
            return Err(ApiError {
                field: Some("commonCode".into()),
                ..ApiError::new(
                    StatusCode::CONFLICT,
                    "common_code_taken",
                    "another offer of the organisation uses this common code",
                )
            });
        }
    };
    Ok(HttpResponse::Ok().json(series_out(&state, org_id, id).await?))
}

/// Reads an offer back.
#[utoipa::path(get, path = "/api/v2/coupon/series/{id}", tag = "series",
    params(("id" = i64, Path, description = "the series (offer) id")),
    responses((status = 200, body = SeriesOut), (status = 404, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<OfferId>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(series_out(&state, client.key.org_id, path.into_inner()).await?))
}

/// Query of the series list (API-1).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct ListQuery {
    /// STORE, TILL, ZONE or CONCEPT: one type per request.
    pub org_entity_type: Option<String>,
    /// Ids of that type (repeat the parameter or separate by commas). Unknown ids match nothing.
    pub org_entity_ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesList {
    pub series: Vec<SeriesOut>,
}

/// Offers whose redemption is restricted directly to the given entities (no expansion up or
/// down the hierarchy); without a filter, every active offer.
#[utoipa::path(get, path = "/api/v2/coupon/series", tag = "series", params(ListQuery),
    responses((status = 200, body = SeriesList), (status = 400, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    client: ApiClient,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q: ListQuery = serde_html_form::from_str(req.query_string())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()))?;
    let org_id = client.key.org_id;
    let filter = match &q.org_entity_type {
        None if q.org_entity_ids.is_empty() => None,
        None => {
            return Err(ApiError::field(
                "orgEntityType",
                "give the type of orgEntityIds: STORE, TILL, ZONE or CONCEPT",
            ));
        }
        Some(t) => {
            let kind = ScopeKind::parse(t).ok_or_else(|| {
                ApiError::field(
                    "orgEntityType",
                    "must be one of STORE, TILL, ZONE or CONCEPT",
                )
            })?;
            let ids: Vec<i64> = q
                .org_entity_ids
                .iter()
                .flat_map(|s| s.split(','))
                .filter_map(|s| s.trim().parse().ok())
                .collect();
            Some((kind, ids))
        }
    };
    let org = state.store.get_org(org_id).await?;
    let tz: chrono_tz::Tz = org.time_zone.0;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let ids = state.store.series_ids(org_id, filter, today).await?;
    let mut series = Vec::with_capacity(ids.len());
    for id in ids {
        series.push(series_out(&state, org_id, id).await?);
    }
    Ok(HttpResponse::Ok().json(SeriesList { series }))
}
