//! Writing offers: the `offers` row (the expiry notice's channel and text among its columns)
//! and its child rows (products, scopes, past-issual offers, customer reminders, POCs), the
//! rows that stand for its codes, and the audit entry, in one transaction.

use super::super::code_shapes;
use super::super::dyntx::{Arg, DynTx, conflict_as};
use super::super::{AuditEntry, Store, StoreError, StoreResult};
use super::Children;
use crate::domain::ids::{OfferId, OrgId, UserId};
use crate::domain::offer::*;
use crate::domain::user::Actor;
use chrono::{NaiveDate, Utc};
use rand::RngExt;

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
        .map(|m| (m.days_before as i64, m.channel, m.text.clone()))
        .collect();
    ch.pocs = r
        .poc_reminder
        .as_ref()
        .map(|p| p.poc_ids.clone())
        .unwrap_or_default();
    ch
}

const RULE_COLUMNS: &str = "name, pos_code, expiry_type, expires_on, discount_type, discount_value, discount_cap, applies_to, include_sale, \
    delivery, generation, code_length, code_charset, code_prefix, common_code, sample_code, upload_with_customers, specific_customers_only, \
    coupon_expiry, coupon_expiry_n, max_per_customer, min_issual_gap_days, total_issual_cap, resend_text, expiry_notice_channel, \
    expiry_notice_text, anyone_can_redeem, redemption_start, redemption_start_days, redemption_start_date, multiple_redemption, \
    max_redemptions_per_customer, redemption_gap_days, min_bill, max_bill, weekdays, dates, time_slots, total_redemption_cap, poc_reminder_days";

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
fn offer_conflict(e: StoreError) -> StoreError {
    let StoreError::Db(e) = e else {
        return e;
    };
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

/// The rule columns' values shared by INSERT and UPDATE, in `RULE_COLUMNS` order.
fn rule_args(r: &OfferRules, c: Columns) -> Vec<Arg> {
    let opt_u32 = |v: Option<u32>| Arg::OptI64(v.map(i64::from));
    vec![
        r.name.as_str().into(),
        Arg::OptText(r.pos_code.clone()),
        if matches!(r.expiry, OfferExpiry::Fixed(_)) {
            "fixed"
        } else {
            "campaign"
        }
        .into(),
        c.expires_on.into(),
        c.discount_type.into(),
        c.discount_value.into(),
        Arg::OptI64(c.discount_cap),
        if matches!(r.applicability, Applicability::All) {
            "all"
        } else {
            "selected"
        }
        .into(),
        r.include_sale_items.into(),
        if r.delivery == Delivery::ThisSystem {
            "system"
        } else {
            "third_party"
        }
        .into(),
        r.generation.kind().into(),
        Arg::OptI64(c.code_length),
        Arg::OptText(c.code_charset.map(str::to_string)),
        Arg::OptText(c.code_prefix),
        Arg::OptText(c.common_code),
        Arg::OptText(c.sample_code),
        matches!(
            r.generation,
            Generation::Upload {
                with_customers: true
            }
        )
        .into(),
        r.specific_customers_only.into(),
        c.coupon_expiry.into(),
        Arg::OptI64(c.coupon_expiry_n),
        opt_u32(r.issual.max_per_customer),
        opt_u32(r.issual.min_gap_days),
        Arg::OptI64(r.issual.total_cap),
        Arg::OptText(r.issual.resend_text.clone()),
        Arg::OptText(
            r.issual
                .expiry_notice
                .as_ref()
                .map(|n| n.channel.as_str().to_string()),
        ),
        Arg::OptText(r.issual.expiry_notice.as_ref().map(|n| n.text.clone())),
        r.redemption.anyone_can_redeem.into(),
        c.redemption_start.into(),
        Arg::OptI64(c.redemption_start_days),
        c.redemption_start_date.into(),
        r.redemption.multiple.is_some().into(),
        opt_u32(r.redemption.multiple.and_then(|m| m.per_customer_max)),
        opt_u32(r.redemption.multiple.and_then(|m| m.gap_days)),
        Arg::OptI64(r.redemption.min_bill),
        Arg::OptI64(r.redemption.max_bill),
        (r.redemption.weekdays.0 as i64).into(),
        c.dates.into(),
        c.time_slots.into(),
        Arg::OptI64(r.redemption.total_cap),
        Arg::OptI64(r.poc_reminder.as_ref().map(|p| p.days_before as i64)),
    ]
}

/// Replaces an offer's child rows.
async fn write_children(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    ch: &Children,
) -> StoreResult<()> {
    for table in [
        "offer_products",
        "offer_scopes",
        "offer_past_issual_offers",
        "offer_customer_reminders",
        "offer_reminder_pocs",
    ] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE offer_id = $1"),
            &[offer_id.into()],
        )
        .await?;
    }
    for (kind, id) in &ch.products {
        tx.execute(
            "INSERT INTO offer_products (offer_id, kind, ref_id) VALUES ($1, $2, $3)",
            &[offer_id.into(), kind.as_str().into(), (*id).into()],
        )
        .await?;
    }
    for (kind, id) in &ch.scopes {
        tx.execute(
            "INSERT INTO offer_scopes (org_id, offer_id, entity_type, entity_id) VALUES ($1, $2, $3, $4)",
            &[org_id.into(), offer_id.into(), kind.as_str().into(), (*id).into()],
        )
        .await?;
    }
    for id in &ch.past {
        tx.execute(
            "INSERT INTO offer_past_issual_offers (offer_id, other_offer_id) VALUES ($1, $2)",
            &[offer_id.into(), (*id).into()],
        )
        .await?;
    }
    for (i, (days, channel, text)) in ch.reminders.iter().enumerate() {
        tx.execute(
            "INSERT INTO offer_customer_reminders (offer_id, position, days_before, channel, text) VALUES ($1, $2, $3, $4, $5)",
            &[
                offer_id.into(),
                (i as i64).into(),
                (*days).into(),
                channel.as_str().into(),
                text.as_str().into(),
            ],
        )
        .await?;
    }
    for id in &ch.pocs {
        tx.execute(
            "INSERT INTO offer_reminder_pocs (offer_id, poc_id) VALUES ($1, $2)",
            &[offer_id.into(), (*id).into()],
        )
        .await?;
    }
    Ok(())
}

/// Keeps the rows that stand for an offer's codes in step with its rules: the common code's
/// coupon (COD-2; a code taken in the org answers `Conflict("common_code")`) and, at creation,
/// a randomized offer's fixed part: the org's code prefix and a character that tells it from
/// the org's other randomized offers of that length (COD-4, ORG-1); none left answers
/// `Conflict("sample_code")`.
async fn write_code_rows(
    tx: &mut DynTx,
    org_id: OrgId,
    offer_id: OfferId,
    rules: &OfferRules,
    creating: bool,
    new_shape: bool,
) -> StoreResult<()> {
    match &rules.generation {
        Generation::Common { code } => {
            // A cart promotion's code is taken too: a till entering it must mean one thing.
            let promotion: Option<(i64,)> = tx
                .fetch_optional(
                    "SELECT promotion_id FROM promotion_codes WHERE org_id = $1 AND code = $2",
                    &[org_id.into(), code.as_str().into()],
                )
                .await?;
            if promotion.is_some() {
                return Err(StoreError::Conflict("common_code".into()));
            }
            let moved = tx
                .execute(
                    "UPDATE coupons SET code = $1 WHERE org_id = $2 AND offer_id = $3",
                    &[code.as_str().into(), org_id.into(), offer_id.into()],
                )
                .await
                .map_err(|e| conflict_as(e, "common_code"))?;
            if moved == 0 {
                tx.execute(
                    "INSERT INTO coupons (org_id, offer_id, code, status, source) VALUES ($1, $2, $3, 'issued', 'common code')",
                    &[org_id.into(), offer_id.into(), code.as_str().into()],
                )
                .await
                .map_err(|e| conflict_as(e, "common_code"))?;
                tx.execute(
                    "UPDATE offers SET coupon_count = 1 WHERE id = $1",
                    &[offer_id.into()],
                )
                .await?;
            }
        }
        Generation::Randomized { sample } if creating => {
            // The org's row lock (PostgreSQL) makes creations of randomized offers one at a
            // time per org, so two can never pick the same free fixed part.
            // No key update: a concurrent insert's foreign-key check (key share) does not wait.
            let lock = tx.dialect().lock(crate::store::dialect::Lock::NoKeyUpdate);
            let (org_prefix,): (String,) = tx
                .fetch_one(
                    &format!("SELECT code_prefix FROM orgs WHERE id = $1{lock}"),
                    &[org_id.into()],
                )
                .await?;
            let taken: Vec<(String,)> = tx
                .fetch_all(
                    "SELECT random_fixed FROM offers WHERE org_id = $1 AND id <> $2 AND random_fixed IS NOT NULL AND LENGTH(sample_code) = $3",
                    &[org_id.into(), offer_id.into(), (sample.len() as i64).into()],
                )
                .await?;
            let taken: std::collections::HashSet<String> = taken.into_iter().map(|t| t.0).collect();
            let fixed = crate::domain::coupon::fixed_part_candidates(&org_prefix, sample)
                .find(|f| !taken.contains(f))
                .ok_or_else(|| StoreError::Conflict("sample_code".into()))?;
            let format = crate::domain::coupon::randomized_format(sample, &fixed);
            if let Some(code) = code_shapes::promotion_code_of_shape(tx, org_id, &format).await? {
                return Err(StoreError::Conflict(format!("code_shape:sample:{code}")));
            }
            tx.execute(
                "UPDATE offers SET random_fixed = $1 WHERE id = $2",
                &[fixed.into(), offer_id.into()],
            )
            .await?;
        }
        // Checked when the shape is new (a creation, or an edit of prefix, length or charset):
        // an offer made before a promotion took a code of its shape stays editable.
        Generation::Unique {
            length,
            charset,
            prefix,
        } if new_shape => {
            super::super::orgs::lock_org(tx, org_id).await?;
            let format = crate::domain::coupon::CodeFormat {
                prefix: prefix.clone(),
                length: *length,
                charset: *charset,
            };
            if let Some(code) = code_shapes::promotion_code_of_shape(tx, org_id, &format).await? {
                return Err(StoreError::Conflict(format!("code_shape:prefix:{code}")));
            }
        }
        _ => {}
    }
    Ok(())
}

impl Store {
    /// Creates an offer (optionally claimed by a consumer at creation, OFF-6). A taken common
    /// code answers `Conflict("common_code")`.
    /// `draft_of` names the user whose wizard draft's customer list becomes the offer's.
    pub async fn create_offer(
        &self,
        org_id: OrgId,
        rules: &OfferRules,
        claimed_by: Option<i64>,
        draft_of: Option<UserId>,
        actor: &Actor,
    ) -> StoreResult<OfferId> {
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
            let result: StoreResult<OfferId> = async {
                let mut tx = self.begin().await?;
                let mut args: Vec<Arg> = vec![org_id.into(), code.as_str().into()];
                args.extend(rule_args(rules, columns(rules)));
                args.extend([
                    Arg::OptI64(claimed_by),
                    actor.user_id.into(),
                    Utc::now().into(),
                    claimed_by.is_some().into(),
                ]);
                let (id,): (OfferId,) = tx.fetch_one(&sql, &args).await.map_err(offer_conflict)?;
                write_children(&mut tx, org_id, id, &ch).await?;
                write_code_rows(&mut tx, org_id, id, rules, true, true).await?;
                if let Some(user) = draft_of {
                    tx.execute(
                        "INSERT INTO offer_audience (offer_id, identifier_type, identifier) \
                         SELECT $1, identifier_type, identifier FROM draft_audience WHERE user_id = $2",
                        &[id.into(), user.into()],
                    )
                    .await?;
                }
                super::super::audit::record_dyn(
                    &mut tx,
                    AuditEntry {
                        org_id,
                        actor,
                        action: "offer.created",
                        entity_type: "offer",
                        entity_id: Some(id.get()),
                        summary: format!("Created offer {} ({code})", rules.name),
                        details: None,
                    },
                )
                .await?;
                tx.commit().await?;
                Ok(id)
            }
            .await;
            match result {
                Err(StoreError::Conflict(f)) if f == "offer_code" => continue,
                other => return other,
            }
        }
        Err(StoreError::Conflict("offer_code".into()))
    }

    /// Saves an edit: new rules and offer code. The expiry type and generation method cannot
    /// change (OFF-4); the caller has checked that. Audited with the changed fields before/after.
    pub async fn update_offer(
        &self,
        org_id: OrgId,
        id: OfferId,
        offer_code: &str,
        rules: &OfferRules,
        changes: serde_json::Value,
        actor: &Actor,
    ) -> StoreResult<()> {
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
        let mut tx = self.begin().await?;
        let before: Option<(Option<String>, Option<i64>, Option<String>)> = tx
            .fetch_optional(
                "SELECT code_prefix, code_length, code_charset FROM offers WHERE org_id = $1 AND id = $2",
                &[org_id.into(), id.into()],
            )
            .await?;
        let new_shape = match (&rules.generation, before) {
            (
                Generation::Unique {
                    length,
                    charset,
                    prefix,
                },
                Some((was_prefix, was_length, was_charset)),
            ) => {
                was_prefix.unwrap_or_default() != *prefix
                    || was_length != Some(i64::from(*length))
                    || was_charset.as_deref() != Some(charset.as_str())
            }
            _ => false,
        };
        let mut args: Vec<Arg> = vec![org_id.into(), id.into()];
        args.extend(rule_args(rules, columns(rules)));
        args.extend([offer_code.into(), actor.user_id.into(), Utc::now().into()]);
        let done = tx.execute(&sql, &args).await.map_err(offer_conflict)?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        write_children(&mut tx, org_id, id, &ch).await?;
        write_code_rows(&mut tx, org_id, id, rules, false, new_shape).await?;
        super::super::audit::record_dyn(
            &mut tx,
            AuditEntry {
                org_id,
                actor,
                action: "offer.updated",
                entity_type: "offer",
                entity_id: Some(id.get()),
                summary: format!("Edited offer {}", rules.name),
                details: Some(changes.to_string()),
            },
        )
        .await?;
        tx.commit().await
    }
}
