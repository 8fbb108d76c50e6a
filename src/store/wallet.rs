//! A customer's wallet (issue #18): their issuals joined to the coupons and offers (unique and
//! common codes alike), with what each coupon's state depends on, and the names of the
//! stores, tills, zones and concepts the offers are restricted to. `domain::wallet` decides.

use super::dyntx::Arg;
use super::{Store, StoreError, StoreResult};
use crate::domain::ids::{CustomerId, OfferId, OrgId};
use crate::domain::issue::offer_ends_on;
use crate::domain::offer::{CodeKind, Discount, OfferExpiry, RedemptionStart, ScopeKind};
use crate::domain::redeem::CouponStatus;
use crate::domain::wallet::WalletRow;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

/// The most issuals a wallet reads (newest first).
pub const WALLET_ROWS: i64 = 1_000;

#[derive(Debug, sqlx::FromRow)]
struct Row {
    issual_id: i64,
    holder_id: CustomerId,
    issued_at: DateTime<Utc>,
    issual_valid_till: Option<NaiveDate>,
    coupon_id: i64,
    code: String,
    status: CouponStatus,
    owner_id: Option<CustomerId>,
    coupon_valid_till: Option<NaiveDate>,
    offer_id: OfferId,
    offer_name: String,
    pos_code: Option<String>,
    #[sqlx(flatten)]
    discount: Discount,
    #[sqlx(flatten)]
    expiry: OfferExpiry,
    campaign_end: Option<NaiveDate>,
    generation: CodeKind,
    multiple_redemption: bool,
    redemption_start: String,
    redemption_start_days: Option<i64>,
    redemption_start_date: Option<NaiveDate>,
    customer_limit: Option<i64>,
    customer_uses: i64,
    shareable: bool,
}

#[derive(Debug, sqlx::FromRow)]
struct ScopeRow {
    offer_id: OfferId,
    entity_type: String,
    entity_id: i64,
    name: Option<String>,
}

/// The offers' scopes and the names of their entities, as the wallet reads them.
#[derive(Debug, Clone, Default)]
pub struct WalletScopes {
    pub by_offer: HashMap<OfferId, Vec<(ScopeKind, i64)>>,
    pub names: HashMap<(ScopeKind, i64), String>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Decode(
        format!("wallet row has an invalid {what}").into(),
    ))
}

impl Store {
    /// The customer's issuals in the org, newest first (at most [`WALLET_ROWS`]), each with its
    /// coupon and offer, the customer's redemptions of the offer and whether the offer may be
    /// shared. The offers' scopes come from [`Store::wallet_scopes`]; rows carry none.
    pub async fn wallet_rows(
        &self,
        org_id: OrgId,
        customer_id: CustomerId,
    ) -> StoreResult<Vec<WalletRow>> {
        let limit = super::outbox::COMMON_LIMIT;
        let rows: Vec<Row> = self
            .fetch_all_read(
                &format!(
                    "SELECT i.id AS issual_id, i.customer_id AS holder_id, i.issued_at, i.valid_till AS issual_valid_till, \
                     c.id AS coupon_id, c.code, c.status, c.customer_id AS owner_id, c.valid_till AS coupon_valid_till, \
                     o.id AS offer_id, o.name AS offer_name, o.pos_code, o.discount_type, o.discount_value, o.discount_cap, \
                     o.expiry_type, o.expires_on, cons.ends_on AS campaign_end, o.generation, o.multiple_redemption, \
                     o.redemption_start, o.redemption_start_days, o.redemption_start_date, \
                     {limit} AS customer_limit, COALESCE(cr.redeem_count, 0) AS customer_uses, \
                     COALESCE(sh.shareable, FALSE) AS shareable \
                     FROM issuals i JOIN coupons c ON c.id = i.coupon_id JOIN offers o ON o.id = i.offer_id \
                     LEFT JOIN consumers cons ON cons.id = o.claimed_by \
                     LEFT JOIN customer_redemptions cr ON cr.offer_id = i.offer_id AND cr.customer_id = i.customer_id \
                     LEFT JOIN offer_sharing sh ON sh.offer_id = o.id \
                     WHERE i.org_id = $1 AND i.customer_id = $2 AND o.org_id = $1 AND c.org_id = $1 \
                     ORDER BY i.id DESC LIMIT $3"
                ),
                &[org_id.into(), customer_id.into(), Arg::I64(WALLET_ROWS)],
            )
            .await?;
        rows.into_iter().map(wallet_row).collect()
    }

    /// The scopes of the offers the customer holds coupons of, with their entities' names
    /// ("Front counter (Mall Road)" for a till, as the offer description names one).
    pub async fn wallet_scopes(
        &self,
        org_id: OrgId,
        customer_id: CustomerId,
    ) -> StoreResult<WalletScopes> {
        let rows: Vec<ScopeRow> = self
            .fetch_all_read(
                "SELECT s.offer_id, s.entity_type, s.entity_id, \
                 COALESCE(st.name, ti.name || ' (' || ts.name || ')', ti.name, z.name, co.name) AS name \
                 FROM offer_scopes s \
                 LEFT JOIN stores st ON s.entity_type = 'STORE' AND st.id = s.entity_id \
                 LEFT JOIN tills ti ON s.entity_type = 'TILL' AND ti.id = s.entity_id \
                 LEFT JOIN stores ts ON ts.id = ti.store_id \
                 LEFT JOIN zones z ON s.entity_type = 'ZONE' AND z.id = s.entity_id \
                 LEFT JOIN concepts co ON s.entity_type = 'CONCEPT' AND co.id = s.entity_id \
                 WHERE s.org_id = $1 AND s.offer_id IN (SELECT i.offer_id FROM issuals i WHERE i.org_id = $1 AND i.customer_id = $2) \
                 ORDER BY s.offer_id, s.entity_type, s.entity_id",
                &[org_id.into(), customer_id.into()],
            )
            .await?;
        let mut out = WalletScopes::default();
        for r in rows {
            let kind = ScopeKind::parse(&r.entity_type).ok_or_else(|| corrupt("scope kind"))?;
            out.by_offer
                .entry(r.offer_id)
                .or_default()
                .push((kind, r.entity_id));
            if let Some(name) = r.name {
                out.names.insert((kind, r.entity_id), name);
            }
        }
        Ok(out)
    }
}

fn wallet_row(r: Row) -> StoreResult<WalletRow> {
    let common = r.generation == CodeKind::Common;
    let start = match (
        r.redemption_start.as_str(),
        r.redemption_start_days,
        r.redemption_start_date,
    ) {
        ("days", Some(n), _) => RedemptionStart::DaysAfterIssue(n.max(0) as u32),
        ("date", _, Some(d)) => RedemptionStart::OnDate(d),
        ("issue", _, _) => RedemptionStart::OnIssue,
        _ => return Err(corrupt("redemption start")),
    };
    Ok(WalletRow {
        issual_id: r.issual_id,
        holder: r.holder_id,
        issued_at: r.issued_at,
        coupon_id: r.coupon_id,
        code: r.code,
        status: r.status,
        owner: r.owner_id,
        // A common code's one coupon has no last day of its own: this customer's issual has.
        valid_till: if common {
            r.issual_valid_till
        } else {
            r.coupon_valid_till.or(r.issual_valid_till)
        },
        offer_id: r.offer_id,
        offer_name: r.offer_name,
        pos_code: r.pos_code,
        discount: r.discount,
        common,
        multiple: r.multiple_redemption,
        offer_ends_on: offer_ends_on(&r.expiry, r.campaign_end),
        start,
        customer_limit: r.customer_limit,
        customer_uses: r.customer_uses,
        shareable: r.shareable,
        scope: Vec::new(),
    })
}
