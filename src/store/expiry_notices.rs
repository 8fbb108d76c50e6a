//! Coupons' expiry notices in SQL (seed 001 "expiry notifications"): the offers that have a
//! notice, and for one offer and one last valid day, one outbox row per issue record whose
//! coupon expired unused — queued set-based, in batches of issue records like the coupon
//! reminders (`outbox.rs`), each keyed `en:{issue record}` so that it goes out once however
//! often, and on however many instances, the scheduler runs. The flow is
//! `app::expiry_notices`; when a notice is due is `domain::offer::notice`.

use super::dyntx::Arg;
use super::outbox::REMINDER_BATCH;
use super::{Store, StoreResult};
use crate::domain::ids::{OfferId, OrgId};
use crate::domain::offer::{Channel, Discount};
use crate::domain::org::{Currency, OrgTz};
use chrono::{DateTime, NaiveDate, Utc};

/// An offer with an expiry notice, and what its messages say of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExpiryNoticeOffer {
    pub offer_id: OfferId,
    pub org_id: OrgId,
    pub name: String,
    pub channel: Channel,
    pub text: String,
    pub time_zone: OrgTz,
    #[sqlx(flatten)]
    pub discount: Discount,
    pub currency: Currency,
}

/// The words of one day's notices of an offer, the same for every customer.
#[derive(Debug, Clone)]
pub struct NoticeWords<'a> {
    pub subject: &'a str,
    /// The coupons' last valid day, as `{expiry}` reads.
    pub expiry: &'a str,
    /// The discount in words, as `{discount}` reads.
    pub discount: &'a str,
}

/// Where a notice on `channel` goes: the customer's identifier when it is of that kind, else
/// the contact set for it (blank: none) — `domain::contacts::Reach::address` in SQL. The
/// column names come from this match, never from input.
fn address_sql(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => {
            "CASE WHEN cu.identifier_type = 'MOBILE' THEN cu.identifier ELSE NULLIF(TRIM(cu.mobile), '') END"
        }
        Channel::Email => {
            "CASE WHEN cu.identifier_type = 'EMAIL' THEN cu.identifier ELSE NULLIF(TRIM(cu.email), '') END"
        }
    }
}

impl Store {
    /// Every offer with an expiry notice that may have coupons whose last day is `since` or
    /// later (a coupon's last day is never after its offer's).
    pub async fn expiry_notice_offers(
        &self,
        since: NaiveDate,
    ) -> StoreResult<Vec<ExpiryNoticeOffer>> {
        self.fetch_all_read(
            "SELECT o.id AS offer_id, o.org_id, o.name, o.expiry_notice_channel AS channel, o.expiry_notice_text AS text, \
             g.time_zone, o.discount_type, o.discount_value, o.discount_cap, g.currency \
             FROM offers o JOIN orgs g ON g.id = o.org_id \
             WHERE o.expiry_notice_channel IS NOT NULL AND o.expiry_notice_text IS NOT NULL \
             AND (o.expires_on IS NULL OR o.expires_on >= $1) ORDER BY o.id",
            &[Arg::OptDate(Some(since))],
        )
        .await
    }

    /// Queues `o`'s notice for every issue record of the offer whose coupon's last day was
    /// `last_day` and which expired unused: never redeemed (a unique coupon: no redemption
    /// left counted on it, a multi-use one included; a common code: none by this customer) and
    /// not revoked, still the customer's (not shared on to a friend), and the customer
    /// reachable on the notice's channel. Batches of `REMINDER_BATCH` issue records, each one
    /// short transaction; the placeholders are filled in SQL (the first name last, so a name
    /// is never read as a placeholder). Returns how many were queued.
    pub async fn queue_expiry_notices(
        &self,
        o: &ExpiryNoticeOffer,
        last_day: NaiveDate,
        words: &NoticeWords<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let address = address_sql(o.channel);
        let sql = format!(
            "INSERT INTO outbox (org_id, kind, channel, recipient, subject, body_text, status, attempts, next_attempt_at, \
             offer_id, dedupe_key, created_at) \
             SELECT i.org_id, 'expiry_notice', $1, {address}, $2, \
             CASE WHEN COALESCE(cu.first_name, '') = '' THEN REPLACE(REPLACE(REPLACE($3, '{{code}}', c.code), '{{expiry}}', $4), '{{discount}}', $5) \
             ELSE REPLACE(REPLACE(REPLACE(REPLACE($6, '{{code}}', c.code), '{{expiry}}', $4), '{{discount}}', $5), '{{first_name}}', cu.first_name) END, \
             'queued', 0, $7, i.offer_id, 'en:' || CAST(i.id AS TEXT), $7 \
             FROM issuals i JOIN coupons c ON c.id = i.coupon_id JOIN customers cu ON cu.id = i.customer_id \
             JOIN offers o ON o.id = i.offer_id \
             LEFT JOIN customer_redemptions cr ON cr.offer_id = i.offer_id AND cr.customer_id = i.customer_id \
             WHERE i.offer_id = $8 AND i.valid_till = $9 AND i.id > $10 AND i.id <= $11 \
             AND c.status IN ('issued', 'unissued') AND (c.customer_id IS NULL OR c.customer_id = i.customer_id) \
             AND {address} IS NOT NULL \
             AND (CASE WHEN o.generation = 'common' THEN COALESCE(cr.redeem_count, 0) ELSE c.redeem_count END) = 0 \
             ON CONFLICT (dedupe_key) DO NOTHING"
        );
        // The text for customers whose first name is not known.
        let without_name = crate::domain::offer::without_first_name(&o.text);
        let mut cursor: i64 = 0;
        let mut queued = 0;
        loop {
            let ids: Vec<(i64,)> = self
                .fetch_all_read(
                    "SELECT id FROM issuals WHERE offer_id = $1 AND valid_till = $2 AND id > $3 ORDER BY id LIMIT $4",
                    &[
                        o.offer_id.into(),
                        Arg::OptDate(Some(last_day)),
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
                    &sql,
                    &[
                        o.channel.as_str().into(),
                        words.subject.into(),
                        without_name.as_str().into(),
                        words.expiry.into(),
                        words.discount.into(),
                        o.text.as_str().into(),
                        now.into(),
                        o.offer_id.into(),
                        Arg::OptDate(Some(last_day)),
                        cursor.into(),
                        last.into(),
                    ],
                )
                .await?;
            tx.commit().await?;
            cursor = last;
        }
        Ok(queued)
    }
}
