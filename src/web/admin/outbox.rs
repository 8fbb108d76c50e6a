//! The outbox console (REM-3): every email and SMS the system sends — offer-expiry reminders
//! to POCs, coupon-expiry reminders and resent coupons to customers — with its status,
//! attempts and last error, filtered in place (htmx), newest first, paginated by id; a failed
//! or waiting message can be queued again now. Recipients are personal data: the roles that
//! serve customers see this page, viewers do not.

use crate::domain::delivery::DeliveryStatus;
use crate::domain::ids::OfferId;
use crate::domain::money::format_count;
use crate::domain::user::Permission;
use crate::store::StoreError;
use crate::store::outbox::{OutboxQuery, OutboxRow};
use crate::web::auth::CurrentUser;
use crate::web::csrf::CsrfForm;
use crate::web::error::{see_other, urlencode};
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::HashMap;

/// Messages per page.
pub const PAGE_SIZE: i64 = 50;

/// (value, label) of each status, in the order the counts show them.
const STATUSES: [(&str, &str); 4] = [
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
];

/// (value, label) of each kind of message.
const KINDS: [(&str, &str); 10] = [
    ("poc_reminder", "Offer expiry reminder"),
    ("coupon_reminder", "Coupon expiry reminder"),
    ("resend", "Resend"),
    ("issued", "Coupon issued"),
    ("otp", "Sign-in code"),
    ("share", "Shared coupon"),
    ("referral", "Referral reward"),
    ("earned", "Promotion earned"),
    ("hold_reminder", "Earned promotion reminder"),
    ("expiry_notice", "Coupon expired notice"),
];

/// The page's filters as they come in the query string (and, for a retry, in its form).
#[derive(Debug, Default, Deserialize)]
pub struct OutboxFilter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    offer: String,
    #[serde(default)]
    before: String,
}

/// The filters once checked: unknown values mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub status: String,
    pub kind: String,
    pub offer: Option<OfferId>,
    pub before: Option<i64>,
}

impl From<&OutboxFilter> for Filter {
    fn from(f: &OutboxFilter) -> Filter {
        let known = |v: &str, list: &[(&str, &str)]| {
            if list.iter().any(|(k, _)| *k == v) {
                v.to_string()
            } else {
                String::new()
            }
        };
        Filter {
            status: known(f.status.trim(), &STATUSES),
            kind: known(f.kind.trim(), &KINDS),
            offer: f
                .offer
                .trim()
                .parse()
                .ok()
                .filter(|id: &OfferId| id.get() > 0),
            before: f.before.trim().parse().ok().filter(|id| *id > 0),
        }
    }
}

impl Filter {
    /// `/admin/outbox?…` with these filters, starting before message `before`.
    pub fn url(&self, before: Option<i64>) -> String {
        let mut url = format!(
            "/admin/outbox?status={}&kind={}&offer={}",
            urlencode(&self.status),
            urlencode(&self.kind),
            self.offer.map(|o| o.to_string()).unwrap_or_default()
        );
        if let Some(id) = before {
            url.push_str(&format!("&before={id}"));
        }
        url
    }

    fn is_filtered(&self) -> bool {
        !self.status.is_empty() || !self.kind.is_empty() || self.offer.is_some()
    }
}

/// One message as the table shows it.
pub struct MessageView {
    pub id: i64,
    pub created: String,
    pub kind: &'static str,
    pub channel: &'static str,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: String,
    /// When a queued message is tried next ("" otherwise).
    pub next_attempt: String,
    pub sent_at: String,
    pub offer_id: Option<OfferId>,
    pub offer_name: String,
    pub can_retry: bool,
}

fn when(t: DateTime<Utc>, tz: Tz) -> String {
    crate::domain::offer::describe::time_text(t, tz)
}

fn label(list: &[(&'static str, &'static str)], value: &str) -> &'static str {
    list.iter()
        .find(|(k, _)| *k == value)
        .map(|(_, l)| *l)
        .unwrap_or("Message")
}

fn view(r: OutboxRow, offers: &HashMap<i64, String>, tz: Tz, now: DateTime<Utc>) -> MessageView {
    let queued = r.status == DeliveryStatus::Queued;
    MessageView {
        id: r.id,
        created: when(r.created_at, tz),
        kind: label(&KINDS, &r.kind),
        channel: match r.channel.as_str() {
            "sms" => "SMS",
            "push" => "Push",
            _ => "Email",
        },
        recipient: r.recipient,
        subject: r.subject,
        // A customer's sign-in code is theirs alone: staff never read it.
        body_text: if r.kind == "otp" {
            "(a one-time sign-in code; hidden)".into()
        } else {
            r.body_text
        },
        next_attempt: if !queued {
            String::new()
        } else if r.next_attempt_at <= now {
            "now".into()
        } else {
            when(r.next_attempt_at, tz)
        },
        sent_at: r.sent_at.map(|t| when(t, tz)).unwrap_or_default(),
        offer_name: r
            .offer_id
            .map(|id| {
                offers
                    .get(&id.get())
                    .cloned()
                    .unwrap_or_else(|| format!("Offer #{id}"))
            })
            .unwrap_or_default(),
        offer_id: r.offer_id,
        can_retry: matches!(r.status, DeliveryStatus::Failed | DeliveryStatus::Queued),
        status: r.status.as_str().to_string(),
        attempts: r.attempts,
        last_error: r.last_error.unwrap_or_default(),
    }
}

/// One status count at the top.
pub struct StatusCount {
    pub status: &'static str,
    pub label: &'static str,
    pub count: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "partials/outbox_table.html")]
struct OutboxTable {
    rows: Vec<MessageView>,
    counts: Vec<StatusCount>,
    filter: Filter,
    filtered: bool,
    /// The filtered offer's name ("" when not filtered by offer).
    offer_name: String,
    newest_url: String,
    older_url: String,
    csrf: String,
}

#[derive(Template)]
#[template(path = "pages/outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    statuses: &'static [(&'static str, &'static str)],
    kinds: &'static [(&'static str, &'static str)],
    offers: Vec<(i64, String)>,
    table: OutboxTable,
}

impl OutboxPage {
    fn is_offer(&self, id: &i64) -> bool {
        self.table.filter.offer == Some(OfferId(*id))
    }
}

/// The outbox page, or (for htmx) just its table.
pub async fn list(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<OutboxFilter>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ServeCustomers)?;
    let filter = Filter::from(&q.into_inner());
    let rows = state
        .store
        .list_outbox(
            user.org_id,
            &OutboxQuery {
                status: filter.status.clone(),
                kind: filter.kind.clone(),
                offer_id: filter.offer,
                before: filter.before,
                limit: PAGE_SIZE,
            },
        )
        .await?;
    let counted: HashMap<String, i64> = state
        .store
        .count_outbox_by_status(user.org_id, filter.offer)
        .await?
        .into_iter()
        .collect();
    let offers = state.store.offer_names(user.org_id).await?;
    let names: HashMap<i64, String> = offers.iter().cloned().collect();
    let older_url = match rows.last() {
        Some(last) if rows.len() as i64 == PAGE_SIZE => filter.url(Some(last.id)),
        _ => String::new(),
    };
    let counts = STATUSES
        .iter()
        .map(|(status, label)| StatusCount {
            status,
            label,
            count: format_count(counted.get(*status).copied().unwrap_or(0)),
            url: Filter {
                status: status.to_string(),
                ..filter.clone()
            }
            .url(None),
        })
        .collect();
    let now = Utc::now();
    let table = OutboxTable {
        rows: rows
            .into_iter()
            .map(|r| view(r, &names, user.time_zone, now))
            .collect(),
        counts,
        filtered: filter.is_filtered(),
        offer_name: filter
            .offer
            .map(|id| {
                names
                    .get(&id.get())
                    .cloned()
                    .unwrap_or_else(|| format!("Offer #{id}"))
            })
            .unwrap_or_default(),
        newest_url: if filter.before.is_some() {
            filter.url(None)
        } else {
            String::new()
        },
        older_url,
        csrf: user.csrf.clone(),
        filter,
    };
    crate::web::extract::page_or_table(&req, table, |table| OutboxPage {
        chrome: Chrome::new(&user, &session, "outbox"),
        statuses: &STATUSES,
        kinds: &KINDS,
        offers,
        table,
    })
}

/// Queues a failed or waiting message again, now (attempts start over), and returns to the
/// page with its filters.
pub async fn retry(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<OutboxFilter>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ServeCustomers)?;
    let id = path.into_inner();
    let filter = Filter::from(&form);
    match state
        .store
        .retry_outbox(user.org_id, id, &user.actor())
        .await
    {
        Ok(()) => Chrome::flash(
            &session,
            &format!("Message #{id} is queued again: it goes out within a minute."),
        ),
        // Sent (or skipped) meanwhile, or not this org's: nothing to retry.
        Err(StoreError::NotFound) => Chrome::flash(
            &session,
            &format!("Message #{id} is not waiting or failed, so there is nothing to retry."),
        ),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(&filter.url(filter.before)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_filters_mean_all() {
        let f = Filter::from(&OutboxFilter {
            status: "sent".into(),
            kind: "bogus".into(),
            offer: "12".into(),
            before: "x".into(),
        });
        assert_eq!(
            f,
            Filter {
                status: "sent".into(),
                kind: String::new(),
                offer: Some(OfferId(12)),
                before: None,
            }
        );
        assert_eq!(
            f.url(Some(40)),
            "/admin/outbox?status=sent&kind=&offer=12&before=40"
        );
    }
}
