//! Reset periods of usage limits: pure calendar arithmetic in the org's time zone. The store
//! counts the uses recorded inside `Period::window` and passes what is left to the engine.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono::{Days, Months, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// When a limit's counter starts again (seed: "Reset periods").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Period {
    /// Cycles of `days` local days, counted forward (and backward) from the local midnight
    /// starting `anchor`.
    EveryDays { days: u32, anchor: NaiveDate },
    /// Cycles of `weeks` weeks, each starting at local midnight on `weekday`; the cycles are
    /// aligned on the last `weekday` on or before `anchor` (e.g. the launch date), which
    /// matters only when `weeks` > 1.
    EveryWeeks {
        weeks: u32,
        weekday: Weekday,
        anchor: NaiveDate,
    },
    /// From local midnight on the 1st of the month to the 1st of the next month.
    CalendarMonth,
    /// Rolling: uses of the last `days` days, to the instant. The window starts at the same
    /// local wall-clock time `days` days ago (a DST change does not shift it by an hour).
    LastDays { days: u32 },
    /// Rolling by whole Sunday–Saturday weeks: the current week and the `weeks − 1` weeks
    /// before it; the oldest week drops out when a new week starts on Sunday.
    LastWeeks { weeks: u32 },
}

/// The UTC instant of a local date-time in `tz`: the earlier one when the clock goes back
/// (ambiguous), the first valid quarter hour after a gap when it jumps forward.
pub fn local_to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => (1..=12)
            .find_map(|q| {
                tz.from_local_datetime(&(local + Duration::minutes(15 * q)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| local.and_utc()),
    }
}

/// The instant the local day `date` starts in `tz`.
pub fn local_midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    local_to_utc(date.and_time(chrono::NaiveTime::MIN), tz)
}

/// `date` moved by `days` days (either way), clamped to the calendar's range.
fn shift(date: NaiveDate, days: i64) -> NaiveDate {
    let moved = if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    moved.unwrap_or(if days >= 0 {
        NaiveDate::MAX
    } else {
        NaiveDate::MIN
    })
}

/// The cycle of `len` days (aligned on `anchor`) that contains `today`: (first day, first day
/// of the next cycle).
fn cycle(today: NaiveDate, anchor: NaiveDate, len: i64) -> (NaiveDate, NaiveDate) {
    let len = len.max(1);
    let k = (today - anchor).num_days().div_euclid(len);
    let start = shift(anchor, k.saturating_mul(len));
    (start, shift(start, len))
}

impl Period {
    /// The current counting window `[start, end)` at `now`: uses recorded at instants inside
    /// it count against the limit. Fixed cycles end at the next reset; the rolling `LastDays`
    /// window ends at the next local midnight (after `now`, so a use recorded by a clock a
    /// little ahead still counts).
    pub fn window(&self, now: DateTime<Utc>, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let local = now.with_timezone(&tz).naive_local();
        let today = local.date();
        let days = |(a, b): (NaiveDate, NaiveDate)| (local_midnight(a, tz), local_midnight(b, tz));
        match *self {
            Period::EveryDays { days: n, anchor } => days(cycle(today, anchor, i64::from(n))),
            Period::EveryWeeks {
                weeks,
                weekday,
                anchor,
            } => {
                let back = (7 + anchor.weekday().num_days_from_monday()
                    - weekday.num_days_from_monday())
                    % 7;
                let first = shift(anchor, -i64::from(back));
                days(cycle(today, first, 7 * i64::from(weeks.max(1))))
            }
            Period::CalendarMonth => {
                let first = today.with_day(1).unwrap_or(today);
                let next = first
                    .checked_add_months(Months::new(1))
                    .unwrap_or(NaiveDate::MAX);
                days((first, next))
            }
            Period::LastDays { days: n } => {
                let start = local
                    .checked_sub_days(Days::new(u64::from(n)))
                    .unwrap_or(NaiveDateTime::MIN);
                (local_to_utc(start, tz), local_midnight(shift(today, 1), tz))
            }
            Period::LastWeeks { weeks } => {
                let sunday = shift(today, -i64::from(today.weekday().num_days_from_sunday()));
                let first = shift(sunday, -7 * (i64::from(weeks.max(1)) - 1));
                days((first, shift(sunday, 7)))
            }
        }
    }
}
