//! Org settings: name, currency, time zone (ORG-1), the cap of live promotions (PRM-1), and the
//! brand customers' pages show (display name, logo, accent colour; issue #18).

use super::FormErrors;
use crate::domain::org::{BrandSettings, CURRENCIES, DEFAULT_ACCENT, OrgSettings};
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
    /// Customers' pages: set when the form carries the brand's fields (an empty text field
    /// reads as absent); a form without it keeps the current brand.
    #[serde(default)]
    brand: Option<String>,
    /// Display name, logo URL, accent colour; blank: the default.
    #[serde(default)]
    brand_name: String,
    #[serde(default)]
    brand_logo_url: String,
    #[serde(default)]
    brand_accent: String,
}

impl OrgForm {
    /// The brand as typed, when the form carries it.
    fn brand(&self) -> Option<Result<BrandSettings, crate::domain::FieldErrors>> {
        self.brand.as_ref().map(|_| {
            BrandSettings::parse(&self.brand_name, &self.brand_logo_url, &self.brand_accent)
        })
    }
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
    /// The org's name, which customers' pages show when no display name is set.
    org_name: String,
    default_accent: &'static str,
    /// The accent colour the swatch shows: the one typed when it is a colour, else the saved.
    swatch: String,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    form: Option<OrgForm>,
    errors: FormErrors,
) -> Result<OrgPage, WebError> {
    let org = state.store.get_org(user.org_id).await?;
    let brand = state.store.brand_settings(user.org_id).await?;
    let saved_accent = brand.brand(&org.name).accent;
    let form = form.unwrap_or(OrgForm {
        name: org.name.clone(),
        currency: org.currency.code().to_string(),
        time_zone: org.time_zone.name().to_string(),
        live_promotion_cap: Some(org.live_promotion_cap.to_string()),
        brand: Some("on".into()),
        brand_name: brand.name.unwrap_or_default(),
        brand_logo_url: brand.logo_url.unwrap_or_default(),
        brand_accent: brand.accent.unwrap_or_default(),
    });
    let swatch = crate::domain::org::parse_accent("brand_accent", &form.brand_accent)
        .unwrap_or(saved_accent);
    Ok(OrgPage {
        org_name: org.name,
        default_accent: DEFAULT_ACCENT,
        swatch,
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
    let brand = form.brand().transpose();
    let errors = match (
        OrgSettings::parse(&form.name, &form.currency, &form.time_zone),
        cap,
        brand,
    ) {
        (Ok(settings), Ok(cap), Ok(brand)) => match state
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
                if let Some(brand) = brand {
                    state
                        .store
                        .set_org_brand(user.org_id, &brand, &user.actor())
                        .await?;
                }
                Chrome::flash(&session, "Organisation settings saved.");
                return Ok(see_other("/admin/org"));
            }
            Err(e) => super::conflict_to_field(e, "name")?,
        },
        (parsed, cap, brand) => {
            let mut errors = parsed.err().unwrap_or_default();
            if let Err(message) = cap {
                errors.push("live_promotion_cap", message);
            }
            if let Err(brand_errors) = brand {
                errors.0.extend(brand_errors.0);
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
