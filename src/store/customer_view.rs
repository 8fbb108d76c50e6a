//! One customer as a CSM sees them on a support call, in SQL: the search by mobile, email or
//! external id (the identifier, or the contact columns), who they are, their latest events,
//! trackers, held promotions (with the first cart that used each), and coupon redemptions.
//! Reads only, except the tracker correction's write (`set_tracker`), which `app::customer_care`
//! runs in its transaction with the customer's row taken and the audit entry.

use super::dyntx::{Arg, DynTx};
use super::{Store, StoreResult};
use crate::domain::ids::{CustomerId, OrgId};
use crate::domain::offer::Channel;
use chrono::{DateTime, Utc};

/// The most customers a search lists.
pub const SEARCH_ROWS: i64 = 50;
/// The most events the page shows (newest first).
pub const EVENT_ROWS: i64 = 50;
/// The most redemptions the page shows (newest first).
pub const REDEMPTION_ROWS: i64 = 100;
/// The most held promotions the page shows (newest first).
pub const HOLD_ROWS: i64 = 200;

/// What a search looks for: the typed text as each kind of identifier reads it (`None` where
/// it cannot be one, e.g. "asha@example.com" is no mobile).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerSearch {
    /// Normalised like a mobile identifier; also matched against the `mobile` contact.
    pub mobile: Option<String>,
    /// Lower-cased; also matched against the `email` contact.
    pub email: Option<String>,
    /// Trimmed, matched as stored.
    pub external_id: Option<String>,
}

/// A customer of the org: who they are and how they are reached.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CustomerCard {
    pub id: CustomerId,
    /// `MOBILE`, `EMAIL` or `EXTERNAL_ID`.
    pub identifier_type: String,
    pub identifier: String,
    pub first_name: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub preferred_channel: Option<Channel>,
    /// Made for a guest wallet (a browser session), not a known person.
    pub guest: bool,
    pub created_at: DateTime<Utc>,
}

const CARD_COLUMNS: &str = "id, identifier_type, identifier, first_name, mobile, email, \
     preferred_channel, guest, created_at";

/// One of the customer's events as recorded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub event_id: String,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub amount: Option<i64>,
    pub transaction_number: Option<String>,
    /// JSON object of the event's attributes.
    pub attributes: String,
    /// JSON of the API's answer (`app::holds::EventOutcome`); empty while being recorded.
    pub result: String,
}

/// A customer's tracker of a promotion in one window.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TrackerRow {
    pub promotion_id: i64,
    /// `life` or a calendar month, `2026-11`.
    pub window_key: String,
    pub progress: i64,
    pub updated_at: DateTime<Utc>,
}

/// A promotion the customer holds or held.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldRow {
    pub id: i64,
    pub promotion_id: i64,
    pub promotion_name: String,
    /// `earned` or `reward`.
    pub source: String,
    /// The event id, reward request id, or `correction:…`.
    pub reference: String,
    pub acquired_at: DateTime<Utc>,
    /// Exclusive; `None`: until the promotion ends.
    pub valid_till: Option<DateTime<Utc>>,
    pub cost_points: Option<i64>,
    pub cost_amount: Option<i64>,
    /// The first cart (closed, not cancelled) that used it while held.
    pub used_at: Option<DateTime<Utc>>,
}

/// One of the customer's coupon redemptions.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RedemptionRow {
    pub redeemed_at: DateTime<Utc>,
    pub code: String,
    pub offer_id: i64,
    pub offer_name: Option<String>,
    pub transaction_number: String,
    pub store_name: Option<String>,
    pub store_code: Option<String>,
    pub bill_amount: i64,
    pub discount: i64,
    pub reversed_at: Option<DateTime<Utc>>,
}

impl Store {
    /// The org's customers whose identifier is the typed text read as a mobile, an email or an
    /// external id, or whose mobile or email contact is; at most [`SEARCH_ROWS`], oldest first.
    pub async fn search_customers(
        &self,
        org_id: OrgId,
        s: &CustomerSearch,
    ) -> StoreResult<Vec<CustomerCard>> {
        // A missing kind binds NULL, which equals nothing.
        self.fetch_all_read(
            &format!(
                "SELECT {CARD_COLUMNS} FROM customers WHERE org_id = $1 AND ( \
                 (identifier_type = 'MOBILE' AND identifier = $2) OR mobile = $2 \
                 OR (identifier_type = 'EMAIL' AND identifier = $3) OR email = $3 \
                 OR (identifier_type = 'EXTERNAL_ID' AND identifier = $4)) \
                 ORDER BY id LIMIT $5"
            ),
            &[
                org_id.into(),
                Arg::OptText(s.mobile.clone()),
                Arg::OptText(s.email.clone()),
                Arg::OptText(s.external_id.clone()),
                Arg::I64(SEARCH_ROWS),
            ],
        )
        .await
    }

    /// The org's customer `id`, if it is the org's.
    pub async fn customer_card(
        &self,
        org_id: OrgId,
        id: CustomerId,
    ) -> StoreResult<Option<CustomerCard>> {
        self.fetch_optional_read(
            &format!("SELECT {CARD_COLUMNS} FROM customers WHERE org_id = $1 AND id = $2"),
            &[org_id.into(), id.into()],
        )
        .await
    }

    /// The customer's tiers and segments: `(kind, value)`, `kind` `tier` or `segment`.
    pub async fn customer_tag_list(&self, id: CustomerId) -> StoreResult<Vec<(String, String)>> {
        self.fetch_all_read(
            "SELECT kind, value FROM customer_tags WHERE customer_id = $1 ORDER BY kind, value",
            &[id.into()],
        )
        .await
    }

    /// The customer's latest events (at most [`EVENT_ROWS`]), newest first.
    pub async fn customer_event_list(
        &self,
        org_id: OrgId,
        id: CustomerId,
    ) -> StoreResult<Vec<EventRow>> {
        self.fetch_all_read(
            "SELECT event_id, kind, occurred_at, amount, transaction_number, attributes, result \
             FROM customer_events WHERE org_id = $1 AND customer_id = $2 \
             ORDER BY occurred_at DESC, id DESC LIMIT $3",
            &[org_id.into(), id.into(), Arg::I64(EVENT_ROWS)],
        )
        .await
    }

    /// The customer's trackers, every promotion and window.
    pub async fn customer_trackers(
        &self,
        org_id: OrgId,
        id: CustomerId,
    ) -> StoreResult<Vec<TrackerRow>> {
        self.fetch_all_read(
            "SELECT promotion_id, window_key, progress, updated_at FROM promotion_trackers \
             WHERE org_id = $1 AND customer_id = $2 ORDER BY promotion_id, window_key",
            &[org_id.into(), id.into()],
        )
        .await
    }

    /// The promotions the customer holds or held (at most [`HOLD_ROWS`]), newest first, each
    /// with the first use by a closed cart (not cancelled) while it was held.
    pub async fn customer_held(&self, org_id: OrgId, id: CustomerId) -> StoreResult<Vec<HeldRow>> {
        self.fetch_all_read(
            "SELECT h.id, h.promotion_id, p.name AS promotion_name, h.source, h.reference, h.acquired_at, \
             h.valid_till, h.cost_points, h.cost_amount, \
             (SELECT MIN(u.used_at) FROM promotion_uses u WHERE u.promotion_id = h.promotion_id \
              AND u.customer_id = h.customer_id AND u.used_at >= h.acquired_at \
              AND (h.valid_till IS NULL OR u.used_at < h.valid_till) AND u.reversed_at IS NULL) AS used_at \
             FROM promotion_holds h JOIN promotions p ON p.id = h.promotion_id \
             WHERE h.org_id = $1 AND h.customer_id = $2 AND p.org_id = $1 \
             ORDER BY h.acquired_at DESC, h.id DESC LIMIT $3",
            &[org_id.into(), id.into(), Arg::I64(HOLD_ROWS)],
        )
        .await
    }

    /// The customer's coupon redemptions (at most [`REDEMPTION_ROWS`]), newest first, with the
    /// offer's and the store's names.
    pub async fn customer_redemption_list(
        &self,
        org_id: OrgId,
        id: CustomerId,
    ) -> StoreResult<Vec<RedemptionRow>> {
        self.fetch_all_read(
            "SELECT r.redeemed_at, r.code, r.offer_id, o.name AS offer_name, r.transaction_number, \
             s.name AS store_name, s.code AS store_code, r.bill_amount, r.discount, r.reversed_at \
             FROM redemptions r LEFT JOIN offers o ON o.id = r.offer_id AND o.org_id = r.org_id \
             LEFT JOIN stores s ON s.id = r.store_id AND s.org_id = r.org_id \
             WHERE r.org_id = $1 AND r.customer_id = $2 ORDER BY r.redeemed_at DESC, r.id DESC LIMIT $3",
            &[org_id.into(), id.into(), Arg::I64(REDEMPTION_ROWS)],
        )
        .await
    }
}

/// Whether the customer has a tracker of the promotion in any window (read in `tx`).
pub async fn has_tracker(
    tx: &mut DynTx,
    org_id: OrgId,
    promotion_id: i64,
    customer_id: CustomerId,
) -> StoreResult<bool> {
    let row: Option<(i64,)> = tx
        .fetch_optional(
            "SELECT promotion_id FROM promotion_trackers WHERE org_id = $1 AND promotion_id = $2 \
             AND customer_id = $3 LIMIT 1",
            &[org_id.into(), promotion_id.into(), customer_id.into()],
        )
        .await?;
    Ok(row.is_some())
}

/// The customer's progress on a promotion's tracker in a window; 0 when there is none yet.
pub async fn tracker_progress(
    tx: &mut DynTx,
    promotion_id: i64,
    customer_id: CustomerId,
    window_key: &str,
) -> StoreResult<i64> {
    let row: Option<(i64,)> = tx
        .fetch_optional(
            "SELECT progress FROM promotion_trackers WHERE promotion_id = $1 AND customer_id = $2 \
             AND window_key = $3",
            &[promotion_id.into(), customer_id.into(), window_key.into()],
        )
        .await?;
    Ok(row.map_or(0, |(p,)| p))
}

/// Sets the customer's tracker of a promotion in a window to `progress` (made when missing).
pub async fn set_tracker(
    tx: &mut DynTx,
    org_id: OrgId,
    promotion_id: i64,
    customer_id: CustomerId,
    window_key: &str,
    progress: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO promotion_trackers (org_id, promotion_id, customer_id, window_key, progress, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (promotion_id, customer_id, window_key) \
         DO UPDATE SET progress = excluded.progress, updated_at = excluded.updated_at",
        &[
            org_id.into(),
            promotion_id.into(),
            customer_id.into(),
            window_key.into(),
            progress.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}
