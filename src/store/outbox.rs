//! The notification outbox (REM-3) and what the scheduler reads to fill it (REM-1, REM-2).
//! Every message is a row before it is sent; a unique `dedupe_key` makes each reminder exactly
//! once however often, and on however many instances, the scheduler runs. Delivery claims rows
//! with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's write transaction is
//! exclusive), so two instances never send the same row at once.

use super::dialect::Lock;
use super::dyntx::{Arg, DynTx};
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::domain::ids::{OfferId, OrgId};
use crate::domain::offer::Discount;
use crate::domain::org::{Currency, OrgTz};
use crate::domain::user::Actor;
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// A message to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub org_id: OrgId,
    pub kind: &'static str,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// `queued`, or `skipped` with the reason in `note`.
    pub status: &'static str,
    pub note: Option<String>,
    pub offer_id: Option<OfferId>,
    pub dedupe_key: Option<String>,
}

/// A message as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub org_id: OrgId,
    pub kind: String,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub offer_id: Option<OfferId>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Until when a delivery run holds the message (real clock).
    pub lease_until: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, org_id, kind, channel, recipient, subject, body_text, body_html, status, attempts, last_error, \
    next_attempt_at, offer_id, created_at, sent_at, lease_until";

pub use crate::domain::delivery::{DeliveryStatus, MAX_ATTEMPTS, backoff};

/// An offer with an expiry reminder to POCs, one row per POC (REM-1).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PocReminderRow {
    pub offer_id: OfferId,
    pub org_id: OrgId,
    pub name: String,
    pub offer_code: String,
    pub expires_on: Option<NaiveDate>,
    pub expiry_type: String,
    pub campaign_end: Option<NaiveDate>,
    pub days_before: i64,
    pub issued_count: i64,
    pub redeemed_count: i64,
    pub time_zone: OrgTz,
    pub created_at: DateTime<Utc>,
    pub poc_id: i64,
    pub poc_name: String,
    pub poc_email: String,
}

/// A coupon-expiry reminder of an offer (REM-2).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CouponReminderRow {
    pub offer_id: OfferId,
    pub org_id: OrgId,
    pub name: String,
    pub position: i64,
    pub days_before: i64,
    pub channel: crate::domain::offer::Channel,
    pub text: String,
    pub time_zone: OrgTz,
    #[sqlx(flatten)]
    pub discount: Discount,
    pub currency: Currency,
}

/// Outbox page filters.
#[derive(Debug, Clone, Default)]
pub struct OutboxQuery {
    pub status: String,
    pub kind: String,
    pub offer_id: Option<OfferId>,
    pub before: Option<i64>,
    pub limit: i64,
}

/// How often one customer may redeem a common-code offer (`o`), NULL for no limit: once, or
/// the multiple-redemption maximum. A customer who has used it up is not reminded of it.
pub const COMMON_LIMIT: &str = "COALESCE(o.max_redemptions_per_customer, CASE WHEN o.multiple_redemption THEN NULL ELSE 1 END)";

/// Issues per batch of coupon-expiry reminders: each batch is one short transaction.
pub const REMINDER_BATCH: i64 = 5_000;

impl Store {
    /// Puts messages in the outbox; one whose `dedupe_key` exists already is left out. Returns
    /// how many were added.
    pub async fn enqueue(&self, messages: &[NewMessage], now: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let mut added = 0;
        for m in messages {
            added += insert_message(&mut tx, m, now).await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Offers with POC reminders whose offer may end on or after `since`, one row per POC.
    pub async fn poc_reminders(&self, since: NaiveDate) -> StoreResult<Vec<PocReminderRow>> {
        self.fetch_all_read(
            &format!(
                "SELECT o.id AS offer_id, o.org_id, o.name, o.offer_code, o.expires_on, o.expiry_type, cons.ends_on AS campaign_end, \
                 o.poc_reminder_days AS days_before, o.issued_count, {} AS redeemed_count, g.time_zone, o.created_at, \
                 p.id AS poc_id, p.name AS poc_name, p.email AS poc_email \
                 FROM offers o JOIN orgs g ON g.id = o.org_id JOIN offer_reminder_pocs orp ON orp.offer_id = o.id \
                 JOIN pocs p ON p.id = orp.poc_id LEFT JOIN consumers cons ON cons.id = o.claimed_by \
                 WHERE o.poc_reminder_days IS NOT NULL AND (o.expires_on >= $1 OR cons.ends_on >= $1) ORDER BY o.id, p.id",
                super::redeem::REDEEMED_SQL
            ),
            &[Arg::OptDate(Some(since))],
        )
        .await
    }

    /// Every coupon-expiry reminder of offers that may still have active coupons.
    pub async fn coupon_reminders(&self, since: NaiveDate) -> StoreResult<Vec<CouponReminderRow>> {
        self.fetch_all_read(
            "SELECT o.id AS offer_id, o.org_id, o.name, r.position, r.days_before, r.channel, r.text, g.time_zone, \
             o.discount_type, o.discount_value, o.discount_cap, g.currency \
             FROM offer_customer_reminders r JOIN offers o ON o.id = r.offer_id JOIN orgs g ON g.id = o.org_id \
             WHERE o.expires_on IS NULL OR o.expires_on >= $1 ORDER BY o.id, r.position",
            &[Arg::OptDate(Some(since))],
        )
        .await
    }

    /// Queues one coupon-expiry reminder for every issue of `r`'s offer whose coupon is still
    /// active and ends on `valid_till`, in batches of `REMINDER_BATCH` issues (each its own
    /// short transaction, so a million reminders hold neither the database nor memory). The
    /// text's placeholders are filled in SQL. Returns how many were queued.
    pub async fn queue_coupon_reminders(
        &self,
        r: &CouponReminderRow,
        valid_till: NaiveDate,
        discount_text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let identifier = if r.channel == crate::domain::offer::Channel::Email {
            "EMAIL"
        } else {
            "MOBILE"
        };
        let expiry_text = crate::domain::offer::describe::date_text(valid_till);
        let subject = format!("Your {} coupon expires on {expiry_text}", r.name);
        let mut cursor: i64 = 0;
        let mut queued = 0;
        loop {
            let ids: Vec<(i64,)> = self
                .fetch_all_read(
                    "SELECT id FROM issuals WHERE offer_id = $1 AND valid_till = $2 AND id > $3 ORDER BY id LIMIT $4",
                    &[
                        r.offer_id.into(),
                        Arg::OptDate(Some(valid_till)),
                        cursor.into(),
                        REMINDER_BATCH.into(),
                    ],
                )
                .await?;
            let Some(&(last,)) = ids.last() else {
                break;
            };
            let mut tx = self.begin().await?;
            queued += tx
                .execute(
                    &format!("INSERT INTO outbox (org_id, kind, channel, recipient, subject, body_text, status, attempts, next_attempt_at, \
                     offer_id, dedupe_key, created_at) \
                     SELECT i.org_id, 'coupon_reminder', $1, cu.identifier, $2, \
                     REPLACE(REPLACE(REPLACE(CASE WHEN COALESCE(cu.first_name, '') = '' THEN $13 ELSE REPLACE($3, '{{first_name}}', cu.first_name) END, '{{code}}', c.code), '{{expiry}}', $4), '{{discount}}', $5), \
                     'queued', 0, $6, i.offer_id, 'cr:' || CAST(i.id AS TEXT) || ':' || $7, $6 \
                     FROM issuals i JOIN coupons c ON c.id = i.coupon_id JOIN customers cu ON cu.id = i.customer_id \
                     JOIN offers o ON o.id = i.offer_id \
                     LEFT JOIN customer_redemptions cr ON cr.offer_id = i.offer_id AND cr.customer_id = i.customer_id \
                     WHERE i.offer_id = $8 AND i.valid_till = $9 AND i.id > $10 AND i.id <= $11 \
                     AND c.status IN ('issued', 'unissued') AND cu.identifier_type = $12 \
                     AND (o.generation <> 'common' OR {COMMON_LIMIT} IS NULL OR COALESCE(cr.redeem_count, 0) < {COMMON_LIMIT}) \
                     ON CONFLICT (dedupe_key) DO NOTHING"),
                    &[
                        r.channel.as_str().into(),
                        subject.as_str().into(),
                        r.text.as_str().into(),
                        expiry_text.as_str().into(),
                        discount_text.into(),
                        now.into(),
                        // Keyed by what the reminder is (days before, channel), not its place in
                        // the list: adding a reminder in front never reuses a sent one's key.
                        format!("{}{}", r.days_before, r.channel.as_str()).into(),
                        r.offer_id.into(),
                        Arg::OptDate(Some(valid_till)),
                        cursor.into(),
                        last.into(),
                        identifier.into(),
                        // The text for customers whose first name is not known.
                        crate::domain::offer::without_first_name(&r.text).into(),
                    ],
                )
                .await?;
            tx.commit().await?;
            cursor = last;
        }
        Ok(queued)
    }

    /// Claims up to `limit` messages due at `now` for delivery: each gets a 2-minute lease and
    /// one more attempt counted. Leases run on the real clock whatever `now` says, so a run
    /// driven with a future `--now` never holds messages until that future.
    /// `run_started`: a message attempted since then (by this run) is not claimed again.
    #[tracing::instrument(name = "store.claim_outbox", skip_all)]
    /// `lease`: how long the claimer may take to deliver the batch.
    pub async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        run_started: DateTime<Utc>,
        limit: i64,
        lease: Duration,
    ) -> StoreResult<Vec<OutboxRow>> {
        let mut tx = self.begin().await?;
        let lock = tx.dialect().lock(Lock::UpdateSkipLocked);
        let rows: Vec<OutboxRow> = tx
            .fetch_all(
                &format!(
                    "UPDATE outbox SET lease_until = $2, attempts = attempts + 1, last_attempt_at = $4 WHERE id IN \
                     (SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= $1 \
                     AND (lease_until IS NULL OR lease_until < $4) \
                     AND (last_attempt_at IS NULL OR last_attempt_at < $5) ORDER BY id LIMIT $3{lock}) RETURNING {COLUMNS}"
                ),
                &[
                    now.into(),
                    (Utc::now() + lease).into(),
                    limit.into(),
                    Utc::now().into(),
                    run_started.into(),
                ],
            )
            .await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Gives back messages claimed but not delivered (a graceful shutdown): another instance
    /// may take them at once instead of after the lease.
    /// `held`: (message, attempts) as claimed; a message claimed again since is left alone.
    pub async fn release_outbox(&self, held: &[(i64, i64)]) -> StoreResult<u64> {
        let mut released = 0;
        for (id, attempts) in held {
            released += self
                .execute_autocommit(
                    "UPDATE outbox SET lease_until = NULL WHERE id = $1 AND status = 'queued' AND attempts = $2",
                    &[(*id).into(), (*attempts).into()],
                )
                .await?;
        }
        Ok(released)
    }

    /// Records a delivery's outcome: sent, or the error and when to try again (failed after
    /// `MAX_ATTEMPTS`).
    pub async fn outbox_delivered(
        &self,
        row: &OutboxRow,
        outcome: Result<(), String>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        match outcome {
            Ok(()) => {
                // Only the attempt this claim made is recorded: if the lease ran out and another
                // run claimed the message, that run's outcome stands.
                tx.execute(
                    "UPDATE outbox SET status = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL \
                     WHERE id = $2 AND status = 'queued' AND attempts = $3",
                    &[now.into(), row.id.into(), row.attempts.into()],
                )
                .await?
            }
            Err(e) => {
                let status = DeliveryStatus::after_failure(row.attempts).as_str();
                tx.execute(
                    "UPDATE outbox SET status = $1, last_error = $2, next_attempt_at = $3, lease_until = NULL \
                     WHERE id = $4 AND status = 'queued' AND attempts = $5",
                    &[
                        status.into(),
                        e.into(),
                        (now + backoff(row.attempts)).into(),
                        row.id.into(),
                        row.attempts.into(),
                    ],
                )
                .await?
            }
        };
        tx.commit().await
    }

    /// A page of the org's outbox, newest first.
    pub async fn list_outbox(&self, org_id: OrgId, q: &OutboxQuery) -> StoreResult<Vec<OutboxRow>> {
        let mut sql = format!("SELECT {COLUMNS} FROM outbox WHERE org_id = $1");
        let mut args: Vec<Arg> = vec![org_id.into()];
        for (column, value) in [("status", &q.status), ("kind", &q.kind)] {
            if !value.is_empty() {
                args.push(value.as_str().into());
                sql.push_str(&format!(" AND {column} = ${}", args.len()));
            }
        }
        if let Some(offer) = q.offer_id {
            args.push(offer.into());
            sql.push_str(&format!(" AND offer_id = ${}", args.len()));
        }
        if let Some(before) = q.before {
            args.push(before.into());
            sql.push_str(&format!(" AND id < ${}", args.len()));
        }
        args.push(q.limit.clamp(1, 500).into());
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", args.len()));
        self.fetch_all_read(&sql, &args).await
    }

    /// Queues a failed (or waiting) message of the org again, now. Audited.
    pub async fn retry_outbox(&self, org_id: OrgId, id: i64, actor: &Actor) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let changed = tx
            .execute(
                "UPDATE outbox SET status = 'queued', next_attempt_at = $1, lease_until = NULL, attempts = 0 \
                 WHERE org_id = $2 AND id = $3 AND status IN ('failed', 'queued')",
                &[Utc::now().into(), org_id.into(), id.into()],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        super::audit::record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "outbox.retried",
                entity_type: "outbox",
                entity_id: Some(id),
                summary: format!("Queued message #{id} again"),
                details: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// How many of the org's messages (of one offer, when given) are in each status, for the
    /// outbox page's counts.
    pub async fn count_outbox_by_status(
        &self,
        org_id: OrgId,
        offer_id: Option<OfferId>,
    ) -> StoreResult<Vec<(String, i64)>> {
        match offer_id {
            Some(offer) => {
                self.fetch_all_read(
                    "SELECT status, COUNT(*) FROM outbox WHERE org_id = $1 AND offer_id = $2 GROUP BY status",
                    &[org_id.into(), offer.into()],
                )
                .await
            }
            None => {
                self.fetch_all_read(
                    "SELECT status, COUNT(*) FROM outbox WHERE org_id = $1 GROUP BY status",
                    &[org_id.into()],
                )
                .await
            }
        }
    }
}

pub(crate) async fn insert_message(
    tx: &mut DynTx,
    m: &NewMessage,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    tx.execute(
        "INSERT INTO outbox (org_id, kind, channel, recipient, subject, body_text, body_html, status, attempts, last_error, \
         next_attempt_at, offer_id, dedupe_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $12, $10) \
         ON CONFLICT (dedupe_key) DO NOTHING",
        &[
            m.org_id.into(),
            m.kind.into(),
            m.channel.as_str().into(),
            m.recipient.as_str().into(),
            m.subject.as_str().into(),
            m.body_text.as_str().into(),
            Arg::OptText(m.body_html.clone()),
            m.status.into(),
            Arg::OptText(m.note.clone()),
            now.into(),
            m.offer_id.into(),
            Arg::OptText(m.dedupe_key.clone()),
        ],
    )
    .await
}
