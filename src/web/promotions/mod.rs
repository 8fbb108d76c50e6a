//! The Promotions console (PRM-1, seed 003): the list with search and status filter, the
//! create wizard (six steps, each checked on its own, then a plain-words preview), the
//! promotion's page with its moves (put live, pause, end), and editing through the same wizard.
//! Handlers parse, call `app::promotions`, and render; the rules are the engine's.

mod details;
pub mod earning;
pub mod form;
#[cfg(test)]
mod form_tests;
pub mod holding_words;
pub mod list;
pub mod page;
pub mod parse;
pub mod post;
mod read;
pub mod usage;
pub mod wizard;
pub mod words;
#[cfg(test)]
mod words_tests;

use crate::domain::promotion::{Kind, Promotion, Status, Validity};
use crate::web::auth::CurrentUser;
use actix_web::web;
use chrono_tz::Tz;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/promotions", web::get().to(list::list))
        .route("/promotions/new", web::get().to(wizard::start))
        .route("/promotions/new", web::post().to(wizard::create))
        .route("/promotions/new/step/{n}", web::post().to(wizard::new_step))
        .route(
            "/promotions/new/preview",
            web::post().to(wizard::new_preview),
        )
        .route("/promotions/{id}", web::get().to(page::show))
        .route("/promotions/{id}/status", web::post().to(page::set_status))
        .route("/promotions/{id}/edit", web::get().to(wizard::edit))
        .route("/promotions/{id}/edit", web::post().to(wizard::save))
        .route(
            "/promotions/{id}/edit/step/{n}",
            web::post().to(wizard::edit_step),
        )
        .route(
            "/promotions/{id}/edit/preview",
            web::post().to(wizard::edit_preview),
        );
}

/// How the org writes amounts and dates.
pub fn writer(user: &CurrentUser) -> words::Writer<'_> {
    words::Writer {
        currency: user.currency.code(),
        digits: user.currency.minor_digits(),
        tz: user.time_zone,
    }
}

/// Today in the org's time zone.
pub fn today(tz: Tz) -> chrono::NaiveDate {
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

/// "Automatic", "Code SAVE10", "Earned", "Reward".
pub fn kind_label(p: &Promotion) -> String {
    match &p.kind {
        Kind::Automatic => "Automatic".into(),
        Kind::CodeLinked { codes } => match codes.as_slice() {
            [one] => format!("Code {one}"),
            [first, rest @ ..] => format!("Code {first} +{}", rest.len()),
            [] => "Code".into(),
        },
        Kind::Earned => "Earned".into(),
        Kind::Reward => "Reward".into(),
    }
}

/// "1 Jun 2026 – 30 Jun 2026", "From 1 Jun 2026" in the org's calendar.
pub fn validity_text(v: &Validity, tz: Tz) -> String {
    use crate::domain::offer::describe::date_text;
    let first = date_text(v.starts.with_timezone(&tz).date_naive());
    match v.last_day(tz) {
        Some(last) => format!("{first} – {}", date_text(last)),
        None => format!("From {first}"),
    }
}

/// A status as people read it.
pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Draft => "Draft",
        Status::Live => "Live",
        Status::Paused => "Paused",
        Status::Ended => "Ended",
    }
}
