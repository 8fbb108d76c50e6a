//! A promotion's page: its rules in plain words, its status and the moves its life allows
//! (put live, pause, end), each a form posted with the CSRF token.

use super::words::Words;
use super::{kind_label, status_label, validity_text, writer};
use crate::app::promotions::{self, PromotionRefusal};
use crate::domain::ids::PromotionId;
use crate::domain::offer::describe::time_text;
use crate::domain::promotion::Status;
use crate::domain::user::Permission;
use crate::store::promotion_usage::DayUses;
use crate::store::promotions::PromotionRecord;
use crate::web::auth::CurrentUser;
use crate::web::csrf::CsrfForm;
use crate::web::error::{render, see_other};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

/// A move a button offers: the status to post, its label, and whether it is the main one.
pub struct Move {
    pub to: &'static str,
    pub label: &'static str,
    pub primary: bool,
}

#[derive(Template)]
#[template(path = "pages/promotion.html")]
struct PromotionPage {
    chrome: Chrome,
    id: i64,
    name: String,
    status: &'static str,
    status_label: &'static str,
    kind: String,
    validity: String,
    words: Words,
    moves: Vec<Move>,
    can_edit: bool,
    created: String,
    modified: String,
    /// Why the last move was refused, or "".
    refusal: String,
    usage: super::usage::Usage,
    /// "31 Oct – 29 Nov 2026 (Asia/Kolkata)".
    usage_window: String,
}

/// The moves `from` allows, in the order the buttons show them.
fn moves(from: Status) -> Vec<Move> {
    [
        (Status::Live, "Put live", true),
        (Status::Paused, "Pause", false),
        (Status::Ended, "End", false),
    ]
    .into_iter()
    .filter(|(to, _, _)| from.may_become(*to))
    .map(|(to, label, primary)| Move {
        to: to.as_str(),
        label,
        primary,
    })
    .collect()
}

fn page(
    user: &CurrentUser,
    session: &Session,
    r: PromotionRecord,
    refusal: String,
    days: &[DayUses],
) -> PromotionPage {
    let p = &r.promotion;
    PromotionPage {
        chrome: Chrome::new(user, session, "promotions"),
        id: p.id,
        name: p.name.clone(),
        status: r.status.as_str(),
        status_label: status_label(r.status),
        kind: kind_label(p),
        validity: validity_text(&p.validity, user.time_zone),
        words: writer(user).describe(p),
        moves: if user.can(Permission::ManageOffers) {
            moves(r.status)
        } else {
            Vec::new()
        },
        can_edit: user.can(Permission::EditOffers),
        created: time_text(r.created_at, user.time_zone),
        modified: time_text(r.updated_at, user.time_zone),
        refusal,
        usage: super::usage::Usage::new(days, user.currency.code(), user.currency.minor_digits()),
        usage_window: match (days.first(), days.last()) {
            (Some(a), Some(b)) => format!(
                "{} – {} ({})",
                a.day.format("%-d %b"),
                b.day.format("%-d %b %Y"),
                user.time_zone
            ),
            _ => String::new(),
        },
    }
}

fn id_of(raw: &str) -> Result<PromotionId, WebError> {
    raw.parse().map_err(|_| WebError::NotFound)
}

/// `GET /promotions/{id}`.
pub async fn show(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let id = id_of(&path)?;
    let record = state.store.get_promotion(user.org_id, id).await?;
    let days = usage_days(&state, &user, id).await?;
    render(
        StatusCode::OK,
        &page(&user, &session, record, String::new(), &days),
    )
}

/// The promotion's carts and discount per day, the last 30 days of the org's calendar.
async fn usage_days(
    state: &AppState,
    user: &CurrentUser,
    id: PromotionId,
) -> Result<Vec<DayUses>, WebError> {
    let today = chrono::Utc::now()
        .with_timezone(&user.time_zone)
        .date_naive();
    Ok(state
        .store
        .promotion_usage(user.org_id, id, user.time_zone, today)
        .await?)
}

#[derive(Debug, Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    to: String,
}

/// `POST /promotions/{id}/status`: puts the promotion live, pauses or ends it; a refusal (the
/// org's cap of live promotions, a move its life does not allow) is shown on its page.
pub async fn set_status(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let id = id_of(&path)?;
    let to = Status::parse(form.to.trim())
        .ok_or_else(|| WebError::BadRequest("`to` must be live, paused or ended".into()))?;
    match promotions::set_status(&state.store, user.org_id, id, to, &user.actor()).await? {
        Ok(()) => {
            let done = match to {
                Status::Live => "is live",
                Status::Paused => "is paused",
                Status::Ended => "has ended",
                Status::Draft => "is a draft",
            };
            Chrome::flash(&session, &format!("The promotion {done}."));
            Ok(see_other(&format!("/promotions/{id}")))
        }
        Err(refusal) => {
            let record = state.store.get_promotion(user.org_id, id).await?;
            let days = usage_days(&state, &user, id).await?;
            let message = match &refusal {
                PromotionRefusal::LiveCap(_) => format!(
                    "It was not put live: {}. An admin can raise the cap in Settings.",
                    refusal.message()
                ),
                _ => format!("Nothing changed: {}.", refusal.message()),
            };
            render(
                StatusCode::CONFLICT,
                &page(&user, &session, record, message, &days),
            )
        }
    }
}
