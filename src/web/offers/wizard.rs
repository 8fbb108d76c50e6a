//! The create-offer wizard (OFF-2): three sections plus advanced settings, each validated on
//! its own with inline errors, back and forth without loss, a plain-words preview, and nothing
//! created until "Create offer". The half-filled form is kept as a draft per user, so it
//! survives a reload.

use super::{Pickers, consumer_of, digits, today};
use crate::app::offers::OfferRefusal;
use crate::domain::FieldErrors;
use crate::domain::offer::OfferRules;
use crate::domain::offer::describe::Description;
use crate::domain::offer::form::{OfferForm, Step, parse};
use crate::domain::offer::input::OfferErrors;
use crate::domain::user::Permission;
use crate::store::masters::ConsumerRow;
use crate::web::admin::UploadReport;
use crate::web::auth::{CurrentUser, Empty};
use crate::web::csrf::{CsrfForm, CsrfUpload};
use crate::web::error::{render, see_other};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "pages/offer_wizard.html")]
struct WizardPage {
    chrome: Chrome,
    step: usize,
    steps: Vec<(usize, &'static str)>,
    f: OfferForm,
    errors: FieldErrors,
    p: Pickers,
    consumer: Option<ConsumerRow>,
    locked: bool,
    upload: UploadReport,
    /// Customers in the draft\'s specific-customers list.
    audience: i64,
}

#[derive(Template)]
#[template(path = "pages/offer_preview.html")]
struct PreviewPage {
    chrome: Chrome,
    description: Description,
    consumer: Option<ConsumerRow>,
}

/// The user's draft, or a fresh one.
async fn draft(state: &AppState, user: &CurrentUser) -> Result<(OfferForm, Option<i64>), WebError> {
    Ok(state
        .store
        .get_draft(user.id)
        .await?
        .unwrap_or_else(|| (OfferForm::defaults(), None)))
}

async fn step_page(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    step: Step,
    f: OfferForm,
    consumer: Option<i64>,
    errors: FieldErrors,
) -> Result<WizardPage, WebError> {
    Ok(WizardPage {
        chrome: Chrome::new(user, session, "offers"),
        step: step.number(),
        steps: Step::ALL.iter().map(|s| (s.number(), s.title())).collect(),
        f,
        errors,
        p: Pickers::load(&state.store, user, None).await?,
        consumer: consumer_of(&state.store, user, consumer).await?,
        locked: false,
        upload: UploadReport::default(),
        audience: state.store.draft_audience_count(user.id).await?,
    })
}

/// What parsing the draft needs, with the size of the draft's customer list.
async fn wizard_context(
    state: &AppState,
    user: &CurrentUser,
) -> Result<crate::domain::offer::form::OfferContext, WebError> {
    let mut ctx = state
        .store
        .offer_context(user.org_id, digits(user), today(user), None)
        .await?;
    ctx.audience_size = state.store.draft_audience_count(user.id).await?;
    Ok(ctx)
}

/// Only the errors of `step`'s own fields.
fn errors_of(step: Step, all: &OfferErrors) -> FieldErrors {
    FieldErrors(
        all.0
            .iter()
            .filter(|e| e.field.step() == step)
            .cloned()
            .collect(),
    )
    .for_form()
}

/// `GET /offers/new`: continues the user's draft, or starts one.
pub async fn start(
    user: CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    if state.store.get_draft(user.id).await?.is_none() {
        state
            .store
            .save_draft(user.id, &OfferForm::defaults(), None)
            .await?;
    }
    Ok(see_other("/offers/new/step/1"))
}

/// `POST /offers/new/for/{consumer}`: starts a fresh draft inside a consumer's context; the
/// offer is claimed by it at creation (OFF-6).
pub async fn start_for_consumer(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let consumer = state
        .store
        .get_consumer(user.org_id, path.into_inner())
        .await?;
    // An outbound campaign that holds an offer, or an ended campaign, gets no new one.
    if let Err(refusal) =
        crate::app::claim::may_create_for(&state.store, user.org_id, "", false, consumer.id).await?
    {
        Chrome::flash(&session, &format!("No offer was started: {refusal}."));
        return Ok(see_other(&format!("/admin/consumers/{}", consumer.id)));
    }
    state
        .store
        .save_draft(user.id, &OfferForm::defaults(), Some(consumer.id))
        .await?;
    Ok(see_other("/offers/new/step/1"))
}

fn step_of(n: usize) -> Result<Step, WebError> {
    Step::from_number(n).ok_or(WebError::NotFound)
}

pub async fn show_step(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<usize>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let step = step_of(path.into_inner())?;
    let (f, consumer) = draft(&state, &user).await?;
    render(
        StatusCode::OK,
        &step_page(
            &state,
            &user,
            &session,
            step,
            f,
            consumer,
            FieldErrors::default(),
        )
        .await?,
    )
}

#[derive(Debug, Deserialize)]
pub struct StepNav {
    /// `back` (the Back button's `formaction`) or empty.
    #[serde(default)]
    nav: String,
}

/// `POST /offers/new/step/{n}`: keeps what was typed; "Back" goes back without checking,
/// "Next" checks this step's fields and moves on (to the preview after the last step).
pub async fn save_step(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<usize>,
    nav: web::Query<StepNav>,
    CsrfForm(posted): CsrfForm<OfferForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let step = step_of(path.into_inner())?;
    let (mut f, consumer) = draft(&state, &user).await?;
    f.merge_step(step, posted);
    state.store.save_draft(user.id, &f, consumer).await?;
    if nav.nav == "back" {
        return Ok(see_other(&format!(
            "/offers/new/step/{}",
            step.number().saturating_sub(1).max(1)
        )));
    }
    let ctx = wizard_context(state.as_ref(), &user).await?;
    let mut mine = match parse(&f, &ctx) {
        Err(all) => errors_of(step, &all),
        Ok(_) => FieldErrors::default(),
    };
    // A common code another offer uses is caught at its own step, not only at "Create offer".
    if step == Step::Coupons
        && f.generation == "common"
        && mine.get("common_code").is_empty()
        && let Some(other) = state
            .store
            .offer_with_common_code(user.org_id, f.common_code.trim())
            .await?
    {
        mine.push(
            "common_code",
            format!("is already used by the offer {other}; choose another code"),
        );
    }
    // Seed 001: randomized common codes are made only by offers created in Incentives (a
    // campaign or program may claim such an offer afterwards).
    if step == Step::Coupons && consumer.is_some() && f.generation == "randomized" {
        let (field, message) = OfferRefusal::RandomizedOutsideIncentives.field_error();
        mine.push(field, message);
    }
    if !mine.is_empty() {
        let page = step_page(&state, &user, &session, step, f, consumer, mine).await?;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    Ok(match Step::from_number(step.number() + 1) {
        Some(next) => see_other(&format!("/offers/new/step/{}", next.number())),
        None => see_other("/offers/new/preview"),
    })
}

/// The first step with an error, to send the user back to.
fn first_failing(all: &OfferErrors) -> Step {
    Step::ALL
        .into_iter()
        .find(|s| !errors_of(*s, all).is_empty())
        .unwrap_or(Step::NameExpiry)
}

/// The draft as valid rules, or the page of the first step with errors (422).
async fn parsed_draft(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
) -> Result<Result<(OfferRules, OfferForm, Option<i64>), HttpResponse>, WebError> {
    let (f, consumer) = draft(state, user).await?;
    let ctx = wizard_context(state, user).await?;
    match parse(&f, &ctx) {
        Ok(rules) => Ok(Ok((rules, f, consumer))),
        Err(all) => {
            let step = first_failing(&all);
            let page = step_page(
                state,
                user,
                session,
                step,
                f,
                consumer,
                errors_of(step, &all),
            )
            .await?;
            Ok(Err(render(StatusCode::UNPROCESSABLE_ENTITY, &page)?))
        }
    }
}

pub async fn preview(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let (rules, _, consumer) = match parsed_draft(&state, &user, &session).await? {
        Ok(parsed) => parsed,
        Err(step_page) => return Ok(step_page),
    };
    let description = rules.describe(&super::names_for(&state.store, &user, consumer).await?);
    let consumer = consumer_of(&state.store, &user, consumer).await?;
    render(
        StatusCode::OK,
        &PreviewPage {
            chrome: Chrome::new(&user, &session, "offers"),
            description,
            consumer,
        },
    )
}

/// `POST /offers/new`: creates the offer from the draft and forgets the draft.
pub async fn create(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let (rules, f, consumer) = match parsed_draft(&state, &user, &session).await? {
        Ok(parsed) => parsed,
        Err(step_page) => return Ok(step_page),
    };
    match crate::app::offers::create(
        &state.store,
        user.org_id,
        &rules,
        consumer,
        Some(user.id),
        &user.actor(),
    )
    .await?
    {
        Ok(id) => {
            state.store.delete_draft(user.id).await?;
            Chrome::flash(&session, &format!("Created offer {}.", rules.name));
            Ok(see_other(&format!("/offers/{id}")))
        }
        Err(OfferRefusal::Claim(refusal)) => {
            // The campaign took another offer (or ended) since the wizard started.
            Chrome::flash(&session, &format!("The offer was not created: {refusal}."));
            Ok(see_other("/offers/new/preview"))
        }
        Err(refusal) => {
            let mut errors = FieldErrors::default();
            let (field, message) = refusal.field_error();
            errors.push(field, message);
            let page =
                step_page(&state, &user, &session, Step::Coupons, f, consumer, errors).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// `POST /offers/new/discard`: throws the draft away.
pub async fn discard(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    state.store.delete_draft(user.id).await?;
    Chrome::flash(&session, "The unfinished offer was discarded.");
    Ok(see_other("/offers"))
}

/// `POST /offers/new/scope`: adds the stores, tills, zones and concepts of a `type,code` CSV to
/// the draft's redemption restriction; any bad line is reported and nothing is added.
pub async fn upload_scope(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    upload: CsrfUpload,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let (mut f, consumer) = draft(&state, &user).await?;
    let codes = super::scope_codes(&state, &user).await?;
    match super::parse_upload(&upload, |bytes| {
        crate::domain::masters::parse_scope_csv(bytes, &codes)
    }) {
        Ok(rows) => {
            for (kind, id) in &rows {
                f.add_scope(*kind, *id);
            }
            state.store.save_draft(user.id, &f, consumer).await?;
            Chrome::flash(
                &session,
                &format!(
                    "Added {} redemption restrictions from {}.",
                    rows.len(),
                    upload.file_name
                ),
            );
            Ok(see_other("/offers/new/step/4"))
        }
        Err(errors) => {
            let mut page = step_page(
                &state,
                &user,
                &session,
                Step::Advanced,
                f,
                consumer,
                FieldErrors::default(),
            )
            .await?;
            page.upload = UploadReport::failed("restriction", &upload, errors);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// `POST /offers/new/audience`: the specific-customers list of the draft (`type,value` CSV;
/// MOBILE, EMAIL or EXTERNAL_ID), replacing any earlier one; a bad line keeps the old list.
pub async fn upload_audience(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    upload: CsrfUpload,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let (f, consumer) = draft(&state, &user).await?;
    match super::parse_upload(&upload, crate::domain::masters::parse_audience_csv) {
        Ok(rows) => {
            state.store.replace_draft_audience(user.id, &rows).await?;
            Chrome::flash(
                &session,
                &format!(
                    "The customer list now has {} customers (from {}).",
                    rows.len(),
                    upload.file_name
                ),
            );
            Ok(see_other("/offers/new/step/3"))
        }
        Err(errors) => {
            let mut page = step_page(
                &state,
                &user,
                &session,
                Step::Coupons,
                f,
                consumer,
                FieldErrors::default(),
            )
            .await?;
            page.upload = UploadReport::failed("customer list", &upload, errors);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
