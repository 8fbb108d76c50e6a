//! Customers' tiers and segments (PRM-1), for promotions that target them: a CSV upload (all
//! or nothing: every bad line listed) with its template, a look-up of one customer's tiers and
//! segments, and the tiers and segments in use.

use super::UploadReport;
use crate::domain::FieldErrors;
use crate::domain::products::{TAGS_HEADER, parse_customer, parse_customer_tags_csv};
use crate::domain::user::Permission;
use crate::store::products::TagCount;
use crate::web::auth::CurrentUser;
use crate::web::csrf::CsrfUpload;
use crate::web::error::{render, see_other};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

/// The look-up form: a customer by identifier type and identifier.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LookupQuery {
    #[serde(default)]
    pub identifier_type: String,
    #[serde(default)]
    pub identifier: String,
}

/// What the look-up found.
pub struct Found {
    /// `MOBILE 9800000001`
    pub customer: String,
    /// Whether the org knows the customer at all.
    pub known: bool,
    pub tiers: Vec<String>,
    pub segments: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/customer_tags.html")]
struct CustomerTagsPage {
    chrome: Chrome,
    can_edit: bool,
    types: [(&'static str, &'static str); 3],
    lookup: LookupQuery,
    errors: FieldErrors,
    found: Option<Found>,
    counts: Vec<TagCount>,
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
) -> Result<CustomerTagsPage, WebError> {
    Ok(CustomerTagsPage {
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
        counts: state.store.tag_counts(user.org_id).await?,
        upload,
    })
}

/// `GET /customers/tags`: the upload, the tiers and segments in use, and with
/// `?identifier_type=…&identifier=…` one customer's tiers and segments (a bad identifier is
/// shown beside its field, 422).
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
                    let tags = state.store.cart_customer(user.org_id, &customer).await?;
                    let found = match tags {
                        Some((_, tiers, segments)) => Found {
                            customer: customer.label(),
                            known: true,
                            tiers,
                            segments,
                        },
                        None => Found {
                            customer: customer.label(),
                            known: false,
                            tiers: Vec::new(),
                            segments: Vec::new(),
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

/// `POST /customers/tags`: a tags CSV, all or nothing — every bad line is listed with its
/// number and nothing is written unless every line is good. Each line replaces that
/// customer's tiers and segments (customers new to the org are added).
pub async fn upload(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    upload: CsrfUpload,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let parsed = crate::web::offers::parse_upload(&upload, parse_customer_tags_csv);
    match parsed {
        Ok(rows) => {
            let n = state
                .store
                .upload_customer_tags(user.org_id, &rows, &user.actor())
                .await?;
            Chrome::flash(
                &session,
                &format!(
                    "Uploaded tiers and segments: {n} customer{} written.",
                    if n == 1 { "" } else { "s" }
                ),
            );
            Ok(see_other("/customers/tags"))
        }
        Err(errors) => {
            let report = UploadReport::failed("tiers and segments", &upload, errors);
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

/// `GET /customers/tags/template.csv`: the header and two example lines.
pub async fn template(user: CurrentUser) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let body = format!(
        "{}\nMOBILE,9800000001,Gold,new-parents; weekend\nEMAIL,asha@example.com,Silver,\n",
        TAGS_HEADER.join(",")
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"customer-tags-template.csv\"",
        ))
        .body(body))
}
