//! Catalog facets for product targeting (ORG-4): categories and brands, by form and CSV.

use super::{CodedForm, FormErrors, UploadReport};
use crate::domain::masters::{MasterUpload, parse_coded_name_csv};
use crate::domain::user::Permission;
use crate::store::masters::{CodedKind, CodedRow};
use crate::web::auth::CurrentUser;
use crate::web::csrf::{CsrfForm, CsrfUpload};
use crate::web::error::{render, see_other};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "pages/catalog.html")]
struct CatalogPage {
    chrome: Chrome,
    can_edit: bool,
    categories: Vec<CodedRow>,
    brands: Vec<CodedRow>,
    category_form: CodedForm,
    brand_form: CodedForm,
    errors: FormErrors,
    upload: UploadReport,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
) -> Result<CatalogPage, WebError> {
    Ok(CatalogPage {
        chrome: Chrome::new(user, session, "catalog"),
        can_edit: user.can(Permission::ManageOrg),
        categories: state
            .store
            .list_coded(user.org_id, CodedKind::Category)
            .await?,
        brands: state
            .store
            .list_coded(user.org_id, CodedKind::Brand)
            .await?,
        category_form: CodedForm::default(),
        brand_form: CodedForm::default(),
        errors: FormErrors::default(),
        upload: UploadReport::default(),
    })
}

pub async fn show(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    render(StatusCode::OK, &page(&state, &user, &session).await?)
}

async fn create(
    kind: CodedKind,
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    form: CodedForm,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let errors =
        match super::create_coded_master(&state, &user, &session, kind, &form, "/admin/catalog")
            .await?
        {
            Ok(created) => return Ok(created),
            Err(errors) => errors,
        };
    let mut p = page(&state, &user, &session).await?;
    p.errors = FormErrors::of(kind.noun(), errors);
    if kind == CodedKind::Category {
        p.category_form = form;
    } else {
        p.brand_form = form;
    }
    render(StatusCode::UNPROCESSABLE_ENTITY, &p)
}

pub async fn create_category(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<CodedForm>,
) -> Result<HttpResponse, WebError> {
    create(CodedKind::Category, user, state, session, form).await
}

pub async fn create_brand(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<CodedForm>,
) -> Result<HttpResponse, WebError> {
    create(CodedKind::Brand, user, state, session, form).await
}

/// `POST /admin/catalog` (and its former address `POST /admin/catalog/upload`): a categories
/// or brands CSV, all-or-nothing: every bad line is reported and nothing is applied unless
/// every line is good. The form posts to the page's own URL, so a refused upload is shown
/// (422, every bad line listed) at `/admin/catalog`, the address the page is bookmarked by.
pub async fn upload(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    upload: CsrfUpload,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let (kind, coded) = match MasterUpload::parse("kind", upload.field("kind")) {
        Ok(k @ MasterUpload::Categories) => (k, CodedKind::Category),
        Ok(k @ MasterUpload::Brands) => (k, CodedKind::Brand),
        _ => {
            return Err(WebError::BadRequest(
                "kind must be categories or brands".into(),
            ));
        }
    };
    let parsed = crate::web::offers::parse_upload(&upload, |file| parse_coded_name_csv(kind, file));
    match parsed {
        Ok(rows) => {
            let c = state
                .store
                .upsert_coded(user.org_id, coded, &rows, &user.actor())
                .await?;
            Chrome::flash(
                &session,
                &format!(
                    "Uploaded {}: {} created, {} updated.",
                    kind.as_str(),
                    c.created,
                    c.updated
                ),
            );
            Ok(see_other("/admin/catalog"))
        }
        Err(errors) => {
            let mut p = page(&state, &user, &session).await?;
            p.upload = UploadReport::failed(kind.as_str(), &upload, errors);
            render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}
