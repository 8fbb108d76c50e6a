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
//! - **Maximum per customer**: how many times one customer may earn (or acquire) it — in all,
//!   or within the current cycle of its reset period (the seed's five periods, as for the
//!   promotion's limits), counted by when the customer got it.
//! - **Messages** (seed 003 "Communication"): on earning or acquiring (earned and reward
//!   promotions only), and a reminder N days before the window ends, at 10:00 org time, when
//!   the customer has not used it since. Each goes once per hold, through the outbox, to the
//!   chosen channel (the customer's preferred one by default).

use super::period::{Period, local_midnight};
use crate::domain::contacts::Reach;
use crate::domain::offer::Channel;
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
    /// When the maximum per customer starts again; `None`: it counts over the promotion's life.
    #[serde(default)]
    pub max_per_customer_reset: Option<Period>,
    /// What earns it (earned promotions only).
    #[serde(default)]
    pub earning: Option<Earning>,
    /// The messages the customer gets.
    #[serde(default)]
    pub messages: HoldMessages,
}

/// Placeholders the texts of a held promotion's messages may use.
pub const HOLD_PLACEHOLDERS: &[&str] = &["first_name", "promotion", "valid_till", "brand"];

/// What a customer is told about a promotion they hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct HoldMessages {
    #[serde(default)]
    pub channel: MessageChannel,
    /// Sent when the customer earns or acquires it (earned and reward promotions only).
    #[serde(default)]
    pub on_earning: Option<String>,
    /// Sent `days_before` days before the window's last day (0: on the last day), at 10:00.
    #[serde(default)]
    pub reminder: Option<HoldReminder>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct HoldReminder {
    pub days_before: u32,
    pub text: String,
}

/// Where a held promotion's messages go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MessageChannel {
    /// The customer's preferred channel; else SMS to their mobile, else email.
    #[default]
    Preferred,
    Sms,
    Email,
    /// A POST to the push webhook (`PUSH_WEBHOOK_URL`) naming the customer.
    Push,
}

impl MessageChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageChannel::Preferred => "preferred",
            MessageChannel::Sms => "sms",
            MessageChannel::Email => "email",
            MessageChannel::Push => "push",
        }
    }
}

/// The outbox channel (`sms`, `email`, `push`) and recipient of a message sent by `channel`
/// to a customer reached as `reach`; `None` when they cannot be reached that way. Push names
/// the customer by their identifier (an external id, a mobile or an email).
pub fn route(channel: MessageChannel, reach: &Reach) -> Option<(&'static str, String)> {
    let by = |c: Channel| reach.address(c).map(|a| (c.as_str(), a.to_string()));
    match channel {
        MessageChannel::Sms => by(Channel::Sms),
        MessageChannel::Email => by(Channel::Email),
        MessageChannel::Push => Some(("push", reach.identifier.value.clone())),
        MessageChannel::Preferred => reach
            .destination()
            .map(|(c, a)| (c.as_str(), a.to_string())),
    }
}

/// A message's text with its placeholders filled; `{first_name}` is taken out (with the space
/// or comma that joined it) when the name is not known.
pub fn fill(
    text: &str,
    first_name: Option<&str>,
    promotion: &str,
    valid_till: &str,
    brand: &str,
) -> String {
    // The customer's name goes in last, so a name that looks like a placeholder stays as it is.
    let filled = text
        .replace("{promotion}", promotion)
        .replace("{valid_till}", valid_till)
        .replace("{brand}", brand);
    match first_name.filter(|n| !n.trim().is_empty()) {
        Some(n) => filled.replace("{first_name}", n),
        None => crate::domain::offer::without_first_name(&filled),
    }
}

/// What is wrong with a message text, if anything: blank, over 1,000 characters, or a
/// placeholder other than `HOLD_PLACEHOLDERS`.
pub fn text_problem(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() || text.chars().count() > 1000 {
        return Some("message texts must be 1 to 1,000 characters");
    }
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Some("a message text has a `{` without a closing `}`");
        };
        if !HOLD_PLACEHOLDERS.contains(&&after[..close]) {
            return Some(
                "message texts may use only {first_name}, {promotion}, {valid_till} and {brand}",
            );
        }
        rest = &after[close + 1..];
    }
    None
}

/// The local day on which a reminder `days_before` the window's last day is sent, for a hold
/// that ends (exclusive) at `valid_till`.
pub fn reminder_day(valid_till: DateTime<Utc>, days_before: u32, tz: Tz) -> chrono::NaiveDate {
    // The last day held is the local day of the instant just before the end.
    let last = (valid_till - chrono::Duration::seconds(1))
        .with_timezone(&tz)
        .date_naive();
    last.checked_sub_days(Days::new(u64::from(days_before)))
        .unwrap_or(last)
}

/// The last day a hold ending (exclusive) at `valid_till` is usable, as a person reads it.
pub fn last_day(valid_till: DateTime<Utc>, tz: Tz) -> chrono::NaiveDate {
    reminder_day(valid_till, 0, tz)
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

/// Which other holds count against the maximum per customer for a hold got at `at`: those got
/// within the reset period's cycle around `at` (`[start, end)`; a backfilled event counts in
/// its own cycle, not in a later one), or `None` (all of them).
pub fn counted_window(
    h: &Holding,
    at: DateTime<Utc>,
    tz: Tz,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    h.max_per_customer_reset.map(|p| p.window(at, tz))
}

/// Whether a customer who has had the promotion `had` times (within `counted_window`) may get
/// it again.
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

    #[test]
    fn a_message_goes_to_the_chosen_channel_or_the_preferred_one() {
        use crate::domain::issue::CustomerRef;
        use crate::domain::masters::IdentifierType;
        let by_mobile = Reach::identified_by(CustomerRef {
            kind: IdentifierType::Mobile,
            value: "9800000001".into(),
        });
        let prefers_email = Reach {
            email: Some("asha@example.com".into()),
            preferred: Some(Channel::Email),
            ..by_mobile.clone()
        };
        let external = Reach::identified_by(CustomerRef {
            kind: IdentifierType::ExternalId,
            value: "LOYAL-7".into(),
        });
        let to = |c: &str, r: &str| Some((c.to_string(), r.to_string()));
        let route_s = |ch, reach: &Reach| route(ch, reach).map(|(c, r)| (c.to_string(), r));
        // (channel, customer) → where it goes
        let table = [
            (
                MessageChannel::Preferred,
                &by_mobile,
                to("sms", "9800000001"),
            ),
            (
                MessageChannel::Preferred,
                &prefers_email,
                to("email", "asha@example.com"),
            ),
            (MessageChannel::Sms, &prefers_email, to("sms", "9800000001")),
            (MessageChannel::Email, &by_mobile, None),
            (MessageChannel::Preferred, &external, None),
            (MessageChannel::Push, &external, to("push", "LOYAL-7")),
        ];
        for (channel, reach, expected) in table {
            assert_eq!(route_s(channel, reach), expected, "{channel:?} {reach:?}");
        }
    }

    #[test]
    fn placeholders_are_filled_and_an_unknown_name_leaves_no_gap() {
        let text = "Hi {first_name}, {promotion} is yours until {valid_till} at {brand}.";
        assert_eq!(
            fill(text, Some("Asha"), "10% off", "2 Dec 2026", "Acme"),
            "Hi Asha, 10% off is yours until 2 Dec 2026 at Acme."
        );
        assert_eq!(
            fill(text, None, "10% off", "2 Dec 2026", "Acme"),
            "Hi, 10% off is yours until 2 Dec 2026 at Acme."
        );
        assert_eq!(text_problem(text), None);
        assert!(text_problem("Your {code}").is_some());
        assert!(text_problem("Broken {promotion").is_some());
        assert!(text_problem("  ").is_some());
    }

    #[test]
    fn a_reminder_day_counts_back_from_the_last_day_held() {
        let kolkata = chrono_tz::Asia::Kolkata;
        // Held until 3 Dec 00:00 IST: the last day is 2 Dec; 1 day before is 1 Dec.
        let till = at("2026-12-02T18:30:00Z");
        let d = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(last_day(till, kolkata), d(2026, 12, 2));
        assert_eq!(reminder_day(till, 1, kolkata), d(2026, 12, 1));
        // Across a month end.
        assert_eq!(reminder_day(till, 3, kolkata), d(2026, 11, 29));
    }

    #[test]
    fn the_earning_limit_counts_from_the_reset_cycle_start() {
        let monthly = Holding {
            max_per_customer: Some(1),
            max_per_customer_reset: Some(Period::CalendarMonth),
            ..Holding::default()
        };
        let kolkata = chrono_tz::Asia::Kolkata;
        // 31 Oct 20:00 UTC is 1 Nov in Kolkata: November's cycle, 1 Nov to 1 Dec 00:00 IST.
        assert_eq!(
            counted_window(&monthly, at("2026-10-31T20:00:00Z"), kolkata),
            Some((at("2026-10-31T18:30:00Z"), at("2026-11-30T18:30:00Z")))
        );
        assert_eq!(
            counted_window(&Holding::default(), at("2026-10-31T20:00:00Z"), kolkata),
            None
        );
    }
}
