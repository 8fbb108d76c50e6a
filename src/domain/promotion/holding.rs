//! Earned and reward promotions (seed 003): what earns one (a single activity, or a milestone
//! of a tracker), how long the customer holds it (the redemption window), and how often one
//! customer may get it. Pure; the flows are `app::holds`.
//!
//! - **Redemption window**: N days, the day of earning counting as day 1, in the org's time
//!   zone: a promotion earned at 18:00 on 30 Nov with a 3-day window is held until the local
//!   midnight that ends 2 Dec. Never past the promotion's end. No window: held until the
//!   promotion ends.
//! - **Single activity**: an event of the promotion's type whose amount is at least the
//!   minimum (when one is set) and whose attributes carry each required value earns it.
//! - **Milestone**: each matching event adds 1 (count) or its amount (sum) to the customer's
//!   tracker — over the promotion's life or per calendar month (org time zone) — and the event
//!   that takes the tracker from below the target to the target or above earns it. Tracker
//!   updates are atomic, so of two concurrent events exactly one crosses.
//! - **Maximum per customer**: how many times one customer may earn (or acquire) it in all.

use super::period::local_midnight;
use chrono::{DateTime, Datelike, Days, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How an earned or reward promotion is held, and what earns an earned one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Holding {
    /// Days the customer has to use it after getting it (that day is day 1); `None`: until the
    /// promotion ends.
    #[serde(default)]
    pub window_days: Option<u32>,
    /// How many times one customer may earn or acquire it; `None`: no limit.
    #[serde(default)]
    pub max_per_customer: Option<u32>,
    /// What earns it (earned promotions only).
    #[serde(default)]
    pub earning: Option<Earning>,
}

/// What earns an earned promotion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Earning {
    /// The event type: `transaction`, `registration`, `profile_update` or a custom name.
    pub event: String,
    /// The event's amount must be at least this (minor units).
    #[serde(default)]
    pub min_amount: Option<i64>,
    /// Attributes the event must carry with these values.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Earned on reaching a tracker's target instead of by one event.
    #[serde(default)]
    pub milestone: Option<Milestone>,
}

/// A tracker's goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct Milestone {
    pub measure: Measure,
    /// The count of events, or the sum of their amounts (minor units), that earns it.
    pub target: i64,
    #[serde(default)]
    pub window: TrackerWindow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Measure {
    /// Each matching event adds 1 ("the 5th visit").
    Count,
    /// Each matching event adds its amount ("₹10,000 spent this month").
    Sum,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TrackerWindow {
    /// Over the promotion's life.
    #[default]
    Life,
    /// Per calendar month in the org's time zone.
    CalendarMonth,
}

/// A customer's activity as the earning rules read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity<'a> {
    pub kind: &'a str,
    pub amount: Option<i64>,
    pub attributes: &'a BTreeMap<String, String>,
    pub at: DateTime<Utc>,
}

impl Earning {
    /// Whether an event counts for this earning (its type, minimum amount and attributes).
    pub fn matches(&self, a: &Activity) -> bool {
        a.kind == self.event
            && self
                .min_amount
                .is_none_or(|min| a.amount.is_some_and(|x| x >= min))
            && self
                .attributes
                .iter()
                .all(|(k, v)| a.attributes.get(k) == Some(v))
    }

    /// The tracker an event adds to: its window's key (`life` or `2026-11`) and what it adds.
    pub fn tracker_step(&self, a: &Activity, tz: Tz) -> Option<(String, i64)> {
        let m = self.milestone?;
        let key = match m.window {
            TrackerWindow::Life => "life".to_string(),
            TrackerWindow::CalendarMonth => {
                let d = a.at.with_timezone(&tz).date_naive();
                format!("{:04}-{:02}", d.year(), d.month())
            }
        };
        let step = match m.measure {
            Measure::Count => 1,
            Measure::Sum => a.amount.unwrap_or(0).max(0),
        };
        Some((key, step))
    }

    /// Whether a tracker that went from `after - step` to `after` crossed the target.
    pub fn crossed(&self, after: i64, step: i64) -> bool {
        self.milestone
            .is_some_and(|m| step > 0 && after - step < m.target && after >= m.target)
    }
}

/// Until when (exclusive) a promotion got at `at` is held: the local midnight ending day N of
/// the window (the day of getting it is day 1), never past the promotion's end; `None` when
/// neither bounds it.
pub fn held_until(
    at: DateTime<Utc>,
    window_days: Option<u32>,
    promotion_ends: Option<DateTime<Utc>>,
    tz: Tz,
) -> Option<DateTime<Utc>> {
    let window_end = window_days.map(|n| {
        let first = at.with_timezone(&tz).date_naive();
        let after_last = first
            .checked_add_days(Days::new(u64::from(n.max(1))))
            .unwrap_or(first);
        local_midnight(after_last, tz)
    });
    match (window_end, promotion_ends) {
        (Some(w), Some(e)) => Some(w.min(e)),
        (w, e) => w.or(e),
    }
}

/// Why a customer does not get a promotion now; `to_string()` is what a person reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoldRefusal {
    #[error("the customer has had this promotion {0} times, the most allowed")]
    MaxPerCustomer(u32),
    #[error("the promotion is not live")]
    NotLive,
    #[error("the promotion has ended")]
    Ended,
}

/// Whether a customer who has had the promotion `had` times may get it again.
pub fn may_hold(h: &Holding, had: i64) -> Result<(), HoldRefusal> {
    match h.max_per_customer {
        Some(max) if had >= i64::from(max) => Err(HoldRefusal::MaxPerCustomer(max)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_window_counts_the_day_of_earning_as_day_one_in_the_orgs_zone() {
        let kolkata = chrono_tz::Asia::Kolkata;
        // 30 Nov 18:00 IST (12:30 UTC), 3 days: held through 2 Dec IST, until 3 Dec 00:00 IST.
        let got = at("2026-11-30T12:30:00Z");
        assert_eq!(
            held_until(got, Some(3), None, kolkata),
            Some(at("2026-12-02T18:30:00Z"))
        );
        // 23:30 UTC on 30 Nov is already 1 Dec in Kolkata: day 1 is 1 Dec.
        assert_eq!(
            held_until(at("2026-11-30T23:30:00Z"), Some(1), None, kolkata),
            Some(at("2026-12-01T18:30:00Z"))
        );
        // Across a month end and a year end.
        assert_eq!(
            held_until(at("2026-12-30T06:00:00Z"), Some(5), None, chrono_tz::UTC),
            Some(at("2027-01-04T00:00:00Z"))
        );
        // Never past the promotion's end; no window: until it ends.
        let end = at("2026-12-01T00:00:00Z");
        assert_eq!(held_until(got, Some(30), Some(end), kolkata), Some(end));
        assert_eq!(held_until(got, None, Some(end), kolkata), Some(end));
        assert_eq!(held_until(got, None, None, kolkata), None);
    }

    #[test]
    fn an_activity_matches_by_type_amount_and_attributes() {
        let e = Earning {
            event: "transaction".into(),
            min_amount: Some(200_000),
            attributes: BTreeMap::from([("channel".to_string(), "app".to_string())]),
            milestone: None,
        };
        let app = BTreeMap::from([("channel".to_string(), "app".to_string())]);
        let web = BTreeMap::from([("channel".to_string(), "web".to_string())]);
        let when = at("2026-11-30T10:00:00Z");
        let act = |kind, amount, attributes| Activity {
            kind,
            amount,
            attributes,
            at: when,
        };
        assert!(e.matches(&act("transaction", Some(200_000), &app)));
        assert!(!e.matches(&act("transaction", Some(199_999), &app)));
        assert!(!e.matches(&act("transaction", None, &app)));
        assert!(!e.matches(&act("transaction", Some(500_000), &web)));
        assert!(!e.matches(&act("registration", Some(500_000), &app)));
    }

    #[test]
    fn a_milestone_is_crossed_once_per_window() {
        let fifth_visit = Earning {
            event: "transaction".into(),
            milestone: Some(Milestone {
                measure: Measure::Count,
                target: 5,
                window: TrackerWindow::Life,
            }),
            ..Earning::default()
        };
        // (tracker after the event, the event's step) → earns
        for (after, step, earns) in [(4, 1, false), (5, 1, true), (6, 1, false), (5, 0, false)] {
            assert_eq!(fifth_visit.crossed(after, step), earns, "{after} {step}");
        }
        let monthly = Earning {
            event: "transaction".into(),
            milestone: Some(Milestone {
                measure: Measure::Sum,
                target: 1_000_000,
                window: TrackerWindow::CalendarMonth,
            }),
            ..Earning::default()
        };
        let none = BTreeMap::new();
        // 31 Jan 20:00 UTC is 1 Feb in Kolkata: the February tracker.
        let a = Activity {
            kind: "transaction",
            amount: Some(600_000),
            attributes: &none,
            at: at("2027-01-31T20:00:00Z"),
        };
        assert_eq!(
            monthly.tracker_step(&a, chrono_tz::Asia::Kolkata),
            Some(("2027-02".to_string(), 600_000))
        );
        assert_eq!(
            monthly.tracker_step(&a, chrono_tz::UTC),
            Some(("2027-01".to_string(), 600_000))
        );
        // 600,000 then 500,000: the second crosses 1,000,000.
        assert!(!monthly.crossed(600_000, 600_000));
        assert!(monthly.crossed(1_100_000, 500_000));
    }

    #[test]
    fn the_maximum_per_customer_counts_every_earning() {
        let once = Holding {
            max_per_customer: Some(1),
            ..Holding::default()
        };
        assert_eq!(may_hold(&once, 0), Ok(()));
        assert_eq!(may_hold(&once, 1), Err(HoldRefusal::MaxPerCustomer(1)));
        assert_eq!(may_hold(&Holding::default(), 99), Ok(()));
    }
}
