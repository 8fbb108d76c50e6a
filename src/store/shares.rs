//! What customers' pages read and write besides the wallet listing (WAL-1, WAL-2): the org a
//! page is for, guests and the move of their coupons at sign-in, a customer's active coupon of
//! an offer, shares of coupons (made, claimed once under a guard, the coupon moved to the
//! friend) and the referral rewards still owed. The flows are `app::sharing`.

use super::dyntx::{Arg, DynTx};
use super::{Store, StoreError, StoreResult};
use crate::domain::ids::{CustomerId, OfferId, OrgId};
use crate::domain::issue::CustomerRef;
use crate::domain::masters::IdentifierType;
use chrono::{DateTime, NaiveDate, Utc};

/// A share as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShareRow {
    pub id: i64,
    pub org_id: OrgId,
    pub offer_id: OfferId,
    pub token: String,
    pub coupon_id: i64,
    pub owner_id: CustomerId,
    pub friend_id: Option<CustomerId>,
    pub friend_coupon_id: Option<i64>,
}

const SHARE_COLUMNS: &str =
    "id, org_id, offer_id, token, coupon_id, owner_id, friend_id, friend_coupon_id";

/// A share whose friend redeemed their coupon and whose recommender is owed a reward.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwedReward {
    pub share_id: i64,
    pub org_id: OrgId,
    pub owner_id: CustomerId,
    pub reward_offer_id: OfferId,
}

impl Store {
    /// The org whose customers' pages `brand` names (its code prefix, any case), or the only
    /// org when `brand` is empty and there is one.
    pub async fn org_for_pages(&self, brand: &str) -> StoreResult<Option<OrgId>> {
        let brand = brand.trim();
        if brand.is_empty() {
            let ids: Vec<(OrgId,)> = self
                .fetch_all_read("SELECT id FROM orgs ORDER BY id LIMIT 2", &[])
                .await?;
            return Ok(if ids.len() == 1 { Some(ids[0].0) } else { None });
        }
        let id: Option<(OrgId,)> = self
            .fetch_optional_read(
                "SELECT id FROM orgs WHERE UPPER(code_prefix) = UPPER($1)",
                &[brand.into()],
            )
            .await?;
        Ok(id.map(|(i,)| i))
    }

    /// The org of a store (the kiosk's), with the store's name.
    pub async fn store_for_kiosk(&self, store_id: i64) -> StoreResult<Option<(OrgId, String)>> {
        self.fetch_optional_read(
            "SELECT org_id, name FROM stores WHERE id = $1",
            &[store_id.into()],
        )
        .await
    }

    /// How a customer of the org is identified.
    pub async fn customer_ref(&self, org_id: OrgId, id: CustomerId) -> StoreResult<CustomerRef> {
        let (kind, value): (String, String) = self
            .fetch_optional_read(
                "SELECT identifier_type, identifier FROM customers WHERE org_id = $1 AND id = $2",
                &[org_id.into(), id.into()],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let kind = IdentifierType::parse(&kind).ok_or(StoreError::NotFound)?;
        Ok(CustomerRef { kind, value })
    }

    /// A customer's first name, when known.
    pub async fn first_name(&self, org_id: OrgId, id: CustomerId) -> StoreResult<Option<String>> {
        let row: Option<(Option<String>,)> = self
            .fetch_optional_read(
                "SELECT first_name FROM customers WHERE org_id = $1 AND id = $2",
                &[org_id.into(), id.into()],
            )
            .await?;
        Ok(row.and_then(|(n,)| n).filter(|n| !n.trim().is_empty()))
    }

    /// A new guest customer of the org, known by a random external id (`guest-…`).
    pub async fn new_guest(
        &self,
        org_id: OrgId,
        token: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<(CustomerId, CustomerRef)> {
        let value = format!("guest-{token}");
        let mut tx = self.begin().await?;
        let (id,): (CustomerId,) = tx
            .fetch_optional(
                "INSERT INTO customers (org_id, identifier_type, identifier, created_at, guest) \
                 VALUES ($1, 'EXTERNAL_ID', $2, $3, TRUE) RETURNING id",
                &[org_id.into(), value.as_str().into(), now.into()],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok((
            id,
            CustomerRef {
                kind: IdentifierType::ExternalId,
                value,
            },
        ))
    }

    /// Moves a guest's coupons (their issues, coupons and uses) to the customer who signed in
    /// within the guest's session; the number moved.
    pub async fn move_guest_coupons(
        &self,
        org_id: OrgId,
        guest: CustomerId,
        to: CustomerId,
    ) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let is_guest: Option<(i64,)> = tx
            .fetch_optional(
                "SELECT id FROM customers WHERE org_id = $1 AND id = $2 AND guest",
                &[org_id.into(), guest.into()],
            )
            .await?;
        if is_guest.is_none() || guest == to {
            return Ok(0);
        }
        // An offer the customer has been issued already stays with the guest: moving it would
        // give them a second coupon past the offer's issue rules.
        let held = "(SELECT h.offer_id FROM issuals h WHERE h.customer_id = $1)";
        tx.execute(
            &format!(
                "UPDATE coupons SET customer_id = $1 WHERE org_id = $2 AND customer_id = $3 \
                 AND offer_id NOT IN {held}"
            ),
            &[to.into(), org_id.into(), guest.into()],
        )
        .await?;
        tx.execute(
            &format!(
                "UPDATE customer_redemptions SET customer_id = $1 WHERE customer_id = $3 \
                 AND offer_id NOT IN {held} AND offer_id IN (SELECT offer_id FROM issuals WHERE org_id = $2 AND customer_id = $3) \
                 AND NOT EXISTS (SELECT 1 FROM customer_redemptions r WHERE r.offer_id = customer_redemptions.offer_id AND r.customer_id = $1)"
            ),
            &[to.into(), org_id.into(), guest.into()],
        )
        .await?;
        let moved = tx
            .execute(
                &format!(
                    "UPDATE issuals SET customer_id = $1 WHERE org_id = $2 AND customer_id = $3 \
                     AND offer_id NOT IN {held}"
                ),
                &[to.into(), org_id.into(), guest.into()],
            )
            .await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Whether the offer's redemption limit has been reached (seed 002: then customers can no
    /// longer get its coupon).
    pub async fn redemption_limit_reached(&self, offer_id: OfferId) -> StoreResult<bool> {
        let (reached,): (bool,) = self
            .fetch_one_read(
                &format!(
                    "SELECT CASE WHEN o.total_redemption_cap IS NULL THEN FALSE \
                     ELSE {} >= o.total_redemption_cap END FROM offers o WHERE o.id = $1",
                    super::redeem::REDEEMED_SQL
                ),
                &[offer_id.into()],
            )
            .await?;
        Ok(reached)
    }

    /// The code of the org's coupon `id`.
    pub async fn coupon_code(&self, org_id: OrgId, id: i64) -> StoreResult<String> {
        let (code,): (String,) = self
            .fetch_optional_read(
                "SELECT code FROM coupons WHERE org_id = $1 AND id = $2",
                &[org_id.into(), id.into()],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(code)
    }

    /// How many shares a customer sent by SMS since `since`.
    pub async fn sms_shares_since(
        &self,
        owner: CustomerId,
        since: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let (n,): (i64,) = self
            .fetch_one_read(
                "SELECT COUNT(*) FROM shares WHERE owner_id = $1 AND channel = 'sms' AND created_at > $2",
                &[owner.into(), since.into()],
            )
            .await?;
        Ok(n)
    }

    /// The share with this token.
    pub async fn share_by_token(&self, token: &str) -> StoreResult<Option<ShareRow>> {
        self.fetch_optional_read(
            &format!("SELECT {SHARE_COLUMNS} FROM shares WHERE token = $1"),
            &[token.into()],
        )
        .await
    }

    /// The owner's open (unclaimed) share of a coupon, if any.
    pub async fn open_share(
        &self,
        coupon_id: i64,
        owner: CustomerId,
    ) -> StoreResult<Option<ShareRow>> {
        self.fetch_optional_read(
            &format!(
                "SELECT {SHARE_COLUMNS} FROM shares WHERE coupon_id = $1 AND owner_id = $2 AND friend_id IS NULL \
                 ORDER BY id DESC LIMIT 1"
            ),
            &[coupon_id.into(), owner.into()],
        )
        .await
    }

    /// Records a share of a coupon.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_share(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
        token: &str,
        coupon_id: i64,
        owner: CustomerId,
        channel: &str,
        sent_to: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute_autocommit(
            "INSERT INTO shares (org_id, offer_id, token, coupon_id, owner_id, channel, sent_to, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                org_id.into(),
                offer_id.into(),
                token.into(),
                coupon_id.into(),
                owner.into(),
                channel.into(),
                Arg::OptText(sent_to.map(str::to_string)),
                now.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Shares whose friend redeemed their coupon (the coupon theirs when redeemed: one passed
    /// on again rewards only its last share), of offers with a referral reward, whose
    /// recommender has not been rewarded yet (at most `limit`).
    pub async fn owed_rewards(&self, limit: i64) -> StoreResult<Vec<OwedReward>> {
        self.fetch_all_read(
            "SELECT s.id AS share_id, s.org_id, s.owner_id, os.referral_offer_id AS reward_offer_id \
             FROM shares s JOIN coupons c ON c.id = s.friend_coupon_id \
             JOIN offer_sharing os ON os.offer_id = s.offer_id \
             WHERE s.rewarded_at IS NULL AND s.friend_coupon_id IS NOT NULL \
             AND c.status = 'redeemed' AND c.customer_id = s.friend_id AND os.referral_offer_id IS NOT NULL \
             ORDER BY s.id LIMIT $1",
            &[limit.into()],
        )
        .await
    }
}

/// The customer's active coupon of an offer on `today`, if they hold one: its id and code.
pub async fn active_coupon_of(
    tx: &mut DynTx,
    offer_id: OfferId,
    customer: CustomerId,
    today: NaiveDate,
) -> StoreResult<Option<(i64, String)>> {
    tx.fetch_optional(
        "SELECT c.id, c.code FROM issuals i JOIN coupons c ON c.id = i.coupon_id \
         WHERE i.offer_id = $1 AND i.customer_id = $2 AND c.status = 'issued' \
         AND (c.customer_id = $2 OR c.customer_id IS NULL) \
         AND (i.valid_till IS NULL OR i.valid_till >= $3) ORDER BY i.id DESC LIMIT 1",
        &[offer_id.into(), customer.into(), Arg::OptDate(Some(today))],
    )
    .await
}

/// Takes an unclaimed share for `friend` (false when another claim came first).
pub async fn take_share(
    tx: &mut DynTx,
    share_id: i64,
    friend: CustomerId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE shares SET friend_id = $1, claimed_at = $2 WHERE id = $3 AND friend_id IS NULL",
            &[friend.into(), now.into(), share_id.into()],
        )
        .await?;
    Ok(n == 1)
}

/// The id of the org's coupon with this code.
pub async fn coupon_id_of(tx: &mut DynTx, org_id: OrgId, code: &str) -> StoreResult<i64> {
    let (id,): (i64,) = tx
        .fetch_optional(
            "SELECT id FROM coupons WHERE org_id = $1 AND code = $2",
            &[org_id.into(), code.into()],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(id)
}

/// Records the coupon the friend holds after a claim.
pub async fn set_friend_coupon(tx: &mut DynTx, share_id: i64, coupon_id: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE shares SET friend_coupon_id = $1 WHERE id = $2",
        &[coupon_id.into(), share_id.into()],
    )
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
/// Moves the owner's still-active coupon to the friend (a new issue record for the friend with
/// the same validity; the owner's record stays, the coupon now the friend's). False when the
/// coupon is no longer the owner's active one.
pub async fn move_coupon(
    tx: &mut DynTx,
    org_id: OrgId,
    coupon_id: i64,
    owner: CustomerId,
    friend: CustomerId,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE coupons SET customer_id = $1 WHERE id = $2 AND customer_id = $3 AND status = 'issued' \
             AND org_id = $4 AND (valid_till IS NULL OR valid_till >= $5)",
            &[
                friend.into(),
                coupon_id.into(),
                owner.into(),
                org_id.into(),
                Arg::OptDate(Some(today)),
            ],
        )
        .await?;
    if n != 1 {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO issuals (org_id, offer_id, coupon_id, customer_id, issued_at, valid_till, source) \
         SELECT org_id, offer_id, coupon_id, $1, $2, valid_till, 'Shared by a friend' FROM issuals \
         WHERE coupon_id = $3 AND customer_id = $4 ORDER BY id DESC LIMIT 1",
        &[friend.into(), now.into(), coupon_id.into(), owner.into()],
    )
    .await?;
    Ok(true)
}

/// Takes an owed reward for issuing (false when another run took it first).
pub async fn take_reward(tx: &mut DynTx, share_id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE shares SET rewarded_at = $1 WHERE id = $2 AND rewarded_at IS NULL",
            &[now.into(), share_id.into()],
        )
        .await?;
    Ok(n == 1)
}

/// Records what the reward came to: the recommender's coupon, or why none was issued.
pub async fn record_reward(
    tx: &mut DynTx,
    share_id: i64,
    coupon_id: Option<i64>,
    note: Option<&str>,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE shares SET reward_coupon_id = $1, reward_note = $2 WHERE id = $3",
        &[
            coupon_id.into(),
            Arg::OptText(note.map(str::to_string)),
            share_id.into(),
        ],
    )
    .await?;
    Ok(())
}
