//! Org settings: name, currency, time zone (ORG-1), and the cap of live promotions (PRM-1).

use super::FormErrors;
use crate::domain::org::{CURRENCIES, OrgSettings};
use crate::domain::user::Permission;
use crate::web::auth::CurrentUser;
use crate::web::csrf::CsrfForm;
use crate::web::error::{render, see_other};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrgForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    time_zone: String,
    /// "Live promotions at most"; a form without it keeps the current cap.
    #[serde(default)]
    live_promotion_cap: Option<String>,
}

/// The range of the org's cap of live promotions.
const LIVE_CAP_RANGE: std::ops::RangeInclusive<i64> = 1..=10_000;

/// The cap as typed: a whole number from 1 to 10,000.
fn parse_live_cap(raw: &str) -> Result<i64, String> {
    let digits: String = raw.trim().chars().filter(|c| *c != ',').collect();
    match digits.parse::<i64>() {
        Ok(n) if LIVE_CAP_RANGE.contains(&n) => Ok(n),
        _ => Err("must be a whole number from 1 to 10,000".into()),
    }
}

#[derive(Template)]
#[template(path = "pages/org.html")]
struct OrgPage {
    chrome: Chrome,
    form: OrgForm,
    code_prefix: String,
    /// How the prefix starts numeric randomized codes.
    code_prefix_digits: String,
    /// The fixed part a 9-character alphanumeric sample would take first.
    example_fixed: String,
    errors: FormErrors,
    currencies: Vec<(&'static str, &'static str)>,
    time_zones: Vec<&'static str>,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    form: Option<OrgForm>,
    errors: FormErrors,
) -> Result<OrgPage, WebError> {
    let org = state.store.get_org(user.org_id).await?;
    let form = form.unwrap_or(OrgForm {
        name: org.name,
        currency: org.currency.code().to_string(),
        time_zone: org.time_zone.name().to_string(),
        live_promotion_cap: Some(org.live_promotion_cap.to_string()),
    });
    Ok(OrgPage {
        chrome: Chrome::new(user, session, "org"),
        form,
        code_prefix_digits: crate::domain::coupon::org_lead(&org.code_prefix, true),
        example_fixed: crate::domain::coupon::fixed_part_candidates(&org.code_prefix, "TEST12345")
            .next()
            .unwrap_or_default(),
        code_prefix: org.code_prefix,
        errors,
        currencies: CURRENCIES.iter().map(|(c, _, l)| (*c, *l)).collect(),
        time_zones: chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect(),
    })
}

pub async fn show(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    render(
        StatusCode::OK,
        &page(&state, &user, &session, None, FormErrors::default()).await?,
    )
}

pub async fn update(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<OrgForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let cap = form
        .live_promotion_cap
        .as_deref()
        .map(parse_live_cap)
        .transpose();
    let errors = match (
        OrgSettings::parse(&form.name, &form.currency, &form.time_zone),
        cap,
    ) {
        (Ok(settings), Ok(cap)) => match state
            .store
            .update_org_settings(user.org_id, &settings, &user.actor())
            .await
        {
            Ok(()) => {
                if let Some(cap) = cap
                    && cap != state.store.get_org(user.org_id).await?.live_promotion_cap
                {
                    state
                        .store
                        .set_live_promotion_cap(user.org_id, cap, &user.actor())
                        .await?;
                }
                Chrome::flash(&session, "Organisation settings saved.");
                return Ok(see_other("/admin/org"));
            }
            Err(e) => super::conflict_to_field(e, "name")?,
        },
        (parsed, cap) => {
            let mut errors = parsed.err().unwrap_or_default();
            if let Err(message) = cap {
                errors.push("live_promotion_cap", message);
            }
            errors
        }
    };
    let p = page(
        &state,
        &user,
        &session,
        Some(form),
        FormErrors::of("org", errors),
    )
    .await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &p)
}
