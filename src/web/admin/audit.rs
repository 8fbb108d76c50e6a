//! The audit log page (ORG-8): newest first, filter by what changed, paginated in place (htmx).

use crate::domain::user::Permission;
use crate::store::AuditRow;
use crate::web::auth::CurrentUser;
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono_tz::Tz;
use serde::Deserialize;

pub const PAGE_SIZE: i64 = 50;
const ENTITY_TYPES: &[&str] = &[
    "org", "offer", "user", "concept", "zone", "store", "till", "category", "brand", "poc",
    "consumer", "api_key", "outbox", "customer",
];

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    entity: String,
    #[serde(default)]
    page: Option<i64>,
}

mod details;

use details::{Fact, FieldChange, Names, Readable};

pub struct AuditView {
    /// Where the changed record can be seen, or "".
    pub link: String,
    pub when: String,
    pub actor: String,
    /// The record's name ("Diwali 15%"), its number when it has none ("#12"),
    /// or "CSV upload" for an upload of many; never the kind again.
    pub entity: String,
    /// What kind of record it is ("Offer"; "Tills" for an upload; "POC · removed" for a
    /// record that no longer exists).
    pub kind: String,
    pub summary: String,
    /// One row per changed field: label, before, after.
    pub changes: Vec<FieldChange>,
    /// What an entry without a before recorded (a revocation's mode and count, say).
    pub facts: Vec<Fact>,
}

/// An entity type in words, for the "What" column and the filter.
pub fn kind_label(entity_type: &str) -> String {
    match entity_type {
        "org" => "Organisation".into(),
        "offer" => "Offer".into(),
        "user" => "User".into(),
        "poc" => "POC".into(),
        "consumer" => "Campaign or program".into(),
        "api_key" => "API key".into(),
        "outbox" => "Outbox message".into(),
        other => details::humanise(other),
    }
}

/// The entity types whose records have a name the log looks up (`Store::list_audit`): an
/// entry about one of these without a name is about a record that no longer exists.
const NAMED: &[&str] = &[
    "org", "offer", "user", "concept", "zone", "store", "till", "category", "brand", "poc",
    "consumer", "api_key",
];

/// Several records of a type, for entries about a whole upload.
fn kind_plural(entity_type: &str) -> String {
    match entity_type {
        "concept" => "Concepts".into(),
        "zone" => "Zones".into(),
        "store" => "Stores".into(),
        "till" => "Tills".into(),
        "category" => "Categories".into(),
        "brand" => "Brands".into(),
        other => kind_label(other),
    }
}

/// Where the records of an upload entry are listed.
fn upload_link(entity_type: &str) -> &'static str {
    match entity_type {
        "concept" | "zone" | "store" | "till" => "/admin/structure",
        "category" | "brand" => "/admin/catalog",
        _ => "",
    }
}

/// The "What" cell: the record (its name, else its number) over its kind, the kind never
/// written twice. Returns (record, kind, link).
fn what(r: &AuditRow) -> (String, String, String) {
    let kind = kind_label(&r.entity_type);
    let name = r
        .entity_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let et = r.entity_type.as_str();
    match (name, r.entity_id) {
        (Some(name), id) => {
            let link = match (et, id) {
                ("offer", Some(id)) => format!("/offers/{id}"),
                ("store", Some(id)) => format!("/admin/stores/{id}"),
                ("poc", Some(id)) => format!("/admin/pocs/{id}"),
                ("consumer", Some(id)) => format!("/admin/consumers/{id}"),
                ("customer", Some(id)) => format!("/customers/{id}"),
                _ => String::new(),
            };
            (name.to_string(), kind, link)
        }
        // Named kinds lose their name only when the record is gone: no link to a 404. The
        // number alone fits the narrow column; "removed" goes with the kind.
        (None, Some(id)) if NAMED.contains(&et) => {
            (format!("#{id}"), format!("{kind} · removed"), String::new())
        }
        (None, Some(id)) => (format!("#{id}"), kind, String::new()),
        (None, None) if r.action.ends_with(".uploaded") => {
            ("CSV upload".into(), kind_plural(et), upload_link(et).into())
        }
        (None, None) => ("—".into(), kind, String::new()),
    }
}

fn view(r: AuditRow, tz: Tz, names: &Names, currency: &str) -> AuditView {
    let (entity, kind, link) = what(&r);
    let Readable { changes, facts } = r
        .details
        .as_deref()
        .map(|d| details::read(&r.entity_type, d, names, currency))
        .unwrap_or_default();
    AuditView {
        link,
        when: crate::domain::offer::describe::time_text(r.created_at, tz),
        actor: r.actor,
        entity,
        kind,
        summary: r.summary,
        changes,
        facts,
    }
}

/// Names for the ids in offer entries (stores, categories, POCs …) as the offer form lists them.
async fn offer_names(state: &AppState, user: &CurrentUser) -> Result<Names, WebError> {
    let p = crate::web::offers::Pickers::load(&state.store, user, None).await?;
    let mut names = Names::default();
    // "Front counter (Mall Road)", as the offer form's tills picker names them.
    for (id, label) in p.till_labels() {
        names.add("tills", id, label);
    }
    for c in p.categories {
        names.add("categories", c.id, c.name);
    }
    for b in p.brands {
        names.add("brands", b.id, b.name);
    }
    for s in p.stores {
        names.add("stores", s.id, format!("{} ({})", s.name, s.code));
    }
    for z in p.zones {
        names.add("zones", z.id, z.name);
    }
    for c in p.concepts {
        names.add("concepts", c.id, c.name);
    }
    for c in p.pocs {
        names.add("poc_ids", c.id, format!("{} <{}>", c.name, c.email));
    }
    for (id, name) in p.offers {
        names.add("past_issual_offers", id, name);
    }
    Ok(names)
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
    /// (value, words) for the filter.
    entity_types: Vec<(&'static str, String)>,
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
    let names = if rows.iter().any(|r| {
        r.details
            .as_deref()
            .is_some_and(|d| details::needs_names(&r.entity_type, d))
    }) {
        offer_names(&state, &user).await?
    } else {
        Names::default()
    };
    let table = AuditTable {
        rows: rows
            .into_iter()
            .map(|r| view(r, user.time_zone, &names, user.currency.code()))
            .collect(),
        entity,
        page,
        pages,
        total,
    };
    crate::web::extract::page_or_table(&req, table, |table| AuditPage {
        chrome: Chrome::new(&user, &session, "audit"),
        entity_types: ENTITY_TYPES.iter().map(|t| (*t, kind_label(t))).collect(),
        table,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(entity_type: &str, action: &str, id: Option<i64>, name: Option<&str>) -> AuditRow {
        AuditRow {
            id: 1,
            actor: "a@b.c".into(),
            action: action.into(),
            entity_type: entity_type.into(),
            entity_id: id,
            summary: String::new(),
            details: None,
            created_at: chrono::Utc::now(),
            entity_name: name.map(str::to_string),
        }
    }

    #[test]
    fn the_what_column_never_says_the_kind_twice() {
        for t in ENTITY_TYPES {
            for (action, id, name) in [
                ("x.created", Some(3), Some("Front counter")),
                ("x.created", Some(3), Some("  ")),
                ("x.created", Some(3), None),
                ("master.uploaded", None, None),
                ("x.other", None, None),
            ] {
                let (record, kind, _) = what(&row(t, action, id, name));
                assert!(
                    !record.is_empty() && !kind.is_empty() && !record.contains(&kind),
                    "{t} {action}: {record:?} / {kind:?}"
                );
            }
        }
        let w = |t, a, id, n| what(&row(t, a, id, n));
        assert_eq!(
            w("till", "master.created", Some(3), Some("Front counter")),
            ("Front counter".into(), "Till".into(), String::new())
        );
        assert_eq!(
            w("till", "master.uploaded", None, None),
            (
                "CSV upload".into(),
                "Tills".into(),
                "/admin/structure".into()
            )
        );
        assert_eq!(
            w("outbox", "outbox.retried", Some(12), None),
            ("#12".into(), "Outbox message".into(), String::new())
        );
        assert_eq!(
            w("poc", "poc.deleted", Some(4), None),
            ("#4".into(), "POC · removed".into(), String::new())
        );
    }
}
