//! Points of contact who receive offer-expiry reminders (ORG-5).

use super::{FormErrors, conflict_to_field};
use crate::domain::masters::NewPoc;
use crate::domain::user::Permission;
use crate::store::masters::PocRow;
use crate::web::auth::CurrentUser;
use crate::web::csrf::CsrfForm;
use crate::web::error::{render, see_other};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PocForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

#[derive(Template)]
#[template(path = "pages/pocs.html")]
struct PocsPage {
    chrome: Chrome,
    can_edit: bool,
    pocs: Vec<PocRow>,
    form: PocForm,
    errors: FormErrors,
}

pub async fn list(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let p = PocsPage {
        chrome: Chrome::new(&user, &session, "pocs"),
        can_edit: user.can(Permission::ManageOrg),
        pocs: state.store.list_pocs(user.org_id).await?,
        form: PocForm::default(),
        errors: FormErrors::default(),
    };
    render(StatusCode::OK, &p)
}

pub async fn create(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<PocForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let errors = match NewPoc::parse(&form.name, &form.email) {
        Ok(poc) => match state
            .store
            .create_poc(user.org_id, &poc, &user.actor())
            .await
        {
            Ok(_) => {
                Chrome::flash(&session, &format!("Added POC {}.", poc.email));
                return Ok(see_other("/admin/pocs"));
            }
            Err(e) => conflict_to_field(e, "email")?,
        },
        Err(errors) => errors,
    };
    let p = PocsPage {
        chrome: Chrome::new(&user, &session, "pocs"),
        can_edit: true,
        pocs: state.store.list_pocs(user.org_id).await?,
        form,
        errors: FormErrors::of("poc", errors),
    };
    render(StatusCode::UNPROCESSABLE_ENTITY, &p)
}

#[derive(Template)]
#[template(path = "pages/poc.html")]
struct PocPage {
    chrome: Chrome,
    can_edit: bool,
    poc: PocRow,
}

pub async fn detail(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let poc = state.store.get_poc(user.org_id, path.into_inner()).await?;
    render(
        StatusCode::OK,
        &PocPage {
            chrome: Chrome::new(&user, &session, "pocs"),
            can_edit: user.can(Permission::ManageOrg),
            poc,
        },
    )
}

pub async fn delete(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<crate::web::auth::Empty>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let id = path.into_inner();
    let poc = state.store.get_poc(user.org_id, id).await?;
    match state.store.delete_poc(user.org_id, id, &user.actor()).await {
        Ok(()) => {
            Chrome::flash(&session, &format!("Removed POC {}.", poc.email));
            Ok(see_other("/admin/pocs"))
        }
        Err(crate::store::StoreError::Conflict(why)) => {
            Chrome::flash(&session, &format!("Not removed: {why}."));
            Ok(see_other(&format!("/admin/pocs/{id}")))
        }
        Err(e) => Err(e.into()),
    }
}
