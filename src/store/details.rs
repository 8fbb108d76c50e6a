//! Coupons and offers as the API's lookups read them (API-1, API-5): coupon details by codes or
//! by customer (common codes included), offers restricted to org entities, redemption counts.

use super::dyntx::{Arg, placeholders};
use super::{Store, StoreResult};
use crate::domain::coupon::CouponCode;
use crate::domain::ids::{OfferId, OrgId};
use crate::domain::issue::CustomerRef;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// A coupon as the details API shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CouponDetail {
    pub code: String,
    pub offer_id: OfferId,
    pub offer_name: String,
    pub status: crate::domain::redeem::CouponStatus,
    pub identifier_type: Option<String>,
    pub identifier: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    pub valid_till: Option<NaiveDate>,
    pub redeem_count: i64,
    pub redeemed_at: Option<DateTime<Utc>>,
    pub time_zone: crate::domain::org::OrgTz,
}

impl CouponDetail {
    /// unissued, issued, expired (issued and past its last day in the org's calendar),
    /// redeemed or revoked.
    pub fn shown_status(&self) -> &'static str {
        let tz: Tz = self.time_zone.0;
        let today = Utc::now().with_timezone(&tz).date_naive();
        self.status.shown(self.valid_till, today)
    }

    pub fn customer(&self) -> Option<CustomerRef> {
        let kind = crate::domain::masters::IdentifierType::parse(self.identifier_type.as_deref()?)?;
        Some(CustomerRef {
            kind,
            value: self.identifier.clone()?,
        })
    }
}

const DETAIL: &str = "SELECT c.code, c.offer_id, o.name AS offer_name, c.status, cu.identifier_type, cu.identifier, c.issued_at, c.valid_till, \
    c.redeem_count, c.redeemed_at, g.time_zone FROM coupons c JOIN offers o ON o.id = c.offer_id JOIN orgs g ON g.id = c.org_id \
    LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.org_id = $1";

impl Store {
    /// The org's coupons with these codes (unknown codes are left out).
    pub async fn coupons_by_codes(
        &self,
        org_id: OrgId,
        codes: &[CouponCode],
    ) -> StoreResult<Vec<CouponDetail>> {
        let mut args: Vec<Arg> = vec![org_id.into()];
        args.extend(codes.iter().map(|c| Arg::from(c.as_str())));
        self.fetch_all_read(
            &format!(
                "{DETAIL} AND c.code IN ({}) ORDER BY c.id",
                placeholders(2, codes.len().max(1))
            ),
            &args,
        )
        .await
    }

    /// A customer's coupons in the org, newest first (at most 500).
    pub async fn coupons_of_customer(
        &self,
        org_id: OrgId,
        customer: &CustomerRef,
    ) -> StoreResult<Vec<CouponDetail>> {
        let unique: Vec<CouponDetail> = self.fetch_all_read(
            &format!(
                "{DETAIL} AND c.customer_id = (SELECT id FROM customers WHERE org_id = $1 AND identifier_type = $2 AND identifier = $3) \
                 ORDER BY c.id DESC LIMIT 500"
            ),
            &[org_id.into(), customer.kind.as_str().into(), customer.value.as_str().into()],
        )
        .await?;
        // A common code is one coupon for everyone: the customer's part of it is their issue,
        // shown as redeemed once they have used it as often as they may.
        let limit = super::outbox::COMMON_LIMIT;
        let common: Vec<CouponDetail> = self
            .fetch_all_read(
                &format!(
                    "SELECT c.code, c.offer_id, o.name AS offer_name, \
                     CASE WHEN c.status = 'revoked' THEN 'revoked' \
                     WHEN {limit} IS NOT NULL AND COALESCE(cr.redeem_count, 0) >= {limit} THEN 'redeemed' ELSE 'issued' END AS status, \
                     cu.identifier_type, cu.identifier, i.issued_at, i.valid_till, COALESCE(cr.redeem_count, 0) AS redeem_count, \
                     (SELECT MAX(r.redeemed_at) FROM redemptions r WHERE r.offer_id = i.offer_id AND r.customer_id = cu.id AND r.reversed_at IS NULL) AS redeemed_at, \
                     g.time_zone \
                     FROM issuals i JOIN coupons c ON c.id = i.coupon_id JOIN offers o ON o.id = i.offer_id JOIN orgs g ON g.id = o.org_id \
                     JOIN customers cu ON cu.id = i.customer_id \
                     LEFT JOIN customer_redemptions cr ON cr.offer_id = i.offer_id AND cr.customer_id = cu.id \
                     WHERE o.org_id = $1 AND o.generation = 'common' AND cu.org_id = $1 AND cu.identifier_type = $2 AND cu.identifier = $3 \
                     ORDER BY i.id DESC LIMIT 500"
                ),
                &[org_id.into(), customer.kind.as_str().into(), customer.value.as_str().into()],
            )
            .await?;
        let mut all = unique;
        all.extend(common);
        all.sort_by_key(|c| std::cmp::Reverse(c.issued_at));
        all.truncate(500);
        Ok(all)
    }
}

impl Store {
    /// Offers of the org directly restricted to any of `filter`'s entities (API-1), or, with no
    /// filter, the offers still running on `today`; newest first, at most 500.
    pub async fn series_ids(
        &self,
        org_id: OrgId,
        filter: Option<(crate::domain::offer::ScopeKind, Vec<i64>)>,
        today: NaiveDate,
    ) -> StoreResult<Vec<OfferId>> {
        let rows: Vec<(OfferId,)> = match filter {
            Some((_, ids)) if ids.is_empty() => Vec::new(),
            Some((kind, ids)) => {
                let mut args: Vec<Arg> = vec![org_id.into(), kind.as_str().into()];
                args.extend(ids.iter().map(|i| Arg::I64(*i)));
                self.fetch_all_read(
                    &format!(
                        "SELECT DISTINCT offer_id FROM offer_scopes WHERE org_id = $1 AND entity_type = $2 AND entity_id IN ({}) \
                         ORDER BY offer_id DESC LIMIT 500",
                        placeholders(3, ids.len())
                    ),
                    &args,
                )
                .await?
            }
            None => {
                self.fetch_all_read(
                    "SELECT id FROM offers WHERE org_id = $1 AND (expires_on IS NULL OR expires_on >= $2) ORDER BY id DESC LIMIT 500",
                    &[org_id.into(), Arg::OptDate(Some(today))],
                )
                .await?
            }
        };
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}

impl Store {
    /// Redemptions of an offer not reversed (the rows, not the counters).
    pub async fn redemption_count(&self, org_id: OrgId, offer_id: OfferId) -> StoreResult<i64> {
        let row: Vec<(i64,)> = self
            .fetch_all_read(
                "SELECT COUNT(*) FROM redemptions WHERE org_id = $1 AND offer_id = $2 AND reversed_at IS NULL",
                &[org_id.into(), offer_id.into()],
            )
            .await?;
        Ok(row.first().map(|r| r.0).unwrap_or(0))
    }

    /// Every issued coupon of an offer with its customer's identifier, in coupon order (the
    /// redemption benchmark's tills use them).
    pub async fn issued_codes(&self, offer_id: OfferId) -> StoreResult<Vec<(String, String)>> {
        self.fetch_all_read(
            "SELECT c.code, cu.identifier FROM coupons c JOIN customers cu ON cu.id = c.customer_id WHERE c.offer_id = $1 ORDER BY c.id",
            &[offer_id.into()],
        )
        .await
    }
}
