//! Customer care (issue #17): what a CSM needs on a support call — find a customer by mobile,
//! email or external id, and see on one page who they are, their events, their trackers'
//! progress towards earned promotions, the promotions they hold, their coupons and
//! redemptions — and the audited **tracker correction**: a CSM sets a tracker's progress with
//! a reason. The correction runs in one transaction with the customer's row taken (as events
//! do, `app::holds`), writes the progress and the audit entry, and when it takes the tracker
//! from below the milestone's target to the target or above, the customer earns the promotion
//! there and then, through the same `grant_hold` an event uses.

use super::holds::{EventOutcome, Grant, grant_hold};
use crate::domain::FieldErrors;
use crate::domain::ids::{CustomerId, OrgId, PromotionId};
use crate::domain::masters::IdentifierType;
use crate::domain::promotion::Status;
use crate::domain::promotion::holding::{Earning, Measure, Milestone};
use crate::domain::tracker::{
    change_text, current_window, measure_text, milestone_of, parse_progress, parse_reason,
    window_words,
};
use crate::domain::user::Actor;
use crate::domain::wallet::WalletCoupon;
use crate::store::audit::{AuditEntry, record_dyn};
use crate::store::customer_view::{
    CustomerCard, CustomerSearch, EventRow, HeldRow, RedemptionRow, has_tracker, set_tracker,
    tracker_progress,
};
use crate::store::holds::lock_customer;
use crate::store::{Store, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap};

/// Past windows of a monthly tracker shown beside the current one.
const PAST_WINDOWS: usize = 3;

/// Reads what a CSM typed into the search box as each kind of identifier: a mobile (also the
/// mobile contact), an email (also the email contact) and an external id. `Err` says why the
/// text can be none of them.
pub fn search_terms(raw: &str) -> Result<CustomerSearch, &'static str> {
    if raw.trim().is_empty() {
        return Err("Enter the customer's mobile, email or external id");
    }
    let s = CustomerSearch {
        mobile: IdentifierType::Mobile.normalise(raw).ok(),
        email: raw
            .contains('@')
            .then(|| IdentifierType::Email.normalise(raw).ok())
            .flatten(),
        external_id: IdentifierType::ExternalId.normalise(raw).ok(),
    };
    if s == CustomerSearch::default() {
        return Err("is not a mobile, an email or an external id (1 to 64 characters)");
    }
    Ok(s)
}

/// The org's customers the typed text finds (`Err`: the text's problem, nothing searched).
pub async fn search(
    store: &Store,
    org_id: OrgId,
    raw: &str,
) -> StoreResult<Result<Vec<CustomerCard>, &'static str>> {
    match search_terms(raw) {
        Ok(terms) => Ok(Ok(store.search_customers(org_id, &terms).await?)),
        Err(why) => Ok(Err(why)),
    }
}

/// An event on the customer page: as recorded, with the names of what it earned.
#[derive(Debug, Clone)]
pub struct EventView {
    pub row: EventRow,
    pub attributes: BTreeMap<String, String>,
    pub earned: Vec<String>,
}

/// A tracker on the customer page: an earned promotion with a milestone and the customer's
/// progress in the current window.
#[derive(Debug, Clone)]
pub struct TrackerView {
    pub promotion_id: i64,
    pub name: String,
    pub status: Status,
    pub rule: Earning,
    pub milestone: Milestone,
    /// The current window's key (what a correction changes).
    pub window: String,
    pub progress: i64,
    /// Earlier monthly windows with progress, newest first: (key, progress).
    pub past: Vec<(String, i64)>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Where a held promotion stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldState {
    Active,
    Expired,
    /// A closed cart (not cancelled) applied it while it was held.
    Used,
}

impl HeldState {
    pub fn of(row: &HeldRow, now: DateTime<Utc>) -> HeldState {
        if row.used_at.is_some() {
            HeldState::Used
        } else if row.valid_till.is_some_and(|till| till <= now) {
            HeldState::Expired
        } else {
            HeldState::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HeldState::Active => "active",
            HeldState::Expired => "expired",
            HeldState::Used => "used",
        }
    }
}

/// Everything the customer page shows.
#[derive(Debug, Clone)]
pub struct CustomerCare {
    pub customer: CustomerCard,
    pub tiers: Vec<String>,
    pub segments: Vec<String>,
    pub events: Vec<EventView>,
    pub trackers: Vec<TrackerView>,
    pub held: Vec<(HeldRow, HeldState)>,
    /// Active coupons best first, then the others newest first (as the wallet orders them).
    pub coupons: Vec<WalletCoupon>,
    pub redemptions: Vec<RedemptionRow>,
}

/// The customer page of the org's customer `id` at `now`; `NotFound` for another org's.
#[tracing::instrument(name = "app.customer_care", skip_all, fields(org = org_id.get(), customer = id.get()))]
pub async fn customer_page(
    store: &Store,
    org_id: OrgId,
    id: CustomerId,
    now: DateTime<Utc>,
) -> StoreResult<CustomerCare> {
    let customer = store
        .customer_card(org_id, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let tz = store.get_org(org_id).await?.time_zone.0;
    let tags = store.customer_tag_list(id).await?;
    let pick = |kind: &str| -> Vec<String> {
        tags.iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let events = store
        .customer_event_list(org_id, id)
        .await?
        .into_iter()
        .map(|row| EventView {
            attributes: serde_json::from_str(&row.attributes).unwrap_or_default(),
            earned: serde_json::from_str::<EventOutcome>(&row.result)
                .map(|o| o.earned.into_iter().map(|e| e.name).collect())
                .unwrap_or_default(),
            row,
        })
        .collect();
    let trackers = trackers(store, org_id, id, now, tz).await?;
    let held = store
        .customer_held(org_id, id)
        .await?
        .into_iter()
        .map(|h| {
            let state = HeldState::of(&h, now);
            (h, state)
        })
        .collect();
    let wallet = super::wallet::wallet(store, org_id, id, now).await?;
    Ok(CustomerCare {
        customer,
        tiers: pick("tier"),
        segments: pick("segment"),
        events,
        trackers,
        held,
        coupons: wallet.active.into_iter().chain(wallet.history).collect(),
        redemptions: store.customer_redemption_list(org_id, id).await?,
    })
}

/// The customer's trackers of earned promotions that still have a milestone, by promotion,
/// then the live milestone promotions they have not started (0 so far: a missed first visit
/// can be credited).
async fn trackers(
    store: &Store,
    org_id: OrgId,
    id: CustomerId,
    now: DateTime<Utc>,
    tz: Tz,
) -> StoreResult<Vec<TrackerView>> {
    let rows = store.customer_trackers(org_id, id).await?;
    let promotions: HashMap<i64, _> = store
        .list_promotions(org_id)
        .await?
        .into_iter()
        .map(|r| (r.promotion.id, r))
        .collect();
    let mut out: Vec<TrackerView> = Vec::new();
    for row in rows {
        let Some(record) = promotions.get(&row.promotion_id) else {
            continue;
        };
        let Some((rule, milestone)) = milestone_of(&record.promotion) else {
            continue;
        };
        let Some(window) = current_window(rule, now, tz) else {
            continue;
        };
        if out
            .last()
            .is_none_or(|t| t.promotion_id != row.promotion_id)
        {
            out.push(started(record, rule, milestone, window.clone()));
        }
        let Some(t) = out.last_mut() else { continue };
        t.updated_at = t.updated_at.max(Some(row.updated_at));
        if row.window_key == window {
            t.progress = row.progress;
        } else if row.window_key < window {
            t.past.push((row.window_key, row.progress));
        }
    }
    for t in &mut out {
        t.past.reverse();
        t.past.truncate(PAST_WINDOWS);
    }
    let mut unstarted: Vec<_> = promotions
        .values()
        .filter(|r| {
            r.status == Status::Live && !out.iter().any(|t| t.promotion_id == r.promotion.id)
        })
        .collect();
    unstarted.sort_by_key(|r| r.promotion.id);
    for record in unstarted {
        let Some((rule, milestone)) = milestone_of(&record.promotion) else {
            continue;
        };
        let Some(window) = current_window(rule, now, tz) else {
            continue;
        };
        out.push(started(record, rule, milestone, window));
    }
    Ok(out)
}

/// A tracker at 0 in `window`, before its rows are read.
fn started(
    record: &crate::store::promotions::PromotionRecord,
    rule: &Earning,
    milestone: Milestone,
    window: String,
) -> TrackerView {
    TrackerView {
        promotion_id: record.promotion.id,
        name: record.promotion.name.clone(),
        status: record.status,
        rule: rule.clone(),
        milestone,
        window,
        progress: 0,
        past: Vec::new(),
        updated_at: None,
    }
}

/// A tracker correction as the form posts it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CorrectionInput {
    #[serde(default)]
    pub promotion_id: i64,
    /// The window the page showed (a monthly tracker's month may turn before the post).
    #[serde(default)]
    pub window: String,
    /// The progress the page showed, so a change made meanwhile (an event) is not overwritten.
    #[serde(default)]
    pub seen: String,
    #[serde(default)]
    pub progress: String,
    #[serde(default)]
    pub reason: String,
}

/// What the correction earned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorrectionEarned {
    /// The tracker did not cross its target.
    Nothing,
    /// The customer now holds the promotion until (exclusive) this, or until it ends.
    Held {
        hold_id: i64,
        valid_till: Option<DateTime<Utc>>,
    },
    /// The target was crossed but the promotion was not given: why.
    NotGiven(String),
}

/// A correction made.
#[derive(Debug, Clone)]
pub struct Corrected {
    pub promotion: String,
    pub window: String,
    /// "from 2 to 3 transactions", "from ₹6,000 to ₹10,000"
    pub change: String,
    pub earned: CorrectionEarned,
}

/// The message when the posted promotion is not one of the customer's trackers (nor a live
/// milestone promotion).
pub const NO_TRACKER: &str = "This customer has no tracker of that promotion; nothing was changed.";

/// Sets the customer's progress on a promotion's tracker in its current window, with the
/// reason, audited (`tracker.corrected`), in one transaction with the customer's row taken.
/// Crossing the milestone's target earns the promotion now, as an event would. `NotFound`
/// for another org's customer; `Ok(Err(errors))` (fields `progress`, `reason`, `promotion`)
/// when nothing was changed.
#[tracing::instrument(name = "app.correct_tracker", skip_all, fields(org = org_id.get(), customer = customer_id.get()))]
pub async fn correct_tracker(
    store: &Store,
    org_id: OrgId,
    customer_id: CustomerId,
    input: &CorrectionInput,
    actor: &Actor,
    now: DateTime<Utc>,
) -> StoreResult<Result<Corrected, FieldErrors>> {
    let customer = store
        .customer_card(org_id, customer_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let org = store.get_org(org_id).await?;
    let (tz, currency, digits) = (
        org.time_zone.0,
        org.currency.code(),
        org.currency.minor_digits(),
    );
    let mut errors = FieldErrors::default();
    let record = match store
        .get_promotion(org_id, PromotionId(input.promotion_id))
        .await
    {
        Ok(r) => Some(r),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e),
    };
    let Some((record, (rule, milestone))) = record
        .as_ref()
        .and_then(|r| milestone_of(&r.promotion).map(|m| (r, m)))
    else {
        errors.push("promotion", NO_TRACKER);
        return Ok(Err(errors));
    };
    let p = &record.promotion;
    let after = parse_progress(milestone.measure, &input.progress, digits)
        .map_err(|m| errors.push("progress", m))
        .ok();
    let reason = parse_reason(&input.reason)
        .map_err(|m| errors.push("reason", m))
        .ok();
    let window = current_window(rule, now, tz).unwrap_or_default();
    if input.window != window {
        errors.push(
            "promotion",
            format!(
                "The tracker's window is now {}; nothing was changed. Check the progress shown and correct it again.",
                window_words(&window)
            ),
        );
    }
    let (Some(after), Some(reason)) = (after, reason) else {
        return Ok(Err(errors));
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let words = |n: i64| measure_text(rule, milestone.measure, n, currency, digits);

    let mut tx = store.begin().await?;
    lock_customer(&mut tx, customer_id).await?;
    // A live promotion's tracker may be started by a correction; others only corrected.
    if record.status != Status::Live && !has_tracker(&mut tx, org_id, p.id, customer_id).await? {
        errors.push("promotion", NO_TRACKER);
        return Ok(Err(errors));
    }
    let before = tracker_progress(&mut tx, p.id, customer_id, &window).await?;
    if input.seen.trim() != before.to_string() {
        errors.push(
            "promotion",
            format!(
                "The tracker of “{}” moved to {} since the page was shown (an event or another correction); nothing was changed. Check it and correct it again.",
                p.name,
                words(before)
            ),
        );
        return Ok(Err(errors));
    }
    if after == before {
        errors.push(
            "progress",
            format!("is what the tracker shows already ({})", words(before)),
        );
        return Ok(Err(errors));
    }
    set_tracker(&mut tx, org_id, p.id, customer_id, &window, after, now).await?;
    // Unique per source and promotion, so the hold is this correction's own.
    let reference = format!("correction:{}", correction_id());
    let earned = if !rule.crossed(after, after - before) {
        CorrectionEarned::Nothing
    } else if record.status != Status::Live
        || p.validity.starts > now
        || p.validity.ends.is_some_and(|end| now >= end)
    {
        CorrectionEarned::NotGiven("the promotion is not running now".into())
    } else {
        let grant = Grant {
            org_id,
            customer_id,
            source: "earned",
            reference: &reference,
            at: now,
            cost: (None, None),
        };
        match grant_hold(&mut tx, p, &grant, tz, now).await? {
            Ok(Some((hold_id, valid_till))) => CorrectionEarned::Held {
                hold_id,
                valid_till,
            },
            // The reference is new: a hold of it cannot exist already.
            Ok(None) => CorrectionEarned::Nothing,
            Err(refusal) => CorrectionEarned::NotGiven(refusal.to_string()),
        }
    };
    let earned_text = match &earned {
        CorrectionEarned::Held { .. } => " — the customer earned it".to_string(),
        CorrectionEarned::NotGiven(why) => format!(" — target reached but not earned: {why}"),
        CorrectionEarned::Nothing => String::new(),
    };
    let month = if window == "life" {
        String::new()
    } else {
        format!(" ({})", window_words(&window))
    };
    let change = change_text(rule, milestone.measure, (before, after), currency, digits);
    let mut details = serde_json::json!({
        "promotion": p.name,
        "promotion_id": p.id,
        "window": window,
        "measure": match milestone.measure {
            Measure::Count => "count",
            Measure::Sum => "sum",
        },
        "before": before,
        "after": after,
        "reason": reason,
    });
    if let CorrectionEarned::Held { hold_id, .. } = earned {
        details["earned_hold"] = hold_id.into();
    }
    record_dyn(
        &mut tx,
        AuditEntry {
            org_id,
            actor,
            action: "tracker.corrected",
            entity_type: "customer",
            entity_id: Some(customer_id.get()),
            summary: format!(
                "Tracker of “{}”{month} for {} {} corrected {change}{earned_text}",
                p.name, customer.identifier_type, customer.identifier,
            ),
            details: Some(details.to_string()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Corrected {
        promotion: p.name.clone(),
        window,
        change,
        earned,
    }))
}

/// A fresh id for a correction's hold reference (unique per source and promotion).
fn correction_id() -> String {
    use rand::RngExt;
    let n: u64 = rand::rng().random();
    format!("{n:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_box_reads_the_text_as_each_kind_of_identifier() {
        let s = search_terms(" 98000 00001 ").unwrap();
        assert_eq!(s.mobile.as_deref(), Some("9800000001"));
        assert_eq!(s.email, None);
        assert_eq!(s.external_id.as_deref(), Some("98000 00001"));
        let s = search_terms("Asha@Example.com").unwrap();
        assert_eq!(s.mobile, None);
        assert_eq!(s.email.as_deref(), Some("asha@example.com"));
        assert_eq!(s.external_id.as_deref(), Some("Asha@Example.com"));
        let s = search_terms("LOYALTY-7").unwrap();
        assert_eq!((s.mobile, s.email), (None, None));
        assert_eq!(s.external_id.as_deref(), Some("LOYALTY-7"));
        assert!(search_terms("   ").is_err());
        assert!(search_terms(&"x".repeat(65)).is_err());
    }
}
