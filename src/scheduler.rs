//! The scheduler: runs the reminders (`app::reminders`: offer-expiry reminders to POCs at 10:00
//! org time, REM-1; coupon-expiry reminders to customers, REM-2) and delivers the outbox with
//! retries (REM-3). `offerdesk serve`
//! runs it every few seconds; `offerdesk run-jobs --now T` runs it once as of `T`, which is how
//! the tests drive schedules without sleeping.

use crate::config::Settings;
use crate::notify::{Notifier, Outgoing};
use crate::store::Store;
use chrono::{DateTime, Duration, Utc};

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
    /// Recommenders rewarded for a friend's redemption (WAL-2).
    pub referrals_rewarded: u64,
    /// Notices that a customer's coupon expired unused.
    pub expiry_notices_queued: u64,
    /// Reminders that an earned or reward promotion's window is ending.
    pub hold_reminders_queued: u64,
}

impl std::fmt::Display for RunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "poc_reminders_queued={} poc_reminders_skipped={} coupon_reminders_queued={} delivered={} failed_attempts={} jobs_run={} referrals_rewarded={} expiry_notices_queued={} hold_reminders_queued={}",
            self.poc_queued,
            self.poc_skipped,
            self.coupon_queued,
            self.delivered,
            self.failed_attempts,
            self.jobs_run,
            self.referrals_rewarded,
            self.expiry_notices_queued,
            self.hold_reminders_queued
        )
    }
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
    /// delivered; then promotion uses are folded, whatever happened before.
    #[tracing::instrument(name = "scheduler.run_once", skip_all)]
    pub async fn run_once(&self, now: DateTime<Utc>) -> anyhow::Result<RunReport> {
        let report = self.messages(now).await;
        // Promotion uses older than a minute counted per quarter hour and day, so that limits
        // read sums instead of every use (by the database's clock, not `now`: a later use is
        // never folded early, and folding never changes a count).
        if let Err(e) = self.store.fold_promotion_uses_due().await {
            tracing::warn!(error = %e, "folding promotion uses failed; next run");
        }
        report
    }

    async fn messages(&self, now: DateTime<Utc>) -> anyhow::Result<RunReport> {
        let mut report = RunReport::default();
        // Housekeeping: sessions unused for longer than any idle limit are forgotten.
        self.store
            .delete_sessions_idle_since(Utc::now() - Duration::days(30))
            .await?;
        (report.poc_queued, report.poc_skipped) =
            crate::app::reminders::poc_reminders(&self.store, &self.base_url, now).await?;
        report.coupon_queued = crate::app::reminders::coupon_reminders(&self.store, now).await?;
        report.referrals_rewarded = crate::app::sharing::reward_referrals(&self.store, now).await?;
        report.expiry_notices_queued =
            crate::app::expiry_notices::expiry_notices(&self.store, now).await?;
        report.hold_reminders_queued =
            crate::app::hold_messages::hold_reminders(&self.store, now).await?;
        self.deliver(now, &mut report).await?;
        Ok(report)
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

    /// Runs every few seconds until the process ends, and at once when `wake` is notified
    /// (a sign-in code was queued); an error is logged, never fatal.
    pub fn spawn(self, wake: std::sync::Arc<tokio::sync::Notify>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = wake.notified() => {}
                }
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
