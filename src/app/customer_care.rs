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
use crate::domain::money::{format_amount, format_count, parse_amount};
use crate::domain::promotion::holding::{Activity, Earning, Measure, Milestone};
use crate::domain::promotion::{Kind, Promotion, Status};
use crate::domain::user::Actor;
use crate::domain::wallet::WalletCoupon;
use crate::store::audit::{AuditEntry, record_dyn};
use crate::store::customer_view::{
    CustomerCard, CustomerSearch, EventRow, HeldRow, RedemptionRow, has_tracker, set_tracker,
    tracker_progress,
};
use crate::store::holds::lock_customer;
use crate::store::{Store, StoreError, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap};

/// The longest reason a correction keeps.
pub const REASON_MAX: usize = 500;
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

/// An earned promotion's milestone: what earns it and the tracker's goal; `None` for any other
/// promotion.
pub fn milestone_of(p: &Promotion) -> Option<(&Earning, Milestone)> {
    if !matches!(p.kind, Kind::Earned) {
        return None;
    }
    let rule = p.holding.earning.as_ref()?;
    rule.milestone.map(|m| (rule, m))
}

/// The key of the tracker window `now` falls in (`life`, or the month in the org's zone:
/// `2026-11`), as an event at `now` would advance it.
pub fn current_window(rule: &Earning, now: DateTime<Utc>, tz: Tz) -> Option<String> {
    let none = BTreeMap::new();
    let at_now = Activity {
        kind: &rule.event,
        amount: None,
        attributes: &none,
        at: now,
    };
    rule.tracker_step(&at_now, tz).map(|(key, _)| key)
}

/// A window in words: "over the promotion's life", "Nov 2026".
pub fn window_words(key: &str) -> String {
    match NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d") {
        Ok(first) => first.format("%b %Y").to_string(),
        Err(_) => "over the promotion's life".into(),
    }
}

/// What a tracker counts in words, for `n` of them: "3 transactions", "1 registration",
/// "2 `app_open` events"; sums are amounts of the org's currency.
pub fn measure_text(
    rule: &Earning,
    measure: Measure,
    n: i64,
    currency: &str,
    digits: u32,
) -> String {
    match measure {
        Measure::Sum => format_amount(n, currency, digits),
        Measure::Count => {
            let (one, many) = match rule.event.as_str() {
                "transaction" => ("transaction", "transactions"),
                "registration" => ("registration", "registrations"),
                "profile_update" => ("profile update", "profile updates"),
                other => return format!("{} {other} event{}", format_count(n), plural_s(n)),
            };
            format!("{} {}", format_count(n), if n == 1 { one } else { many })
        }
    }
}

fn plural_s(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A corrected progress as typed: a whole count, or an amount of the org's currency ("6000",
/// "6,000.50"); 0 or more.
pub fn parse_progress(measure: Measure, raw: &str, digits: u32) -> Result<i64, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err("is required".into());
    }
    if t.starts_with('-') {
        return Err("must be 0 or more".into());
    }
    match measure {
        Measure::Count => t
            .replace(',', "")
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=1_000_000_000).contains(n))
            .ok_or_else(|| "must be a whole number such as 3".into()),
        Measure::Sum => {
            if t.chars().all(|c| matches!(c, '0' | '.' | ',')) && t.contains('0') {
                return Ok(0);
            }
            parse_amount("progress", t, digits).map_err(|e| e.message)
        }
    }
}

/// Why a tracker is corrected, as typed: required, at most [`REASON_MAX`] characters.
pub fn parse_reason(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err("is required: say why the progress is corrected".into());
    }
    if t.chars().count() > REASON_MAX {
        return Err(format!("must be at most {REASON_MAX} characters"));
    }
    Ok(t.to_string())
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

/// The customer's trackers of earned promotions that still have a milestone, by promotion.
async fn trackers(
    store: &Store,
    org_id: OrgId,
    id: CustomerId,
    now: DateTime<Utc>,
    tz: Tz,
) -> StoreResult<Vec<TrackerView>> {
    let rows = store.customer_trackers(org_id, id).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
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
            out.push(TrackerView {
                promotion_id: row.promotion_id,
                name: record.promotion.name.clone(),
                status: record.status,
                rule: rule.clone(),
                milestone,
                window: window.clone(),
                progress: 0,
                past: Vec::new(),
                updated_at: None,
            });
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
    Ok(out)
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

/// The message when the posted promotion is not one of the customer's trackers.
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
    if !has_tracker(&mut tx, org_id, p.id, customer_id).await? {
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

/// A correction in words: "from 2 to 3 transactions", "from ₹6,000 to ₹10,000".
pub fn change_text(
    rule: &Earning,
    measure: Measure,
    (before, after): (i64, i64),
    currency: &str,
    digits: u32,
) -> String {
    let words = |n| measure_text(rule, measure, n, currency, digits);
    match measure {
        Measure::Count => format!("from {} to {}", format_count(before), words(after)),
        Measure::Sum => format!("from {} to {}", words(before), words(after)),
    }
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
    use crate::domain::promotion::holding::TrackerWindow;

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

    #[test]
    fn a_corrected_progress_is_a_count_or_an_amount_of_zero_or_more() {
        assert_eq!(parse_progress(Measure::Count, " 3 ", 2), Ok(3));
        assert_eq!(parse_progress(Measure::Count, "0", 2), Ok(0));
        assert_eq!(parse_progress(Measure::Count, "1,200", 2), Ok(1200));
        assert!(parse_progress(Measure::Count, "2.5", 2).is_err());
        assert!(parse_progress(Measure::Count, "-1", 2).is_err());
        assert!(parse_progress(Measure::Count, "three", 2).is_err());
        assert!(parse_progress(Measure::Count, "", 2).is_err());
        assert_eq!(parse_progress(Measure::Sum, "6,000", 2), Ok(600_000));
        assert_eq!(parse_progress(Measure::Sum, "6000.5", 2), Ok(600_050));
        assert_eq!(parse_progress(Measure::Sum, "0.00", 2), Ok(0));
        assert!(parse_progress(Measure::Sum, "-5", 2).is_err());
        assert!(parse_progress(Measure::Sum, "5.123", 2).is_err());
        assert!(parse_progress(Measure::Sum, "lots", 2).is_err());
    }

    #[test]
    fn a_reason_is_required_and_bounded() {
        assert!(parse_reason("  ").is_err());
        assert_eq!(parse_reason(" missed scan "), Ok("missed scan".into()));
        assert!(parse_reason(&"x".repeat(REASON_MAX + 1)).is_err());
    }

    #[test]
    fn windows_and_measures_read_as_words() {
        assert_eq!(window_words("2026-11"), "Nov 2026");
        assert_eq!(window_words("life"), "over the promotion's life");
        let rule = |event: &str| Earning {
            event: event.into(),
            ..Earning::default()
        };
        let count = |e: &str, n| measure_text(&rule(e), Measure::Count, n, "INR", 2);
        assert_eq!(count("transaction", 3), "3 transactions");
        assert_eq!(count("transaction", 1), "1 transaction");
        assert_eq!(count("app_open", 2), "2 app_open events");
        assert_eq!(
            measure_text(&rule("transaction"), Measure::Sum, 600_000, "INR", 2),
            "₹6,000"
        );
        let change = |m, b, a| change_text(&rule("transaction"), m, (b, a), "INR", 2);
        assert_eq!(change(Measure::Count, 1, 2), "from 1 to 2 transactions");
        assert_eq!(change(Measure::Count, 2, 1), "from 2 to 1 transaction");
        assert_eq!(
            change(Measure::Sum, 600_000, 1_000_000),
            "from ₹6,000 to ₹10,000"
        );
    }

    #[test]
    fn the_current_window_is_the_month_in_the_orgs_zone() {
        let monthly = Earning {
            event: "transaction".into(),
            milestone: Some(Milestone {
                measure: Measure::Count,
                target: 5,
                window: TrackerWindow::CalendarMonth,
            }),
            ..Earning::default()
        };
        // 30 Nov 20:00 UTC is 1 Dec in Kolkata.
        let at = DateTime::parse_from_rfc3339("2026-11-30T20:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            current_window(&monthly, at, chrono_tz::Asia::Kolkata).as_deref(),
            Some("2026-12")
        );
        assert_eq!(
            current_window(&monthly, at, chrono_tz::UTC).as_deref(),
            Some("2026-11")
        );
        let life = Earning {
            milestone: Some(Milestone {
                window: TrackerWindow::Life,
                ..monthly.milestone.unwrap()
            }),
            ..monthly.clone()
        };
        assert_eq!(
            current_window(&life, at, chrono_tz::UTC).as_deref(),
            Some("life")
        );
        assert_eq!(
            current_window(&Earning::default(), at, chrono_tz::UTC),
            None
        );
    }
}
