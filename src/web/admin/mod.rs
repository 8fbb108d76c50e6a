//! Admin pages (ORG-1, 3, 4, 5, 6, 7, 8, REM-3): org settings, users, org structure, catalog,
//! POCs, consumers, API keys, the audit log and the outbox.

pub mod api_keys;
pub mod audit;
pub mod catalog;
pub mod consumers;
pub mod customer_contacts;
pub mod customer_page;
pub mod customer_tags;
pub mod org;
pub mod outbox;
pub mod pocs;
pub mod products;
pub mod structure;
pub mod users;

use crate::domain::FieldErrors;
use crate::domain::masters::LineError;
use crate::store::StoreError;
use actix_web::web;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/org", web::get().to(org::show))
        .route("/admin/org", web::post().to(org::update))
        .route("/admin/users", web::get().to(users::list))
        .route("/admin/users", web::post().to(users::create))
        .route("/admin/users/{id}", web::post().to(users::update))
        .route("/admin/structure", web::get().to(structure::show))
        // The upload form posts to the page's own URL, so a refused upload is shown there.
        .route("/admin/structure", web::post().to(structure::upload))
        .route("/admin/concepts", web::post().to(structure::create_concept))
        .route("/admin/zones", web::post().to(structure::create_zone))
        .route("/admin/stores", web::post().to(structure::create_store))
        .route("/admin/stores/{id}", web::get().to(structure::store_detail))
        .route("/admin/tills", web::post().to(structure::create_till))
        // The upload's former address, kept for old pages and scripts.
        .route("/admin/structure/upload", web::post().to(structure::upload))
        .route("/admin/catalog", web::get().to(catalog::show))
        // The upload form posts to the page's own URL, so a refused upload is shown there.
        .route("/admin/catalog", web::post().to(catalog::upload))
        .route(
            "/admin/categories",
            web::post().to(catalog::create_category),
        )
        .route("/admin/brands", web::post().to(catalog::create_brand))
        // The upload's former address, kept for old pages and scripts.
        .route("/admin/catalog/upload", web::post().to(catalog::upload))
        .route("/products", web::get().to(products::show))
        // Both of the page's forms post to its own URL, so a refused one is shown there: the
        // CSV upload (multipart) and the add/edit form.
        .route(
            "/products",
            web::post().guard(products::Multipart).to(products::upload),
        )
        .route("/products", web::post().to(products::save))
        .route("/products/template.csv", web::get().to(products::template))
        .route("/products/delete", web::post().to(products::delete))
        .route("/customers", web::get().to(customer_page::search))
        .route("/customers/tags", web::get().to(customer_tags::show))
        .route("/customers/tags", web::post().to(customer_tags::upload))
        .route(
            "/customers/tags/template.csv",
            web::get().to(customer_tags::template),
        )
        .route(
            "/customers/contacts",
            web::get().to(customer_contacts::show),
        )
        .route(
            "/customers/contacts",
            web::post().to(customer_contacts::upload),
        )
        .route(
            "/customers/contacts/template.csv",
            web::get().to(customer_contacts::template),
        )
        // After the pages above; digits only, so `/customers/tags` is never a customer.
        .route("/customers/{id:\\d+}", web::get().to(customer_page::show))
        .route(
            "/customers/{id:\\d+}/trackers",
            web::post().to(customer_page::correct),
        )
        .route("/admin/pocs", web::get().to(pocs::list))
        .route("/admin/pocs", web::post().to(pocs::create))
        .route("/admin/pocs/{id}", web::get().to(pocs::detail))
        .route("/admin/pocs/{id}/delete", web::post().to(pocs::delete))
        .route("/admin/consumers", web::get().to(consumers::list))
        .route("/admin/consumers", web::post().to(consumers::create))
        .route("/admin/consumers/{id}", web::get().to(consumers::detail))
        .route("/admin/api-keys", web::get().to(api_keys::list))
        .route("/admin/api-keys", web::post().to(api_keys::create))
        .route(
            "/admin/api-keys/{id}/revoke",
            web::post().to(api_keys::revoke),
        )
        .route("/admin/audit", web::get().to(audit::list))
        .route("/admin/outbox", web::get().to(outbox::list))
        .route("/admin/outbox/{id}/retry", web::post().to(outbox::retry));
}

/// A code + name form (concepts, zones, categories, brands).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CodedForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
}

/// Which form on a page failed, with its errors (forms re-render with the user's values).
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    pub form: &'static str,
    pub errors: FieldErrors,
}

impl FormErrors {
    pub fn of(form: &'static str, errors: FieldErrors) -> Self {
        Self { form, errors }
    }

    /// The message for `field` of `form`, or "".
    pub fn get(&self, form: &str, field: &str) -> &str {
        if self.form == form {
            self.errors.get(field)
        } else {
            ""
        }
    }

    pub fn any(&self, form: &str) -> bool {
        self.form == form && !self.errors.is_empty()
    }
}

/// Turns a uniqueness conflict into a field error; other errors pass through.
pub fn conflict_to_field(e: StoreError, field: &'static str) -> Result<FieldErrors, StoreError> {
    match e {
        StoreError::Conflict(m) => {
            let mut errors = FieldErrors::default();
            errors.push(field, m);
            Ok(errors)
        }
        other => Err(other),
    }
}

/// Adds a coded master from its form: `Ok(Ok(redirect to back))` when created, `Ok(Err(errors))`
/// for the form to show again.
pub async fn create_coded_master(
    state: &crate::web::AppState,
    user: &crate::web::auth::CurrentUser,
    session: &actix_session::Session,
    kind: crate::store::masters::CodedKind,
    form: &CodedForm,
    back: &str,
) -> Result<Result<actix_web::HttpResponse, FieldErrors>, crate::web::WebError> {
    let new = match crate::domain::masters::NewCodedName::parse(&form.code, &form.name) {
        Ok(new) => new,
        Err(errors) => return Ok(Err(errors)),
    };
    match state
        .store
        .create_coded(user.org_id, kind, &new, &user.actor())
        .await
    {
        Ok(_) => {
            crate::web::Chrome::flash(
                session,
                &format!("Added {} {}.", kind.noun(), new.code.as_str()),
            );
            Ok(Ok(crate::web::error::see_other(back)))
        }
        Err(e) => Ok(Err(conflict_to_field(e, "code")?)),
    }
}

/// The outcome of a CSV upload shown on the page.
#[derive(Debug, Clone, Default)]
pub struct UploadReport {
    pub kind: String,
    pub file_name: String,
    pub errors: Vec<LineError>,
}

impl UploadReport {
    /// The report of an upload of `kind` that was refused for `errors`.
    pub fn failed(
        kind: &str,
        upload: &crate::web::csrf::CsrfUpload,
        errors: Vec<LineError>,
    ) -> Self {
        Self {
            kind: kind.into(),
            file_name: upload.file_name.clone(),
            errors,
        }
    }
}
