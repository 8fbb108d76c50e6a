//! The promotion wizard, for a new promotion and for editing one: Basics, Earning (earned and
//! reward promotions), Eligibility, Conditions, Benefit, Stacking & limits. "Next" checks the step's own inputs (and the
//! engine's rules about them) and keeps everything typed; "Back" and the step links move
//! without checking. The last step leads to a plain-words preview, then "Save as draft" or
//! "Save and put live" (`app::promotions::create`), or "Save changes" (`update`). The state
//! travels in the form itself (hidden fields), so nothing is stored before saving.

use super::earning::{CHANNELS, EVENTS};
use super::form::{DAYS, NotInForm, Problems, PromotionForm, Step, WEEKDAYS};
use super::parse::{Context, engine_problems, parse};
use super::post::{WizardPost, apply_uploads};
use super::words::Words;
use super::{today, writer};
use crate::app::promotions::{self, PromotionRefusal};
use crate::domain::ids::PromotionId;
use crate::domain::promotion::{Promotion, PromotionField, Status};
use crate::domain::user::Permission;
use crate::store::promotions::PromotionRecord;
use crate::web::auth::CurrentUser;
use crate::web::error::{render, see_other};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "pages/promotion_wizard.html")]
struct WizardPage {
    chrome: Chrome,
    title: String,
    /// Where the wizard posts: `/promotions/new` or `/promotions/{id}/edit`.
    base: String,
    step: usize,
    steps: Vec<(usize, &'static str)>,
    f: PromotionForm,
    hidden: Vec<(&'static str, String)>,
    errors: Problems,
    /// A refusal of the whole promotion (a frozen limit), or "".
    refusal: String,
    /// The last step's number ("Next" there leads to the preview).
    last: usize,
    /// The promotion has been live: its limits (and its redemption window and maximum
    /// earning) are shown, not edited.
    frozen: bool,
    frozen_limits: Vec<String>,
    frozen_holding: Vec<String>,
    /// What the uploads of this post added.
    notes: Vec<String>,
    currency: &'static str,
    tz: String,
    days: Vec<(&'static str, &'static str)>,
    weekdays: Vec<(&'static str, &'static str)>,
    periods: Vec<(&'static str, &'static str)>,
    events: Vec<(&'static str, &'static str)>,
    channels: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "pages/promotion_preview.html")]
struct PreviewPage {
    chrome: Chrome,
    title: String,
    base: String,
    /// The last step ("Change something" goes back to it).
    last: usize,
    words: Words,
    hidden: Vec<(&'static str, String)>,
    refusal: String,
    editing: bool,
}

/// The wizard's two uses.
#[derive(Debug, Clone)]
enum Mode {
    New,
    /// Editing a stored promotion.
    Edit(Box<PromotionRecord>),
}

impl Mode {
    fn base(&self) -> String {
        match self {
            Mode::New => "/promotions/new".into(),
            Mode::Edit(r) => format!("/promotions/{}/edit", r.promotion.id),
        }
    }

    fn title(&self) -> String {
        match self {
            Mode::New => "New promotion".into(),
            Mode::Edit(r) => format!("Edit {}", r.promotion.name),
        }
    }

    fn frozen(&self) -> bool {
        matches!(self, Mode::Edit(r) if r.status.restrictions_frozen())
    }

    fn context(&self, user: &CurrentUser) -> Context {
        Context {
            tz: user.time_zone,
            digits: user.currency.minor_digits(),
            today: today(user.time_zone),
            id: match self {
                Mode::New => 0,
                Mode::Edit(r) => r.promotion.id,
            },
        }
    }
}

fn owned(pairs: Vec<(&'static str, &str)>) -> Vec<(&'static str, String)> {
    pairs.into_iter().map(|(k, v)| (k, v.to_string())).collect()
}

/// The page of `step` showing `f` with `errors`.
fn step_page(
    user: &CurrentUser,
    session: &Session,
    mode: &Mode,
    step: Step,
    f: PromotionForm,
    errors: Problems,
) -> WizardPage {
    let frozen = mode.frozen();
    let (frozen_limits, frozen_holding) = match mode {
        Mode::Edit(r) if frozen => (
            writer(user).limits(&r.promotion.limits),
            writer(user).holding_limits(&r.promotion),
        ),
        _ => (Vec::new(), Vec::new()),
    };
    WizardPage {
        chrome: Chrome::new(user, session, "promotions"),
        title: mode.title(),
        base: mode.base(),
        step: step.number(),
        steps: Step::ALL.iter().map(|s| (s.number(), s.title())).collect(),
        hidden: owned(f.hidden(Some(step), frozen)),
        f,
        errors,
        refusal: String::new(),
        last: LAST.number(),
        frozen,
        frozen_limits,
        frozen_holding,
        notes: Vec::new(),
        currency: user.currency.code(),
        tz: user.time_zone.name().to_string(),
        days: DAYS.iter().map(|(n, l, _)| (*n, *l)).collect(),
        weekdays: WEEKDAYS.to_vec(),
        periods: PERIODS.to_vec(),
        events: EVENTS.to_vec(),
        channels: CHANNELS.to_vec(),
    }
}

/// The wizard's last step.
const LAST: Step = Step::Limits;

fn preview_page(
    user: &CurrentUser,
    session: &Session,
    mode: &Mode,
    p: &Promotion,
    f: &PromotionForm,
    refusal: String,
) -> PreviewPage {
    PreviewPage {
        chrome: Chrome::new(user, session, "promotions"),
        title: mode.title(),
        base: mode.base(),
        last: LAST.number(),
        words: writer(user).describe(p),
        hidden: owned(f.hidden(None, false)),
        refusal,
        editing: matches!(mode, Mode::Edit(_)),
    }
}

/// The reset periods a limit may have (seed 003), as the form offers them.
const PERIODS: [(&str, &str); 6] = [
    ("", "Never"),
    ("every_days", "Every X days, counting from a date"),
    ("every_weeks", "Every X weeks, on a weekday"),
    ("calendar_month", "Every calendar month"),
    ("last_days", "Rolling: the last X days"),
    ("last_weeks", "Rolling: the last X weeks (Sun–Sat)"),
];

/// One step's post: Back and the step links show a page unchecked; Next checks the step.
async fn step_post(
    user: &CurrentUser,
    session: &Session,
    mode: &Mode,
    n: usize,
    post: WizardPost,
) -> Result<HttpResponse, WebError> {
    let step = Step::from_number(n).ok_or(WebError::NotFound)?;
    let mut f = PromotionForm::from_fields(&post.fields);
    let (notes, upload_problems) = apply_uploads(&mut f, &post);
    let show = |target: Step, f: PromotionForm, errors: Problems, status: StatusCode| {
        let mut page = step_page(user, session, mode, target, f, errors);
        page.notes = notes.clone();
        render(status, &page)
    };
    if !upload_problems.is_empty() {
        return show(step, f, upload_problems, StatusCode::UNPROCESSABLE_ENTITY);
    }
    match post.field("nav") {
        "back" => {
            let back = Step::from_number(n.saturating_sub(1)).unwrap_or(Step::Basics);
            show(back, f, Problems::default(), StatusCode::OK)
        }
        "show" | "upload" => show(step, f, Problems::default(), StatusCode::OK),
        _ => {
            let ctx = mode.context(user);
            let mine = match parse(&f, &ctx) {
                Ok(_) => Problems::default(),
                Err(all) => all.of_step(step),
            };
            if !mine.is_empty() {
                return show(step, f, mine, StatusCode::UNPROCESSABLE_ENTITY);
            }
            match Step::from_number(n + 1) {
                Some(next) => show(next, f, Problems::default(), StatusCode::OK),
                None => preview(user, session, mode, f),
            }
        }
    }
}

/// The preview of a whole form, or the first step with problems.
fn preview(
    user: &CurrentUser,
    session: &Session,
    mode: &Mode,
    f: PromotionForm,
) -> Result<HttpResponse, WebError> {
    match parse(&f, &mode.context(user)) {
        Ok(p) => render(
            StatusCode::OK,
            &preview_page(user, session, mode, &p, &f, String::new()),
        ),
        Err(all) => first_failing(user, session, mode, f, all),
    }
}

fn first_failing(
    user: &CurrentUser,
    session: &Session,
    mode: &Mode,
    f: PromotionForm,
    all: Problems,
) -> Result<HttpResponse, WebError> {
    let step = all.first_step().unwrap_or(Step::Basics);
    let page = step_page(user, session, mode, step, f, all.of_step(step));
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// A refusal of the use case shown where it can be fixed.
fn refused(
    user: &CurrentUser,
    session: &Session,
    mode: &Mode,
    f: PromotionForm,
    p: &Promotion,
    refusal: PromotionRefusal,
) -> Result<HttpResponse, WebError> {
    match refusal {
        PromotionRefusal::Invalid(errors) => {
            let problems = engine_problems(&errors, &f);
            first_failing(user, session, mode, f, problems)
        }
        PromotionRefusal::CodeTaken(m) => {
            let said = m.strip_prefix("codes: ").unwrap_or(&m);
            let message = match said.strip_suffix(" already used in this organisation") {
                Some(codes) => format!(
                    "Codes already used in this organisation (by a coupon or another promotion): {codes}"
                ),
                // A code of the shape of an offer's generated coupon codes (the store's words).
                None => format!("Code {said}"),
            };
            let mut errors = Problems::default();
            errors.push(Step::Basics, "codes", message);
            let page = step_page(user, session, mode, Step::Basics, f, errors);
            render(StatusCode::CONFLICT, &page)
        }
        PromotionRefusal::Frozen(fields) => {
            let mut errors = Problems::default();
            for field in &fields {
                if *field == PromotionField::Holding {
                    for (input, label) in holding_changes(mode, p) {
                        errors.push(
                            Step::Earning,
                            input,
                            format!("{label} cannot change any more"),
                        );
                    }
                    continue;
                }
                let (step, input, label) = super::parse::place(*field);
                errors.push(step, input, format!("{label} cannot change any more"));
            }
            let step = errors.first_step().unwrap_or(Step::Limits);
            let mut page = step_page(user, session, mode, step, f, errors);
            page.refusal = format!(
                "Not saved: {}.",
                refusal_text(&PromotionRefusal::Frozen(fields))
            );
            render(StatusCode::CONFLICT, &page)
        }
        other => {
            let page = preview_page(
                user,
                session,
                mode,
                p,
                &f,
                format!("Not saved: {}.", refusal_text(&other)),
            );
            render(StatusCode::CONFLICT, &page)
        }
    }
}

/// The earning step's frozen inputs an edit changes (input, label).
fn holding_changes(mode: &Mode, edited: &Promotion) -> Vec<(&'static str, &'static str)> {
    let Mode::Edit(r) = mode else {
        return Vec::new();
    };
    let (a, b) = (&r.promotion.holding, &edited.holding);
    let mut out = Vec::new();
    if a.window_days != b.window_days {
        out.push(("window_days", "The redemption window"));
    }
    if a.max_per_customer != b.max_per_customer {
        out.push(("max_per_customer", "The maximum per customer"));
    }
    if a.max_per_customer_reset != b.max_per_customer_reset {
        out.push(("h_reset", "Its reset period"));
    }
    let milestone = |h: &crate::domain::promotion::holding::Holding| {
        h.earning.as_ref().and_then(|e| e.milestone)
    };
    if milestone(a) != milestone(b) {
        out.push(("ms_target", "The milestone (what it counts and its target)"));
    }
    out
}

fn refusal_text(r: &PromotionRefusal) -> String {
    match r {
        PromotionRefusal::LiveCap(_) => format!(
            "{}. Save it as a draft, or ask an admin to raise the cap in Settings",
            r.message()
        ),
        _ => r.message(),
    }
}

/// `GET /promotions/new`: the first step of a fresh promotion.
pub async fn start(user: CurrentUser, session: Session) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let f = PromotionForm::defaults(today(user.time_zone));
    let page = step_page(
        &user,
        &session,
        &Mode::New,
        Step::Basics,
        f,
        Problems::default(),
    );
    render(StatusCode::OK, &page)
}

/// `POST /promotions/new/step/{n}`.
pub async fn new_step(
    user: CurrentUser,
    session: Session,
    path: web::Path<usize>,
    post: WizardPost,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    step_post(&user, &session, &Mode::New, path.into_inner(), post).await
}

/// `POST /promotions/new/preview`.
pub async fn new_preview(
    user: CurrentUser,
    session: Session,
    post: WizardPost,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    preview(
        &user,
        &session,
        &Mode::New,
        PromotionForm::from_fields(&post.fields),
    )
}

/// `POST /promotions/new`: saves the promotion as a draft or live.
pub async fn create(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    post: WizardPost,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let mode = Mode::New;
    let f = PromotionForm::from_fields(&post.fields);
    let p = match parse(&f, &mode.context(&user)) {
        Ok(p) => p,
        Err(all) => return first_failing(&user, &session, &mode, f, all),
    };
    let status = match post.field("status") {
        "live" => Status::Live,
        _ => Status::Draft,
    };
    match promotions::create(&state.store, user.org_id, &p, status, &user.actor()).await? {
        Ok(id) => {
            let how = if status == Status::Live {
                "live"
            } else {
                "as a draft"
            };
            Chrome::flash(&session, &format!("Saved the promotion {} {how}.", p.name));
            Ok(see_other(&format!("/promotions/{id}")))
        }
        Err(refusal) => refused(&user, &session, &mode, f, &p, refusal),
    }
}

/// The promotion of the route, for a user who may edit.
async fn editing(user: &CurrentUser, state: &AppState, id: &str) -> Result<Mode, WebError> {
    user.require(Permission::EditOffers)?;
    let id: PromotionId = id.parse().map_err(|_| WebError::NotFound)?;
    let record = state.store.get_promotion(user.org_id, id).await?;
    Ok(Mode::Edit(Box::new(record)))
}

/// `GET /promotions/{id}/edit`: the first step showing the promotion.
pub async fn edit(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let mode = editing(&user, &state, &path).await?;
    let Mode::Edit(r) = &mode else {
        return Err(WebError::NotFound);
    };
    match PromotionForm::of_promotion(&r.promotion, user.time_zone, user.currency.minor_digits()) {
        Ok(f) => render(
            StatusCode::OK,
            &step_page(&user, &session, &mode, Step::Basics, f, Problems::default()),
        ),
        Err(NotInForm(why)) => {
            Chrome::flash(
                &session,
                &format!("This promotion cannot be edited here: {why}."),
            );
            Ok(see_other(&format!("/promotions/{}", r.promotion.id)))
        }
    }
}

/// `POST /promotions/{id}/edit/step/{n}`.
pub async fn edit_step(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<(String, usize)>,
    post: WizardPost,
) -> Result<HttpResponse, WebError> {
    let (id, n) = path.into_inner();
    let mode = editing(&user, &state, &id).await?;
    step_post(&user, &session, &mode, n, post).await
}

/// `POST /promotions/{id}/edit/preview`.
pub async fn edit_preview(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    post: WizardPost,
) -> Result<HttpResponse, WebError> {
    let mode = editing(&user, &state, &path).await?;
    preview(
        &user,
        &session,
        &mode,
        PromotionForm::from_fields(&post.fields),
    )
}

/// `POST /promotions/{id}/edit`: saves the edited rules; once the promotion has been live a
/// change of its limits, redemption window or maximum earning is refused by the use case and
/// shown.
pub async fn save(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    post: WizardPost,
) -> Result<HttpResponse, WebError> {
    let mode = editing(&user, &state, &path).await?;
    let f = PromotionForm::from_fields(&post.fields);
    let p = match parse(&f, &mode.context(&user)) {
        Ok(p) => p,
        Err(all) => return first_failing(&user, &session, &mode, f, all),
    };
    match promotions::update(&state.store, user.org_id, &p, &user.actor()).await? {
        Ok(()) => {
            Chrome::flash(&session, &format!("Saved the promotion {}.", p.name));
            Ok(see_other(&format!("/promotions/{}", p.id)))
        }
        Err(refusal) => refused(&user, &session, &mode, f, &p, refusal),
    }
}
