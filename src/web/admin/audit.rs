//! The audit log page (ORG-8): newest first, filter by what changed, paginated in place (htmx).

use crate::domain::user::Permission;
use crate::store::AuditRow;
use crate::web::auth::CurrentUser;
use crate::web::error::render;
use crate::web::{AppState, Chrome, WebError, is_htmx};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono_tz::Tz;
use serde::Deserialize;

pub const PAGE_SIZE: i64 = 50;
const ENTITY_TYPES: &[&str] = &[
    "org", "offer", "user", "concept", "zone", "store", "till", "category", "brand", "poc",
    "consumer", "api_key", "outbox",
];

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    entity: String,
    #[serde(default)]
    page: Option<i64>,
}

pub struct AuditView {
    /// Where the changed record can be seen, or "".
    pub link: String,
    pub when: String,
    pub actor: String,
    pub entity: String,
    pub summary: String,
    pub details: String,
}

fn view(r: AuditRow, tz: Tz) -> AuditView {
    AuditView {
        link: match (r.entity_type.as_str(), r.entity_id) {
            ("offer", Some(id)) => format!("/offers/{id}"),
            ("store", Some(id)) => format!("/admin/stores/{id}"),
            ("poc", Some(id)) => format!("/admin/pocs/{id}"),
            ("consumer", Some(id)) => format!("/admin/consumers/{id}"),
            _ => String::new(),
        },
        when: r
            .created_at
            .with_timezone(&tz)
            .format("%d %b %Y %H:%M")
            .to_string(),
        actor: r.actor,
        entity: match r.entity_id {
            Some(id) => format!("{} #{id}", r.entity_type),
            None => r.entity_type,
        },
        summary: r.summary,
        details: r.details.unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "partials/audit_table.html")]
struct AuditTable {
    rows: Vec<AuditView>,
    entity: String,
    page: i64,
    pages: i64,
    total: i64,
}

#[derive(Template)]
#[template(path = "pages/audit.html")]
struct AuditPage {
    chrome: Chrome,
    entity_types: &'static [&'static str],
    table: AuditTable,
}

pub async fn list(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let entity = if ENTITY_TYPES.contains(&q.entity.as_str()) {
        q.entity.clone()
    } else {
        String::new()
    };
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let (rows, total) = state
        .store
        .list_audit(
            user.org_id,
            Some(entity.as_str()).filter(|e| !e.is_empty()),
            PAGE_SIZE,
            (page - 1) * PAGE_SIZE,
        )
        .await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let table = AuditTable {
        rows: rows.into_iter().map(|r| view(r, user.time_zone)).collect(),
        entity,
        page,
        pages,
        total,
    };
    if is_htmx(&req) {
        return render(StatusCode::OK, &table);
    }
    render(
        StatusCode::OK,
        &AuditPage {
            chrome: Chrome::new(&user, &session, "audit"),
            entity_types: ENTITY_TYPES,
            table,
        },
    )
}
