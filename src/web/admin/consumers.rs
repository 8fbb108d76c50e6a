//! Consumers of offers (ORG-6): outbound, DVS and timeline campaigns, loyalty programs,
//! third-party integrations.

use super::{FormErrors, conflict_to_field};
use crate::domain::masters::{ConsumerKind, NewConsumer};
use crate::domain::user::Permission;
use crate::store::masters::ConsumerRow;
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
pub struct ConsumerForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
}

/// A consumer as shown: the kind in words and the run dates if any.
pub struct ConsumerView {
    pub id: i64,
    pub name: String,
    pub kind_label: &'static str,
    pub dates: String,
}

impl From<ConsumerRow> for ConsumerView {
    fn from(c: ConsumerRow) -> Self {
        let kind_label = ConsumerKind::parse("kind", &c.kind)
            .map(|k| k.label())
            .unwrap_or("Unknown");
        let dates = match (c.starts_on, c.ends_on) {
            (Some(s), Some(e)) => format!("{} – {}", s.format("%d %b %Y"), e.format("%d %b %Y")),
            _ => "—".to_string(),
        };
        ConsumerView {
            id: c.id,
            name: c.name,
            kind_label,
            dates,
        }
    }
}

#[derive(Template)]
#[template(path = "pages/consumers.html")]
struct ConsumersPage {
    chrome: Chrome,
    can_edit: bool,
    consumers: Vec<ConsumerView>,
    kinds: Vec<(&'static str, &'static str)>,
    form: ConsumerForm,
    errors: FormErrors,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    form: ConsumerForm,
    errors: FormErrors,
) -> Result<ConsumersPage, WebError> {
    Ok(ConsumersPage {
        chrome: Chrome::new(user, session, "consumers"),
        can_edit: user.can(Permission::ManageConsumers),
        consumers: state
            .store
            .list_consumers(user.org_id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        kinds: ConsumerKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        form,
        errors,
    })
}

pub async fn list(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let form = ConsumerForm {
        kind: "outbound".into(),
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
    CsrfForm(form): CsrfForm<ConsumerForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageConsumers)?;
    let errors = match NewConsumer::parse(&form.name, &form.kind, &form.starts_on, &form.ends_on) {
        Ok(c) => match state
            .store
            .create_consumer(user.org_id, &c, &user.actor())
            .await
        {
            Ok(_) => {
                Chrome::flash(&session, &format!("Added {} {}.", c.kind.label(), c.name));
                return Ok(see_other("/admin/consumers"));
            }
            Err(e) => conflict_to_field(e, "name")?,
        },
        Err(errors) => errors,
    };
    let p = page(
        &state,
        &user,
        &session,
        form,
        FormErrors::of("consumer", errors),
    )
    .await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &p)
}

#[derive(Template)]
#[template(path = "pages/consumer.html")]
struct ConsumerPage {
    chrome: Chrome,
    consumer: ConsumerView,
    can_create_offer: bool,
    /// Offers it claimed or that were created for it: (id, name, offer code).
    offers: Vec<(i64, String, String)>,
}

pub async fn detail(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let consumer: ConsumerView = state
        .store
        .get_consumer(user.org_id, path.into_inner())
        .await?
        .into();
    let query = crate::store::offers::OfferQuery {
        consumer: Some(consumer.id),
        limit: 500,
        ..Default::default()
    };
    let offers = state
        .store
        .list_offers(user.org_id, &query)
        .await?
        .0
        .into_iter()
        .map(|o| (o.id, o.name, o.offer_code))
        .collect();
    let page = ConsumerPage {
        chrome: Chrome::new(&user, &session, "consumers"),
        consumer,
        can_create_offer: user.can(Permission::ManageOffers),
        offers,
    };
    render(StatusCode::OK, &page)
}
