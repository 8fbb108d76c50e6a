//! Edit an offer (OFF-4): the same fields; expiry type, generation method (and a randomized
//! sample) and the id cannot change; the offer code is editable and unique per org; every
//! edit is audited with the changed fields before and after. The form's submit is *Preview
//! changes* (seed 001's "Preview and update"): the offer in plain words with what the edit
//! changes marked, saved only by *Update offer* there (which posts to the save route).

use super::{Pickers, digits, today};
use crate::domain::FieldErrors;
use crate::domain::ids::OfferId;
use crate::domain::offer::OfferRules;
use crate::domain::offer::describe::{Description, Names};
use crate::domain::offer::diff::{DescriptionDiff, diff_descriptions};
use crate::domain::offer::edit::{check_immutables, parse_offer_code};
use crate::domain::offer::form::{OfferForm, parse};
use crate::web::admin::UploadReport;
use crate::web::auth::CurrentUser;
use crate::web::csrf::{CsrfForm, CsrfUpload};
use crate::web::error::{render, see_other};
use crate::web::extract::*;
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "pages/offer_edit.html")]
struct EditPage {
    chrome: Chrome,
    id: OfferId,
    offer_code: String,
    f: OfferForm,
    errors: FieldErrors,
    p: Pickers,
    locked: bool,
    upload: UploadReport,
    audience: i64,
}

/// The edit page of `offer`: its saved values unless `form` (what was posted) is given.
async fn edit_page(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    offer: &crate::store::offers::OfferRecord,
    form: Option<OfferForm>,
    errors: FieldErrors,
    upload: UploadReport,
) -> Result<EditPage, WebError> {
    let f = form.unwrap_or_else(|| OfferForm {
        offer_code: offer.offer_code.clone(),
        ..OfferForm::from_rules(&offer.rules, digits(user))
    });
    Ok(EditPage {
        chrome: Chrome::new(user, session, "offers"),
        id: offer.id,
        offer_code: offer.offer_code.clone(),
        f,
        errors,
        p: Pickers::load(&state.store, user, Some(offer.id)).await?,
        locked: true,
        upload,
        audience: state.store.offer_audience_count(offer.id).await?,
    })
}

pub async fn show(
    MyOffer { user, offer, .. }: MyOffer<ToEdit>,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    show_form(
        &state,
        &user,
        &session,
        &offer,
        None,
        FieldErrors::default(),
    )
    .await
}

/// The edit form (with the values typed, when given): 422 with errors, 200 without.
async fn show_form(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    offer: &crate::store::offers::OfferRecord,
    typed: Option<OfferForm>,
    errors: FieldErrors,
) -> Result<HttpResponse, WebError> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = edit_page(
        state,
        user,
        session,
        offer,
        typed,
        errors,
        UploadReport::default(),
    )
    .await?;
    render(status, &page)
}

/// The posted edit form checked exactly as saving checks it: the new rules and offer code, or
/// the errors to show next to the fields (a code already taken is only found when saving).
async fn check_edit(
    state: &AppState,
    user: &CurrentUser,
    offer: &crate::store::offers::OfferRecord,
    f: &OfferForm,
) -> Result<Result<(OfferRules, String), FieldErrors>, WebError> {
    let mut ctx = state
        .store
        .offer_context(user.org_id, digits(user), today(user), Some(offer.id))
        .await?;
    ctx.audience_size = state.store.offer_audience_count(offer.id).await?;
    let mut errors = FieldErrors::default();
    let code = errors.take(parse_offer_code(&f.offer_code));
    let parsed = match parse(f, &ctx) {
        Ok(rules) => Some(rules),
        Err(e) => {
            errors.0.extend(e.for_form().0);
            None
        }
    };
    if let Some(after) = &parsed {
        check_immutables(&offer.rules, after, &mut errors);
    }
    Ok(match (parsed, code, errors.is_empty()) {
        (Some(rules), Some(code), true) => Ok((rules, code)),
        _ => Err(errors),
    })
}

pub async fn save(
    MyOffer { user, offer, .. }: MyOffer<ToEdit>,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(f): CsrfForm<OfferForm>,
) -> Result<HttpResponse, WebError> {
    let d = digits(&user);
    let errors = match check_edit(&state, &user, &offer, &f).await? {
        Err(errors) => errors,
        Ok((rules, code)) => {
            let mut errors = FieldErrors::default();
            match crate::app::offers::update(
                &state.store,
                user.org_id,
                &offer,
                &code,
                &rules,
                d,
                &user.actor(),
            )
            .await?
            {
                Ok(()) => {
                    Chrome::flash(&session, &format!("Saved offer {}.", rules.name));
                    return Ok(see_other(&format!("/offers/{}", offer.id)));
                }
                Err(refusal) => {
                    let (field, message) = refusal.field_error();
                    errors.push(field, message);
                }
            }
            errors
        }
    };
    show_form(&state, &user, &session, &offer, Some(f), errors).await
}

#[derive(Template)]
#[template(path = "pages/offer_edit_preview.html")]
struct PreviewPage {
    chrome: Chrome,
    id: OfferId,
    offer_code: String,
    name: String,
    diff: DescriptionDiff,
    /// The posted form as hidden fields, so *Update offer* and *Back to editing* post it again.
    hidden: Vec<(String, String)>,
}

/// Every field of `f` as (name, value) pairs, a multi-value field repeating its name, in the
/// shape `CsrfForm<OfferForm>` reads back into the same form.
fn hidden_fields(f: &OfferForm) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(f) {
        for (name, value) in fields {
            match value {
                serde_json::Value::String(s) => pairs.push((name, s)),
                serde_json::Value::Array(items) => pairs.extend(items.into_iter().map(|i| {
                    (
                        name.clone(),
                        i.as_str().map(str::to_string).unwrap_or_default(),
                    )
                })),
                _ => {}
            }
        }
    }
    pairs
}

/// The description of `rules` with the offer (series) code, which an edit can change too.
fn described(rules: &OfferRules, offer_code: &str, names: &Names) -> Description {
    let mut d = rules.describe(names);
    let line = format!("Offer (series) code: {offer_code}");
    match d.sections.iter_mut().find(|(title, _)| *title == "Offer") {
        Some((_, lines)) => lines.insert(lines.len().min(1), line),
        None => d.sections.insert(0, ("Offer", vec![line])),
    }
    d
}

/// `POST /offers/{id}/edit/preview` (*Preview changes*): the edited offer in plain words with
/// what differs from the saved offer marked; nothing is saved. Errors re-show the edit form.
pub async fn preview(
    MyOffer { user, offer, .. }: MyOffer<ToEdit>,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(f): CsrfForm<OfferForm>,
) -> Result<HttpResponse, WebError> {
    let (rules, code) = match check_edit(&state, &user, &offer, &f).await? {
        Ok(checked) => checked,
        Err(errors) => {
            return show_form(&state, &user, &session, &offer, Some(f), errors).await;
        }
    };
    let names =
        super::names_for(&state.store, &user, offer.claimed_by.as_ref().map(|c| c.0)).await?;
    let diff = diff_descriptions(
        &described(&offer.rules, &offer.offer_code, &names),
        &described(&rules, &code, &names),
    );
    let page = PreviewPage {
        chrome: Chrome::new(&user, &session, "offers"),
        id: offer.id,
        offer_code: offer.offer_code.clone(),
        name: rules.name.clone(),
        diff,
        hidden: hidden_fields(&f),
    };
    render(StatusCode::OK, &page)
}

/// `POST /offers/{id}/edit/back` (*Back to editing* on the preview): the edit form again with
/// the posted values, unchecked.
pub async fn back(
    MyOffer { user, offer, .. }: MyOffer<ToEdit>,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(f): CsrfForm<OfferForm>,
) -> Result<HttpResponse, WebError> {
    show_form(
        &state,
        &user,
        &session,
        &offer,
        Some(f),
        FieldErrors::default(),
    )
    .await
}

/// `POST /offers/{id}/scope`: adds the stores, tills, zones and concepts of a `type,code` CSV to
/// the offer's redemption restriction (audited like an edit); a bad line applies nothing.
pub async fn upload_scope(
    MyOffer { user, offer, .. }: MyOffer<ToEdit>,
    state: web::Data<AppState>,
    session: Session,
    upload: CsrfUpload,
) -> Result<HttpResponse, WebError> {
    let codes = super::scope_codes(&state, &user).await?;
    match super::parse_upload(&upload, |bytes| {
        crate::domain::masters::parse_scope_csv(bytes, &codes)
    }) {
        Ok(rows) => {
            let mut rules = offer.rules.clone();
            for row in rows {
                if !rules.redemption.scope.contains(&row) {
                    rules.redemption.scope.push(row);
                }
            }
            if let Err(refusal) = crate::app::offers::update(
                &state.store,
                user.org_id,
                &offer,
                &offer.offer_code,
                &rules,
                digits(&user),
                &user.actor(),
            )
            .await?
            {
                // The rules other than the scope are the offer's own, so this cannot happen
                // unless the offer changed meanwhile; say what refused it.
                let (field, message) = refusal.field_error();
                return Err(WebError::BadRequest(format!("{field} {message}")));
            }
            Chrome::flash(
                &session,
                &format!(
                    "Updated where {} can be redeemed from {}.",
                    rules.name, upload.file_name
                ),
            );
            Ok(see_other(&format!("/offers/{}/edit", offer.id)))
        }
        Err(errors) => {
            let page = edit_page(
                &state,
                &user,
                &session,
                &offer,
                None,
                FieldErrors::default(),
                UploadReport::failed("restriction", &upload, errors),
            )
            .await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// `POST /offers/{id}/audience`: replaces the offer's specific-customers list (audited); a bad
/// line keeps the old list.
pub async fn upload_audience(
    MyOffer { user, offer, .. }: MyOffer<ToEdit>,
    state: web::Data<AppState>,
    session: Session,
    upload: CsrfUpload,
) -> Result<HttpResponse, WebError> {
    match super::parse_upload(&upload, crate::domain::masters::parse_audience_csv) {
        Ok(rows) => {
            state
                .store
                .replace_offer_audience(user.org_id, offer.id, &rows, &user.actor())
                .await?;
            Chrome::flash(
                &session,
                &format!(
                    "The customer list of {} now has {} customers.",
                    offer.rules.name,
                    rows.len()
                ),
            );
            Ok(see_other(&format!("/offers/{}/edit", offer.id)))
        }
        Err(errors) => {
            let page = edit_page(
                &state,
                &user,
                &session,
                &offer,
                None,
                FieldErrors::default(),
                UploadReport::failed("customer list", &upload, errors),
            )
            .await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_fields_post_back_the_same_form() {
        let f = OfferForm {
            name: "Glow \"15\" & <more>".into(),
            dates: "2099-01-01\r\n2099-01-02".into(),
            stores: vec!["3".into(), "7".into()],
            weekdays: vec!["mon".into()],
            reminder_days: vec!["2".into(), "".into()],
            reminder_channel: vec!["sms".into(), "email".into()],
            reminder_text: vec!["Hi {first_name}".into(), "".into()],
            offer_code: "GLOW-1".into(),
            ..OfferForm::defaults()
        };
        let body = serde_urlencoded::to_string(hidden_fields(&f)).unwrap();
        let back: OfferForm = serde_html_form::from_str(&body).unwrap();
        assert_eq!(back, f);
        assert_eq!(
            hidden_fields(&OfferForm::default())
                .iter()
                .filter(|(k, _)| k == "stores")
                .count(),
            0,
            "an empty multi-value posts nothing, as unticked boxes do"
        );
    }
}
