//! Reset periods: the counting window at an instant, in India (no DST) and Berlin (DST).

use super::*;
use chrono::Weekday;

const BERLIN: Tz = chrono_tz::Europe::Berlin;

fn local(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// (period, zone, now, expected start, expected end)
type Case = (Period, Tz, DateTime<Utc>, DateTime<Utc>, DateTime<Utc>);

fn check(cases: Vec<Case>) {
    for (period, tz, now, start, end) in cases {
        let window = period.window(now, tz);
        assert_eq!(window, (start, end), "{period:?} at {now} in {tz}");
        assert!(window.0 <= now && now < window.1, "{period:?} contains now");
    }
}

#[test]
fn every_x_days_from_an_anchor_date() {
    let week = Period::EveryDays {
        days: 7,
        anchor: date(2026, 6, 1),
    };
    let i = |m, d| local(IST, 2026, m, d, 0, 0);
    check(vec![
        (week, IST, ist(2026, 6, 1, 0, 0), i(6, 1), i(6, 8)),
        (week, IST, ist(2026, 6, 7, 23, 59), i(6, 1), i(6, 8)),
        (week, IST, ist(2026, 6, 9, 10, 0), i(6, 8), i(6, 15)),
        (week, IST, ist(2026, 6, 30, 10, 0), i(6, 29), i(7, 6)),
        // Before the anchor, cycles count backwards.
        (week, IST, ist(2026, 5, 30, 10, 0), i(5, 25), i(6, 1)),
        // One-day cycles across Berlin's spring change last 23 hours.
        (
            Period::EveryDays {
                days: 1,
                anchor: date(2026, 1, 1),
            },
            BERLIN,
            utc(2026, 3, 29, 12, 0),
            utc(2026, 3, 28, 23, 0),
            utc(2026, 3, 29, 22, 0),
        ),
        // 30-day cycles across the leap day of 2028.
        (
            Period::EveryDays {
                days: 30,
                anchor: date(2028, 2, 1),
            },
            IST,
            ist(2028, 3, 2, 9, 0),
            local(IST, 2028, 3, 2, 0, 0),
            local(IST, 2028, 4, 1, 0, 0),
        ),
        (
            Period::EveryDays {
                days: 30,
                anchor: date(2028, 2, 1),
            },
            IST,
            ist(2028, 3, 1, 23, 59),
            local(IST, 2028, 2, 1, 0, 0),
            local(IST, 2028, 3, 2, 0, 0),
        ),
    ]);
}

#[test]
fn every_n_weeks_from_a_chosen_weekday() {
    let mondays = Period::EveryWeeks {
        weeks: 1,
        weekday: Weekday::Mon,
        anchor: date(2026, 6, 3),
    };
    let fortnights = Period::EveryWeeks {
        weeks: 2,
        weekday: Weekday::Mon,
        anchor: date(2026, 6, 3), // a Wednesday: cycles start Monday 1 June
    };
    let i = |m, d| local(IST, 2026, m, d, 0, 0);
    let b = |m, d| local(BERLIN, 2026, m, d, 0, 0);
    check(vec![
        (mondays, IST, ist(2026, 6, 7, 23, 30), i(6, 1), i(6, 8)),
        (mondays, IST, ist(2026, 6, 8, 0, 0), i(6, 8), i(6, 15)),
        (mondays, IST, ist(2026, 5, 31, 12, 0), i(5, 25), i(6, 1)),
        (fortnights, IST, ist(2026, 6, 14, 12, 0), i(6, 1), i(6, 15)),
        (fortnights, IST, ist(2026, 6, 15, 0, 0), i(6, 15), i(6, 29)),
        (fortnights, IST, ist(2026, 7, 1, 12, 0), i(6, 29), i(7, 13)),
        // The week of Berlin's autumn change lasts 169 hours.
        (
            mondays,
            BERLIN,
            local(BERLIN, 2026, 10, 25, 12, 0),
            b(10, 19),
            b(10, 26),
        ),
    ]);
    let (start, end) = mondays.window(local(BERLIN, 2026, 10, 25, 12, 0), BERLIN);
    assert_eq!((end - start).num_hours(), 169);
}

#[test]
fn calendar_month() {
    let m = Period::CalendarMonth;
    let i = |y, mo, d| local(IST, y, mo, d, 0, 0);
    check(vec![
        (
            m,
            IST,
            ist(2026, 1, 31, 23, 59),
            i(2026, 1, 1),
            i(2026, 2, 1),
        ),
        // 20:00 UTC on 31 January is already 1 February in India.
        (
            m,
            IST,
            utc(2026, 1, 31, 20, 0),
            i(2026, 2, 1),
            i(2026, 3, 1),
        ),
        (
            m,
            IST,
            ist(2028, 2, 29, 12, 0),
            i(2028, 2, 1),
            i(2028, 3, 1),
        ),
        (
            m,
            IST,
            ist(2026, 12, 31, 12, 0),
            i(2026, 12, 1),
            i(2027, 1, 1),
        ),
        // March in Berlin starts in winter time and ends in summer time.
        (
            m,
            BERLIN,
            utc(2026, 3, 15, 12, 0),
            utc(2026, 2, 28, 23, 0),
            utc(2026, 3, 31, 22, 0),
        ),
    ]);
}

#[test]
fn last_x_days_rolls_to_the_instant() {
    let fortnight = Period::LastDays { days: 14 };
    check(vec![
        (
            fortnight,
            IST,
            ist(2026, 6, 15, 10, 0),
            ist(2026, 6, 1, 10, 0),
            local(IST, 2026, 6, 16, 0, 0),
        ),
        // Same wall-clock time 14 days before, across the spring change: 11:00 UTC (CET),
        // not 10:00.
        (
            fortnight,
            BERLIN,
            local(BERLIN, 2026, 4, 5, 12, 0),
            utc(2026, 3, 22, 11, 0),
            local(BERLIN, 2026, 4, 6, 0, 0),
        ),
        (
            Period::LastDays { days: 2 },
            IST,
            ist(2028, 3, 1, 12, 0),
            ist(2028, 2, 28, 12, 0),
            local(IST, 2028, 3, 2, 0, 0),
        ),
    ]);
    // A redemption 15 days ago no longer counts; one 13 days ago does.
    let (start, _) = fortnight.window(ist(2026, 6, 15, 10, 0), IST);
    assert!(ist(2026, 5, 31, 10, 0) < start && ist(2026, 6, 2, 10, 0) >= start);
}

#[test]
fn last_x_weeks_sunday_to_saturday() {
    let four = Period::LastWeeks { weeks: 4 };
    let i = |m, d| local(IST, 2026, m, d, 0, 0);
    check(vec![
        // Wednesday 10 June: this week began Sunday 7 June; three weeks before, 17 May.
        (four, IST, ist(2026, 6, 10, 12, 0), i(5, 17), i(6, 14)),
        (four, IST, ist(2026, 6, 13, 23, 59), i(5, 17), i(6, 14)),
        // Sunday: a new week, the oldest drops out.
        (four, IST, ist(2026, 6, 14, 0, 0), i(5, 24), i(6, 21)),
        (
            Period::LastWeeks { weeks: 1 },
            IST,
            ist(2026, 6, 14, 0, 0),
            i(6, 14),
            i(6, 21),
        ),
    ]);
}

#[test]
fn local_times_in_a_gap_or_an_overlap() {
    // 02:30 does not exist on 29 March 2026 in Berlin: the first valid quarter hour is 03:00
    // summer time. On 25 October 02:30 happens twice: the earlier, in summer time.
    let gap = date(2026, 3, 29).and_hms_opt(2, 30, 0).unwrap();
    assert_eq!(local_to_utc(gap, BERLIN), utc(2026, 3, 29, 1, 0));
    let twice = date(2026, 10, 25).and_hms_opt(2, 30, 0).unwrap();
    assert_eq!(local_to_utc(twice, BERLIN), utc(2026, 10, 25, 0, 30));
    assert_eq!(
        local_midnight(date(2026, 6, 10), IST),
        utc(2026, 6, 9, 18, 30)
    );
}
