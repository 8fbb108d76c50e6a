//! Consumers of offers (ORG-6): outbound, DVS and timeline campaigns, loyalty programs,
//! third-party integrations.

use super::{FormErrors, conflict_to_field};
use crate::domain::ids::OfferId;
use crate::domain::issue::offer_ends_on;
use crate::domain::masters::{ConsumerKind, NewConsumer};
use crate::domain::money::{format_count, plural};
use crate::domain::offer::OfferExpiry;
use crate::domain::user::Permission;
use crate::store::masters::ConsumerRow;
use crate::store::offers::OfferListRow;
use crate::web::auth::CurrentUser;
use crate::web::csrf::CsrfForm;
use crate::web::error::{render, see_other};
use crate::web::offers::{digits, today};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
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
            (Some(s), Some(e)) => format!("{} – {}", s.format("%-d %b %Y"), e.format("%-d %b %Y")),
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

/// One of a consumer's offers, with the dashboard's columns and its state.
pub struct ConsumerOfferView {
    pub id: OfferId,
    pub name: String,
    pub offer_code: String,
    pub kind: &'static str,
    pub discount: String,
    pub expiry: String,
    /// "Active" or "Expired" (the fixed date or the campaign's end has passed).
    pub state: &'static str,
    /// The badge class of the state.
    pub state_class: &'static str,
    pub issued: String,
    pub redeemed: String,
}

/// How codes are made, as the dashboard's "Type" column says it.
fn offer_view(
    o: OfferListRow,
    consumer: &ConsumerRow,
    today: NaiveDate,
    currency: &str,
    digits: u32,
) -> ConsumerOfferView {
    let expiry = o.expiry;
    let ends = offer_ends_on(&expiry, consumer.ends_on);
    let expired = ends.is_some_and(|end| end < today);
    ConsumerOfferView {
        id: o.id,
        kind: o.generation.label(),
        discount: o.discount.words(currency, digits),
        expiry: match (ends, &expiry) {
            (Some(end), OfferExpiry::WithCampaign) => {
                format!("{} (with the campaign)", end.format("%-d %b %Y"))
            }
            (Some(end), _) => end.format("%-d %b %Y").to_string(),
            (None, _) => "No end date".into(),
        },
        state: if expired { "Expired" } else { "Active" },
        state_class: if expired {
            "status-expired"
        } else {
            "status-redeemed"
        },
        issued: format_count(o.issued_count),
        redeemed: format_count(o.redeemed_count),
        name: o.name,
        offer_code: o.offer_code,
    }
}

#[derive(Template)]
#[template(path = "pages/consumer.html")]
struct ConsumerPage {
    chrome: Chrome,
    consumer: ConsumerView,
    can_create_offer: bool,
    /// Why no offer can be created for the consumer now (an outbound campaign holding one, an
    /// ended campaign), shown instead of the button.
    no_new_offer: String,
    /// Offers it claimed or that were created for it, newest first.
    offers: Vec<ConsumerOfferView>,
    /// "1 active, 1 expired · 1,200 coupons issued · 40 redeemed".
    totals: String,
}

pub async fn detail(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let row = state
        .store
        .get_consumer(user.org_id, path.into_inner())
        .await?;
    let today = today(&user);
    let query = crate::store::offers::OfferQuery {
        consumer: Some(row.id),
        today: Some(today),
        limit: 500,
        ..Default::default()
    };
    let (list, _) = state.store.list_offers(user.org_id, &query).await?;
    let d = digits(&user);
    let (issued, redeemed) = list.iter().fold((0, 0), |(i, r), o| {
        (i + o.issued_count, r + o.redeemed_count)
    });
    let offers: Vec<ConsumerOfferView> = list
        .into_iter()
        .map(|o| offer_view(o, &row, today, user.currency.code(), d))
        .collect();
    let active = offers.iter().filter(|o| o.state == "Active").count();
    let totals = format!(
        "{} active, {} expired · {} issued · {} redeemed",
        format_count(active as i64),
        format_count((offers.len() - active) as i64),
        plural(issued, "coupon", "coupons"),
        format_count(redeemed)
    );
    let no_new_offer =
        match crate::app::claim::may_create_for(&state.store, user.org_id, "", false, row.id)
            .await?
        {
            Ok(()) => String::new(),
            Err(refusal) => {
                let mut why = refusal.to_string();
                if let Some(first) = why.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                format!("{why}.")
            }
        };
    let page = ConsumerPage {
        chrome: Chrome::new(&user, &session, "consumers"),
        consumer: row.into(),
        can_create_offer: user.can(Permission::ManageOffers),
        no_new_offer,
        offers,
        totals,
    };
    render(StatusCode::OK, &page)
}
