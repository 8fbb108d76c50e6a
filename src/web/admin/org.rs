//! Org settings: name, currency, time zone (ORG-1).

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
    let errors = match OrgSettings::parse(&form.name, &form.currency, &form.time_zone) {
        Ok(settings) => match state
            .store
            .update_org_settings(user.org_id, &settings, &user.actor())
            .await
        {
            Ok(()) => {
                Chrome::flash(&session, "Organisation settings saved.");
                return Ok(see_other("/admin/org"));
            }
            Err(e) => super::conflict_to_field(e, "name")?,
        },
        Err(errors) => errors,
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
