//! The offer page (OFF-5): Configuration (the whole setup in plain words), Information and
//! Performance.

use super::performance::PerformanceTab;
use super::sharing::SharingPanel;
use super::{consumer_text, digits, names_for, today};
use crate::domain::ids::OfferId;
use crate::domain::money::format_count;
use crate::domain::offer::describe::Description;
use crate::domain::user::Permission;
use crate::store::offers::OfferRecord;
use crate::web::auth::CurrentUser;
use crate::web::error::render;
use crate::web::extract::*;
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct TabQuery {
    #[serde(default)]
    tab: String,
}

/// The Information tab's facts, formatted.
pub struct Information {
    pub offer_id: OfferId,
    pub offer_code: String,
    pub created: String,
    pub modified: String,
    pub claimed_by: String,
    pub issued: String,
    pub redeemed: String,
    pub last_issued: String,
    pub last_redeemed: String,
    pub redemption_rate: String,
}

fn when(t: Option<DateTime<Utc>>, tz: Tz) -> String {
    t.map(|t| crate::domain::offer::describe::time_text(t, tz))
        .unwrap_or_else(|| "Never".into())
}

/// Redeemed ÷ issued, one decimal; 0% until codes exist.
pub fn redemption_rate(issued: i64, redeemed: i64) -> String {
    if issued == 0 {
        "0%".into()
    } else {
        format!("{:.1}%", redeemed as f64 * 100.0 / issued as f64)
    }
}

fn information(o: &OfferRecord, tz: Tz) -> Information {
    Information {
        offer_id: o.id,
        offer_code: o.offer_code.clone(),
        created: format!("{} by {}", when(Some(o.created_at), tz), o.created_by),
        modified: format!("{} by {}", when(Some(o.updated_at), tz), o.updated_by),
        claimed_by: consumer_text(
            o.claimed_by.as_ref().map(|c| c.2),
            o.claimed_by.as_ref().map(|c| c.1.as_str()),
        ),
        issued: format_count(o.issued_count),
        redeemed: format_count(o.redeemed_count),
        last_issued: when(o.last_issued_at, tz),
        last_redeemed: when(o.last_redeemed_at, tz),
        redemption_rate: redemption_rate(o.issued_count, o.redeemed_count),
    }
}

/// The offer page's heading and tabs, shared by every tab.
pub struct OfferHead {
    pub id: OfferId,
    pub name: String,
    pub headline: String,
    pub tab: &'static str,
    pub can_edit: bool,
    /// May claim it for a campaign (CLM-1): the role allows and nobody holds it yet.
    pub can_claim: bool,
}

impl OfferHead {
    pub fn new(
        offer: &OfferRecord,
        headline: String,
        tab: &'static str,
        user: &CurrentUser,
    ) -> OfferHead {
        OfferHead {
            id: offer.id,
            name: offer.rules.name.clone(),
            headline,
            tab,
            can_edit: user.can(Permission::EditOffers),
            can_claim: user.can(Permission::ManageOffers) && offer.claimed_by.is_none(),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/offer.html")]
struct OfferPage {
    chrome: Chrome,
    head: OfferHead,
    description: Description,
    info: Information,
    /// Loaded only when the Performance tab is shown.
    performance: Option<PerformanceTab>,
    /// The customers' side (public link, sharing, referral reward): the Configuration tab's.
    sharing: Option<SharingPanel>,
}

pub async fn show(
    MyOffer { user, offer, .. }: MyOffer<ToView>,
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<TabQuery>,
) -> Result<HttpResponse, WebError> {
    let tab = match q.tab.as_str() {
        "information" => "information",
        "performance" => "performance",
        _ => "configuration",
    };
    let sharing = if tab == "configuration" {
        Some(SharingPanel::load(&state, &user, &offer, None, Default::default()).await?)
    } else {
        None
    };
    render_tab(
        &state,
        &user,
        &session,
        &offer,
        tab,
        sharing,
        StatusCode::OK,
    )
    .await
}

/// The Configuration tab with its customers' side as given (a refused save's values and
/// errors).
pub async fn render_configuration(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    offer: &OfferRecord,
    sharing: SharingPanel,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    render_tab(
        state,
        user,
        session,
        offer,
        "configuration",
        Some(sharing),
        status,
    )
    .await
}

async fn render_tab(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    offer: &OfferRecord,
    tab: &'static str,
    sharing: Option<SharingPanel>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let description = offer
        .rules
        .describe(&names_for(&state.store, user, offer.claimed_by.as_ref().map(|c| c.0)).await?);
    let performance = if tab == "performance" {
        let perf = state
            .store
            .offer_performance(user.org_id, offer.id, user.time_zone, today(user))
            .await?;
        Some(PerformanceTab::new(
            offer,
            &perf,
            user.currency.code(),
            digits(user),
            user.time_zone,
        ))
    } else {
        None
    };
    let page = OfferPage {
        chrome: Chrome::new(user, session, "offers"),
        head: OfferHead::new(offer, description.headline.clone(), tab, user),
        info: information(offer, user.time_zone),
        description,
        performance,
        sharing,
    };
    render(status, &page)
}

#[cfg(test)]
mod tests {
    #[test]
    fn redemption_rate_is_zero_without_codes() {
        assert_eq!(super::redemption_rate(0, 0), "0%");
        assert_eq!(super::redemption_rate(200, 30), "15.0%");
    }
}
