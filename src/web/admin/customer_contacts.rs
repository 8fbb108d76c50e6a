//! Customers' contacts and channel preference (issue #18, item 6), beside their tiers and
//! segments: a CSV upload (all or nothing: every bad line listed) with its template, a look-up
//! of one customer's contacts and where a coupon issued to them would be sent, and counts. The
//! roles are the tags page's: anyone may look, admins upload.

use super::UploadReport;
use super::customer_tags::LookupQuery;
use crate::domain::FieldErrors;
use crate::domain::contacts::{CONTACTS_HEADER, parse_contacts_csv};
use crate::domain::offer::Channel;
use crate::domain::products::parse_customer;
use crate::domain::user::Permission;
use crate::store::contacts::ContactCounts;
use crate::web::auth::CurrentUser;
use crate::web::csrf::CsrfUpload;
use crate::web::error::{render, see_other};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;

/// What the look-up found.
pub struct Found {
    /// `MOBILE 9800000001`
    pub customer: String,
    /// Whether the org knows the customer at all.
    pub known: bool,
    pub mobile: String,
    pub email: String,
    /// `SMS`, `email` or "".
    pub preferred: String,
    /// Where a coupon issued to them is sent: `SMS to +91…`, or "" when nothing reaches them.
    pub sent_to: String,
}

#[derive(Template)]
#[template(path = "pages/customer_contacts.html")]
struct CustomerContactsPage {
    chrome: Chrome,
    can_edit: bool,
    types: [(&'static str, &'static str); 3],
    lookup: LookupQuery,
    errors: FieldErrors,
    found: Option<Found>,
    counts: ContactCounts,
    upload: UploadReport,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    lookup: LookupQuery,
    errors: FieldErrors,
    found: Option<Found>,
    upload: UploadReport,
) -> Result<CustomerContactsPage, WebError> {
    Ok(CustomerContactsPage {
        chrome: Chrome::new(user, session, "customers"),
        can_edit: user.can(Permission::ManageOrg),
        types: [
            ("MOBILE", "Mobile"),
            ("EMAIL", "Email"),
            ("EXTERNAL_ID", "External id"),
        ],
        lookup,
        errors,
        found,
        counts: state.store.contact_counts(user.org_id).await?,
        upload,
    })
}

/// `GET /customers/contacts`: the upload, counts, and with `?identifier_type=…&identifier=…`
/// one customer's contacts and where their coupons go (a bad identifier is shown beside its
/// field, 422).
pub async fn show(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<LookupQuery>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let lookup = q.into_inner();
    let (status, errors, found) =
        if lookup.identifier_type.is_empty() && lookup.identifier.is_empty() {
            (StatusCode::OK, FieldErrors::default(), None)
        } else {
            match parse_customer(&lookup.identifier_type, &lookup.identifier) {
                Ok(customer) => {
                    let found = match state
                        .store
                        .customer_reach_of(user.org_id, &customer)
                        .await?
                    {
                        Some(c) => Found {
                            customer: customer.label(),
                            known: true,
                            mobile: c.reach.mobile.clone().unwrap_or_default(),
                            email: c.reach.email.clone().unwrap_or_default(),
                            preferred: c.reach.preferred.map(channel_name).unwrap_or_default(),
                            sent_to: c
                                .reach
                                .destination()
                                .map(|(channel, to)| format!("{} to {to}", channel_name(channel)))
                                .unwrap_or_default(),
                        },
                        None => Found {
                            customer: customer.label(),
                            known: false,
                            mobile: String::new(),
                            email: String::new(),
                            preferred: String::new(),
                            sent_to: String::new(),
                        },
                    };
                    (StatusCode::OK, FieldErrors::default(), Some(found))
                }
                Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None),
            }
        };
    let p = page(
        &state,
        &user,
        &session,
        lookup,
        errors,
        found,
        UploadReport::default(),
    )
    .await?;
    render(status, &p)
}

/// A channel as the page names it.
fn channel_name(channel: Channel) -> String {
    match channel {
        Channel::Sms => "SMS",
        Channel::Email => "Email",
    }
    .to_string()
}

/// `POST /customers/contacts`: a contacts CSV, all or nothing — every bad line is listed with
/// its number and nothing is written unless every line is good. Each line replaces that
/// customer's contacts and preference (customers new to the org are added).
pub async fn upload(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    upload: CsrfUpload,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    match crate::web::offers::parse_upload(&upload, parse_contacts_csv) {
        Ok(rows) => {
            let n = state
                .store
                .set_customer_contacts(user.org_id, &rows, &[], &user.actor())
                .await?;
            Chrome::flash(
                &session,
                &format!(
                    "Uploaded contacts: {n} customer{} written.",
                    if n == 1 { "" } else { "s" }
                ),
            );
            Ok(see_other("/customers/contacts"))
        }
        Err(errors) => {
            let report = UploadReport::failed("contacts", &upload, errors);
            let p = page(
                &state,
                &user,
                &session,
                LookupQuery::default(),
                FieldErrors::default(),
                None,
                report,
            )
            .await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}

/// `GET /customers/contacts/template.csv`: the header and example lines.
pub async fn template(user: CurrentUser) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let body = format!(
        "{}\nEXTERNAL_ID,LOYALTY-7,9800000001,asha@example.com,email\nMOBILE,9800000002,,,\nEMAIL,ravi@example.com,9800000003,,sms\n",
        CONTACTS_HEADER.join(",")
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"customer-contacts-template.csv\"",
        ))
        .body(body))
}
