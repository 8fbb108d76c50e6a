//! A customer's tracker as a CSM reads and corrects it (issue #17): the milestone of an earned
//! promotion, the window an event now would advance, the progress and reason typed into a
//! correction, and the words for windows and measures. Pure; the flows are
//! `app::customer_care`.

use super::money::{format_amount, format_count, parse_amount};
use super::promotion::holding::{Activity, Earning, Measure, Milestone};
use super::promotion::{Kind, Promotion};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::BTreeMap;

/// The longest reason a correction keeps.
pub const REASON_MAX: usize = 500;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::promotion::holding::TrackerWindow;

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
