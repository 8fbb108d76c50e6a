//! Revoke coupons of an offer from the console (REV-1): all not-redeemed coupons, only the
//! unissued ones (admins and marketing), or every active coupon of the customers in a CSV or
//! of one customer typed in (CSMs too). Nothing changes without the explicit "I understand" confirmation, and a customer
//! file with a bad line applies nothing.

use super::names;
use crate::domain::ids::OfferId;
use crate::domain::issue::CustomerRef;
use crate::domain::masters::{IdentifierType, parse_audience_csv};
use crate::domain::money::format_count;
use crate::domain::offer::Generation;
use crate::domain::revoke::{
    Revocation, RevokeMode, RevokeRefusal, StatusCounts, parse_one_customer,
};
use crate::store::offers::OfferRecord;
use crate::web::admin::UploadReport;
use crate::web::auth::CurrentUser;
use crate::web::csrf::CsrfUpload;
use crate::web::error::{render, see_other};
use crate::web::extract::*;
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

/// What the confirmation checkbox says; the form is refused without it.
pub const CONFIRMATION: &str = "I understand revoked coupons can never be redeemed or reversed";

/// One mode as the form offers it.
pub struct ModeView {
    pub value: &'static str,
    pub title: &'static str,
    pub explain: String,
    /// Offered but not usable on this offer (a common code cannot be revoked per customer).
    pub disabled: bool,
}

/// Problems of a submitted form, shown next to what they concern.
#[derive(Default)]
pub struct RevokeErrors {
    pub mode: String,
    pub confirm: String,
    pub upload: UploadReport,
    /// About the one customer typed instead of a file.
    pub customer: String,
}

impl RevokeErrors {
    fn any(&self) -> bool {
        !self.mode.is_empty()
            || !self.confirm.is_empty()
            || !self.upload.errors.is_empty()
            || !self.customer.is_empty()
    }
}

#[derive(Template)]
#[template(path = "pages/offer_revoke.html")]
struct RevokePage {
    chrome: Chrome,
    id: OfferId,
    name: String,
    headline: String,
    /// "1,200 coupons: 1,000 unissued, 150 issued, 40 redeemed, 10 revoked."
    status_line: String,
    modes: Vec<ModeView>,
    /// The mode checked when the page shows (what was posted, or the only one offered).
    chosen: &'static str,
    confirmation: &'static str,
    /// The one customer as typed (kept when the form comes back).
    customer: OneCustomer,
    errors: RevokeErrors,
}

/// The "or one customer" field as typed: the value and whether it is an external id.
#[derive(Default)]
pub struct OneCustomer {
    pub value: String,
    pub external_id: bool,
}

impl OneCustomer {
    /// The form's `customer` and `customer_type` (`EXTERNAL_ID`, or a mobile or email).
    fn of(upload: &CsrfUpload) -> OneCustomer {
        OneCustomer {
            value: upload.field("customer").trim().to_string(),
            external_id: upload.field("customer_type") == IdentifierType::ExternalId.as_str(),
        }
    }
}

impl RevokePage {
    /// Whether any mode can be used here (a CSM on a common-code offer has none).
    fn usable(&self) -> bool {
        self.modes.iter().any(|m| !m.disabled)
    }
}

fn is_common(offer: &OfferRecord) -> bool {
    matches!(offer.rules.generation, Generation::Common { .. })
}

fn coupons(n: i64) -> String {
    format!(
        "{} coupon{}",
        format_count(n),
        if n == 1 { "" } else { "s" }
    )
}

/// "1 coupon is" / "3 coupons are".
fn coupons_are(n: i64) -> String {
    format!("{} {}", coupons(n), if n == 1 { "is" } else { "are" })
}

/// The modes `user` may use, with how many coupons each would revoke now.
fn modes(user: &CurrentUser, counts: &StatusCounts, common: bool) -> Vec<ModeView> {
    RevokeMode::ALL
        .into_iter()
        .filter(|m| user.can(m.permission()))
        .map(|m| {
            let now = counts.would_revoke(m).unwrap_or(0);
            let (title, explain, disabled) = match m {
                RevokeMode::AllNotRedeemed => (
                    "All coupons not redeemed",
                    format!(
                        "Unissued and issued coupons, expired ones included: {} now.{}",
                        coupons(now),
                        if common {
                            " This stops the common code for everyone."
                        } else {
                            ""
                        }
                    ),
                    false,
                ),
                RevokeMode::Unissued => (
                    "Only unissued coupons",
                    format!(
                        "Coupons nobody has been given yet: {} now. Issued coupons stay usable.",
                        coupons(now)
                    ),
                    false,
                ),
                RevokeMode::Customers if common => (
                    "All active coupons of specific customers",
                    format!("Not available: {}.", RevokeRefusal::CommonCodeCustomers),
                    true,
                ),
                RevokeMode::Customers => (
                    "All active coupons of specific customers",
                    format!(
                        "Every issued, not redeemed coupon of this offer held by the customers in a CSV file, or by one customer you name; {} issued now in all.",
                        coupons_are(counts.issued)
                    ),
                    false,
                ),
            };
            ModeView {
                value: m.as_str(),
                title,
                explain,
                disabled,
            }
        })
        .collect()
}

async fn revoke_page(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    offer: &OfferRecord,
    chosen: Option<RevokeMode>,
    customer: OneCustomer,
    errors: RevokeErrors,
) -> Result<RevokePage, WebError> {
    let common = is_common(offer);
    let counts = state
        .store
        .coupon_status_counts(user.org_id, offer.id, common)
        .await?;
    let modes = modes(user, &counts, common);
    let chosen = match (chosen, modes.as_slice()) {
        (Some(m), _) => m.as_str(),
        (None, [only]) if !only.disabled => only.value,
        _ => "",
    };
    let total = counts.unissued + counts.issued + counts.redeemed + counts.revoked;
    Ok(RevokePage {
        chrome: Chrome::new(user, session, "offers"),
        id: offer.id,
        name: offer.rules.name.clone(),
        headline: offer
            .rules
            .describe(&names(&state.store, user).await?)
            .headline,
        status_line: format!(
            "{}: {} unissued, {} issued, {} redeemed, {} revoked.",
            coupons(total),
            format_count(counts.unissued),
            format_count(counts.issued),
            format_count(counts.redeemed),
            format_count(counts.revoked)
        ),
        modes,
        chosen,
        confirmation: CONFIRMATION,
        customer,
        errors,
    })
}

/// `GET /offers/{id}/revoke`: the form, with how many coupons each mode would revoke now.
pub async fn show(
    MyOffer { user, offer, .. }: MyOffer<ToServe>,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    let page = revoke_page(
        &state,
        &user,
        &session,
        &offer,
        None,
        OneCustomer::default(),
        RevokeErrors::default(),
    )
    .await?;
    render(StatusCode::OK, &page)
}

/// `POST /offers/{id}/revoke` (multipart: `mode`, `confirm`, and for customers either the CSV
/// `file` or one `customer` — a mobile or email, or with `customer_type=EXTERNAL_ID` an external
/// id): revokes, then shows the Coupons tab with how many were revoked. A missing confirmation,
/// a bad customer file or value, both a file and a value, or a refused mode re-renders the form
/// (422) with what was typed and changes nothing; a mode the role may not use is 403.
pub async fn revoke(
    MyOffer { user, offer, .. }: MyOffer<ToServe>,
    state: web::Data<AppState>,
    session: Session,
    upload: CsrfUpload,
) -> Result<HttpResponse, WebError> {
    let mode = RevokeMode::parse(upload.field("mode"));
    if let Some(m) = mode {
        user.require(m.permission())?;
    }
    let mut errors = RevokeErrors::default();
    if mode.is_none() {
        errors.mode = "Choose which coupons to revoke.".into();
    }
    if !matches!(upload.field("confirm"), "yes" | "on") {
        errors.confirm = "Tick this box to confirm; nothing was revoked.".into();
    }
    let one = OneCustomer::of(&upload);
    let has_file = !upload.file.is_empty() || !upload.file_name.is_empty();
    let mut customers = Vec::new();
    if mode == Some(RevokeMode::Customers) {
        if is_common(&offer) {
            errors.mode = format!("{}.", RevokeRefusal::CommonCodeCustomers);
        } else if !one.value.is_empty() {
            // One customer typed in: the same revocation as a one-line customer file.
            if has_file {
                errors.customer =
                    "Choose a CSV file or type one customer, not both; nothing was revoked.".into();
            } else {
                match parse_one_customer(&one.value, one.external_id) {
                    Ok(customer) => customers.push(customer),
                    Err(message) => errors.customer = format!("{message}; nothing was revoked."),
                }
            }
        } else if !has_file {
            errors.customer =
                "Nothing to revoke yet: choose a CSV file to upload, or type one customer.".into();
        } else {
            match super::parse_upload(&upload, parse_audience_csv) {
                Ok(rows) => {
                    customers = rows
                        .into_iter()
                        .map(|(kind, value)| CustomerRef { kind, value })
                        .collect();
                }
                Err(lines) => errors.upload = UploadReport::failed("customer", &upload, lines),
            }
        }
    }
    if let (Some(mode), false) = (mode, errors.any()) {
        let revocation = Revocation::of(mode, customers);
        match crate::app::revoke::revoke(
            &state.store,
            user.org_id,
            offer.id,
            &revocation,
            &user.actor(),
        )
        .await?
        {
            Ok(revoked) => {
                Chrome::flash(&session, &revocation.outcome(revoked));
                return Ok(see_other(&format!("/offers/{}/coupons", offer.id)));
            }
            Err(refusal) => errors.mode = format!("{refusal}."),
        }
    }
    let page = revoke_page(&state, &user, &session, &offer, mode, one, errors).await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

#[cfg(test)]
mod tests {
    #[test]
    fn coupon_counts_read_naturally() {
        assert_eq!(super::coupons(1), "1 coupon");
        assert_eq!(super::coupons(1_200), "1,200 coupons");
        assert_eq!(super::coupons_are(1), "1 coupon is");
    }
}
