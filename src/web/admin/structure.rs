//! Org structure (ORG-3): concepts, zones, stores, tills — by form and by CSV upload.

use super::{CodedForm, FormErrors, UploadReport, conflict_to_field};
use crate::domain::masters::{
    MasterCode, MasterUpload, StoreRow, TillRow, parse_store_csv, parse_till_csv,
};
use crate::domain::user::Permission;
use crate::domain::{FieldErrors, parse_name};
use crate::store::masters::{CodedKind, CodedRow, StoreListRow, TillListRow, UpsertCounts};
use crate::web::auth::CurrentUser;
use crate::web::csrf::{CsrfForm, CsrfUpload};
use crate::web::error::{render, see_other};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StoreForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    zone_id: String,
    #[serde(default)]
    concept_id: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TillForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    store_id: String,
}

/// The values of the page's forms, kept when one of them fails.
#[derive(Debug, Clone, Default)]
struct Forms {
    concept: CodedForm,
    zone: CodedForm,
    store: StoreForm,
    till: TillForm,
}

/// A till as the structure page lists it: with its store's name, not just the store's code.
struct TillView {
    code: String,
    name: String,
    store_id: i64,
    store_name: String,
    store_code: String,
}

/// The tills with their stores' names (from `stores`, this org's own).
fn till_views(tills: Vec<TillListRow>, stores: &[StoreListRow]) -> Vec<TillView> {
    let by_code: std::collections::HashMap<&str, &StoreListRow> =
        stores.iter().map(|s| (s.code.as_str(), s)).collect();
    tills
        .into_iter()
        .map(|t| {
            let store = by_code.get(t.store_code.as_str());
            TillView {
                code: t.code,
                name: t.name,
                store_id: store.map_or(0, |s| s.id),
                store_name: store.map_or_else(String::new, |s| s.name.clone()),
                store_code: t.store_code,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "pages/structure.html")]
struct StructurePage {
    chrome: Chrome,
    can_edit: bool,
    concepts: Vec<CodedRow>,
    zones: Vec<CodedRow>,
    stores: Vec<StoreListRow>,
    tills: Vec<TillView>,
    forms: Forms,
    errors: FormErrors,
    upload: UploadReport,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    forms: Forms,
    errors: FormErrors,
    upload: UploadReport,
) -> Result<StructurePage, WebError> {
    let store = &state.store;
    let stores = store.list_stores(user.org_id).await?;
    let tills = till_views(store.list_tills(user.org_id, None).await?, &stores);
    Ok(StructurePage {
        chrome: Chrome::new(user, session, "structure"),
        can_edit: user.can(Permission::ManageOrg),
        concepts: store.list_coded(user.org_id, CodedKind::Concept).await?,
        zones: store.list_coded(user.org_id, CodedKind::Zone).await?,
        stores,
        tills,
        forms,
        errors,
        upload,
    })
}

pub async fn show(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    render(
        StatusCode::OK,
        &page(
            &state,
            &user,
            &session,
            Forms::default(),
            FormErrors::default(),
            UploadReport::default(),
        )
        .await?,
    )
}

async fn failed(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    forms: Forms,
    form: &'static str,
    errors: FieldErrors,
) -> Result<HttpResponse, WebError> {
    let p = page(
        state,
        user,
        session,
        forms,
        FormErrors::of(form, errors),
        UploadReport::default(),
    )
    .await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &p)
}

async fn create_coded(
    kind: CodedKind,
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    form: CodedForm,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let errors =
        match super::create_coded_master(&state, &user, &session, kind, &form, "/admin/structure")
            .await?
        {
            Ok(created) => return Ok(created),
            Err(errors) => errors,
        };
    let mut forms = Forms::default();
    let which = if kind == CodedKind::Concept {
        forms.concept = form;
        "concept"
    } else {
        forms.zone = form;
        "zone"
    };
    failed(&state, &user, &session, forms, which, errors).await
}

pub async fn create_concept(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<CodedForm>,
) -> Result<HttpResponse, WebError> {
    create_coded(CodedKind::Concept, user, state, session, form).await
}

pub async fn create_zone(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<CodedForm>,
) -> Result<HttpResponse, WebError> {
    create_coded(CodedKind::Zone, user, state, session, form).await
}

/// Parses an id chosen in a select; it must be one of `allowed` (this org's own rows).
fn chosen_id(
    field: &'static str,
    raw: &str,
    allowed: impl Iterator<Item = i64>,
    what: &str,
) -> Result<i64, crate::domain::FieldError> {
    let id: i64 = raw
        .trim()
        .parse()
        .map_err(|_| crate::domain::FieldError::new(field, format!("choose a {what}")))?;
    let mut allowed = allowed;
    if allowed.any(|a| a == id) {
        Ok(id)
    } else {
        Err(crate::domain::FieldError::new(
            field,
            format!("choose a {what} of this organisation"),
        ))
    }
}

pub async fn create_store(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<StoreForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let zones = state.store.coded_ids(user.org_id, CodedKind::Zone).await?;
    let concepts = state
        .store
        .coded_ids(user.org_id, CodedKind::Concept)
        .await?;
    let mut errors = FieldErrors::default();
    let code = errors.take(MasterCode::parse("code", &form.code));
    let name = errors.take(parse_name("name", &form.name, 120));
    let zone_id = errors.take(chosen_id(
        "zone_id",
        &form.zone_id,
        zones.values().copied(),
        "zone",
    ));
    let concept_id = if form.concept_id.trim().is_empty() {
        Some(None)
    } else {
        errors
            .take(chosen_id(
                "concept_id",
                &form.concept_id,
                concepts.values().copied(),
                "concept",
            ))
            .map(Some)
    };
    if let (Some(code), Some(name), Some(zone_id), Some(concept_id)) =
        (code, name, zone_id, concept_id)
    {
        let row = StoreRow {
            code,
            name,
            zone_id,
            concept_id,
        };
        match state
            .store
            .create_store(user.org_id, &row, &user.actor())
            .await
        {
            Ok(()) => {
                Chrome::flash(&session, &format!("Added store {}.", row.code.as_str()));
                return Ok(see_other("/admin/structure"));
            }
            Err(e) => errors = conflict_to_field(e, "code")?,
        }
    }
    failed(
        &state,
        &user,
        &session,
        Forms {
            store: form,
            ..Forms::default()
        },
        "store",
        errors,
    )
    .await
}

pub async fn create_till(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<TillForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let stores = state.store.store_ids(user.org_id).await?;
    let mut errors = FieldErrors::default();
    let code = errors.take(MasterCode::parse("code", &form.code));
    let name = errors.take(parse_name("name", &form.name, 120));
    let store_id = errors.take(chosen_id(
        "store_id",
        &form.store_id,
        stores.values().copied(),
        "store",
    ));
    if let (Some(code), Some(name), Some(store_id)) = (code, name, store_id) {
        let row = TillRow {
            code,
            name,
            store_id,
        };
        match state
            .store
            .upsert_tills(
                user.org_id,
                std::slice::from_ref(&row),
                &user.actor(),
                false,
            )
            .await
        {
            Ok(_) => {
                Chrome::flash(&session, &format!("Added till {}.", row.code.as_str()));
                return Ok(see_other("/admin/structure"));
            }
            Err(e) => errors = conflict_to_field(e, "code")?,
        }
    }
    failed(
        &state,
        &user,
        &session,
        Forms {
            till: form,
            ..Forms::default()
        },
        "till",
        errors,
    )
    .await
}

/// `POST /admin/structure` (and its former address `POST /admin/structure/upload`): a zones,
/// concepts, stores or tills CSV; every bad line is reported and nothing is applied unless
/// every line is good. The form posts to the page's own URL, so a refused upload is shown
/// (422, every bad line listed) at `/admin/structure`, the address the page is bookmarked by.
pub async fn upload(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    upload: CsrfUpload,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let store = &state.store;
    let kind = match MasterUpload::parse("kind", upload.field("kind")) {
        Ok(
            k @ (MasterUpload::Stores
            | MasterUpload::Tills
            | MasterUpload::Zones
            | MasterUpload::Concepts),
        ) => k,
        _ => {
            return Err(WebError::BadRequest(
                "kind must be stores, tills, zones or concepts".into(),
            ));
        }
    };
    let outcome: Result<UpsertCounts, Vec<_>> = if upload.file.is_empty() {
        Err(vec![crate::domain::masters::LineError {
            line: 0,
            message: "choose a CSV file to upload".into(),
        }])
    } else if matches!(kind, MasterUpload::Zones | MasterUpload::Concepts) {
        let coded = if kind == MasterUpload::Zones {
            CodedKind::Zone
        } else {
            CodedKind::Concept
        };
        match crate::domain::masters::parse_coded_name_csv(kind, &upload.file) {
            Ok(rows) => Ok(store
                .upsert_coded(user.org_id, coded, &rows, &user.actor())
                .await?),
            Err(e) => Err(e),
        }
    } else if kind == MasterUpload::Stores {
        let zones = store.coded_ids(user.org_id, CodedKind::Zone).await?;
        let concepts = store.coded_ids(user.org_id, CodedKind::Concept).await?;
        match parse_store_csv(&upload.file, &zones, &concepts) {
            Ok(rows) => Ok(store
                .upsert_stores(user.org_id, &rows, &user.actor(), true)
                .await?),
            Err(e) => Err(e),
        }
    } else {
        let stores = store.store_ids(user.org_id).await?;
        match parse_till_csv(&upload.file, &stores) {
            Ok(rows) => Ok(store
                .upsert_tills(user.org_id, &rows, &user.actor(), true)
                .await?),
            Err(e) => Err(e),
        }
    };
    match outcome {
        Ok(c) => {
            Chrome::flash(
                &session,
                &format!(
                    "Uploaded {}: {} created, {} updated.",
                    kind.as_str(),
                    c.created,
                    c.updated
                ),
            );
            Ok(see_other("/admin/structure"))
        }
        Err(errors) => {
            let report = UploadReport::failed(kind.as_str(), &upload, errors);
            let p = page(
                &state,
                &user,
                &session,
                Forms::default(),
                FormErrors::default(),
                report,
            )
            .await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}

#[derive(Template)]
#[template(path = "pages/store.html")]
struct StoreDetailPage {
    chrome: Chrome,
    store: StoreListRow,
    tills: Vec<TillListRow>,
}

pub async fn store_detail(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let store = state
        .store
        .get_store(user.org_id, path.into_inner())
        .await?;
    let tills = state.store.list_tills(user.org_id, Some(store.id)).await?;
    render(
        StatusCode::OK,
        &StoreDetailPage {
            chrome: Chrome::new(&user, &session, "structure"),
            store,
            tills,
        },
    )
}
