//! When reminders are due (REM-1, REM-2): at 10:00 in the org's time zone, "sent late" after
//! a quarter of an hour, skipped (and recorded as such) after a day.

use super::ids::OfferId;
use super::issue::offer_ends_on;
use super::offer::OfferExpiry;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Reminders go out at this time of day in the org's time zone.
pub const REMINDER_TIME: NaiveTime = match NaiveTime::from_hms_opt(10, 0, 0) {
    Some(t) => t,
    None => panic!("10:00 is a time"),
};
/// A reminder sent this long after its time carries a "sent late" note.
const LATE_AFTER_MINUTES: i64 = 15;
/// A reminder this late is not sent any more; it is recorded as skipped, with the reason.
const SKIP_AFTER_HOURS: i64 = 24;

/// The instant `day` at 10:00 in `tz`.
pub fn reminder_instant(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let local = day.and_time(REMINDER_TIME);
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// When a reminder due at `due` is looked at `now`: not yet, on time, late, or too late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    NotYet,
    OnTime,
    Late,
    TooLate,
}

pub fn timing(due: DateTime<Utc>, now: DateTime<Utc>) -> Timing {
    if now < due {
        Timing::NotYet
    } else if now - due >= Duration::hours(SKIP_AFTER_HOURS) {
        Timing::TooLate
    } else if now - due > Duration::minutes(LATE_AFTER_MINUTES) {
        Timing::Late
    } else {
        Timing::OnTime
    }
}

/// A POC reminder that has come (REM-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PocReminderDue {
    /// The offer's last day.
    pub ends_on: NaiveDate,
    /// The reminder's day: `days_before` days before the last day.
    pub day: NaiveDate,
    /// 10:00 of that day in the org's time zone.
    pub due: DateTime<Utc>,
    /// On time, late or too late (never `NotYet`).
    pub timing: Timing,
}

impl PocReminderDue {
    /// Once per offer, POC and reminder day: a changed expiry or N makes a new reminder and
    /// the old one is never due.
    pub fn dedupe_key(&self, offer_id: OfferId, poc_id: i64) -> String {
        format!("poc:{offer_id}:{poc_id}:{}", self.day)
    }
}

/// Whether the POC reminder `days_before` the end of an offer is due `now`: `None` before its
/// time, for an offer without an end, and for a reminder whose time had passed before the
/// offer existed (it was never scheduled).
pub fn poc_reminder_due(
    expiry: &OfferExpiry,
    campaign_end: Option<NaiveDate>,
    days_before: i64,
    created_at: DateTime<Utc>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Option<PocReminderDue> {
    let ends_on = offer_ends_on(expiry, campaign_end)?;
    let day = ends_on - Duration::days(days_before);
    let due = reminder_instant(day, tz);
    if due < created_at {
        return None;
    }
    match timing(due, now) {
        Timing::NotYet => None,
        timing => Some(PocReminderDue {
            ends_on,
            day,
            due,
            timing,
        }),
    }
}

/// The reminder day of a coupon-expiry reminder looked at `now`: today or yesterday (org
/// calendar), whichever 10:00 is at most a day ago and has come.
pub fn coupon_reminder_day(tz: Tz, now: DateTime<Utc>) -> Option<NaiveDate> {
    let today = now.with_timezone(&tz).date_naive();
    [today, today - Duration::days(1)].into_iter().find(|d| {
        matches!(
            timing(reminder_instant(*d, tz), now),
            Timing::OnTime | Timing::Late
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn ten_oclock_is_in_the_orgs_zone() {
        let day = d(2027, 3, 10);
        assert_eq!(
            reminder_instant(day, Asia::Kolkata),
            at("2027-03-10T04:30:00Z")
        );
        assert_eq!(
            reminder_instant(day, America::New_York),
            at("2027-03-10T15:00:00Z")
        );
    }

    #[test]
    fn a_reminder_is_on_time_late_or_skipped() {
        let due = at("2027-03-10T04:30:00Z");
        assert_eq!(timing(due, at("2027-03-10T04:29:59Z")), Timing::NotYet);
        assert_eq!(timing(due, due), Timing::OnTime);
        assert_eq!(timing(due, at("2027-03-10T09:00:00Z")), Timing::Late);
        assert_eq!(timing(due, at("2027-03-11T04:29:00Z")), Timing::Late);
        assert_eq!(timing(due, at("2027-03-11T04:30:00Z")), Timing::TooLate);
    }

    #[test]
    fn a_poc_reminder_comes_days_before_the_real_end_at_ten() {
        let created = at("2027-01-01T00:00:00Z");
        let fixed = OfferExpiry::Fixed(d(2027, 3, 15));
        // 5 days before 15 Mar: 10 Mar, 10:00 IST.
        let due = |now| poc_reminder_due(&fixed, None, 5, created, Asia::Kolkata, at(now));
        assert_eq!(due("2027-03-10T04:29:00Z"), None);
        let on_time = due("2027-03-10T04:30:00Z").unwrap();
        assert_eq!(
            (on_time.day, on_time.ends_on),
            (d(2027, 3, 10), d(2027, 3, 15))
        );
        assert_eq!(on_time.timing, Timing::OnTime);
        assert_eq!(on_time.dedupe_key(OfferId(7), 3), "poc:7:3:2027-03-10");
        assert_eq!(due("2027-03-11T05:00:00Z").unwrap().timing, Timing::TooLate);
        // Its campaign ends first: the reminder follows the real end.
        let early = poc_reminder_due(
            &fixed,
            Some(d(2027, 3, 12)),
            5,
            created,
            Asia::Kolkata,
            at("2027-03-07T05:00:00Z"),
        )
        .unwrap();
        assert_eq!(early.day, d(2027, 3, 7));
        // Created after the reminder's time: never scheduled. No end: no reminder.
        let late_created = at("2027-03-10T06:00:00Z");
        assert_eq!(
            poc_reminder_due(
                &fixed,
                None,
                5,
                late_created,
                Asia::Kolkata,
                at("2027-03-10T07:00:00Z")
            ),
            None
        );
        assert_eq!(
            poc_reminder_due(
                &OfferExpiry::WithCampaign,
                None,
                5,
                created,
                Asia::Kolkata,
                at("2027-03-10T07:00:00Z")
            ),
            None
        );
    }

    #[test]
    fn coupon_reminders_look_at_today_or_yesterday_ten_oclock() {
        let tz = Asia::Kolkata;
        assert_eq!(
            coupon_reminder_day(tz, at("2027-03-10T04:00:00Z")),
            Some(d(2027, 3, 9))
        );
        assert_eq!(
            coupon_reminder_day(tz, at("2027-03-10T04:30:00Z")),
            Some(d(2027, 3, 10))
        );
    }
}
