//! Customers' contacts and channel preference over the API (issue #18, item 6): where the
//! codes of offers delivered by this system are sent when they are issued.

use super::coupons::CustomerIn;
use super::promotions::Written;
use super::{ApiClient, ApiError, parse_body};
use crate::domain::contacts::parse_contacts;
use crate::domain::issue::CustomerRef;
use crate::domain::user::Actor;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Rows one request may set.
const MAX_ROWS: usize = 1000;

/// One customer's contacts and channel preference, replacing what they had: a field left
/// out (or empty) clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContactIn {
    /// The customer, by exactly one of `mobile`, `email`, `externalId` (and optionally their
    /// `firstName`, for `{first_name}` in messages); created when new.
    pub customer: CustomerIn,
    /// A mobile number to send SMS to (8 to 15 digits, optionally starting with +). A
    /// customer identified by a mobile is reached at it: give the same number or none.
    #[serde(default)]
    pub mobile: Option<String>,
    /// An email address to send email to. A customer identified by an email is reached at
    /// it: give the same address or none.
    #[serde(default)]
    pub email: Option<String>,
    /// `sms` or `email`: how the customer prefers to get their codes; needs that contact
    /// (given here, or the customer's identifier).
    #[serde(default)]
    pub preferred_channel: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactsIn {
    /// 1 to 1,000 customers, each at most once.
    pub contacts: Vec<ContactIn>,
}

/// The API name of a contacts field.
fn api_name(field: &str) -> &str {
    match field {
        "preferred_channel" => "preferredChannel",
        other => other,
    }
}

/// Sets customers' contacts (mobile, email) and preferred channel, which decide where the
/// codes of offers delivered by this system are sent when issued: the preferred channel when
/// its contact is known, else the identifier's (a mobile gets an SMS, an email an email), else
/// the mobile, then the email. All or nothing: every bad field is listed (`contacts[2].mobile`,
/// the first in `field`) and nothing is written.
#[utoipa::path(put, path = "/api/v2/customers/contacts", tag = "coupons", request_body = ContactsIn,
    responses((status = 200, body = Written), (status = 400, body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_contacts(
    state: web::Data<AppState>,
    client: ApiClient,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let b: ContactsIn = parse_body(&body)?;
    if b.contacts.is_empty() || b.contacts.len() > MAX_ROWS {
        return Err(ApiError::field("contacts", "give 1 to 1,000 customers"));
    }
    let mut bad: Vec<(String, String)> = Vec::new();
    let mut rows = Vec::with_capacity(b.contacts.len());
    let mut names: Vec<(CustomerRef, String)> = Vec::new();
    let mut seen: HashMap<CustomerRef, usize> = HashMap::new();
    for (i, c) in b.contacts.iter().enumerate() {
        let at = format!("contacts[{i}]");
        let customer = match c.customer.parse(&format!("{at}.customer")) {
            Ok(customer) => customer,
            Err(e) => {
                bad.push((e.field.unwrap_or_else(|| at.clone()), e.message));
                continue;
            }
        };
        match c.customer.first_name(&format!("{at}.customer")) {
            Ok(Some(name)) => names.push((customer.clone(), name)),
            Ok(None) => {}
            Err(e) => bad.push((e.field.unwrap_or_else(|| at.clone()), e.message)),
        }
        if let Some(first) = seen.insert(customer.clone(), i) {
            bad.push((
                format!("{at}.customer"),
                format!(
                    "{} is repeated (first at contacts[{first}])",
                    customer.label()
                ),
            ));
            continue;
        }
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        match parse_contacts(
            customer,
            &text(&c.mobile),
            &text(&c.email),
            &text(&c.preferred_channel),
        ) {
            Ok(row) => rows.push(row),
            Err(errors) => bad.extend(
                errors
                    .0
                    .into_iter()
                    .map(|e| (format!("{at}.{}", api_name(e.field)), e.message)),
            ),
        }
    }
    if let Some((field, _)) = bad.first() {
        let message = bad
            .iter()
            .map(|(f, m)| format!("{f}: {m}"))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(ApiError {
            field: Some(field.clone()),
            ..ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_field",
                format!("{message}; nothing was changed"),
            )
        });
    }
    let actor = Actor::system(&format!("API key {}", client.key.name));
    let written = state
        .store
        .set_customer_contacts(client.key.org_id, &rows, &names, &actor)
        .await?;
    Ok(HttpResponse::Ok().json(Written { written }))
}
