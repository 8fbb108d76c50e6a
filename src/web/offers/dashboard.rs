//! The Incentives dashboard (OFF-1): search, active-only, sort, pagination — in place via
//! htmx, and reflected in the URL so reload and back keep the view.

use super::{consumer_text, digits, today};
use crate::domain::ids::OfferId;
use crate::domain::money::format_count;
use crate::domain::user::Permission;
use crate::store::offers::OfferQuery;
use crate::web::auth::CurrentUser;
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

pub const PAGE_SIZE: i64 = 20;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DashboardQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub active: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub page: Option<i64>,
}

pub struct OfferRowView {
    pub id: OfferId,
    pub name: String,
    pub offer_code: String,
    pub kind: &'static str,
    pub discount: String,
    pub expiry: String,
    pub claimed_by: String,
    pub issued: String,
    pub redeemed: String,
}

#[derive(Template)]
#[template(path = "partials/offer_table.html")]
pub struct OfferTable {
    pub rows: Vec<OfferRowView>,
    pub q: String,
    pub active: bool,
    pub sort: String,
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    /// Query string of the current view without the page (for pager links).
    pub base_query: String,
    /// The ⋯ menu offers "Claim" (CLM-1) to roles that may claim.
    pub can_claim: bool,
    /// Revoking is for those who serve customers (csm: a customer's coupons only).
    pub can_revoke: bool,
}

#[derive(Template)]
#[template(path = "pages/offers.html")]
struct OffersPage {
    chrome: Chrome,
    can_create: bool,
    table: OfferTable,
}

pub async fn list(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<DashboardQuery>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let active = q.active == "on";
    let sort = if q.sort == "created" {
        "created"
    } else {
        "modified"
    }
    .to_string();
    let query = OfferQuery {
        search: q.q.clone(),
        active_only: active,
        by_modified: sort == "modified",
        today: Some(today(&user)),
        consumer: None,
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
    };
    let (rows, total) = state.store.list_offers(user.org_id, &query).await?;
    let d = digits(&user);
    let rows = rows
        .into_iter()
        .map(|r| OfferRowView {
            id: r.id,
            kind: r.generation.label(),
            discount: r.discount.words(user.currency.code(), d),
            // The real last day: the fixed date or the claiming campaign's end, whichever is
            // earlier.
            expiry: match crate::domain::issue::offer_ends_on(&r.expiry, r.claimed_until) {
                Some(date) => crate::domain::offer::describe::date_text(date),
                None if r.claimed_by_name.is_some() => "No end (its program has none)".into(),
                None => "With the campaign (not claimed yet)".into(),
            },
            claimed_by: consumer_text(r.claimed_by_kind, r.claimed_by_name.as_deref()),
            issued: format_count(r.issued_count),
            redeemed: format_count(r.redeemed_count),
            name: r.name,
            offer_code: r.offer_code,
        })
        .collect();
    let base_query = format!(
        "q={}&active={}&sort={}",
        crate::web::error::urlencode(&q.q),
        if active { "on" } else { "" },
        sort
    );
    let table = OfferTable {
        rows,
        q: q.q.clone(),
        active,
        sort,
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        total,
        base_query,
        can_claim: user.can(Permission::ManageOffers),
        can_revoke: user.can(Permission::ServeCustomers),
    };
    crate::web::extract::page_or_table(&req, table, |table| OffersPage {
        chrome: Chrome::new(&user, &session, "offers"),
        can_create: user.can(Permission::ManageOffers),
        table,
    })
}
