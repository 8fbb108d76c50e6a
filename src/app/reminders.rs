//! Reminders (REM-1, REM-2) as load → decide → apply: the store reads the offers and coupons
//! whose reminders may be due, `domain::reminder` decides which are due now (10:00 org time,
//! late, or skipped), and the messages go into the outbox once each (dedupe keys). The
//! scheduler delivers them.

use crate::domain::offer::OfferExpiry;
use crate::domain::reminder::{Timing, coupon_reminder_day, poc_reminder_due};
use crate::store::Store;
use crate::store::outbox::{NewMessage, PocReminderRow};
use askama::Template;
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// What an offer-expiry email says, for both of its parts.
struct PocReminderFacts<'a> {
    poc_name: &'a str,
    offer_name: &'a str,
    offer_code: &'a str,
    expires_on: String,
    days_before: i64,
    issued: String,
    redeemed: String,
    link: String,
    late: bool,
    due: String,
}

#[derive(Template)]
#[template(path = "email/poc_reminder.txt")]
struct PocReminderText<'a> {
    m: &'a PocReminderFacts<'a>,
}

#[derive(Template)]
#[template(path = "email/poc_reminder.html")]
struct PocReminderHtml<'a> {
    m: &'a PocReminderFacts<'a>,
}

/// REM-1: for every offer with a POC reminder whose day (expiry − N) has come, one email per
/// POC, made once. (queued, skipped) — a reminder more than a day late is recorded as skipped,
/// with the reason, instead of sent.
pub async fn poc_reminders(
    store: &Store,
    base_url: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<(u64, u64)> {
    let since = (now - Duration::days(60)).date_naive();
    let mut messages = Vec::new();
    for r in store.poc_reminders(since).await? {
        let tz = r.time_zone.0;
        let expiry = match (r.expiry_type.as_str(), r.expires_on) {
            ("fixed", Some(d)) => OfferExpiry::Fixed(d),
            _ => OfferExpiry::WithCampaign,
        };
        let Some(due) = poc_reminder_due(
            &expiry,
            r.campaign_end,
            r.days_before,
            r.created_at,
            tz,
            now,
        ) else {
            continue;
        };
        let due_text = due
            .due
            .with_timezone(&tz)
            .format("%-d %b %Y %H:%M %Z")
            .to_string();
        let late = due.timing == Timing::Late;
        let subject = format!(
            "Offer {} expires on {}{}",
            r.name,
            due.ends_on.format("%-d %b %Y"),
            if late { " (sent late)" } else { "" }
        );
        let (status, note) = if due.timing == Timing::TooLate {
            (
                "skipped",
                Some(format!(
                    "not sent: due at {due_text} and offerdesk was not running until more than a day later"
                )),
            )
        } else {
            ("queued", None)
        };
        let dedupe_key = due.dedupe_key(r.offer_id, r.poc_id);
        messages.push(poc_message(
            base_url,
            &r,
            due.ends_on,
            subject,
            late,
            due_text,
            status,
            note,
            dedupe_key,
        )?);
    }
    let (mut queued, mut skipped) = (0, 0);
    for m in &messages {
        let added = store.enqueue(std::slice::from_ref(m), now).await?;
        if m.status == "skipped" {
            skipped += added;
        } else {
            queued += added;
        }
    }
    Ok((queued, skipped))
}

#[allow(clippy::too_many_arguments)]
fn poc_message(
    base_url: &str,
    r: &PocReminderRow,
    ends_on: NaiveDate,
    subject: String,
    late: bool,
    due: String,
    status: &'static str,
    note: Option<String>,
    dedupe_key: String,
) -> anyhow::Result<NewMessage> {
    let count = |n: i64| crate::domain::money::format_count(n);
    let link = format!("{}/offers/{}", base_url, r.offer_id);
    let facts = PocReminderFacts {
        poc_name: &r.poc_name,
        offer_name: &r.name,
        offer_code: &r.offer_code,
        expires_on: ends_on.format("%-d %b %Y").to_string(),
        days_before: r.days_before,
        issued: count(r.issued_count),
        redeemed: count(r.redeemed_count),
        link,
        late,
        due,
    };
    let text = PocReminderText { m: &facts }.render()?;
    let html = PocReminderHtml { m: &facts }.render()?;
    Ok(NewMessage {
        org_id: r.org_id,
        kind: "poc_reminder",
        channel: "email".into(),
        // The name quoted, so a comma or dot in it keeps the address valid.
        recipient: format!(
            "\"{}\" <{}>",
            r.poc_name.replace(['<', '>', '"', '\\'], ""),
            r.poc_email
        ),
        subject,
        body_text: text,
        body_html: Some(html),
        status,
        note,
        offer_id: Some(r.offer_id),
        dedupe_key: Some(dedupe_key),
    })
}

/// REM-2: each configured reminder, for every coupon still active whose last day is N days
/// ahead, once per issue and reminder; at 10:00 org time, or later the same day. The number
/// queued.
pub async fn coupon_reminders(store: &Store, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let since = (now - Duration::days(2)).date_naive();
    let mut queued = 0;
    for r in store.coupon_reminders(since).await? {
        let Some(day) = coupon_reminder_day(r.time_zone.0, now) else {
            continue;
        };
        let valid_till = day + Duration::days(r.days_before);
        let discount = r
            .discount
            .words(r.currency.code(), r.currency.minor_digits());
        queued += store
            .queue_coupon_reminders(&r, valid_till, &discount, now)
            .await?;
    }
    Ok(queued)
}
