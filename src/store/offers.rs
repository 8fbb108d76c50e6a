//! Offers: create, edit (audited with before/after), read back into typed rules, list for the
//! dashboard, and the create-offer wizard's drafts.

use super::{AuditEntry, Store, StoreError, StoreResult, read, record_audit, transaction};
use crate::domain::masters::ConsumerKind;
use crate::domain::masters::IdentifierType;
use crate::domain::offer::describe::Names;
use crate::domain::offer::form::{OfferContext, OfferForm, parse_time_slots};
use crate::domain::offer::*;
use crate::domain::user::Actor;
use crate::store::masters::CodedKind;
use chrono::{DateTime, NaiveDate, Utc};
use rand::RngExt;
use std::collections::HashSet;

/// The flat `offers` row.
#[derive(Debug, Clone, sqlx::FromRow)]
struct OfferRow {
    id: i64,
    name: String,
    offer_code: String,
    pos_code: Option<String>,
    expiry_type: String,
    expires_on: Option<NaiveDate>,
    discount_type: String,
    discount_value: i64,
    discount_cap: Option<i64>,
    applies_to: String,
    include_sale: bool,
    delivery: String,
    generation: String,
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
    pub id: i64,
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
    pub id: i64,
    pub name: String,
    pub offer_code: String,
    pub generation: String,
    pub discount_type: String,
    pub discount_value: i64,
    pub discount_cap: Option<i64>,
    pub expiry_type: String,
    pub expires_on: Option<NaiveDate>,
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
    o.min_issual_gap_days, o.total_issual_cap, o.resend_text, o.anyone_can_redeem, o.redemption_start, o.redemption_start_days, \
    o.redemption_start_date, o.multiple_redemption, o.max_redemptions_per_customer, o.redemption_gap_days, o.min_bill, o.max_bill, \
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
    reminders: Vec<(i64, String, String)>,
    pocs: Vec<i64>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Decode(
        format!("offer row has an invalid {what}").into(),
    ))
}

fn to_rules(r: &OfferRow, ch: Children) -> StoreResult<OfferRules> {
    let u32_of = |v: Option<i64>| v.map(|n| n as u32);
    let expiry = match r.expiry_type.as_str() {
        "fixed" => OfferExpiry::Fixed(r.expires_on.ok_or_else(|| corrupt("expiry"))?),
        _ => OfferExpiry::WithCampaign,
    };
    let discount = Discount::from_columns(&r.discount_type, r.discount_value, r.discount_cap);
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
        _ => Applicability::All,
    };
    let generation = match r.generation.as_str() {
        "unique" => Generation::Unique {
            length: r.code_length.unwrap_or(10) as u32,
            charset: r
                .code_charset
                .as_deref()
                .and_then(Charset::parse)
                .ok_or_else(|| corrupt("charset"))?,
            prefix: r.code_prefix.clone().unwrap_or_default(),
        },
        "common" => Generation::Common {
            code: r
                .common_code
                .clone()
                .ok_or_else(|| corrupt("common code"))?,
        },
        "upload" => Generation::Upload {
            with_customers: r.upload_with_customers,
        },
        _ => Generation::Randomized {
            sample: r
                .sample_code
                .clone()
                .ok_or_else(|| corrupt("sample code"))?,
        },
    };
    let coupon_expiry = match (r.coupon_expiry.as_str(), r.coupon_expiry_n) {
        ("days", Some(n)) => CouponExpiry::DaysFromIssue(n as u32),
        ("month_ends", Some(n)) => CouponExpiry::MonthEndsFromIssue(n as u32),
        _ => CouponExpiry::WithOffer,
    };
    let start = match (
        r.redemption_start.as_str(),
        r.redemption_start_days,
        r.redemption_start_date,
    ) {
        ("days", Some(n), _) => RedemptionStart::DaysAfterIssue(n as u32),
        ("date", _, Some(d)) => RedemptionStart::OnDate(d),
        _ => RedemptionStart::OnIssue,
    };
    let dates = r
        .dates
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| corrupt("date")))
        .collect::<StoreResult<Vec<_>>>()?;
    let time_slots =
        parse_time_slots("time_slots", &r.time_slots).map_err(|_| corrupt("time slot"))?;
    let reminders = ch
        .reminders
        .into_iter()
        .map(|(days, channel, text)| CustomerReminder {
            days_before: days as u32,
            channel: if channel == "email" {
                Channel::Email
            } else {
                Channel::Sms
            },
            text,
        })
        .collect();
    Ok(OfferRules {
        name: r.name.clone(),
        pos_code: r.pos_code.clone(),
        expiry,
        discount,
        applicability,
        include_sale_items: r.include_sale,
        delivery: if r.delivery == "third_party" {
            Delivery::ThirdParty
        } else {
            Delivery::ThisSystem
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

/// The columns of `rules`, in the order of `INSERT_COLUMNS`.
struct Columns {
    expires_on: Option<NaiveDate>,
    discount_type: &'static str,
    discount_value: i64,
    discount_cap: Option<i64>,
    code_length: Option<i64>,
    code_charset: Option<&'static str>,
    code_prefix: Option<String>,
    common_code: Option<String>,
    sample_code: Option<String>,
    coupon_expiry: &'static str,
    coupon_expiry_n: Option<i64>,
    redemption_start: &'static str,
    redemption_start_days: Option<i64>,
    redemption_start_date: Option<NaiveDate>,
    dates: String,
    time_slots: String,
}

fn columns(r: &OfferRules) -> Columns {
    let (discount_type, discount_value, discount_cap) = r.discount.columns();
    let (mut code_length, mut code_charset, mut code_prefix, mut common_code, mut sample_code) =
        (None, None, None, None, None);
    match &r.generation {
        Generation::Unique {
            length,
            charset,
            prefix,
        } => {
            code_length = Some(*length as i64);
            code_charset = Some(charset.as_str());
            code_prefix = Some(prefix.clone());
        }
        Generation::Common { code } => common_code = Some(code.clone()),
        Generation::Upload { .. } => {}
        Generation::Randomized { sample } => sample_code = Some(sample.clone()),
    }
    let (coupon_expiry, coupon_expiry_n) = match r.coupon_expiry {
        CouponExpiry::WithOffer => ("offer", None),
        CouponExpiry::DaysFromIssue(n) => ("days", Some(n as i64)),
        CouponExpiry::MonthEndsFromIssue(n) => ("month_ends", Some(n as i64)),
    };
    let (redemption_start, redemption_start_days, redemption_start_date) = match r.redemption.start
    {
        RedemptionStart::OnIssue => ("issue", None, None),
        RedemptionStart::DaysAfterIssue(n) => ("days", Some(n as i64), None),
        RedemptionStart::OnDate(d) => ("date", None, Some(d)),
    };
    Columns {
        expires_on: match r.expiry {
            OfferExpiry::Fixed(d) => Some(d),
            OfferExpiry::WithCampaign => None,
        },
        discount_type,
        discount_value,
        discount_cap,
        code_length,
        code_charset,
        code_prefix,
        common_code,
        sample_code,
        coupon_expiry,
        coupon_expiry_n,
        redemption_start,
        redemption_start_days,
        redemption_start_date,
        dates: r
            .redemption
            .dates
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(","),
        time_slots: r
            .redemption
            .time_slots
            .iter()
            .map(|t| t.to_text())
            .collect::<Vec<_>>()
            .join(","),
    }
}

fn children_of(r: &OfferRules) -> Children {
    let mut ch = Children::default();
    if let Applicability::Selected { categories, brands } = &r.applicability {
        ch.products
            .extend(categories.iter().map(|id| ("category".to_string(), *id)));
        ch.products
            .extend(brands.iter().map(|id| ("brand".to_string(), *id)));
    }
    ch.scopes = r
        .redemption
        .scope
        .iter()
        .map(|(k, id)| (k.as_str().to_string(), *id))
        .collect();
    ch.past = r.issual.past_issual_offers.clone();
    ch.reminders = r
        .issual
        .reminders
        .iter()
        .map(|m| {
            (
                m.days_before as i64,
                m.channel.as_str().to_string(),
                m.text.clone(),
            )
        })
        .collect();
    ch.pocs = r
        .poc_reminder
        .as_ref()
        .map(|p| p.poc_ids.clone())
        .unwrap_or_default();
    ch
}

/// Binds the rule columns shared by INSERT and UPDATE, starting at `$3`.
macro_rules! bind_rules {
    ($q:expr, $r:expr, $c:expr) => {
        $q.bind(&$r.name)
            .bind(&$r.pos_code)
            .bind(if matches!($r.expiry, OfferExpiry::Fixed(_)) {
                "fixed"
            } else {
                "campaign"
            })
            .bind($c.expires_on)
            .bind($c.discount_type)
            .bind($c.discount_value)
            .bind($c.discount_cap)
            .bind(if matches!($r.applicability, Applicability::All) {
                "all"
            } else {
                "selected"
            })
            .bind($r.include_sale_items)
            .bind(if $r.delivery == Delivery::ThisSystem {
                "system"
            } else {
                "third_party"
            })
            .bind($r.generation.kind())
            .bind($c.code_length)
            .bind($c.code_charset)
            .bind(&$c.code_prefix)
            .bind(&$c.common_code)
            .bind(&$c.sample_code)
            .bind(matches!(
                $r.generation,
                Generation::Upload {
                    with_customers: true
                }
            ))
            .bind($r.specific_customers_only)
            .bind($c.coupon_expiry)
            .bind($c.coupon_expiry_n)
            .bind($r.issual.max_per_customer.map(i64::from))
            .bind($r.issual.min_gap_days.map(i64::from))
            .bind($r.issual.total_cap)
            .bind(&$r.issual.resend_text)
            .bind($r.redemption.anyone_can_redeem)
            .bind($c.redemption_start)
            .bind($c.redemption_start_days)
            .bind($c.redemption_start_date)
            .bind($r.redemption.multiple.is_some())
            .bind(
                $r.redemption
                    .multiple
                    .and_then(|m| m.per_customer_max)
                    .map(i64::from),
            )
            .bind(
                $r.redemption
                    .multiple
                    .and_then(|m| m.gap_days)
                    .map(i64::from),
            )
            .bind($r.redemption.min_bill)
            .bind($r.redemption.max_bill)
            .bind($r.redemption.weekdays.0 as i64)
            .bind(&$c.dates)
            .bind(&$c.time_slots)
            .bind($r.redemption.total_cap)
            .bind($r.poc_reminder.as_ref().map(|p| p.days_before as i64))
    };
}

/// Replaces an offer's child rows through `$tx`.
macro_rules! write_children {
    ($tx:expr, $org_id:expr, $offer_id:expr, $ch:expr) => {{
        for table in ["offer_products", "offer_scopes", "offer_past_issual_offers", "offer_customer_reminders", "offer_reminder_pocs"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE offer_id = $1"))).bind($offer_id).execute(&mut *$tx).await?;
        }
        for (kind, id) in &$ch.products {
            sqlx::query("INSERT INTO offer_products (offer_id, kind, ref_id) VALUES ($1, $2, $3)").bind($offer_id).bind(kind).bind(id).execute(&mut *$tx).await?;
        }
        for (kind, id) in &$ch.scopes {
            sqlx::query("INSERT INTO offer_scopes (org_id, offer_id, entity_type, entity_id) VALUES ($1, $2, $3, $4)")
                .bind($org_id)
                .bind($offer_id)
                .bind(kind)
                .bind(id)
                .execute(&mut *$tx)
                .await?;
        }
        for id in &$ch.past {
            sqlx::query("INSERT INTO offer_past_issual_offers (offer_id, other_offer_id) VALUES ($1, $2)").bind($offer_id).bind(id).execute(&mut *$tx).await?;
        }
        for (i, (days, channel, text)) in $ch.reminders.iter().enumerate() {
            sqlx::query("INSERT INTO offer_customer_reminders (offer_id, position, days_before, channel, text) VALUES ($1, $2, $3, $4, $5)")
                .bind($offer_id)
                .bind(i as i64)
                .bind(days)
                .bind(channel)
                .bind(text)
                .execute(&mut *$tx)
                .await?;
        }
        for id in &$ch.pocs {
            sqlx::query("INSERT INTO offer_reminder_pocs (offer_id, poc_id) VALUES ($1, $2)").bind($offer_id).bind(id).execute(&mut *$tx).await?;
        }
    }};
}

/// Keeps the rows that stand for an offer's codes in step with its rules through `$tx`: the
/// common code's coupon (COD-2; a code taken in the org answers `Conflict("common_code")`) and,
/// at creation, a randomized offer's fixed part: the org's code prefix and a character that
/// tells it from the org's other randomized offers of that length (COD-4, ORG-1); none left
/// answers `Conflict("sample_code")`.
macro_rules! write_code_rows {
    ($tx:expr, $org_id:expr, $offer_id:expr, $rules:expr, $creating:expr) => {{
        match &$rules.generation {
            Generation::Common { code } => {
                let moved = sqlx::query("UPDATE coupons SET code = $1 WHERE org_id = $2 AND offer_id = $3")
                    .bind(code)
                    .bind($org_id)
                    .bind($offer_id)
                    .execute(&mut *$tx)
                    .await
                    .map_err(|e| StoreError::conflict_as(e, "common_code"))?
                    .rows_affected();
                if moved == 0 {
                    sqlx::query(
                        "INSERT INTO coupons (org_id, offer_id, code, status, source) VALUES ($1, $2, $3, 'issued', 'common code')",
                    )
                    .bind($org_id)
                    .bind($offer_id)
                    .bind(code)
                    .execute(&mut *$tx)
                    .await
                    .map_err(|e| StoreError::conflict_as(e, "common_code"))?;
                    sqlx::query("UPDATE offers SET coupon_count = 1 WHERE id = $1")
                        .bind($offer_id)
                        .execute(&mut *$tx)
                        .await?;
                }
            }
            Generation::Randomized { sample } if $creating => {
                let org_prefix: String = sqlx::query_scalar("SELECT code_prefix FROM orgs WHERE id = $1")
                    .bind($org_id)
                    .fetch_one(&mut *$tx)
                    .await?;
                let taken: Vec<String> = sqlx::query_scalar(
                    "SELECT random_fixed FROM offers WHERE org_id = $1 AND id <> $2 AND random_fixed IS NOT NULL AND LENGTH(sample_code) = $3",
                )
                .bind($org_id)
                .bind($offer_id)
                .bind(sample.len() as i64)
                .fetch_all(&mut *$tx)
                .await?;
                let taken: std::collections::HashSet<String> = taken.into_iter().collect();
                let fixed = crate::domain::coupon::fixed_part_candidates(&org_prefix, sample)
                    .find(|f| !taken.contains(f))
                    .ok_or_else(|| StoreError::Conflict("sample_code".into()))?;
                sqlx::query("UPDATE offers SET random_fixed = $1 WHERE id = $2")
                    .bind(&fixed)
                    .bind($offer_id)
                    .execute(&mut *$tx)
                    .await?;
            }
            _ => {}
        }
    }};
}

const RULE_COLUMNS: &str = "name, pos_code, expiry_type, expires_on, discount_type, discount_value, discount_cap, applies_to, include_sale, \
    delivery, generation, code_length, code_charset, code_prefix, common_code, sample_code, upload_with_customers, specific_customers_only, \
    coupon_expiry, coupon_expiry_n, max_per_customer, min_issual_gap_days, total_issual_cap, resend_text, anyone_can_redeem, redemption_start, \
    redemption_start_days, redemption_start_date, multiple_redemption, max_redemptions_per_customer, redemption_gap_days, min_bill, max_bill, \
    weekdays, dates, time_slots, total_redemption_cap, poc_reminder_days";

/// `$3, $4, …` for the rule columns.
fn rule_placeholders() -> String {
    (3..3 + RULE_COLUMNS.split(',').count())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn random_offer_code() -> String {
    const A: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut rng = rand::rng();
    let tail: String = (0..6)
        .map(|_| A[rng.random_range(0..A.len())] as char)
        .collect();
    format!("OF-{tail}")
}

/// Which uniqueness rule a failed offer write hit.
fn offer_conflict(e: sqlx::Error) -> StoreError {
    match e.as_database_error() {
        Some(d) if d.is_unique_violation() => {
            let m = d.message().to_string();
            if m.contains("common_code") {
                StoreError::Conflict("common_code".into())
            } else {
                StoreError::Conflict("offer_code".into())
            }
        }
        _ => StoreError::Db(e),
    }
}

impl Store {
    /// The org's ids an offer form may refer to, for `form::parse`.
    pub async fn offer_context(
        &self,
        org_id: i64,
        digits: u32,
        today: NaiveDate,
        except_offer: Option<i64>,
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
                .filter(|id| Some(*id) != except_offer)
                .collect(),
            audience_size: 0,
        })
    }

    /// Every offer's (id, name) in the org, newest first (pickers).
    pub async fn offer_names(&self, org_id: i64) -> StoreResult<Vec<(i64, String)>> {
        read!(self, pool => Ok(sqlx::query_as("SELECT id, name FROM offers WHERE org_id = $1 ORDER BY id DESC").bind(org_id).fetch_all(pool).await?))
    }

    /// Names of everything an offer may refer to, for the plain-words description.
    pub async fn names_for_description(
        &self,
        org_id: i64,
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

    /// Creates an offer (optionally claimed by a consumer at creation, OFF-6). A taken common
    /// code answers `Conflict("common_code")`.
    /// `draft_of` names the user whose wizard draft's customer list becomes the offer's.
    pub async fn create_offer(
        &self,
        org_id: i64,
        rules: &OfferRules,
        claimed_by: Option<i64>,
        draft_of: Option<i64>,
        actor: &Actor,
    ) -> StoreResult<i64> {
        let c = columns(rules);
        let ch = children_of(rules);
        let sql = format!(
            "INSERT INTO offers (org_id, offer_code, {RULE_COLUMNS}, claimed_by, created_by, created_at, updated_by, updated_at, created_in_consumer) \
             VALUES ($1, $2, {}, ${n}, ${m}, ${t}, ${m}, ${t}, ${x}) RETURNING id",
            rule_placeholders(),
            n = 3 + RULE_COLUMNS.split(',').count(),
            m = 4 + RULE_COLUMNS.split(',').count(),
            t = 5 + RULE_COLUMNS.split(',').count(),
            x = 6 + RULE_COLUMNS.split(',').count(),
        );
        for _ in 0..10 {
            let code = random_offer_code();
            let result: StoreResult<i64> = async {
                Ok(transaction!(self, tx => {
                    let q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone())).bind(org_id).bind(&code);
                    let id: i64 = bind_rules!(q, rules, c)
                        .bind(claimed_by)
                        .bind(actor.user_id)
                        .bind(Utc::now())
                        .bind(claimed_by.is_some())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(offer_conflict)?;
                    write_children!(tx, org_id, id, ch);
                    write_code_rows!(tx, org_id, id, rules, true);
                    if let Some(user) = draft_of {
                        sqlx::query(
                            "INSERT INTO offer_audience (offer_id, identifier_type, identifier) \
                             SELECT $1, identifier_type, identifier FROM draft_audience WHERE user_id = $2",
                        )
                        .bind(id)
                        .bind(user)
                        .execute(&mut *tx)
                        .await?;
                    }
                    record_audit!(tx, AuditEntry {
                        org_id,
                        actor,
                        action: "offer.created",
                        entity_type: "offer",
                        entity_id: Some(id),
                        summary: format!("Created offer {} ({code})", rules.name),
                        details: None,
                    });
                    id
                }))
            }
            .await;
            match result {
                Err(StoreError::Conflict(f)) if f == "offer_code" => continue,
                other => return other,
            }
        }
        Err(StoreError::Conflict("offer_code".into()))
    }

    /// The name of the org's offer whose common code is `code` (matched as codes are, upper
    /// case), if any.
    pub async fn offer_with_common_code(
        &self,
        org_id: i64,
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
    pub async fn get_offer(&self, org_id: i64, id: i64) -> StoreResult<OfferRecord> {
        let (row, ch) = read!(self, pool => {
            let row = sqlx::query_as::<_, OfferRow>(SELECT).bind(org_id).bind(id).fetch_optional(pool).await?.ok_or(StoreError::NotFound)?;
            let ch = Children {
                products: sqlx::query_as("SELECT kind, ref_id FROM offer_products WHERE offer_id = $1 ORDER BY kind, ref_id").bind(id).fetch_all(pool).await?,
                scopes: sqlx::query_as("SELECT entity_type, entity_id FROM offer_scopes WHERE offer_id = $1 ORDER BY entity_type, entity_id")
                    .bind(id)
                    .fetch_all(pool)
                    .await?,
                past: sqlx::query_scalar("SELECT other_offer_id FROM offer_past_issual_offers WHERE offer_id = $1 ORDER BY other_offer_id")
                    .bind(id)
                    .fetch_all(pool)
                    .await?,
                reminders: sqlx::query_as("SELECT days_before, channel, text FROM offer_customer_reminders WHERE offer_id = $1 ORDER BY position")
                    .bind(id)
                    .fetch_all(pool)
                    .await?,
                pocs: sqlx::query_scalar("SELECT poc_id FROM offer_reminder_pocs WHERE offer_id = $1 ORDER BY poc_id").bind(id).fetch_all(pool).await?,
            };
            (row, ch)
        });
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

    /// Saves an edit: new rules and offer code. The expiry type and generation method cannot
    /// change (OFF-4); the caller has checked that. Audited with the changed fields before/after.
    pub async fn update_offer(
        &self,
        org_id: i64,
        id: i64,
        offer_code: &str,
        rules: &OfferRules,
        changes: serde_json::Value,
        actor: &Actor,
    ) -> StoreResult<()> {
        let c = columns(rules);
        let ch = children_of(rules);
        let sets: Vec<String> = RULE_COLUMNS
            .split(',')
            .map(str::trim)
            .enumerate()
            .map(|(i, col)| format!("{col} = ${}", i + 3))
            .collect();
        let n = RULE_COLUMNS.split(',').count();
        let sql = format!(
            "UPDATE offers SET {}, offer_code = ${}, updated_by = ${}, updated_at = ${} WHERE org_id = $1 AND id = $2",
            sets.join(", "),
            n + 3,
            n + 4,
            n + 5
        );
        transaction!(self, tx => {
            let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(id);
            let done = bind_rules!(q, rules, c)
                .bind(offer_code)
                .bind(actor.user_id)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await
                .map_err(offer_conflict)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            write_children!(tx, org_id, id, ch);
            write_code_rows!(tx, org_id, id, rules, false);
            record_audit!(tx, AuditEntry {
                org_id,
                actor,
                action: "offer.updated",
                entity_type: "offer",
                entity_id: Some(id),
                summary: format!("Edited offer {}", rules.name),
                details: Some(changes.to_string()),
            });
        });
        Ok(())
    }

    /// A page of the dashboard and the number of matching offers.
    pub async fn list_offers(
        &self,
        org_id: i64,
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
        read!(self, pool => {
            let rows = sqlx::query_as::<_, OfferListRow>(sqlx::AssertSqlSafe(list_sql))
                .bind(org_id)
                .bind(&pattern)
                .bind(active)
                .bind(today)
                .bind(consumer)
                .bind(false)
                .bind(q.limit)
                .bind(q.offset)
                .fetch_all(pool)
                .await?;
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql))
                .bind(org_id)
                .bind(&pattern)
                .bind(active)
                .bind(today)
                .bind(consumer)
                .bind(false)
                .fetch_one(pool)
                .await?;
            Ok((rows, total))
        })
    }

    /// Replaces the customer list of the user's wizard draft.
    pub async fn replace_draft_audience(
        &self,
        user_id: i64,
        rows: &[(IdentifierType, String)],
    ) -> StoreResult<()> {
        transaction!(self, tx => {
            sqlx::query("DELETE FROM draft_audience WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            for (kind, value) in rows {
                sqlx::query("INSERT INTO draft_audience (user_id, identifier_type, identifier) VALUES ($1, $2, $3)")
                    .bind(user_id)
                    .bind(kind.as_str())
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
            }
        });
        Ok(())
    }

    pub async fn draft_audience_count(&self, user_id: i64) -> StoreResult<i64> {
        read!(self, pool => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM draft_audience WHERE user_id = $1").bind(user_id).fetch_one(pool).await?))
    }

    /// Replaces an offer's specific-customers list (audited).
    pub async fn replace_offer_audience(
        &self,
        org_id: i64,
        offer_id: i64,
        rows: &[(IdentifierType, String)],
        actor: &Actor,
    ) -> StoreResult<()> {
        transaction!(self, tx => {
            let owned: Option<i64> = sqlx::query_scalar("SELECT id FROM offers WHERE org_id = $1 AND id = $2").bind(org_id).bind(offer_id).fetch_optional(&mut *tx).await?;
            if owned.is_none() {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM offer_audience WHERE offer_id = $1").bind(offer_id).execute(&mut *tx).await?;
            for (kind, value) in rows {
                sqlx::query("INSERT INTO offer_audience (offer_id, identifier_type, identifier) VALUES ($1, $2, $3)")
                    .bind(offer_id)
                    .bind(kind.as_str())
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
            }
            record_audit!(tx, AuditEntry {
                org_id,
                actor,
                action: "offer.audience",
                entity_type: "offer",
                entity_id: Some(offer_id),
                summary: format!("Replaced the customer list: {} customer{}", rows.len(), if rows.len() == 1 { "" } else { "s" }),
                details: None,
            });
        });
        Ok(())
    }

    /// Customers in an offer's specific-customers list (the offer is the org's, checked by the caller).
    pub async fn offer_audience_count(&self, offer_id: i64) -> StoreResult<i64> {
        read!(self, pool => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM offer_audience WHERE offer_id = $1").bind(offer_id).fetch_one(pool).await?))
    }

    /// The user's half-filled create-offer wizard, if any.
    pub async fn get_draft(&self, user_id: i64) -> StoreResult<Option<(OfferForm, Option<i64>)>> {
        let row: Option<(String, Option<i64>)> = read!(self, pool => sqlx::query_as("SELECT form, consumer_id FROM offer_drafts WHERE user_id = $1").bind(user_id).fetch_optional(pool).await?);
        Ok(
            row.and_then(|(json, consumer)| {
                serde_json::from_str(&json).ok().map(|f| (f, consumer))
            }),
        )
    }

    pub async fn save_draft(
        &self,
        user_id: i64,
        form: &OfferForm,
        consumer_id: Option<i64>,
    ) -> StoreResult<()> {
        let json = serde_json::to_string(form)
            .map_err(|e| StoreError::Db(sqlx::Error::Encode(e.into())))?;
        transaction!(self, tx => {
            sqlx::query(
                "INSERT INTO offer_drafts (user_id, consumer_id, form, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id) DO UPDATE SET consumer_id = excluded.consumer_id, form = excluded.form, updated_at = excluded.updated_at",
            )
            .bind(user_id)
            .bind(consumer_id)
            .bind(&json)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    pub async fn delete_draft(&self, user_id: i64) -> StoreResult<()> {
        transaction!(self, tx => {
            sqlx::query("DELETE FROM draft_audience WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM offer_drafts WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        });
        Ok(())
    }
}
