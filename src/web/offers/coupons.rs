//! The offer page's Coupons tab (OFF-5): codes with status and customer, search, pages that
//! cost the same on 10M coupons, a streamed CSV export; and what makes coupons: generating
//! (COD-1), uploading (COD-3), issuing to one customer or in bulk (ISS-1), each long one a
//! background job with a progress bar that survives a reload (ISS-5).

use super::files::{JobView, job_view};
use super::page::OfferHead;
use crate::app::issue::{IssueContext, IssueSource};
use crate::domain::coupon::{CodeFormat, check_code_space};
use crate::domain::ids::OfferId;
use crate::domain::issue::CustomerRef;
use crate::domain::masters::IdentifierType;
use crate::domain::money::format_count;
use crate::domain::offer::{Generation, code_space};
use crate::domain::user::{Actor, Permission};
use crate::store::StoreError;
use crate::store::coupons::{CouponQuery, CouponRow};
use crate::store::jobs::JobKind;
use crate::web::auth::CurrentUser;
use crate::web::csrf::CsrfForm;
use crate::web::error::{render, see_other, urlencode};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::HashMap;

/// Coupons per page of the tab.
const PAGE: i64 = 50;
/// Largest generation request.
const MAX_GENERATE: u64 = 50_000_000;

/// `?as=<consumer id>`: the console issues for that consumer (linked from its page).
#[derive(Debug, Default, Deserialize)]
pub struct Acting {
    #[serde(default, rename = "as")]
    consumer: String,
}

impl Acting {
    pub fn consumer(&self) -> Option<i64> {
        self.consumer.trim().parse().ok()
    }

    /// The query to keep on a form's action.
    pub(super) fn suffix(consumer: Option<i64>) -> String {
        consumer.map(|c| format!("?as={c}")).unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    after: i64,
}

impl ListQuery {
    pub(super) fn to_store(&self, today: chrono::NaiveDate, limit: i64) -> CouponQuery {
        CouponQuery {
            search: self.q.clone(),
            status: self.status.clone(),
            after: self.after,
            limit,
            today: Some(today),
        }
    }

    fn url(&self, base: &str, after: i64) -> String {
        let mut url = format!(
            "{base}?q={}&status={}",
            urlencode(&self.q),
            urlencode(&self.status)
        );
        if after > 0 {
            url.push_str(&format!("&after={after}"));
        }
        url
    }
}

pub struct CouponView {
    pub id: i64,
    pub code: String,
    pub status: &'static str,
    pub customer: String,
    pub issued: String,
    pub expires: String,
    pub redeemed: String,
    /// How a resend reaches the customer ("SMS", "email"), or "" when it cannot be resent (not
    /// an active issued coupon, or a customer known only by an external id).
    pub resend_by: &'static str,
}

pub(super) fn when(t: Option<DateTime<Utc>>, tz: Tz) -> String {
    t.map(|t| crate::domain::offer::describe::time_text(t, tz))
        .unwrap_or_default()
}

/// `resend`: whether the offer allows resending (it has a resend text).
pub(super) fn coupon_view(
    c: &CouponRow,
    today: chrono::NaiveDate,
    tz: Tz,
    resend: bool,
) -> CouponView {
    let status = c.shown_status(today);
    CouponView {
        id: c.id,
        code: c.code.clone(),
        status,
        customer: match (&c.identifier_type, &c.identifier) {
            (Some(_), Some(v)) => v.clone(),
            _ => String::new(),
        },
        issued: when(c.issued_at, tz),
        expires: c
            .valid_till
            .map(crate::domain::offer::describe::date_text)
            .unwrap_or_default(),
        redeemed: when(c.redeemed_at, tz),
        resend_by: match (resend, status, c.identifier_type.as_deref()) {
            (true, "issued", Some("MOBILE")) => "SMS",
            (true, "issued", Some("EMAIL")) => "email",
            _ => "",
        },
    }
}

/// What the tab shows above the list besides the forms.
pub struct Facts {
    pub coupons: String,
    pub issued: String,
    pub redeemed: String,
    pub format_note: String,
}

/// The forms' values and errors when the page is shown again.
#[derive(Default)]
pub struct Forms {
    /// The consumer the console acts for (`?as=`, from the consumer's page): a claimed offer is
    /// issued only for its consumer.
    pub acting: Option<i64>,
    pub count: String,
    pub generate_error: String,
    pub issue_kind: String,
    pub issue_value: String,
    pub issue_first_name: String,
    pub issue_error: String,
    pub upload_error: String,
    pub bulk_error: String,
    pub resend_error: String,
}

#[derive(Template)]
#[template(path = "pages/offer_coupons.html")]
struct CouponsPage {
    chrome: Chrome,
    head: OfferHead,
    generation: &'static str,
    facts: Facts,
    can_manage: bool,
    can_serve: bool,
    forms: Forms,
    jobs: Vec<JobView>,
    rows: Vec<CouponView>,
    q: String,
    status: String,
    first_url: String,
    next_url: String,
    export_url: String,
    /// The list's query (`?q=…&status=…`), kept by the rows' Resend buttons.
    list_query: String,
    /// `?as=<consumer>` on the issuing forms when the console acts for the claiming consumer.
    acting: String,
    /// Set when the offer is claimed and the console does not act for its consumer: issuing is
    /// theirs (the consumer's name and id).
    claimed_by: Option<(i64, String)>,
    /// Set when the console acts for the claiming consumer (reached from its page).
    acting_for: Option<(i64, String)>,
}

const STATUSES: [(&str, &str); 6] = [
    ("", "All statuses"),
    ("unissued", "Unissued"),
    ("issued", "Issued"),
    ("expired", "Expired"),
    ("redeemed", "Redeemed"),
    ("revoked", "Revoked"),
];

impl CouponsPage {
    fn statuses(&self) -> &'static [(&'static str, &'static str)] {
        &STATUSES
    }
}

fn format_note(ctx: &IssueContext) -> String {
    match (&ctx.rules.generation, &ctx.on_demand) {
        (Generation::Unique { .. }, Some(f)) => format!(
            "Codes: {} characters{} ({}). This format allows {} codes; at most half are ever made, so codes stay hard to guess. Codes are also made on demand when an offer runs out at issue.",
            f.length,
            if f.prefix.is_empty() {
                String::new()
            } else {
                format!(" after the prefix {}", f.prefix)
            },
            f.charset.as_str(),
            format_big(code_space(f.charset, f.length)),
        ),
        (Generation::Randomized { sample }, Some(f)) => format!(
            "Randomized common codes from the sample {sample}: every code starts with the fixed part {} followed by {} random {} characters — {} possible codes, made as they are issued.",
            f.prefix,
            f.length,
            if f.charset.as_str() == "numeric" {
                "numeric"
            } else {
                "alphanumeric"
            },
            format_big(code_space(f.charset, f.length)),
        ),
        (Generation::Common { code }, _) => {
            format!("Everyone gets the common code {code}; caps and per-customer limits still apply.")
        }
        (Generation::Upload { with_customers }, _) => if *with_customers {
            "Codes are uploaded with the customers they belong to (CSV header code,type,value); they are issued by the upload."
        } else {
            "Codes are uploaded (CSV header code); issuing hands them out in upload order."
        }
        .to_string(),
        _ => String::new(),
    }
}

fn format_big(n: u128) -> String {
    if n > i64::MAX as u128 {
        "more than 9 quintillion".into()
    } else {
        format_count(n as i64)
    }
}

async fn coupons_page(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    offer_id: OfferId,
    query: &ListQuery,
    forms: Forms,
) -> Result<CouponsPage, WebError> {
    let offer = state.store.get_offer(user.org_id, offer_id).await?;
    let ctx = crate::app::issue::context(&state.store, user.org_id, offer_id).await?;
    let forms_acting = forms.acting;
    let today = super::today(user);
    let rows = state
        .store
        .list_coupons(user.org_id, offer_id, &query.to_store(today, PAGE))
        .await?;
    let mut jobs = Vec::new();
    for job in state.store.list_jobs(user.org_id, offer_id, 5).await? {
        jobs.push(job_view(state, user, &job).await?);
    }
    let base = format!("/offers/{offer_id}/coupons");
    let next_url = if rows.len() as i64 == PAGE {
        query.url(&base, rows.last().map(|r| r.id).unwrap_or(0))
    } else {
        String::new()
    };
    Ok(CouponsPage {
        chrome: Chrome::new(user, session, "offers"),
        head: OfferHead::new(
            &offer,
            offer
                .rules
                .describe(&super::names(&state.store, user).await?)
                .headline,
            "coupons",
            user,
        ),
        generation: offer.rules.generation.kind(),
        facts: Facts {
            coupons: format_count(offer.coupon_count),
            issued: format_count(offer.issued_count),
            redeemed: format_count(offer.redeemed_count),
            format_note: format_note(&ctx),
        },
        can_manage: user.can(Permission::ManageOffers),
        can_serve: user.can(Permission::ServeCustomers),
        forms: Forms {
            issue_kind: if forms.issue_kind.is_empty() {
                "MOBILE".into()
            } else {
                forms.issue_kind
            },
            ..forms
        },
        jobs,
        rows: rows
            .iter()
            .map(|r| {
                coupon_view(
                    r,
                    today,
                    user.time_zone,
                    offer.rules.issual.resend_text.is_some(),
                )
            })
            .collect(),
        q: query.q.clone(),
        status: query.status.clone(),
        first_url: if query.after > 0 {
            query.url(&base, 0)
        } else {
            String::new()
        },
        next_url,
        export_url: query.url(&format!("/offers/{offer_id}/coupons.csv"), 0),
        list_query: query.url("", query.after),
        acting: Acting::suffix(forms_acting),
        claimed_by: ctx
            .claimed_by
            .clone()
            .filter(|(owner, _)| forms_acting != Some(*owner)),
        acting_for: ctx
            .claimed_by
            .clone()
            .filter(|(owner, _)| forms_acting == Some(*owner)),
    })
}

pub async fn tab(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<OfferId>,
    query: web::Query<ListQuery>,
    acting: web::Query<Acting>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let page = coupons_page(
        &state,
        &user,
        &session,
        path.into_inner(),
        &query,
        Forms {
            acting: acting.consumer(),
            ..Forms::default()
        },
    )
    .await?;
    render(StatusCode::OK, &page)
}

pub(super) async fn show_errors(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    offer_id: OfferId,
    forms: Forms,
) -> Result<HttpResponse, WebError> {
    let page = coupons_page(state, user, session, offer_id, &ListQuery::default(), forms).await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

#[derive(Debug, Deserialize)]
pub struct GenerateForm {
    #[serde(default)]
    count: String,
}

/// Starts generating N codes (COD-1), refusing what the code space cannot hold before starting.
pub async fn generate(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<OfferId>,
    CsrfForm(form): CsrfForm<GenerateForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let offer_id = path.into_inner();
    let offer = state.store.get_offer(user.org_id, offer_id).await?;
    let refuse = |message: String| Forms {
        count: form.count.clone(),
        generate_error: message,
        ..Forms::default()
    };
    let Generation::Unique {
        length,
        charset,
        prefix,
    } = &offer.rules.generation
    else {
        let forms = refuse("only offers with generated unique codes can generate codes".into());
        return show_errors(&state, &user, &session, offer_id, forms).await;
    };
    let count = match form.count.trim().replace(',', "").parse::<u64>() {
        Ok(n) if (1..=MAX_GENERATE).contains(&n) => n,
        _ => {
            let forms = refuse(format!(
                "must be a whole number from 1 to {}",
                format_count(MAX_GENERATE as i64)
            ));
            return show_errors(&state, &user, &session, offer_id, forms).await;
        }
    };
    let format = CodeFormat {
        prefix: prefix.clone(),
        length: *length,
        charset: *charset,
    };
    if let Err(e) = check_code_space(&format, count, offer.coupon_count.max(0) as u64) {
        return show_errors(&state, &user, &session, offer_id, refuse(e.to_string())).await;
    }
    state
        .store
        .create_job(
            user.org_id,
            offer_id,
            JobKind::Generate,
            serde_json::json!({"count": count, "actor": user.email}),
            None,
            false,
            Some(user.id),
        )
        .await?;
    state.jobs.wake();
    Chrome::flash(
        &session,
        &format!(
            "Generating {} codes — the progress is shown below.",
            format_count(count as i64)
        ),
    );
    Ok(see_other(&format!("/offers/{offer_id}/coupons")))
}

#[derive(Debug, Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    value: String,
    /// Optional; kept for `{first_name}` in the customer's messages.
    #[serde(default)]
    first_name: String,
}

/// Issues a coupon to one customer from the console (ISS-1); a refusal names the rule.
pub async fn issue(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<OfferId>,
    acting: web::Query<Acting>,
    CsrfForm(form): CsrfForm<IssueForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ServeCustomers)?;
    let offer_id = path.into_inner();
    let acting = acting.consumer();
    let refuse = |message: String| Forms {
        acting,
        issue_kind: form.kind.clone(),
        issue_value: form.value.clone(),
        issue_first_name: form.first_name.clone(),
        issue_error: message,
        ..Forms::default()
    };
    let customer = IdentifierType::parse(&form.kind)
        .ok_or_else(|| "choose mobile, email or external id".to_string())
        .and_then(|kind| CustomerRef::parse(kind, &form.value));
    let customer = match customer {
        Ok(c) => c,
        Err(e) => return show_errors(&state, &user, &session, offer_id, refuse(e)).await,
    };
    if form.first_name.trim().chars().count() > 100 {
        let e = "the first name may have at most 100 characters".to_string();
        return show_errors(&state, &user, &session, offer_id, refuse(e)).await;
    }
    let ctx = crate::app::issue::context(&state.store, user.org_id, offer_id).await?;
    let source = IssueSource {
        label: format!("console: {}", user.email),
        consumer: acting,
    };
    let actor = Actor::user(user.id, &user.email);
    match crate::app::issue::issue_one(&state.store, &ctx, &customer, &source, &actor).await {
        Ok(Ok(issued)) => {
            state
                .store
                .set_first_names(user.org_id, &[(customer.clone(), form.first_name.clone())])
                .await?;
            let till = issued
                .valid_till
                .map(|d| {
                    format!(
                        ", valid till {}",
                        crate::domain::offer::describe::date_text(d)
                    )
                })
                .unwrap_or_else(|| ", no expiry".into());
            Chrome::flash(
                &session,
                &format!("Issued {} to {}{till}.", issued.code, customer.value),
            );
            // The list finds a coupon by its customer; a common code's one coupon belongs to
            // nobody, so it is found by its code.
            let q = if matches!(ctx.rules.generation, Generation::Common { .. }) {
                issued.code.clone()
            } else {
                customer.value.clone()
            };
            Ok(see_other(&format!(
                "/offers/{offer_id}/coupons?q={}{}",
                urlencode(&q),
                acting.map(|c| format!("&as={c}")).unwrap_or_default()
            )))
        }
        Ok(Err(refusal)) => {
            let forms = refuse(format!("Not issued: {refusal}."));
            show_errors(&state, &user, &session, offer_id, forms).await
        }
        Err(StoreError::Conflict(m)) => {
            show_errors(
                &state,
                &user,
                &session,
                offer_id,
                refuse(format!("Not issued: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Resends an issued coupon to its customer through the outbox (ISS-4): SMS to a mobile, email
/// to an email address, with the offer's resend text. Back to the tab (and its query) with a
/// flash; a coupon that cannot be resent is answered 422 with the reason.
pub async fn resend(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<(OfferId, i64)>,
    query: web::Query<ListQuery>,
    _form: CsrfForm<HashMap<String, String>>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ServeCustomers)?;
    let (offer_id, coupon_id) = path.into_inner();
    match crate::app::resend::resend(
        &state.store,
        user.org_id,
        offer_id,
        coupon_id,
        &user.actor(),
        Utc::now(),
    )
    .await?
    {
        Ok(resent) => {
            let by = if resent.channel == "sms" {
                "SMS"
            } else {
                "email"
            };
            Chrome::flash(
                &session,
                &format!(
                    "Queued: the coupon goes out within a minute ({} by {by} to {}).",
                    resent.code, resent.recipient
                ),
            );
            Ok(see_other(
                &query.url(&format!("/offers/{offer_id}/coupons"), query.after),
            ))
        }
        Err(refusal) => {
            let forms = Forms {
                resend_error: format!("Not resent: {refusal}."),
                ..Forms::default()
            };
            let page = coupons_page(&state, &user, &session, offer_id, &query, forms).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
