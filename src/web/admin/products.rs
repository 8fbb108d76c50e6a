//! The product catalogue (PRM-1): a searchable list, a form that adds or edits one product, a
//! CSV upload (all or nothing: every bad line listed) and its template, and a product's
//! deletion (refused while a live or paused promotion names its SKU). A till that sends only
//! SKUs gets each line's category, brand and attributes from here.

use super::UploadReport;
use crate::domain::FieldErrors;
use crate::domain::money::{amount_input, format_amount};
use crate::domain::products::DeleteRefusal;
use crate::domain::products::{
    PRODUCTS_HEADER, Product, ProductText, attributes_text, parse_products_csv,
};
use crate::domain::user::Permission;
use crate::store::products::{ProductQuery, ProductRecord, SaveProduct};
use crate::web::auth::CurrentUser;
use crate::web::csrf::{CsrfForm, CsrfUpload};
use crate::web::error::{render, see_other, urlencode};
use crate::web::extract::page_or_table;
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::guard::{Guard, GuardContext};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

/// Products per page of the list.
pub const PAGE_SIZE: i64 = 50;

/// The product form's fields as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProductForm {
    #[serde(default)]
    pub sku: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub price: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub attributes: String,
    /// The SKU being edited; empty when adding.
    #[serde(default)]
    pub editing: String,
}

impl ProductForm {
    fn text(&self) -> ProductText<'_> {
        ProductText {
            sku: &self.sku,
            name: &self.name,
            price: &self.price,
            category: &self.category,
            brand: &self.brand,
            attributes: &self.attributes,
        }
    }

    /// The form filled with a stored product, to edit it.
    fn of(p: &ProductRecord, digits: u32) -> ProductForm {
        ProductForm {
            sku: p.sku.clone(),
            name: p.name.clone(),
            price: amount_input(p.price, digits),
            category: p.category.clone().unwrap_or_default(),
            brand: p.brand.clone().unwrap_or_default(),
            attributes: attributes_text(&p.attribute_map()),
            editing: p.sku.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProductsQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: Option<i64>,
    /// The SKU whose product the form shows for editing.
    #[serde(default)]
    pub edit: String,
}

/// One product as the list shows it.
pub struct ProductView {
    pub sku: String,
    pub name: String,
    /// In the org's currency: `₹1,499.50`.
    pub price: String,
    pub category: String,
    pub brand: String,
    pub attributes: Vec<(String, String)>,
    /// `/products?edit=…` (the SKU URL-encoded).
    pub edit_href: String,
}

/// The list of products the page shows and htmx swaps in on search and paging.
pub struct ProductList {
    pub rows: Vec<ProductView>,
    pub q: String,
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    /// `q=…` of the current search (for pager links).
    pub base_query: String,
    pub can_edit: bool,
    /// The session's CSRF token, for the rows' Delete forms (the list is also swapped in alone).
    pub csrf: String,
}

/// The list alone: the answer to an htmx search or page turn.
#[derive(Template)]
#[template(path = "pages/products.html", block = "product_table")]
struct ProductTable {
    table: ProductList,
}

#[derive(Template)]
#[template(path = "pages/products.html")]
struct ProductsPage {
    chrome: Chrome,
    can_edit: bool,
    /// The org's currency code, for the price label.
    currency: &'static str,
    form: ProductForm,
    errors: FieldErrors,
    upload: UploadReport,
    /// Why a product was not deleted, above the list.
    refusal: String,
    table: ProductList,
}

async fn product_list(
    state: &AppState,
    user: &CurrentUser,
    q: &ProductsQuery,
) -> Result<ProductList, WebError> {
    let page = q.page.unwrap_or(1).max(1);
    let (records, total) = state
        .store
        .list_products(
            user.org_id,
            &ProductQuery {
                search: q.q.clone(),
                limit: PAGE_SIZE,
                offset: (page - 1) * PAGE_SIZE,
            },
        )
        .await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let currency = user.currency.code();
    let digits = user.currency.minor_digits();
    let rows = records
        .into_iter()
        .map(|p| ProductView {
            price: format_amount(p.price, currency, digits),
            attributes: p.attribute_map().into_iter().collect(),
            edit_href: format!("/products?edit={}", urlencode(&p.sku)),
            category: p.category.unwrap_or_default(),
            brand: p.brand.unwrap_or_default(),
            sku: p.sku,
            name: p.name,
        })
        .collect();
    Ok(ProductList {
        rows,
        q: q.q.clone(),
        page: page.min(pages),
        pages,
        total,
        base_query: format!("q={}", urlencode(q.q.trim())),
        can_edit: user.can(Permission::ManageOrg),
        csrf: user.csrf.clone(),
    })
}

fn page(
    user: &CurrentUser,
    session: &Session,
    form: ProductForm,
    errors: FieldErrors,
    upload: UploadReport,
    table: ProductList,
) -> ProductsPage {
    ProductsPage {
        chrome: Chrome::new(user, session, "catalog"),
        can_edit: user.can(Permission::ManageOrg),
        currency: user.currency.code(),
        form,
        errors,
        upload,
        refusal: String::new(),
        table,
    }
}

/// `GET /products`: the catalogue, searched and paged (htmx gets the list alone); with
/// `?edit=SKU` the form holds that product.
pub async fn show(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<ProductsQuery>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let table = product_list(&state, &user, &q).await?;
    let form = if q.edit.trim().is_empty() || !user.can(Permission::ManageOrg) {
        ProductForm::default()
    } else {
        let product = state
            .store
            .get_product(user.org_id, q.edit.trim())
            .await?
            .ok_or(WebError::NotFound)?;
        ProductForm::of(&product, user.currency.minor_digits())
    };
    page_or_table(&req, ProductTable { table }, |t| {
        page(
            &user,
            &session,
            form,
            FieldErrors::default(),
            UploadReport::default(),
            t.table,
        )
    })
}

/// The page again with what went wrong (422).
async fn refused(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    form: ProductForm,
    errors: FieldErrors,
    upload: UploadReport,
) -> Result<HttpResponse, WebError> {
    let table = product_list(state, user, &ProductsQuery::default()).await?;
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &page(user, session, form, errors, upload, table),
    )
}

/// `POST /products` (a form): adds a product, or saves the one being edited. A SKU the
/// catalogue has cannot be added again, and an edited product keeps its SKU; a refused form
/// comes back with the user's values and each error beside its field.
pub async fn save(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<ProductForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let editing = form.editing.trim();
    let errors = match Product::parse(form.text(), user.currency.minor_digits()) {
        Ok(product) if !editing.is_empty() && product.sku.as_str() != editing => {
            let mut errors = FieldErrors::default();
            errors.push(
                "sku",
                format!("cannot change when editing (it is {editing}); add a new product instead"),
            );
            errors
        }
        Ok(product) => {
            let how = if editing.is_empty() {
                SaveProduct::Add
            } else {
                SaveProduct::Edit
            };
            match state
                .store
                .save_product(user.org_id, &product, how, &user.actor())
                .await
            {
                Ok(()) => {
                    let verb = if how == SaveProduct::Add {
                        "Added"
                    } else {
                        "Saved"
                    };
                    Chrome::flash(
                        &session,
                        &format!(
                            "{verb} product {} ({}).",
                            product.sku.as_str(),
                            product.name
                        ),
                    );
                    return Ok(see_other("/products"));
                }
                Err(e) => super::conflict_to_field(e, "sku")?,
            }
        }
        Err(errors) => errors,
    };
    refused(
        &state,
        &user,
        &session,
        form,
        errors,
        UploadReport::default(),
    )
    .await
}

/// A row's Delete form: the product's SKU and the ticked "confirm" box.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    pub sku: String,
    /// Deleting cannot be undone: the box next to the button must be ticked.
    #[serde(default)]
    pub confirm: String,
}

/// `POST /products/delete`: deletes a product of the org once "confirm" is ticked. Unticked
/// (422), a SKU the org's catalogue does not have (404) or one that a live or paused promotion
/// names (409, the promotions named) comes back as the page with the reason above the list.
pub async fn delete(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let sku = form.sku.trim();
    if sku.is_empty() {
        return Err(WebError::BadRequest("name the product to delete".into()));
    }
    let (status, refusal) = if form.confirm.is_empty() {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "Product {sku} was not deleted: tick “confirm” next to its Delete button first."
            ),
        )
    } else {
        match state
            .store
            .delete_product(user.org_id, sku, &user.actor())
            .await?
        {
            Ok(product) => {
                Chrome::flash(
                    &session,
                    &format!("Deleted product {} ({}).", product.sku, product.name),
                );
                return Ok(see_other("/products"));
            }
            Err(r @ DeleteRefusal::Unknown) => (
                StatusCode::NOT_FOUND,
                format!("{} It may have been deleted already.", r.message(sku)),
            ),
            Err(r @ DeleteRefusal::InUse(_)) => (
                StatusCode::CONFLICT,
                format!("Product {sku} was not deleted. {}.", r.message(sku)),
            ),
        }
    };
    let table = product_list(&state, &user, &ProductsQuery::default()).await?;
    let page = ProductsPage {
        refusal,
        ..page(
            &user,
            &session,
            ProductForm::default(),
            FieldErrors::default(),
            UploadReport::default(),
            table,
        )
    };
    render(status, &page)
}

/// Whether a request carries a multipart body (a file upload) rather than a plain form.
pub struct Multipart;

impl Guard for Multipart {
    fn check(&self, ctx: &GuardContext<'_>) -> bool {
        ctx.head()
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"))
    }
}

/// `POST /products` (a multipart upload): a products CSV, all or nothing — every bad line is
/// listed with its number and nothing is written unless every line is good. It posts to the
/// page's own URL, so a refused upload is shown (422) at the address the page is known by.
pub async fn upload(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    upload: CsrfUpload,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOrg)?;
    let parsed = crate::web::offers::parse_upload(&upload, |file| {
        parse_products_csv(file, user.currency.minor_digits())
    });
    match parsed {
        Ok(products) => {
            let c = state
                .store
                .upload_products(user.org_id, &products, &user.actor())
                .await?;
            Chrome::flash(
                &session,
                &format!(
                    "Uploaded products: {} written ({} new, {} updated).",
                    c.created + c.updated,
                    c.created,
                    c.updated
                ),
            );
            Ok(see_other("/products"))
        }
        Err(errors) => {
            let report = UploadReport::failed("products", &upload, errors);
            refused(
                &state,
                &user,
                &session,
                ProductForm::default(),
                FieldErrors::default(),
                report,
            )
            .await
        }
    }
}

/// `GET /products/template.csv`: the header and two example lines.
pub async fn template(user: CurrentUser) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let body = format!(
        "{}\nPANT-1,Slim chinos,1499,PANTS,Acme,colour=navy; size=32\nBELT-1,Leather belt,799,BELTS,Acme,colour=brown\n",
        PRODUCTS_HEADER.join(",")
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"products-template.csv\"",
        ))
        .body(body))
}
