//! Users: add with a role, change role, deactivate and reactivate (ORG-2).

use super::FormErrors;
use crate::domain::FieldErrors;
use crate::domain::ids::UserId;
use crate::domain::parse_name;
use crate::domain::user::{Email, NewPassword, Permission, Role};
use crate::passwords;
use crate::store::StoreError;
use crate::store::orgs::{NewUser, UserRow};
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
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "pages/users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    me: UserId,
    form: NewUserForm,
    errors: FormErrors,
    roles: Vec<(&'static str, &'static str)>,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    form: NewUserForm,
    errors: FormErrors,
) -> Result<UsersPage, WebError> {
    Ok(UsersPage {
        chrome: Chrome::new(user, session, "users"),
        users: state.store.list_users(user.org_id).await?,
        me: user.id,
        form,
        errors,
        roles: Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect(),
    })
}

pub async fn list(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let form = NewUserForm {
        role: "marketing".into(),
        ..Default::default()
    };
    render(
        StatusCode::OK,
        &page(&state, &user, &session, form, FormErrors::default()).await?,
    )
}

pub async fn create(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<NewUserForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let mut errors = FieldErrors::default();
    let email = errors.take(Email::parse("email", &form.email));
    let name = errors.take(parse_name("name", &form.name, 120));
    let role = errors.take(Role::parse("role", &form.role));
    let password = errors.take(NewPassword::parse("password", &form.password));
    if let (Some(email), Some(name), Some(role), Some(password)) = (email, name, role, password) {
        let hash = passwords::hash(password.expose().to_string()).await?;
        let new = NewUser {
            email: email.clone(),
            name,
            password_hash: hash,
            role,
        };
        match state
            .store
            .create_user(user.org_id, &new, &user.actor())
            .await
        {
            Ok(_) => {
                Chrome::flash(&session, &format!("Added {email} as {}.", role.label()));
                return Ok(see_other("/admin/users"));
            }
            Err(e) => errors = super::conflict_to_field(e, "email")?,
        }
    }
    let form = NewUserForm {
        password: String::new(),
        ..form
    };
    let p = page(
        &state,
        &user,
        &session,
        form,
        FormErrors::of("user", errors),
    )
    .await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &p)
}

#[derive(Debug, Deserialize)]
pub struct AccessForm {
    #[serde(default)]
    role: String,
    /// `deactivate`, `reactivate` or `role`.
    #[serde(default)]
    action: String,
}

pub async fn update(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<UserId>,
    CsrfForm(form): CsrfForm<AccessForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let target = state.store.get_user(user.org_id, path.into_inner()).await?;
    let current_role = Role::parse("role", &target.role)
        .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))?;
    let (role, active) = match form.action.as_str() {
        "deactivate" => (current_role, false),
        "reactivate" => (current_role, true),
        "role" => (
            Role::parse("role", &form.role).map_err(|e| WebError::BadRequest(e.to_string()))?,
            target.active,
        ),
        _ => {
            return Err(WebError::BadRequest(
                "action must be role, deactivate or reactivate".into(),
            ));
        }
    };
    match state
        .store
        .update_user_access(user.org_id, target.id, role, active, &user.actor())
        .await
    {
        Ok(()) => Chrome::flash(&session, &format!("Updated {}.", target.email)),
        Err(StoreError::Conflict(m)) => Chrome::flash(&session, &format!("Not changed: {m}.")),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other("/admin/users"))
}
