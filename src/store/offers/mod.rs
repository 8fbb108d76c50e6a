//! Offers: read back into typed rules, listed for the dashboard, named for descriptions
//! (here); created and edited, audited with before/after (`write.rs`); the create-offer
//! wizard's drafts and customer lists (`drafts.rs`).

mod drafts;
mod write;

use super::{Store, StoreError, StoreResult};
use crate::domain::ids::{OfferId, OrgId};
use crate::domain::masters::ConsumerKind;
use crate::domain::offer::describe::Names;
use crate::domain::offer::form::OfferContext;
use crate::domain::offer::*;
use crate::store::masters::CodedKind;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashSet;

/// The flat `offers` row.
#[derive(Debug, Clone, sqlx::FromRow)]
struct OfferRow {
    id: OfferId,
    name: String,
    offer_code: String,
    pos_code: Option<String>,
    #[sqlx(flatten)]
    expiry: OfferExpiry,
    #[sqlx(flatten)]
    discount: Discount,
    applies_to: String,
    include_sale: bool,
    delivery: String,
    generation: CodeKind,
    code_length: Option<i64>,
    code_charset: Option<String>,
    code_prefix: Option<String>,
    common_code: Option<String>,
    sample_code: Option<String>,
    upload_with_customers: bool,
    specific_customers_only: bool,
    coupon_expiry: String,
    coupon_expiry_n: Option<i64>,
    max_per_customer: Option<i64>,
    min_issual_gap_days: Option<i64>,
    total_issual_cap: Option<i64>,
    resend_text: Option<String>,
    expiry_notice_channel: Option<Channel>,
    expiry_notice_text: Option<String>,
    anyone_can_redeem: bool,
    redemption_start: String,
    redemption_start_days: Option<i64>,
    redemption_start_date: Option<NaiveDate>,
    multiple_redemption: bool,
    max_redemptions_per_customer: Option<i64>,
    redemption_gap_days: Option<i64>,
    min_bill: Option<i64>,
    max_bill: Option<i64>,
    weekdays: i64,
    dates: String,
    time_slots: String,
    total_redemption_cap: Option<i64>,
    poc_reminder_days: Option<i64>,
    claimed_by: Option<i64>,
    claimed_by_name: Option<String>,
    claimed_by_kind: Option<ConsumerKind>,
    coupon_count: i64,
    issued_count: i64,
    redeemed_count: i64,
    last_issued_at: Option<DateTime<Utc>>,
    last_redeemed_at: Option<DateTime<Utc>>,
    created_by_email: Option<String>,
    created_at: DateTime<Utc>,
    updated_by_email: Option<String>,
    updated_at: DateTime<Utc>,
}

/// An offer with its rules and what the Information tab shows.
#[derive(Debug, Clone)]
pub struct OfferRecord {
    pub id: OfferId,
    pub offer_code: String,
    pub rules: OfferRules,
    pub claimed_by: Option<(i64, String, ConsumerKind)>,
    /// Coupons the offer has (generated, uploaded or made at issue).
    pub coupon_count: i64,
    pub issued_count: i64,
    pub redeemed_count: i64,
    pub last_issued_at: Option<DateTime<Utc>>,
    pub last_redeemed_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// One dashboard row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfferListRow {
    pub id: OfferId,
    pub name: String,
    pub offer_code: String,
    pub generation: CodeKind,
    #[sqlx(flatten)]
    pub discount: Discount,
    #[sqlx(flatten)]
    pub expiry: OfferExpiry,
    pub claimed_by_name: Option<String>,
    pub claimed_by_kind: Option<ConsumerKind>,
    /// The claiming consumer's end date (an offer "along with the campaign" ends then).
    pub claimed_until: Option<NaiveDate>,
    pub issued_count: i64,
    pub redeemed_count: i64,
    pub updated_at: DateTime<Utc>,
}

/// Dashboard filters.
#[derive(Debug, Clone, Default)]
pub struct OfferQuery {
    pub search: String,
    pub active_only: bool,
    /// Order by last modified (true) or created (false), newest first.
    pub by_modified: bool,
    pub today: Option<NaiveDate>,
    pub consumer: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

const SELECT: &str = "SELECT o.id, o.name, o.offer_code, o.pos_code, o.expiry_type, o.expires_on, o.discount_type, o.discount_value, \
    o.discount_cap, o.applies_to, o.include_sale, o.delivery, o.generation, o.code_length, o.code_charset, o.code_prefix, o.common_code, \
    o.sample_code, o.upload_with_customers, o.specific_customers_only, o.coupon_expiry, o.coupon_expiry_n, o.max_per_customer, \
    o.min_issual_gap_days, o.total_issual_cap, o.resend_text, o.expiry_notice_channel, o.expiry_notice_text, o.anyone_can_redeem, \
    o.redemption_start, o.redemption_start_days, o.redemption_start_date, o.multiple_redemption, o.max_redemptions_per_customer, o.redemption_gap_days, o.min_bill, o.max_bill, \
    o.weekdays, o.dates, o.time_slots, o.total_redemption_cap, o.poc_reminder_days, o.claimed_by, c.name AS claimed_by_name, \
    c.kind AS claimed_by_kind, o.coupon_count, o.issued_count, (o.redeemed_count + COALESCE((SELECT CAST(SUM(oc.redeemed) AS BIGINT) FROM offer_counters oc WHERE oc.offer_id = o.id), 0)) AS redeemed_count, o.last_issued_at, COALESCE((SELECT MAX(oc.last_redeemed_at) FROM offer_counters oc WHERE oc.offer_id = o.id AND (o.last_redeemed_at IS NULL OR oc.last_redeemed_at > o.last_redeemed_at)), o.last_redeemed_at) AS last_redeemed_at, cu.email AS created_by_email, \
    o.created_at, uu.email AS updated_by_email, o.updated_at \
    FROM offers o LEFT JOIN consumers c ON c.id = o.claimed_by LEFT JOIN users cu ON cu.id = o.created_by \
    LEFT JOIN users uu ON uu.id = o.updated_by WHERE o.org_id = $1 AND o.id = $2";

/// The children of an offer, loaded or to write.
#[derive(Debug, Default)]
struct Children {
    products: Vec<(String, i64)>,
    scopes: Vec<(String, i64)>,
    past: Vec<i64>,
    reminders: Vec<(i64, Channel, String)>,
    pocs: Vec<i64>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Decode(
        format!("offer row has an invalid {what}").into(),
    ))
}

fn to_rules(r: &OfferRow, ch: Children) -> StoreResult<OfferRules> {
    let u32_of = |v: Option<i64>| v.map(|n| n as u32);
    let expiry = r.expiry;
    let discount = r.discount;
    let pick = |kind: &str| {
        ch.products
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, id)| *id)
            .collect::<Vec<_>>()
    };
    let applicability = match r.applies_to.as_str() {
        "selected" => Applicability::Selected {
            categories: pick("category"),
            brands: pick("brand"),
        },
        "all" => Applicability::All,
        _ => return Err(corrupt("applies to")),
    };
    let generation = match r.generation {
        CodeKind::Unique => Generation::Unique {
            length: r.code_length.unwrap_or(10) as u32,
            charset: r
                .code_charset
                .as_deref()
                .and_then(Charset::parse)
                .ok_or_else(|| corrupt("charset"))?,
            prefix: r.code_prefix.clone().unwrap_or_default(),
        },
        CodeKind::Common => Generation::Common {
            code: r
                .common_code
                .clone()
                .ok_or_else(|| corrupt("common code"))?,
        },
        CodeKind::Upload => Generation::Upload {
            with_customers: r.upload_with_customers,
        },
        CodeKind::Randomized => Generation::Randomized {
            sample: r
                .sample_code
                .clone()
                .ok_or_else(|| corrupt("sample code"))?,
        },
    };
    let coupon_expiry = match (r.coupon_expiry.as_str(), r.coupon_expiry_n) {
        ("days", Some(n)) => CouponExpiry::DaysFromIssue(n as u32),
        ("month_ends", Some(n)) => CouponExpiry::MonthEndsFromIssue(n as u32),
        ("offer", _) => CouponExpiry::WithOffer,
        _ => return Err(corrupt("coupon expiry")),
    };
    let start = match (
        r.redemption_start.as_str(),
        r.redemption_start_days,
        r.redemption_start_date,
    ) {
        ("days", Some(n), _) => RedemptionStart::DaysAfterIssue(n as u32),
        ("date", _, Some(d)) => RedemptionStart::OnDate(d),
        ("issue", _, _) => RedemptionStart::OnIssue,
        _ => return Err(corrupt("redemption start")),
    };
    let dates = r
        .dates
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| corrupt("date")))
        .collect::<StoreResult<Vec<_>>>()?;
    let time_slots = TimeSlot::parse_stored(&r.time_slots).ok_or_else(|| corrupt("time slot"))?;
    let reminders = ch
        .reminders
        .into_iter()
        .map(|(days, channel, text)| CustomerReminder {
            days_before: days as u32,
            channel,
            text,
        })
        .collect();
    let expiry_notice = match (r.expiry_notice_channel, &r.expiry_notice_text) {
        (Some(channel), Some(text)) => Some(ExpiryNotice {
            channel,
            text: text.clone(),
        }),
        (None, _) => None,
        (Some(_), None) => return Err(corrupt("expiry notice")),
    };
    Ok(OfferRules {
        name: r.name.clone(),
        pos_code: r.pos_code.clone(),
        expiry,
        discount,
        applicability,
        include_sale_items: r.include_sale,
        delivery: match r.delivery.as_str() {
            "system" => Delivery::ThisSystem,
            "third_party" => Delivery::ThirdParty,
            _ => return Err(corrupt("delivery")),
        },
        generation,
        specific_customers_only: r.specific_customers_only,
        coupon_expiry,
        issual: IssualRules {
            past_issual_offers: ch.past,
            max_per_customer: u32_of(r.max_per_customer),
            min_gap_days: u32_of(r.min_issual_gap_days),
            total_cap: r.total_issual_cap,
            resend_text: r.resend_text.clone(),
            reminders,
            expiry_notice,
        },
        redemption: RedemptionRules {
            anyone_can_redeem: r.anyone_can_redeem,
            start,
            multiple: r.multiple_redemption.then_some(MultipleRedemption {
                per_customer_max: u32_of(r.max_redemptions_per_customer),
                gap_days: u32_of(r.redemption_gap_days),
            }),
            scope: ch
                .scopes
                .into_iter()
                .filter_map(|(k, id)| ScopeKind::parse(&k).map(|k| (k, id)))
                .collect(),
            min_bill: r.min_bill,
            max_bill: r.max_bill,
            weekdays: Weekdays(r.weekdays as u8),
            dates,
            time_slots,
            total_cap: r.total_redemption_cap,
        },
        poc_reminder: r.poc_reminder_days.map(|d| PocReminder {
            poc_ids: ch.pocs,
            days_before: d as u32,
        }),
    })
}

impl Store {
    /// The org's ids an offer form may refer to, for `form::parse`.
    pub async fn offer_context(
        &self,
        org_id: OrgId,
        digits: u32,
        today: NaiveDate,
        except_offer: Option<OfferId>,
    ) -> StoreResult<OfferContext> {
        let set = |rows: Vec<crate::store::masters::CodedRow>| {
            rows.into_iter().map(|r| r.id).collect::<HashSet<_>>()
        };
        Ok(OfferContext {
            digits,
            today,
            categories: set(self.list_coded(org_id, CodedKind::Category).await?),
            brands: set(self.list_coded(org_id, CodedKind::Brand).await?),
            zones: set(self.list_coded(org_id, CodedKind::Zone).await?),
            concepts: set(self.list_coded(org_id, CodedKind::Concept).await?),
            stores: self.store_ids(org_id).await?.into_values().collect(),
            tills: self
                .list_tills(org_id, None)
                .await?
                .into_iter()
                .map(|t| t.id)
                .collect(),
            pocs: self
                .list_pocs(org_id)
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect(),
            offers: self
                .offer_names(org_id)
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .filter(|id| Some(OfferId(*id)) != except_offer)
                .collect(),
            audience_size: 0,
        })
    }

    /// Every offer's (id, name) in the org, newest first (pickers).
    pub async fn offer_names(&self, org_id: OrgId) -> StoreResult<Vec<(i64, String)>> {
        self.fetch_all_read(
            "SELECT id, name FROM offers WHERE org_id = $1 ORDER BY id DESC",
            &[org_id.into()],
        )
        .await
    }

    /// Names of everything an offer may refer to, for the plain-words description.
    pub async fn names_for_description(
        &self,
        org_id: OrgId,
        currency: &str,
        digits: u32,
    ) -> StoreResult<Names> {
        let map = |rows: Vec<crate::store::masters::CodedRow>| {
            rows.into_iter().map(|r| (r.id, r.name)).collect()
        };
        let mut scope = std::collections::HashMap::new();
        let mut store_names = std::collections::HashMap::new();
        for s in self.list_stores(org_id).await? {
            store_names.insert(s.code.clone(), s.name.clone());
            scope.insert((ScopeKind::Store, s.id), s.name);
        }
        for t in self.list_tills(org_id, None).await? {
            // "Front counter (Mall Road)", as the pickers and the audit log name a till.
            let store = store_names.get(&t.store_code).unwrap_or(&t.store_code);
            scope.insert((ScopeKind::Till, t.id), format!("{} ({store})", t.name));
        }
        for z in self.list_coded(org_id, CodedKind::Zone).await? {
            scope.insert((ScopeKind::Zone, z.id), z.name);
        }
        for c in self.list_coded(org_id, CodedKind::Concept).await? {
            scope.insert((ScopeKind::Concept, c.id), c.name);
        }
        Ok(Names {
            currency: currency.to_string(),
            digits,
            categories: map(self.list_coded(org_id, CodedKind::Category).await?),
            brands: map(self.list_coded(org_id, CodedKind::Brand).await?),
            scope,
            pocs: self
                .list_pocs(org_id)
                .await?
                .into_iter()
                .map(|p| (p.id, p.name))
                .collect(),
            offers: self.offer_names(org_id).await?.into_iter().collect(),
            today: None,
            claimed_by: None,
        })
    }

    /// The name of the org's offer whose common code is `code` (matched as codes are, upper
    /// case), if any.
    pub async fn offer_with_common_code(
        &self,
        org_id: OrgId,
        code: &str,
    ) -> StoreResult<Option<String>> {
        let rows: Vec<(String,)> = self
            .fetch_all_read(
                "SELECT name FROM offers WHERE org_id = $1 AND common_code = $2",
                &[org_id.into(), code.to_ascii_uppercase().as_str().into()],
            )
            .await?;
        Ok(rows.into_iter().next().map(|r| r.0))
    }

    /// Reads an offer of the org with its rules.
    pub async fn get_offer(&self, org_id: OrgId, id: OfferId) -> StoreResult<OfferRecord> {
        let row: OfferRow = self
            .fetch_optional_read(SELECT, &[org_id.into(), id.into()])
            .await?
            .ok_or(StoreError::NotFound)?;
        let ids = |(n,): (i64,)| n;
        let ch = Children {
            products: self
                .fetch_all_read(
                    "SELECT kind, ref_id FROM offer_products WHERE offer_id = $1 ORDER BY kind, ref_id",
                    &[id.into()],
                )
                .await?,
            scopes: self
                .fetch_all_read(
                    "SELECT entity_type, entity_id FROM offer_scopes WHERE offer_id = $1 ORDER BY entity_type, entity_id",
                    &[id.into()],
                )
                .await?,
            past: self
                .fetch_all_read::<(i64,)>(
                    "SELECT other_offer_id FROM offer_past_issual_offers WHERE offer_id = $1 ORDER BY other_offer_id",
                    &[id.into()],
                )
                .await?
                .into_iter()
                .map(ids)
                .collect(),
            reminders: self
                .fetch_all_read(
                    "SELECT days_before, channel, text FROM offer_customer_reminders WHERE offer_id = $1 ORDER BY position",
                    &[id.into()],
                )
                .await?,
            pocs: self
                .fetch_all_read::<(i64,)>(
                    "SELECT poc_id FROM offer_reminder_pocs WHERE offer_id = $1 ORDER BY poc_id",
                    &[id.into()],
                )
                .await?
                .into_iter()
                .map(ids)
                .collect(),
        };
        let rules = to_rules(&row, ch)?;
        Ok(OfferRecord {
            id: row.id,
            offer_code: row.offer_code.clone(),
            claimed_by: match (
                row.claimed_by,
                row.claimed_by_name.clone(),
                row.claimed_by_kind,
            ) {
                (Some(id), Some(name), Some(kind)) => Some((id, name, kind)),
                _ => None,
            },
            coupon_count: row.coupon_count,
            issued_count: row.issued_count,
            redeemed_count: row.redeemed_count,
            last_issued_at: row.last_issued_at,
            last_redeemed_at: row.last_redeemed_at,
            created_by: row
                .created_by_email
                .clone()
                .unwrap_or_else(|| "system".into()),
            created_at: row.created_at,
            updated_by: row
                .updated_by_email
                .clone()
                .unwrap_or_else(|| "system".into()),
            updated_at: row.updated_at,
            rules,
        })
    }

    /// A page of the dashboard and the number of matching offers.
    pub async fn list_offers(
        &self,
        org_id: OrgId,
        q: &OfferQuery,
    ) -> StoreResult<(Vec<OfferListRow>, i64)> {
        let pattern = format!(
            "%{}%",
            q.search
                .trim()
                .to_ascii_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let today = q.today.unwrap_or_else(|| Utc::now().date_naive());
        let filter = "o.org_id = $1 AND LOWER(o.name) LIKE $2 ESCAPE '\\' \
             AND ($3 = 0 OR o.expiry_type = 'campaign' OR o.expires_on >= $4) AND (($5 = 0 AND o.created_in_consumer = $6) OR o.claimed_by = $5)";
        let order = if q.by_modified {
            "o.updated_at DESC, o.id DESC"
        } else {
            "o.created_at DESC, o.id DESC"
        };
        let list_sql = format!(
            "SELECT o.id, o.name, o.offer_code, o.generation, o.discount_type, o.discount_value, o.discount_cap, o.expiry_type, o.expires_on, \
             c.name AS claimed_by_name, c.kind AS claimed_by_kind, c.ends_on AS claimed_until, o.issued_count, (o.redeemed_count + COALESCE((SELECT CAST(SUM(oc.redeemed) AS BIGINT) FROM offer_counters oc WHERE oc.offer_id = o.id), 0)) AS redeemed_count, o.updated_at \
             FROM offers o LEFT JOIN consumers c ON c.id = o.claimed_by WHERE {filter} ORDER BY {order} LIMIT $7 OFFSET $8"
        );
        let count_sql = format!("SELECT COUNT(*) FROM offers o WHERE {filter}");
        let active = i64::from(q.active_only);
        let consumer = q.consumer.unwrap_or(0);
        let args = [
            org_id.into(),
            pattern.as_str().into(),
            active.into(),
            Some(today).into(),
            consumer.into(),
            false.into(),
        ];
        let mut list_args = args.to_vec();
        list_args.extend([q.limit.into(), q.offset.into()]);
        let rows: Vec<OfferListRow> = self.fetch_all_read(&list_sql, &list_args).await?;
        let (total,): (i64,) = self.fetch_one_read(&count_sql, &args).await?;
        Ok((rows, total))
    }
}
