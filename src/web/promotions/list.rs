//! The promotions list: search by name and a status filter, in place via htmx and reflected in
//! the URL so reload and back keep the view.

use super::{kind_label, status_label, validity_text, writer};
use crate::domain::promotion::Status;
use crate::domain::user::Permission;
use crate::web::auth::CurrentUser;
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

pub const PAGE_SIZE: usize = 20;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    /// draft, live, paused, ended, or empty for all.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub page: Option<usize>,
}

/// One row of the list.
pub struct PromotionRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub validity: String,
    pub words: String,
}

#[derive(Template)]
#[template(path = "partials/promotion_table.html")]
pub struct PromotionTable {
    pub rows: Vec<PromotionRow>,
    pub q: String,
    pub status: String,
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    /// Query string of the current view without the page (for pager links).
    pub base_query: String,
}

#[derive(Template)]
#[template(path = "pages/promotions.html")]
struct PromotionsPage {
    chrome: Chrome,
    can_create: bool,
    statuses: Vec<(&'static str, &'static str)>,
    live: i64,
    cap: i64,
    table: PromotionTable,
    /// The promotions that gave most in the last 30 days: (id, name, carts, discount).
    top: Vec<(i64, String, String, String)>,
}

/// `GET /promotions`: the org's promotions, newest first.
pub async fn list(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let status = Status::parse(q.status.trim());
    let search = q.q.trim().to_lowercase();
    let all = state.store.list_promotions(user.org_id).await?;
    let live = all.iter().filter(|r| r.status == Status::Live).count() as i64;
    let w = writer(&user);
    let matching: Vec<_> = all
        .into_iter()
        .filter(|r| status.is_none_or(|s| r.status == s))
        .filter(|r| search.is_empty() || r.promotion.name.to_lowercase().contains(&search))
        .collect();
    let total = matching.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let rows = matching
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|r| PromotionRow {
            id: r.promotion.id,
            kind: kind_label(&r.promotion),
            status: r.status.as_str(),
            status_label: status_label(r.status),
            validity: validity_text(&r.promotion.validity, user.time_zone),
            words: w.headline(&r.promotion),
            name: r.promotion.name,
        })
        .collect();
    let status_text = status.map(|s| s.as_str()).unwrap_or("").to_string();
    let base_query = format!(
        "q={}&status={}",
        crate::web::error::urlencode(&q.q),
        status_text
    );
    let table = PromotionTable {
        rows,
        q: q.q.clone(),
        status: status_text,
        page,
        pages,
        total,
        base_query,
    };
    let cap = state.store.get_org(user.org_id).await?.live_promotion_cap;
    let today = chrono::Utc::now()
        .with_timezone(&user.time_zone)
        .date_naive();
    let top = state
        .store
        .top_promotions(user.org_id, user.time_zone, today)
        .await?
        .into_iter()
        .map(|t| {
            (
                t.id.get(),
                t.name,
                crate::domain::money::format_count(t.carts),
                crate::domain::money::format_amount(
                    t.discount,
                    user.currency.code(),
                    user.currency.minor_digits(),
                ),
            )
        })
        .collect();
    crate::web::extract::page_or_table(&req, table, |table| PromotionsPage {
        chrome: Chrome::new(&user, &session, "promotions"),
        can_create: user.can(Permission::ManageOffers),
        statuses: vec![
            ("draft", "Draft"),
            ("live", "Live"),
            ("paused", "Paused"),
            ("ended", "Ended"),
        ],
        live,
        cap,
        table,
        top,
    })
}
