//! An offer's customers' side (`offer_sharing`): its public link, whether and how its coupons
//! may be shared, its referral reward; and what the console's Referrals view reads of the
//! `shares` the customers' pages write.

use super::audit::record_dyn;
use super::dyntx::{Arg, conflict_as};
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::domain::ids::{OfferId, OrgId};
use crate::domain::offer::{CodeKind, OfferExpiry};
use crate::domain::redeem::CouponStatus;
use crate::domain::sharing::{RewardOffer, ShareMode, SharingSettings, ValidSharing};
use crate::domain::user::Actor;
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use rand::RngExt;

/// A new public-link token: 12 random bytes, URL-safe base64 (16 characters).
pub fn new_public_token() -> String {
    let bytes: [u8; 12] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Debug, sqlx::FromRow)]
struct SharingRow {
    public_token: Option<String>,
    shareable: bool,
    share_mode: String,
    referral_offer_id: Option<OfferId>,
}

/// An offer of the org as a referral reward may be, with what decides whether it can be one.
#[derive(Debug, sqlx::FromRow)]
struct RewardRow {
    id: OfferId,
    name: String,
    #[sqlx(flatten)]
    expiry: OfferExpiry,
    claimed_by: Option<i64>,
    claimed_by_name: Option<String>,
    campaign_end: Option<NaiveDate>,
}

impl From<RewardRow> for RewardOffer {
    fn from(r: RewardRow) -> RewardOffer {
        RewardOffer {
            id: r.id,
            name: r.name,
            expiry: r.expiry,
            claimed_by: r.claimed_by.zip(r.claimed_by_name),
            campaign_end: r.campaign_end,
        }
    }
}

const REWARD_SELECT: &str = "SELECT o.id, o.name, o.expiry_type, o.expires_on, o.claimed_by, \
     c.name AS claimed_by_name, c.ends_on AS campaign_end \
     FROM offers o LEFT JOIN consumers c ON c.id = o.claimed_by WHERE o.org_id = $1";

/// What the Referrals view counts of an offer's shares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ReferralCounts {
    /// Shares made (by link or SMS).
    pub shares: i64,
    /// Shares a friend claimed.
    pub claims: i64,
    /// Claimed shares whose friend's coupon was redeemed.
    pub redemptions: i64,
    /// Recommenders given their reward coupon.
    pub rewards: i64,
    /// Shares whose reward was decided but none issued (`reward_note` says why).
    pub unrewarded: i64,
}

/// One share as the Referrals view lists it (identifiers unmasked: the page masks them).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShareListRow {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// `MOBILE`, `EMAIL` or `EXTERNAL_ID`.
    pub owner_type: String,
    pub owner: String,
    pub owner_guest: bool,
    /// `link` or `sms`.
    pub channel: String,
    pub sent_to: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub friend_type: Option<String>,
    pub friend: Option<String>,
    pub friend_guest: Option<bool>,
    /// The status of the coupon the friend holds (redeemed once used).
    pub friend_coupon_status: Option<CouponStatus>,
    pub reward_code: Option<String>,
    pub rewarded_at: Option<DateTime<Utc>>,
    pub reward_note: Option<String>,
}

impl ShareListRow {
    pub fn friend_redeemed(&self) -> bool {
        self.friend_coupon_status == Some(CouponStatus::Redeemed)
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

impl Store {
    /// The offer's customers' side; the defaults (not published, not shareable, coupons move
    /// to the friend, no reward) when nothing was set.
    pub async fn offer_sharing(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
    ) -> StoreResult<SharingSettings> {
        let row: Option<SharingRow> = self
            .fetch_optional_read(
                "SELECT public_token, shareable, share_mode, referral_offer_id FROM offer_sharing \
                 WHERE org_id = $1 AND offer_id = $2",
                &[org_id.into(), offer_id.into()],
            )
            .await?;
        let Some(row) = row else {
            return Ok(SharingSettings::default());
        };
        let mode = ShareMode::parse(&row.share_mode).ok_or_else(|| {
            StoreError::Db(sqlx::Error::Decode(
                format!("unknown share mode {:?}", row.share_mode).into(),
            ))
        })?;
        Ok(SharingSettings {
            public_token: row.public_token,
            shareable: row.shareable,
            mode,
            referral_offer_id: row.referral_offer_id,
        })
    }

    /// The published offer of a public link's token: (its org, the offer).
    pub async fn offer_by_public_token(
        &self,
        token: &str,
    ) -> StoreResult<Option<(OrgId, OfferId)>> {
        self.fetch_optional_read(
            "SELECT org_id, offer_id FROM offer_sharing WHERE public_token = $1",
            &[token.into()],
        )
        .await
    }

    /// How the offer's codes are made (the sharing rules depend on it).
    pub async fn offer_code_kind(&self, org_id: OrgId, offer_id: OfferId) -> StoreResult<CodeKind> {
        let (kind,): (CodeKind,) = self
            .fetch_optional_read(
                "SELECT generation FROM offers WHERE org_id = $1 AND id = $2",
                &[org_id.into(), offer_id.into()],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(kind)
    }

    /// The org's offer `id` as a referral reward, if the org has it.
    pub async fn reward_offer(
        &self,
        org_id: OrgId,
        id: OfferId,
    ) -> StoreResult<Option<RewardOffer>> {
        let row: Option<RewardRow> = self
            .fetch_optional_read(
                &format!("{REWARD_SELECT} AND o.id = $2"),
                &[org_id.into(), id.into()],
            )
            .await?;
        Ok(row.map(RewardOffer::from))
    }

    /// Every offer of the org but `except`, as referral rewards (newest first).
    pub async fn reward_offers(
        &self,
        org_id: OrgId,
        except: OfferId,
    ) -> StoreResult<Vec<RewardOffer>> {
        let rows: Vec<RewardRow> = self
            .fetch_all_read(
                &format!("{REWARD_SELECT} AND o.id <> $2 ORDER BY o.id DESC"),
                &[org_id.into(), except.into()],
            )
            .await?;
        Ok(rows.into_iter().map(RewardOffer::from).collect())
    }

    /// Sets whether and how the offer's coupons may be shared and its reward (the public link
    /// stays as it is); audited with what changed.
    pub async fn set_offer_sharing(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
        sharing: &ValidSharing,
        actor: &Actor,
    ) -> StoreResult<()> {
        let before = self.offer_sharing(org_id, offer_id).await?;
        let reward_name = |id: Option<OfferId>| async move {
            match id {
                None => Ok::<_, StoreError>("None".to_string()),
                Some(id) => Ok(self
                    .reward_offer(org_id, id)
                    .await?
                    .map(|r| r.name)
                    .unwrap_or_else(|| format!("offer {id}"))),
            }
        };
        let mut details = serde_json::Map::new();
        if before.shareable != sharing.shareable() {
            details.insert(
                "customers_may_share_its_coupons".into(),
                serde_json::json!({"before": yes_no(before.shareable), "after": yes_no(sharing.shareable())}),
            );
        }
        if before.mode != sharing.mode() {
            details.insert(
                "share_mode".into(),
                serde_json::json!({"before": before.mode.label(), "after": sharing.mode().label()}),
            );
        }
        if before.referral_offer_id != sharing.referral_offer_id() {
            details.insert(
                "referral_reward".into(),
                serde_json::json!({
                    "before": reward_name(before.referral_offer_id).await?,
                    "after": reward_name(sharing.referral_offer_id()).await?,
                }),
            );
        }
        if details.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "INSERT INTO offer_sharing (offer_id, org_id, shareable, share_mode, referral_offer_id, updated_at) \
                 SELECT id, org_id, $3, $4, $5, $6 FROM offers WHERE org_id = $1 AND id = $2 \
                 ON CONFLICT (offer_id) DO UPDATE SET shareable = excluded.shareable, \
                 share_mode = excluded.share_mode, referral_offer_id = excluded.referral_offer_id, \
                 updated_at = excluded.updated_at",
                &[
                    org_id.into(),
                    offer_id.into(),
                    sharing.shareable().into(),
                    sharing.mode().as_str().into(),
                    Arg::OptI64(sharing.referral_offer_id().map(OfferId::get)),
                    now.into(),
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "offer.sharing_updated",
                entity_type: "offer",
                entity_id: Some(offer_id.get()),
                summary: "Changed how customers may share the offer's coupons".into(),
                details: Some(serde_json::Value::Object(details).to_string()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives the offer a public link (and poster): a new random token, or the one it has.
    /// Audited when a new link is made.
    pub async fn publish_offer(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
        actor: &Actor,
    ) -> StoreResult<String> {
        for _ in 0..5 {
            if let Some(token) = self.offer_sharing(org_id, offer_id).await?.public_token {
                return Ok(token);
            }
            let token = new_public_token();
            let mut tx = self.begin().await?;
            let written = tx
                .execute(
                    "INSERT INTO offer_sharing (offer_id, org_id, public_token, updated_at) \
                     SELECT id, org_id, $3, $4 FROM offers WHERE org_id = $1 AND id = $2 \
                     ON CONFLICT (offer_id) DO UPDATE SET public_token = excluded.public_token, \
                     updated_at = excluded.updated_at WHERE offer_sharing.public_token IS NULL",
                    &[
                        org_id.into(),
                        offer_id.into(),
                        token.as_str().into(),
                        Utc::now().into(),
                    ],
                )
                .await
                .map_err(|e| conflict_as(e, "public link token taken"));
            match written {
                Ok(0) => {
                    // Published meanwhile (answer that link), or no such offer.
                    drop(tx);
                    self.offer_code_kind(org_id, offer_id).await?;
                    continue;
                }
                Ok(_) => {}
                // Another offer drew the same token: draw again.
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
            record_dyn(
                &mut tx,
                AuditEntry {
                    org_id,
                    actor,
                    action: "offer.published",
                    entity_type: "offer",
                    entity_id: Some(offer_id.get()),
                    summary: "Published the offer's public link and poster".into(),
                    details: Some(
                        serde_json::json!({"public_link": {"before": "Off", "after": "On"}})
                            .to_string(),
                    ),
                },
            )
            .await?;
            tx.commit().await?;
            return Ok(token);
        }
        Err(StoreError::Conflict(
            "could not make a free public link token".into(),
        ))
    }

    /// Takes the offer's public link down: the link and poster stop working (publishing again
    /// makes a new link). Audited when a link was taken down.
    pub async fn unpublish_offer(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE offer_sharing SET public_token = NULL, updated_at = $3 \
                 WHERE org_id = $1 AND offer_id = $2 AND public_token IS NOT NULL",
                &[org_id.into(), offer_id.into(), Utc::now().into()],
            )
            .await?;
        if n == 0 {
            return Ok(());
        }
        record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "offer.unpublished",
                entity_type: "offer",
                entity_id: Some(offer_id.get()),
                summary: "Took down the offer's public link and poster".into(),
                details: Some(
                    serde_json::json!({"public_link": {"before": "On", "after": "Off"}})
                        .to_string(),
                ),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The Referrals view's counts for the offer's shares.
    pub async fn referral_counts(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
    ) -> StoreResult<ReferralCounts> {
        self.fetch_one_read(
            "SELECT COUNT(*) AS shares, COUNT(s.claimed_at) AS claims, \
             COALESCE(SUM(CASE WHEN s.friend_coupon_id IS NOT NULL AND c.status = 'redeemed' THEN 1 ELSE 0 END), 0) AS redemptions, \
             COUNT(s.reward_coupon_id) AS rewards, \
             COALESCE(SUM(CASE WHEN s.rewarded_at IS NOT NULL AND s.reward_coupon_id IS NULL THEN 1 ELSE 0 END), 0) AS unrewarded \
             FROM shares s LEFT JOIN coupons c ON c.id = s.friend_coupon_id \
             WHERE s.org_id = $1 AND s.offer_id = $2",
            &[org_id.into(), offer_id.into()],
        )
        .await
    }

    /// A page of the offer's shares, newest first.
    pub async fn offer_shares(
        &self,
        org_id: OrgId,
        offer_id: OfferId,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<ShareListRow>> {
        self.fetch_all_read(
            "SELECT s.id, s.created_at, oc.identifier_type AS owner_type, oc.identifier AS owner, \
             oc.guest AS owner_guest, s.channel, s.sent_to, s.claimed_at, \
             fc.identifier_type AS friend_type, fc.identifier AS friend, fc.guest AS friend_guest, \
             c.status AS friend_coupon_status, rc.code AS reward_code, s.rewarded_at, s.reward_note \
             FROM shares s JOIN customers oc ON oc.id = s.owner_id \
             LEFT JOIN customers fc ON fc.id = s.friend_id \
             LEFT JOIN coupons c ON c.id = s.friend_coupon_id \
             LEFT JOIN coupons rc ON rc.id = s.reward_coupon_id \
             WHERE s.org_id = $1 AND s.offer_id = $2 ORDER BY s.id DESC LIMIT $3 OFFSET $4",
            &[org_id.into(), offer_id.into(), limit.into(), offset.into()],
        )
        .await
    }
}
