//! The customer page for CSMs (issue #17): `/customers` finds a customer by mobile, email or
//! external id; `/customers/{id}` shows who they are, their events, trackers, held promotions,
//! coupons and redemptions, in the org's time zone and currency; and each tracker row's form
//! posts an audited correction (`app::customer_care`). Anyone may look; correcting is serving
//! customers (admin, marketing, CSM).

use crate::app::customer_care::{
    self, CorrectionEarned, CorrectionInput, CustomerCare, HeldState, TrackerView,
};
use crate::domain::FieldErrors;
use crate::domain::ids::CustomerId;
use crate::domain::money::{amount_input, format_amount, format_count};
use crate::domain::offer::Channel;
use crate::domain::offer::describe::{date_text, time_text};
use crate::domain::promotion::holding::Measure;
use crate::domain::tracker::{measure_text, window_words};
use crate::domain::user::Permission;
use crate::domain::wallet::WalletState;
use crate::store::customer_view::CustomerCard;
use crate::web::auth::CurrentUser;
use crate::web::csrf::CsrfForm;
use crate::web::error::{render, see_other, urlencode};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

/// The search box.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
}

/// A customer in the search results.
pub struct Listed {
    pub id: i64,
    /// "Mobile 9800000001"
    pub identifier: String,
    pub name: String,
    pub mobile: String,
    pub email: String,
    pub guest: bool,
    pub since: String,
}

#[derive(Template)]
#[template(path = "pages/customers.html")]
struct CustomersPage {
    chrome: Chrome,
    q: String,
    /// Why the text was not searched, or "".
    error: String,
    /// Whether a search ran (so "no customer" is said).
    searched: bool,
    results: Vec<Listed>,
}

/// "Mobile", "Email", "External id".
fn identifier_kind(t: &str) -> &'static str {
    match t {
        "MOBILE" => "Mobile",
        "EMAIL" => "Email",
        _ => "External id",
    }
}

fn listed(c: CustomerCard, tz: Tz) -> Listed {
    Listed {
        id: c.id.get(),
        identifier: format!("{} {}", identifier_kind(&c.identifier_type), c.identifier),
        name: c.first_name.unwrap_or_default(),
        mobile: c.mobile.unwrap_or_default(),
        email: c.email.unwrap_or_default(),
        guest: c.guest,
        since: date_text(c.created_at.with_timezone(&tz).date_naive()),
    }
}

/// `GET /customers`: the search box and, with `?q=`, the customers it finds.
pub async fn search(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let q = q.into_inner().q;
    let (status, error, searched, results) = if q.trim().is_empty() {
        (StatusCode::OK, String::new(), false, Vec::new())
    } else {
        match customer_care::search(&state.store, user.org_id, &q).await? {
            Ok(found) => (
                StatusCode::OK,
                String::new(),
                true,
                found
                    .into_iter()
                    .map(|c| listed(c, user.time_zone))
                    .collect(),
            ),
            Err(why) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                why.to_string(),
                false,
                Vec::new(),
            ),
        }
    };
    render(
        status,
        &CustomersPage {
            chrome: Chrome::new(&user, &session, "customers"),
            q,
            error,
            searched,
            results,
        },
    )
}

pub struct EventLine {
    pub when: String,
    pub kind: String,
    pub event_id: String,
    pub transaction: String,
    pub amount: String,
    /// "channel: app, store: S1"
    pub attributes: String,
    pub earned: Vec<String>,
}

pub struct TrackerLine {
    pub promotion_id: i64,
    pub name: String,
    /// `live`, `paused`, `ended` (a badge when not live).
    pub status: &'static str,
    /// "3 of 5 transactions", "₹6,000 of ₹10,000"
    pub progress: String,
    /// "this month (Nov 2026)", "over the promotion's life"
    pub window_text: String,
    pub reached: bool,
    /// "Oct 2026: 4 transactions · Sep 2026: 1 transaction"
    pub past: String,
    /// The form: window and progress as shown (hidden), the value and reason as typed.
    pub window: String,
    pub seen: i64,
    pub value: String,
    pub reason: String,
    /// "transactions" or the currency, beside the input.
    pub unit: String,
    pub error_progress: String,
    pub error_reason: String,
}

pub struct HeldLine {
    pub promotion_id: i64,
    pub name: String,
    /// "Earned", "Reward", "Earned (correction)"
    pub source: String,
    pub got_on: String,
    /// "7 Dec 2026", or "until the promotion ends"
    pub last_day: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub used_on: String,
}

pub struct CouponLine {
    pub offer_id: i64,
    pub offer: String,
    pub discount: String,
    pub code: String,
    pub issued: String,
    pub last_day: String,
    pub state: &'static str,
    pub state_label: &'static str,
}

pub struct RedemptionLine {
    pub when: String,
    pub store: String,
    pub offer_id: i64,
    pub offer: String,
    pub code: String,
    pub transaction: String,
    pub bill: String,
    pub discount: String,
    /// When it was reversed, or "".
    pub reversed: String,
}

#[derive(Template)]
#[template(path = "pages/customer.html")]
struct CustomerPage {
    chrome: Chrome,
    can_correct: bool,
    id: i64,
    /// The first name, else the identifier.
    title: String,
    identifier_kind: &'static str,
    identifier: String,
    /// `identifier_type=…&identifier=…` for the tags and contacts pages' look-ups.
    lookup: String,
    first_name: String,
    mobile: String,
    email: String,
    preferred: &'static str,
    guest: bool,
    since: String,
    tiers: Vec<String>,
    segments: Vec<String>,
    events: Vec<EventLine>,
    trackers: Vec<TrackerLine>,
    /// A correction's error that belongs to no row (another promotion, the window turned, the
    /// tracker moved), or "".
    tracker_error: String,
    held: Vec<HeldLine>,
    coupons: Vec<CouponLine>,
    redemptions: Vec<RedemptionLine>,
}

/// The last day a hold ending (exclusive) at `till` is usable, in `tz`.
fn last_day(till: DateTime<Utc>, tz: Tz) -> String {
    date_text(
        (till - chrono::Duration::seconds(1))
            .with_timezone(&tz)
            .date_naive(),
    )
}

/// An event type in words: "transaction" → "Transaction", "profile_update" → "Profile update".
fn event_kind(kind: &str) -> String {
    let words = kind.replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The page's lines from what the use case read; `posted` is a refused correction to show
/// again with its errors.
fn page(
    user: &CurrentUser,
    session: &Session,
    care: CustomerCare,
    posted: Option<(&CorrectionInput, &FieldErrors)>,
) -> CustomerPage {
    let tz = user.time_zone;
    let (cur, digits) = (user.currency.code(), user.currency.minor_digits());
    let money = |m: i64| format_amount(m, cur, digits);
    let c = care.customer;
    // A customer identified by a mobile (an email) is reached at it.
    let mobile = c
        .mobile
        .clone()
        .or_else(|| (c.identifier_type == "MOBILE").then(|| c.identifier.clone()));
    let email = c
        .email
        .clone()
        .or_else(|| (c.identifier_type == "EMAIL").then(|| c.identifier.clone()));
    let events = care
        .events
        .into_iter()
        .map(|e| EventLine {
            when: time_text(e.row.occurred_at, tz),
            kind: event_kind(&e.row.kind),
            event_id: e.row.event_id,
            transaction: e.row.transaction_number.unwrap_or_default(),
            amount: e.row.amount.map(money).unwrap_or_default(),
            attributes: e
                .attributes
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", "),
            earned: e.earned,
        })
        .collect();
    let trackers = care
        .trackers
        .into_iter()
        .map(|t| tracker_line(&t, cur, digits, posted))
        .collect();
    let tracker_error = posted
        .map(|(_, errors)| errors.get("promotion").to_string())
        .unwrap_or_default();
    let held = care
        .held
        .into_iter()
        .map(|(h, state)| HeldLine {
            promotion_id: h.promotion_id,
            name: h.promotion_name,
            source: match (h.source.as_str(), h.reference.starts_with("correction:")) {
                ("reward", _) => match (h.cost_points, h.cost_amount) {
                    (Some(points), _) => format!("Reward for {} points", format_count(points)),
                    (None, Some(amount)) => format!("Reward for {}", money(amount)),
                    (None, None) => "Reward".into(),
                },
                (_, true) => "Earned (tracker corrected)".into(),
                _ => "Earned".into(),
            },
            got_on: time_text(h.acquired_at, tz),
            last_day: h
                .valid_till
                .map(|t| last_day(t, tz))
                .unwrap_or_else(|| "until the promotion ends".into()),
            state: state.as_str(),
            state_label: match state {
                HeldState::Active => "Active",
                HeldState::Expired => "Expired",
                HeldState::Used => "Used",
            },
            used_on: match (state, h.used_at) {
                (HeldState::Used, Some(at)) => time_text(at, tz),
                _ => String::new(),
            },
        })
        .collect();
    let coupons = care
        .coupons
        .into_iter()
        .map(|w| CouponLine {
            offer_id: w.offer_id.get(),
            offer: w.offer_name,
            discount: w.discount_words,
            code: w.code,
            issued: time_text(w.issued_at, tz),
            last_day: w.valid_till.map(date_text).unwrap_or_else(|| "—".into()),
            state: match w.state {
                WalletState::Active => "issued",
                WalletState::Used => "redeemed",
                WalletState::Expired => "expired",
                WalletState::Revoked => "revoked",
                WalletState::Shared => "skipped",
            },
            state_label: match w.state {
                WalletState::Active => "Active",
                WalletState::Used => "Used",
                WalletState::Expired => "Expired",
                WalletState::Revoked => "Revoked",
                WalletState::Shared => "Given to a friend",
            },
        })
        .collect();
    let redemptions = care
        .redemptions
        .into_iter()
        .map(|r| RedemptionLine {
            when: time_text(r.redeemed_at, tz),
            store: match (r.store_name, r.store_code) {
                (Some(n), Some(code)) => format!("{n} ({code})"),
                (n, code) => n.or(code).unwrap_or_else(|| "—".into()),
            },
            offer_id: r.offer_id,
            offer: r.offer_name.unwrap_or_default(),
            code: r.code,
            transaction: r.transaction_number,
            bill: money(r.bill_amount),
            discount: money(r.discount),
            reversed: r.reversed_at.map(|t| time_text(t, tz)).unwrap_or_default(),
        })
        .collect();
    CustomerPage {
        chrome: Chrome::new(user, session, "customers"),
        can_correct: user.can(Permission::ServeCustomers),
        id: c.id.get(),
        title: c
            .first_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| c.identifier.clone()),
        identifier_kind: identifier_kind(&c.identifier_type),
        lookup: format!(
            "identifier_type={}&identifier={}",
            c.identifier_type,
            urlencode(&c.identifier)
        ),
        identifier: c.identifier,
        first_name: c.first_name.unwrap_or_default(),
        mobile: mobile.unwrap_or_default(),
        email: email.unwrap_or_default(),
        preferred: match c.preferred_channel {
            Some(Channel::Sms) => "SMS",
            Some(Channel::Email) => "Email",
            None => "",
        },
        guest: c.guest,
        since: date_text(c.created_at.with_timezone(&tz).date_naive()),
        tiers: care.tiers,
        segments: care.segments,
        events,
        trackers,
        tracker_error,
        held,
        coupons,
        redemptions,
    }
}

fn tracker_line(
    t: &TrackerView,
    cur: &str,
    digits: u32,
    posted: Option<(&CorrectionInput, &FieldErrors)>,
) -> TrackerLine {
    let m = t.milestone;
    let words = |n| measure_text(&t.rule, m.measure, n, cur, digits);
    // "3 of 5 transactions": the unit once, after the target.
    let progress = match m.measure {
        Measure::Count => format!("{} of {}", t.progress, words(m.target)),
        Measure::Sum => format!("{} of {}", words(t.progress), words(m.target)),
    };
    let window_text = if t.window == "life" {
        window_words(&t.window)
    } else {
        format!("this month ({})", window_words(&t.window))
    };
    let mine = posted.filter(|(input, _)| input.promotion_id == t.promotion_id);
    let (value, reason, error_progress, error_reason) = match mine {
        Some((input, errors)) => (
            input.progress.clone(),
            input.reason.clone(),
            errors.get("progress").to_string(),
            errors.get("reason").to_string(),
        ),
        None => (
            match m.measure {
                Measure::Count => t.progress.to_string(),
                Measure::Sum => amount_input(t.progress, digits),
            },
            String::new(),
            String::new(),
            String::new(),
        ),
    };
    TrackerLine {
        promotion_id: t.promotion_id,
        name: t.name.clone(),
        status: t.status.as_str(),
        progress,
        window_text,
        reached: t.progress >= m.target,
        past: t
            .past
            .iter()
            .map(|(key, n)| format!("{}: {}", window_words(key), words(*n)))
            .collect::<Vec<_>>()
            .join(" · "),
        window: t.window.clone(),
        seen: t.progress,
        value,
        reason,
        unit: match m.measure {
            Measure::Count => words(2)
                .split_once(' ')
                .map(|(_, unit)| unit.to_string())
                .unwrap_or_default(),
            Measure::Sum => cur.to_string(),
        },
        error_progress,
        error_reason,
    }
}

/// `GET /customers/{id}`: the customer page; another org's customer is 404.
pub async fn show(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let id = CustomerId(path.into_inner());
    let now = Utc::now();
    let care = customer_care::customer_page(&state.store, user.org_id, id, now).await?;
    render(StatusCode::OK, &page(&user, &session, care, None))
}

/// `POST /customers/{id}/trackers`: corrects a tracker's progress with a reason (audited);
/// crossing the target earns the promotion now. Refused input shows the page again with the
/// errors and the values typed (422), changing nothing.
pub async fn correct(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
    CsrfForm(input): CsrfForm<CorrectionInput>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ServeCustomers)?;
    let id = CustomerId(path.into_inner());
    let now = Utc::now();
    let outcome =
        customer_care::correct_tracker(&state.store, user.org_id, id, &input, &user.actor(), now)
            .await?;
    match outcome {
        Ok(done) => {
            let earned = match &done.earned {
                CorrectionEarned::Nothing => String::new(),
                CorrectionEarned::Held { valid_till, .. } => format!(
                    " The target is reached: the customer now holds “{}”{}.",
                    done.promotion,
                    valid_till
                        .map(|t| format!(", usable until {}", last_day(t, user.time_zone)))
                        .unwrap_or_default()
                ),
                CorrectionEarned::NotGiven(why) => {
                    format!(" The target is reached, but the promotion was not given: {why}.")
                }
            };
            Chrome::flash(
                &session,
                &format!(
                    "Tracker of “{}” corrected {}.{earned}",
                    done.promotion, done.change
                ),
            );
            // `#main`: the flash at the top of the page says what happened.
            Ok(see_other(&format!("/customers/{}#main", id.get())))
        }
        Err(errors) => {
            let care = customer_care::customer_page(&state.store, user.org_id, id, now).await?;
            let p = page(&user, &session, care, Some((&input, &errors)));
            render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}
