//! The scheduler: offer-expiry reminders to POCs at 10:00 org time (REM-1), coupon-expiry
//! reminders to customers (REM-2), and outbox delivery with retries (REM-3). `offerdesk serve`
//! runs it every few seconds; `offerdesk run-jobs --now T` runs it once as of `T`, which is how
//! the tests drive schedules without sleeping.

use crate::config::Settings;
use crate::domain::issue::offer_ends_on;
use crate::domain::offer::OfferExpiry;
use crate::notify::{Notifier, Outgoing};
use crate::store::Store;
use crate::store::outbox::{CouponReminderRow, NewMessage, PocReminderRow};
use askama::Template;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Reminders go out at this time of day in the org's time zone.
pub const REMINDER_TIME: NaiveTime = match NaiveTime::from_hms_opt(10, 0, 0) {
    Some(t) => t,
    None => panic!("10:00 is a time"),
};
/// A reminder sent this long after its time carries a "sent late" note.
const LATE_AFTER_MINUTES: i64 = 15;
/// A reminder this late is not sent any more; it is recorded as skipped, with the reason.
const SKIP_AFTER_HOURS: i64 = 24;
/// Messages delivered per claim, and claims per run at most (a run never goes on forever).
const DELIVERY_BATCH: i64 = 50;
const MAX_DELIVERIES_PER_RUN: usize = 20_000;
/// Deliveries in flight at once (below the SMTP pool's 10 connections, so none waits for one).
const DELIVERY_CONCURRENCY: usize = 8;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunReport {
    pub poc_queued: u64,
    pub poc_skipped: u64,
    pub coupon_queued: u64,
    pub delivered: u64,
    pub failed_attempts: u64,
    pub jobs_run: u64,
}

impl std::fmt::Display for RunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "poc_reminders_queued={} poc_reminders_skipped={} coupon_reminders_queued={} delivered={} failed_attempts={} jobs_run={}",
            self.poc_queued,
            self.poc_skipped,
            self.coupon_queued,
            self.delivered,
            self.failed_attempts,
            self.jobs_run
        )
    }
}

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

/// The instant `day` at 10:00 in `tz`.
pub fn reminder_instant(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let local = day.and_time(REMINDER_TIME);
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// When a reminder due at `due` is looked at `now`: not yet, on time, late, or too late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    NotYet,
    OnTime,
    Late,
    TooLate,
}

pub fn timing(due: DateTime<Utc>, now: DateTime<Utc>) -> Timing {
    if now < due {
        Timing::NotYet
    } else if now - due >= Duration::hours(SKIP_AFTER_HOURS) {
        Timing::TooLate
    } else if now - due > Duration::minutes(LATE_AFTER_MINUTES) {
        Timing::Late
    } else {
        Timing::OnTime
    }
}

/// The reminder's offer discount in words (`Discount::words`).
fn discount_text(r: &CouponReminderRow) -> String {
    crate::domain::offer::Discount::from_columns(&r.discount_type, r.discount_value, r.discount_cap)
        .words(r.currency.code(), r.currency.minor_digits())
}

/// Runs reminders and delivery.
#[derive(Debug, Clone)]
pub struct Scheduler {
    store: Store,
    notifier: Notifier,
    base_url: String,
    /// Messages claimed by this scheduler and not yet recorded (given back at shutdown).
    in_flight: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<i64, i64>>>,
}

impl Scheduler {
    pub fn new(store: Store, settings: &Settings) -> anyhow::Result<Scheduler> {
        Ok(Scheduler {
            store,
            notifier: Notifier::from_settings(settings)?,
            base_url: settings.base_url.trim_end_matches('/').to_string(),
            in_flight: Default::default(),
        })
    }

    /// The messages this scheduler has claimed and not yet recorded, with their attempts.
    pub fn in_flight(&self) -> Vec<(i64, i64)> {
        self.in_flight
            .lock()
            .map(|s| s.iter().map(|(id, a)| (*id, *a)).collect())
            .unwrap_or_default()
    }

    /// Every due piece of work once, as of `now`: reminders are queued, then the outbox is
    /// delivered.
    #[tracing::instrument(name = "scheduler.run_once", skip_all)]
    pub async fn run_once(&self, now: DateTime<Utc>) -> anyhow::Result<RunReport> {
        let mut report = RunReport::default();
        // Housekeeping: sessions unused for longer than any idle limit are forgotten.
        self.store
            .delete_sessions_idle_since(Utc::now() - Duration::days(30))
            .await?;
        self.poc_reminders(now, &mut report).await?;
        self.coupon_reminders(now, &mut report).await?;
        self.deliver(now, &mut report).await?;
        Ok(report)
    }

    /// REM-1: for every offer with a POC reminder whose day (expiry − N) has come, one email
    /// per POC, made once (the dedupe key holds the offer, the POC and the reminder day, so a
    /// changed expiry or N makes a new reminder and the old one is never due).
    async fn poc_reminders(
        &self,
        now: DateTime<Utc>,
        report: &mut RunReport,
    ) -> anyhow::Result<()> {
        let since = (now - Duration::days(60)).date_naive();
        let rows = self.store.poc_reminders(since).await?;
        let mut messages = Vec::new();
        for r in rows {
            let tz: Tz = r.time_zone.0;
            let expiry = match (r.expiry_type.as_str(), r.expires_on) {
                ("fixed", Some(d)) => OfferExpiry::Fixed(d),
                _ => OfferExpiry::WithCampaign,
            };
            let Some(ends_on) = offer_ends_on(&expiry, r.campaign_end) else {
                continue;
            };
            let day = ends_on - Duration::days(r.days_before);
            let due = reminder_instant(day, tz);
            // A reminder whose time had passed before the offer existed was never scheduled.
            if due < r.created_at {
                continue;
            }
            let when = timing(due, now);
            if when == Timing::NotYet {
                continue;
            }
            let due_text = due
                .with_timezone(&tz)
                .format("%-d %b %Y %H:%M %Z")
                .to_string();
            let dedupe_key = format!("poc:{}:{}:{}", r.offer_id, r.poc_id, day);
            let subject = format!(
                "Offer {} expires on {}{}",
                r.name,
                ends_on.format("%-d %b %Y"),
                if when == Timing::Late {
                    " (sent late)"
                } else {
                    ""
                }
            );
            let (status, note) = if when == Timing::TooLate {
                (
                    "skipped",
                    Some(format!(
                        "not sent: due at {due_text} and offerdesk was not running until more than a day later"
                    )),
                )
            } else {
                ("queued", None)
            };
            messages.push(self.poc_message(
                &r,
                ends_on,
                subject,
                when == Timing::Late,
                due_text,
                status,
                note,
                dedupe_key,
            )?);
        }
        for m in &messages {
            let added = self.store.enqueue(std::slice::from_ref(m), now).await?;
            if m.status == "skipped" {
                report.poc_skipped += added;
            } else {
                report.poc_queued += added;
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn poc_message(
        &self,
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
        let link = format!("{}/offers/{}", self.base_url, r.offer_id);
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
    /// ahead, once per issue and reminder; at 10:00 org time, or later the same day.
    async fn coupon_reminders(
        &self,
        now: DateTime<Utc>,
        report: &mut RunReport,
    ) -> anyhow::Result<()> {
        let since = (now - Duration::days(2)).date_naive();
        for r in self.store.coupon_reminders(since).await? {
            let tz: Tz = r.time_zone.0;
            let today = now.with_timezone(&tz).date_naive();
            // The reminder day whose 10:00 is at most a day ago.
            let day = [today, today - Duration::days(1)].into_iter().find(|d| {
                matches!(
                    timing(reminder_instant(*d, tz), now),
                    Timing::OnTime | Timing::Late
                )
            });
            let Some(day) = day else { continue };
            let valid_till = day + Duration::days(r.days_before);
            report.coupon_queued += self
                .store
                .queue_coupon_reminders(&r, valid_till, &discount_text(&r), now)
                .await?;
        }
        Ok(())
    }

    /// REM-3: delivers due messages; a failure is kept with its error and retried later. At
    /// most `DELIVERY_CONCURRENCY` deliveries run at once, each bounded by the notifier's
    /// deadline, and each outcome is recorded the moment it is known: a message the server
    /// accepted is marked sent at once, whatever the others in its batch do.
    async fn deliver(&self, now: DateTime<Utc>, report: &mut RunReport) -> anyhow::Result<()> {
        use futures_util::StreamExt;
        let mut handled = 0;
        // Each message is attempted once per run, however far ahead `now` is.
        let run_started = Utc::now();
        while handled < MAX_DELIVERIES_PER_RUN {
            // The lease covers the whole batch: its rounds of deliveries, each at most the
            // notifier's deadline, and a margin.
            let rounds = (DELIVERY_BATCH as u32).div_ceil(DELIVERY_CONCURRENCY as u32);
            let lease = Duration::from_std(self.notifier.deadline() * rounds)
                .unwrap_or(Duration::minutes(5))
                .max(Duration::minutes(2))
                + Duration::minutes(1);
            let batch = self
                .store
                .claim_outbox(now, run_started, DELIVERY_BATCH, lease)
                .await?;
            if batch.is_empty() {
                break;
            }
            handled += batch.len();
            if let Ok(mut held) = self.in_flight.lock() {
                held.extend(batch.iter().map(|r| (r.id, r.attempts)));
            }
            let mut sends = futures_util::stream::iter(batch.into_iter().map(|row| async move {
                let message = Outgoing {
                    channel: row.channel.clone(),
                    recipient: row.recipient.clone(),
                    subject: row.subject.clone(),
                    body_text: row.body_text.clone(),
                    body_html: row.body_html.clone(),
                };
                let outcome = self.notifier.deliver(&message).await;
                (row, outcome)
            }))
            .buffer_unordered(DELIVERY_CONCURRENCY);
            while let Some((row, outcome)) = sends.next().await {
                crate::metrics::metrics()
                    .outbox
                    .with_label_values(&[
                        row.channel.as_str(),
                        if outcome.is_ok() { "sent" } else { "failed" },
                    ])
                    .inc();
                match &outcome {
                    Ok(()) => report.delivered += 1,
                    Err(e) => {
                        report.failed_attempts += 1;
                        tracing::warn!(message = row.id, error = %e, "delivery failed; will retry");
                    }
                }
                self.store.outbox_delivered(&row, outcome, now).await?;
                if let Ok(mut held) = self.in_flight.lock() {
                    held.remove(&row.id);
                }
            }
        }
        Ok(())
    }

    /// Runs every few seconds until the process ends; an error is logged, never fatal.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match self.run_once(Utc::now()).await {
                    Ok(r) if r != RunReport::default() => {
                        tracing::info!(report = %r, "scheduler run")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = ?e, "scheduler run failed"),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn ten_oclock_is_in_the_orgs_zone() {
        let day = NaiveDate::from_ymd_opt(2027, 3, 10).unwrap();
        assert_eq!(
            reminder_instant(day, chrono_tz::Asia::Kolkata),
            at("2027-03-10T04:30:00Z")
        );
        assert_eq!(
            reminder_instant(day, chrono_tz::America::New_York),
            at("2027-03-10T15:00:00Z")
        );
    }

    #[test]
    fn a_reminder_is_on_time_late_or_skipped() {
        let due = at("2027-03-10T04:30:00Z");
        assert_eq!(timing(due, at("2027-03-10T04:29:59Z")), Timing::NotYet);
        assert_eq!(timing(due, due), Timing::OnTime);
        assert_eq!(timing(due, at("2027-03-10T09:00:00Z")), Timing::Late);
        assert_eq!(timing(due, at("2027-03-11T04:29:00Z")), Timing::Late);
        assert_eq!(timing(due, at("2027-03-11T04:30:00Z")), Timing::TooLate);
    }
}
